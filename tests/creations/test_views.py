import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from creations.models import Creation
from tests.conftest import session_queries
from tests.factories import CreationFactory, ReportFactory, ScoreFactory, UserFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db


def titles(response):
    return [creation.title for creation in response.context["page"].object_list]


# Gallery ------------------------------------------------------------------------------------


def test_gallery_shows_published_creations_with_thumbnails(client, creation):
    hidden = CreationFactory(title="Hidden one", status=Creation.Status.HIDDEN)

    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Cheese slope roof" in body
    assert creation.thumbnail.url in body
    assert f'alt="{creation.title}"' in body
    assert hidden.title not in body


def test_gallery_says_when_there_is_nothing_yet(client):
    assert "No creations yet" in client.get("/").content.decode()


def test_gallery_paginates_by_24_and_page_links_keep_filters(client, owner):
    CreationFactory.create_batch(25, owner=owner, tags="castle")
    first = client.get("/", {"tag": "castle", "sort": "most_scored", "q": "creation"})
    assert len(first.context["page"].object_list) == 24
    assert 'href="?tag=castle&amp;sort=most_scored&amp;q=creation&amp;page=2"' in (
        first.content.decode()
    )
    second = client.get("/", {"tag": "castle", "sort": "most_scored", "page": 2})
    assert len(second.context["page"].object_list) == 1


def test_gallery_filters_by_several_tags_all_of_which_must_match(client, owner):
    CreationFactory(owner=owner, title="Both", tags="castle, Technic Pin")
    CreationFactory(owner=owner, title="Castle only", tags="castle")
    CreationFactory(owner=owner, title="Pin only", tags="technic pin")

    response = client.get("/?tag=Castle&tag=technic++pin")

    assert titles(response) == ["Both"]
    assert "Remove the tag filter castle" in response.content.decode()


def test_gallery_text_search_covers_title_description_and_tags(client, owner):
    CreationFactory(owner=owner, title="Lamp post", description="", tags="")
    CreationFactory(owner=owner, title="Tower", description="A lamp made from a hand", tags="")
    CreationFactory(owner=owner, title="Pier", description="", tags="lamp")
    CreationFactory(owner=owner, title="Unrelated", description="Nothing here", tags="space")

    assert sorted(titles(client.get("/?q=lamp"))) == ["Lamp post", "Pier", "Tower"]
    assert titles(client.get("/?q=LAMP+post")) == ["Lamp post"]


def test_empty_search_says_so_and_offers_a_way_back(client, creation):
    body = client.get("/?q=zeppelin").content.decode()
    assert "No creations match “zeppelin”" in body
    assert 'href="/">Show all creations' in body


def scored(owner, title, *values):
    creation = CreationFactory(owner=owner, title=title)
    for creativity, uniqueness in values:
        ScoreFactory(creation=creation, creativity=creativity, uniqueness=uniqueness)
    return creation


def test_top_weighs_the_number_of_scores(client, owner):
    scored(owner, "One perfect score", (5, 5))
    scored(owner, "Many great scores", *[(5, 5), (5, 4)] * 10)
    scored(owner, "Many poor scores", *[(2, 2)] * 6)
    assert titles(client.get("/?sort=top")) == [
        "Many great scores",
        "One perfect score",
        "Many poor scores",
    ]


def test_most_scored_and_newest(client, owner):
    old = scored(owner, "Old", (3, 3), (3, 3))
    new = scored(owner, "New", (4, 4))
    assert titles(client.get("/?sort=most_scored")) == [old.title, new.title]
    assert titles(client.get("/")) == [new.title, old.title]


def test_trending_counts_recent_scores_most(client, owner):
    from django.utils import timezone

    from scoring.models import Score
    from scoring.services import creation_refresh_aggregates

    popular_long_ago = scored(owner, "Popular long ago", *[(5, 5)] * 4)
    Score.objects.filter(creation=popular_long_ago).update(
        updated_at=timezone.now() - timezone.timedelta(days=30)
    )
    creation_refresh_aggregates(creation_id=popular_long_ago.pk)
    scored(owner, "Popular now", (3, 3), (3, 3))
    scored(owner, "Never scored")
    response = client.get("/?sort=trending")
    assert titles(response) == ["Popular now", "Popular long ago", "Never scored"]
    assert "recent scores count most" in response.content.decode()


