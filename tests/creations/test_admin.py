import pytest
from django.urls import reverse
from taggit.models import Tag

from creations.models import Creation
from parts.models import Part
from tests.conftest import run_action
from tests.factories import CreationFactory, ReportFactory, ScoreFactory

pytestmark = pytest.mark.django_db

MODERATOR_PAGES = [
    "admin:creations_creation_changelist",
    "admin:moderation_report_changelist",
    "admin:scoring_score_changelist",
    "admin:taggit_tag_changelist",
]
FORBIDDEN_PAGES = [
    "admin:accounts_user_changelist",
    "admin:auth_group_changelist",
]


@pytest.mark.parametrize("page", MODERATOR_PAGES)
def test_moderator_can_open_moderation_pages(moderator_client, creation, page):
    ReportFactory(creation=creation)
    ScoreFactory(creation=creation)
    assert moderator_client.get(reverse(page)).status_code == 200


def test_admin_index_lists_only_what_moderators_may_use(moderator_client):
    models = {
        model["object_name"]
        for app in moderator_client.get(reverse("admin:index")).context["app_list"]
        for model in app["models"]
    }
    assert models == {
        "Appeal",  # owners' appeals against a hide
        "Comment",
        "CommentReport",
        "Creation",
        "Member",  # suspend, ban, lift, trust; never the accounts' own admin
        "ModerationAction",  # the moderation log, read-only
        "Report",
        "Score",
        "ScoreVoiding",
        "Tag",
    }


def test_creation_list_filters_by_tag_and_searches_by_owner(moderator_client, creation):
    other = CreationFactory(tags="castle")
    url = reverse("admin:creations_creation_changelist")
    tag = Tag.objects.get(name="castle")
    by_tag = moderator_client.get(url, {"tags__id__exact": tag.pk}).context["cl"].result_list
    assert list(by_tag) == [other]
    by_owner = moderator_client.get(url, {"q": creation.owner.username}).context["cl"].result_list
    assert list(by_owner) == [creation]


def test_moderator_edit_normalises_tags(moderator_client, creation):
    url = reverse("admin:creations_creation_change", args=[creation.pk])
    response = moderator_client.post(
        url,
        {
            "title": "New title",
            "description": "",
            "alt_text": "",
            "tags": "Technic Pin,  CASTLE ",
            "status": "published",
            "reports-TOTAL_FORMS": "0",
            "reports-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    creation.refresh_from_db()
    assert creation.title == "New title"
    assert sorted(creation.tags.names()) == ["castle", "technic pin"]


def test_moderator_cannot_add_or_delete_creations(moderator_client, creation):
    assert moderator_client.get(reverse("admin:creations_creation_add")).status_code == 403
    delete_url = reverse("admin:creations_creation_delete", args=[creation.pk])
    assert moderator_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Creation.objects.filter(pk=creation.pk).exists()


def test_bulk_hide_and_publish(moderator_client, owner):
    creations = CreationFactory.create_batch(3, owner=owner)
    page = "admin:creations_creation_changelist"

    run_action(moderator_client, page, "hide_selected", creations[:2])
    assert list(Creation.objects.order_by("pk").values_list("status", flat=True)) == [
        "hidden",
        "hidden",
        "published",
    ]
    run_action(moderator_client, page, "publish_selected", creations[:1])
    assert Creation.objects.filter(status="published").count() == 2


def test_merge_tags_moves_creations_onto_one_tag(moderator_client, owner):
    both = CreationFactory(owner=owner, tags="technic pin, technic pins")
    plural = CreationFactory(owner=owner, tags="technic pins")
    typo = CreationFactory(owner=owner, tags="tecnic pin, castle")
    CreationFactory.create_batch(2, owner=owner, tags="technic pin")  # the most used spelling
    sources = list(Tag.objects.filter(name__in=["technic pin", "technic pins", "tecnic pin"]))
    page = "admin:taggit_tag_changelist"

    confirm = run_action(moderator_client, page, "merge_selected", sources)
    assert confirm.status_code == 200
    assert confirm.context["form"].initial["target_name"] == "technic pin"

    done = run_action(
        moderator_client, page, "merge_selected", sources, apply="1", target_name=" Technic  PIN"
    )

    assert done.status_code == 302
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["castle", "technic pin"]
    assert list(both.tags.names()) == ["technic pin"]
    assert list(plural.tags.names()) == ["technic pin"]
    assert sorted(typo.tags.names()) == ["castle", "technic pin"]


def test_merge_refuses_an_invalid_target_and_changes_nothing(moderator_client, owner):
    CreationFactory(owner=owner, tags="space, castle")
    sources = list(Tag.objects.all())
    response = run_action(
        moderator_client,
        "admin:taggit_tag_changelist",
        "merge_selected",
        sources,
        apply="1",
        target_name="!!!",
    )
    assert response.status_code == 200
    assert "letter or digit" in response.content.decode()
    assert Tag.objects.count() == 2


def edit_form(creation, **changes):
    return {
        "title": creation.title,
        "description": creation.description,
        "alt_text": creation.alt_text,
        "tags": ", ".join(creation.tags.names()),
        "parts": ",".join(creation.parts.values_list("part_num", flat=True)),
        "status": creation.status,
        "reports-TOTAL_FORMS": "0",
        "reports-INITIAL_FORMS": "0",
        **changes,
    }


def test_the_admin_cannot_give_a_creation_more_than_ten_parts(moderator_client, creation):
    Part.objects.bulk_create(Part(part_num=f"p{n}", name=f"Part {n}") for n in range(11))
    url = reverse("admin:creations_creation_change", args=[creation.pk])

    response = moderator_client.post(
        url, edit_form(creation, title="Changed", parts=",".join(f"p{n}" for n in range(11)))
    )

    assert response.status_code == 200
    assert "At most 10 parts" in str(response.context["adminform"].form.errors["parts"])
    creation.refresh_from_db()
    assert creation.title == "Cheese slope roof" and not creation.parts.exists()

    ten = moderator_client.post(
        url, edit_form(creation, parts=",".join(f"p{n}" for n in range(10)))
    )
    assert ten.status_code == 302
    assert creation.parts.count() == 10


def test_an_admin_edit_drops_the_cached_pages_through_the_service(
    client, moderator_client, creation, django_capture_on_commit_callbacks
):
    anonymous = client.__class__()
    assert anonymous.get("/")["X-Page-Cache"] == "miss"
    assert anonymous.get("/")["X-Page-Cache"] == "hit"
    url = reverse("admin:creations_creation_change", args=[creation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert moderator_client.post(url, edit_form(creation, title="Renamed")).status_code == 302
    fresh = anonymous.get("/")
    assert fresh["X-Page-Cache"] == "miss" and "Renamed" in fresh.content.decode()


def test_renaming_a_tag_in_the_admin_normalises_it_and_drops_cached_pages(
    moderator_client, creation, django_capture_on_commit_callbacks
):
    anonymous = moderator_client.__class__()
    assert anonymous.get("/tags/")["X-Page-Cache"] == "miss"
    tag = Tag.objects.get(name="technic pin")
    url = reverse("admin:taggit_tag_change", args=[tag.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(url, {"name": "  Technic   PIN 2 ", "slug": "tp2"})
    assert response.status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.slug) == ("technic pin 2", "tp2")
    fresh = anonymous.get("/tags/")
    assert fresh["X-Page-Cache"] == "miss" and "technic pin 2" in fresh.content.decode()