def test_unknown_sort_and_bad_page_fall_back_gracefully(client, creation):
    response = client.get("/?sort=DROP+TABLE&page=999")
    assert response.status_code == 200
    assert titles(response) == [creation.title]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("tag=!!!", "tag"),
        ("tag=" + "x" * 51, "tag"),
        ("tag=" + ",".join(f"t{n}" for n in range(11)), "tag"),
        ("part=" + ",".join(f"p{n}" for n in range(11)), "part"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_unusable_filters_are_a_400_that_names_them_with_no_results(
    client, creation, query, parameter
):
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert titles(response) == []
    assert f"<strong>{parameter}</strong>" in response.content.decode()


# Every page: the member (and the session, unless Redis holds it), then the count and the page
# of creations and their tags; a tag page looks up its tag (and the filter its id), a profile
# its member and stats. `top` sorts by a stored column and costs nothing more. For a member,
# community adds one query for the cards' save buttons (all the page's cards at once), one for
# the notification badge (cached afterwards), and one for a follow button on tag and profile
# pages. Blind scoring adds one for a member: which of the cards' ratings they may see
# (creations.visibility.mark_scores_visible; none for anonymous visitors).
QUERIES_BY_PAGE = {
    "/": 7,
    "/?sort=top&q=creation": 7,
    "/tags/castle/": 10,
    "/u/owner/?sort=trending": 11,
}


@pytest.mark.parametrize("count", [1, 24])
@pytest.mark.parametrize("url", QUERIES_BY_PAGE)
def test_list_pages_use_a_fixed_number_of_queries(
    client, owner, django_assert_num_queries, count, url
):
    for creation in CreationFactory.create_batch(count, owner=owner, tags="castle, space"):
        ScoreFactory(creation=creation)
    client.force_login(UserFactory())
    with django_assert_num_queries(QUERIES_BY_PAGE[url] + session_queries()):
        response = client.get(url)
    assert len(response.context["page"].object_list) == count


# Tags ---------------------------------------------------------------------------------------


def test_tag_cloud_counts_published_creations_only(client, owner):
    CreationFactory.create_batch(2, owner=owner, tags="castle")
    CreationFactory(owner=owner, tags="castle, secret", status=Creation.Status.HIDDEN)
    response = client.get(reverse("creations:tags"))
    counts = {tag.name: tag.count for tag in response.context["tags"]}
    assert counts == {"castle": 2}


def test_tag_page_lists_its_creations(client, owner):
    CreationFactory(owner=owner, title="In", tags="castle")
    CreationFactory(owner=owner, title="Out", tags="space")
    response = client.get(reverse("creations:tag", args=["castle"]))
    assert titles(response) == ["In"]


def test_tag_carried_only_by_hidden_creations_does_not_exist(client, owner):
    CreationFactory(owner=owner, tags="secret", status=Creation.Status.HIDDEN)
    assert client.get(reverse("creations:tag", args=["secret"])).status_code == 404
    assert client.get(reverse("creations:tag", args=["nope"])).status_code == 404


# Creation page ------------------------------------------------------------------------------


def test_anonymous_visitor_sees_a_log_in_link_that_comes_back(client, creation):
    body = client.get(creation.get_absolute_url()).content.decode()
    assert f"/accounts/login/?next=/creations/{creation.pk}/" in body
    assert "Save my score" not in body and "Report this creation" not in body
    assert "Edit</a>" not in body


def test_member_sees_score_form_prefilled_and_report_link(client, creation, member):
    ScoreFactory(user=member, creation=creation, creativity=2, uniqueness=5)
    client.force_login(member)
    response = client.get(creation.get_absolute_url())
    body = response.content.decode()
    assert response.context["score_form"].initial == {"creativity": 2, "uniqueness": 5}
    assert 'name="creativity" value="2" id="id_creativity_1" required checked' in body
    assert "Withdraw my score" in body and "Report this creation" in body
    assert "Edit</a>" not in body


def test_owner_cannot_score_but_can_edit(client, creation):
    client.force_login(creation.owner)
    body = client.get(creation.get_absolute_url()).content.decode()
    assert "You can't score your own creation." in body
    assert 'name="creativity"' not in body and "Report this creation" not in body
    assert "Edit</a>" in body and "Delete</a>" in body


def test_moderator_sees_edit_and_delete(client, creation, moderator):
    client.force_login(moderator)
    body = client.get(creation.get_absolute_url()).content.decode()
    assert "Edit</a>" in body and "Delete</a>" in body


def test_description_is_plain_text_with_line_breaks(client, owner):
    creation = CreationFactory(owner=owner, description="<script>alert(1)</script>\nline two")
    body = client.get(creation.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>line two" in body


def test_histogram_counts_each_value(client, creation):
    for creativity in (5, 5, 3):
        ScoreFactory(creation=creation, creativity=creativity, uniqueness=4)
    histogram = client.get(creation.get_absolute_url()).context["histogram"]
    assert [row["count"] for row in histogram["creativity"]] == [2, 0, 1, 0, 0]
    assert [row["count"] for row in histogram["uniqueness"]] == [0, 3, 0, 0, 0]
    assert histogram["uniqueness"][1]["percent"] == 100


def test_creation_page_uses_a_fixed_number_of_queries(
    client, creation, member, django_assert_num_queries
):
    for _ in range(8):
        ScoreFactory(creation=creation)
    ReportFactory(creation=creation)
    client.force_login(member)
    # The member, the creation, its tags, its parts, the member's score, the histogram,
    # whether the member has reported it, whether they saved it and the notification badge;
    # and the session unless Redis holds it. No comments: the thread costs nothing.
    with django_assert_num_queries(9 + session_queries()):
        assert client.get(creation.get_absolute_url()).status_code == 200


def test_hidden_creation_is_404_for_others_and_visible_to_owner_and_moderator(
    client, owner, member, moderator
):
    hidden = CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    url = hidden.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(member)
    assert client.get(url).status_code == 404
    assert client.get(reverse("creations:edit", args=[hidden.pk])).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200
    client.force_login(moderator)
    assert client.get(url).status_code == 200


def test_unknown_page_uses_the_site_404_template(client):
    response = client.get("/creations/999999/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


# Upload, edit, delete -----------------------------------------------------------------------


def photo(content=None, name="photo.jpg"):
    return SimpleUploadedFile(name, content or image_bytes("JPEG", size=(800, 600)), "image/jpeg")


def test_upload_page_needs_a_member(client):
    response = client.get(reverse("creations:new"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/creations/new/"


def test_upload_form_lists_accepted_types(client, member):
    client.force_login(member)
    body = client.get(reverse("creations:new")).content.decode()
    assert 'accept="image/jpeg,image/png,image/webp,image/gif,image/heic' in body


def test_upload_publishes_and_shows_normalised_tags(client, member):
    client.force_login(member)
    response = client.post(
        reverse("creations:new"),
        {
            "title": " Hand lamp ",
            "description": "A minifig hand holds it.",
            "alt_text": "",
            "tags": "Minifig Hand,  castle ,castle",
            "image": photo(),
        },
        follow=True,
    )
    creation = Creation.objects.get()
    assert response.redirect_chain[-1][0] == creation.get_absolute_url()
    assert creation.title == "Hand lamp" and creation.owner == member
    assert sorted(creation.tags.names()) == ["castle", "minifig hand"]
    assert "Tags: minifig hand, castle." in response.content.decode()
    assert default_storage.exists(creation.image.name)
    assert default_storage.exists(creation.thumbnail.name)


def test_bad_upload_shows_errors_by_the_fields_and_keeps_the_input(client, member, media_files):
    client.force_login(member)
    response = client.post(
        reverse("creations:new"),
        {
            "title": "Keep me",
            "description": "Typed with care",
            "tags": ", ".join(f"tag {n}" for n in range(11)),
            "image": photo(b"not an image", "evil.jpg"),
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "not an image we accept" in errors["image"][0]
    assert "At most 10 tags" in errors["tags"][0]
    body = response.content.decode()
    assert 'value="Keep me"' in body and "Typed with care" in body
    assert not Creation.objects.exists()
    assert media_files() == []


def test_upload_without_a_title_or_picture_is_refused(client, member):
    client.force_login(member)
    response = client.post(reverse("creations:new"), {"title": "   "})
    errors = response.context["form"].errors
    assert set(errors) == {"title", "image"}


def test_uploads_are_limited_per_member(client, member, settings):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "upload": "2/h"}
    client.force_login(member)
    for _ in range(2):
        client.post(reverse("creations:new"), {"title": "x", "image": photo()})
    response = client.post(reverse("creations:new"), {"title": "x", "image": photo()})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert Creation.objects.count() == 2


def edit_data(**overrides):
    return {"title": "Renamed", "description": "", "alt_text": "", "tags": "Space", **overrides}


def test_owner_edits_title_and_tags(client, creation):
    client.force_login(creation.owner)
    form = client.get(reverse("creations:edit", args=[creation.pk])).context["form"]
    assert form.initial["tags"] == "technic pin"

    response = client.post(reverse("creations:edit", args=[creation.pk]), edit_data())

    assert response.status_code == 302
    creation.refresh_from_db()
    assert creation.title == "Renamed" and list(creation.tags.names()) == ["space"]


def test_moderator_may_edit_and_other_members_may_not(client, creation, moderator, member):
    url = reverse("creations:edit", args=[creation.pk])
    client.force_login(member)
    assert client.post(url, edit_data()).status_code == 403
    assert "You can't do that" in client.get(url).content.decode()
    client.force_login(moderator)
    assert client.post(url, edit_data(title="Moderated")).status_code == 302
    creation.refresh_from_db()
    assert creation.title == "Moderated"


def test_invalid_edit_changes_nothing(client, creation):
    client.force_login(creation.owner)
    response = client.post(
        reverse("creations:edit", args=[creation.pk]), edit_data(title="x" * 121, tags="ok")
    )
    assert "at most 120 characters" in str(response.context["form"].errors["title"])
    creation.refresh_from_db()
    assert creation.title == "Cheese slope roof"
    assert list(creation.tags.names()) == ["technic pin"]


def test_delete_asks_then_removes_the_row_and_files(
    client, creation, media_files, django_capture_on_commit_callbacks
):
    ScoreFactory(creation=creation)
    client.force_login(creation.owner)
    url = reverse("creations:delete", args=[creation.pk])
    assert "Delete for good" in client.get(url).content.decode()
    assert len(media_files()) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)

    assert response.status_code == 302
    assert not Creation.objects.exists()
    assert media_files() == []


def test_other_members_cannot_delete(client, creation, member):
    client.force_login(member)
    assert client.post(reverse("creations:delete", args=[creation.pk])).status_code == 403
    assert Creation.objects.filter(pk=creation.pk).exists()


# Reports ------------------------------------------------------------------------------------


def test_profile_lists_the_members_published_creations(client, creation):
    CreationFactory(owner=creation.owner, title="Secret", status=Creation.Status.HIDDEN)
    response = client.get(reverse("accounts:profile", args=[creation.owner.username]))
    body = response.content.decode()
    assert response.status_code == 200
    assert creation.title in body and "Secret" not in body
    assert creation.owner.email not in body


def test_the_tag_cloud_shows_the_most_used_tags_only(client, owner, settings):
    settings.NPU_TAG_CLOUD_SIZE = 2
    CreationFactory(owner=owner, tags="castle, space, train")
    CreationFactory(owner=owner, tags="castle, space")
    CreationFactory(owner=owner, tags="castle")
    response = client.get(reverse("creations:tags"))
    assert [(tag.name, tag.count) for tag in response.context["tags"]] == [
        ("castle", 3),
        ("space", 2),
    ]
    # The API lists every tag.
    assert [tag["name"] for tag in client.get("/api/v1/tags/").json()["results"]] == [
        "castle",
        "space",
        "train",
    ]
