import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from creations.models import Creation
from moderation.models import Report
from parts.models import Part
from scoring.models import Score
from tests.conftest import client_for
from tests.factories import CreationFactory, ScoreFactory, UserFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member", "owner", "moderator"]


@pytest.fixture
def actors(owner, member, moderator):
    return {"anonymous": None, "member": member, "owner": owner, "moderator": moderator}


def photo(name="photo.png"):
    return SimpleUploadedFile(name, image_bytes("PNG", size=(640, 480)), "image/png")


# The permission matrix: every row of SPEC.md's API table, for every role.
# Each row: (name, method, path, body, expected status for anonymous, member, owner, moderator).
MATRIX = [
    ("token", "post", "/api/v1/auth/token/", "credentials", 200, 200, 200, 200),
    ("list", "get", "/api/v1/creations/", None, 200, 200, 200, 200),
    ("create", "post", "/api/v1/creations/", "upload", 401, 201, 201, 201),
    ("retrieve", "get", "/api/v1/creations/{id}/", None, 200, 200, 200, 200),
    ("retrieve hidden", "get", "/api/v1/creations/{hidden}/", None, 404, 404, 200, 200),
    ("patch", "patch", "/api/v1/creations/{id}/", {"title": "New"}, 401, 403, 200, 200),
    ("put", "put", "/api/v1/creations/{id}/", {"title": "New", "tags": "a"}, 401, 403, 200, 200),
    ("delete", "delete", "/api/v1/creations/{id}/", None, 401, 403, 204, 204),
    # Blind scoring: a member who has neither scored nor revealed the creation is refused.
    ("scores", "get", "/api/v1/creations/{id}/scores/", None, 200, 403, 200, 200),
    ("reveal", "post", "/api/v1/creations/{id}/reveal/", None, 401, 200, 200, 200),
    ("my-score none", "get", "/api/v1/creations/{id}/my-score/", None, 401, 404, 403, 404),
    ("my-score put", "put", "/api/v1/creations/{id}/my-score/", "score", 401, 201, 403, 201),
    ("my-score get", "get", "/api/v1/creations/{id}/my-score/", "scored", 401, 200, 403, 200),
    ("my-score delete", "delete", "/api/v1/creations/{id}/my-score/", "scored", 401, 204, 403, 204),
    ("report", "post", "/api/v1/creations/{id}/reports/", {"reason": "spam"}, 401, 201, 403, 201),
    ("tags", "get", "/api/v1/tags/", None, 200, 200, 200, 200),
    ("parts", "get", "/api/v1/parts/", None, 200, 200, 200, 200),
    ("part", "get", "/api/v1/parts/3001/", None, 200, 200, 200, 200),
    ("user", "get", "/api/v1/users/owner/", None, 200, 200, 200, 200),
    ("me", "get", "/api/v1/users/me/", None, 401, 200, 200, 200),
    ("me patch", "patch", "/api/v1/users/me/", {"bio": "Hi"}, 401, 200, 200, 200),
    ("schema", "get", "/api/v1/schema/", None, 200, 200, 200, 200),
    ("docs", "get", "/api/v1/docs/", None, 200, 200, 200, 200),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", MATRIX, ids=[row[0] for row in MATRIX])
def test_permission_matrix(row, role, actors, owner):
    name, method, path, body, *expected = row
    user = actors[role]
    Part.objects.create(part_num="3001", name="Brick 2 x 4")
    creation = CreationFactory(owner=owner)
    hidden = CreationFactory(owner=owner, status=Creation.Status.HIDDEN)
    client = client_for(user)
    if body == "credentials":
        client = APIClient()
        login = user or UserFactory(username="visitor")
        body = {"username": login.username, "password": "correct-horse-battery"}
    elif body == "upload":
        body = {"title": "Lamp", "tags": "castle", "image": photo()}
    elif body == "score":
        body = {"creativity": 4, "uniqueness": 5}
    elif body == "scored":
        if user is not None and user != owner:
            ScoreFactory(user=user, creation=creation)
        body = None
    fmt = "multipart" if isinstance(body, dict) and "image" in body else "json"

    response = getattr(client, method)(
        path.format(id=creation.pk, hidden=hidden.pk), body, format=fmt
    )

    assert response.status_code == expected[ROLES.index(role)], response.content
    if response.status_code == 401:
        assert response["WWW-Authenticate"] == "Token"


# Shapes -------------------------------------------------------------------------------------

CREATION_FIELDS = {
    "id",
    "url",
    "title",
    "description",
    "alt_text",
    "tags",
    "parts",
    "image",
    "thumbnail",
    "width",
    "height",
    "owner",
    "created_at",
    "updated_at",
    "score_count",
    "creativity_avg",
    "uniqueness_avg",
    "rating",
    "comment_count",
    "favourite_count",
    "scores_visible",
    "ranking",
}


def test_creation_json_has_exactly_the_spec_fields(creation):
    ScoreFactory(creation=creation, creativity=4, uniqueness=3)
    data = APIClient().get(f"/api/v1/creations/{creation.pk}/").json()
    assert set(data) == CREATION_FIELDS
    assert data["url"] == f"http://testserver/api/v1/creations/{creation.pk}/"
    assert data["image"] == f"http://testserver/media/{creation.image.name}"
    assert data["thumbnail"] == f"http://testserver/media/{creation.thumbnail.name}"
    assert data["owner"] == {"username": "owner", "display_name": "Owner"}
    assert data["tags"] == ["technic pin"]
    assert (data["width"], data["height"]) == (64, 48)
    assert (data["score_count"], data["creativity_avg"], data["uniqueness_avg"]) == (1, 4.0, 3.0)
    assert data["rating"] == 3.5


def test_status_is_shown_only_to_owner_and_moderators(creation, member, moderator):
    url = f"/api/v1/creations/{creation.pk}/"
    assert "status" not in APIClient().get(url).json()
    assert "status" not in client_for(member).get(url).json()
    assert client_for(creation.owner).get(url).json()["status"] == "published"
    assert client_for(moderator).get(url).json()["status"] == "published"


def test_score_json_shape(creation, member):
    ScoreFactory(user=member, creation=creation, creativity=2, uniqueness=5)
    data = APIClient().get(f"/api/v1/creations/{creation.pk}/scores/").json()
    assert data["count"] == 1 and data["next"] is None and data["previous"] is None
    assert set(data["results"][0]) == {
        "id",
        "user",
        "creativity",
        "uniqueness",
        "created_at",
        "updated_at",
    }
    assert data["results"][0]["user"] == "member"


def test_no_private_field_appears_in_any_response(creation, member, moderator):
    ScoreFactory(user=member, creation=creation)
    Report.objects.create(creation=creation, reporter=member, reason="spam")
    token = Token.objects.create(user=creation.owner)
    paths = [
        "/api/v1/creations/",
        f"/api/v1/creations/{creation.pk}/",
        f"/api/v1/creations/{creation.pk}/scores/",
        "/api/v1/tags/",
        f"/api/v1/users/{creation.owner.username}/",
        f"/api/v1/users/{member.username}/",
    ]
    secrets = [creation.owner.email, member.email, token.key, creation.owner.password]
    for viewer in (None, member, moderator):
        for path in paths:
            body = client_for(viewer).get(path).content.decode()
            for secret in secrets:
                assert secret not in body, (path, secret)
    assert "email" not in APIClient().get(f"/api/v1/users/{member.username}/").json()


def test_errors_are_drf_json(creation, member):
    response = client_for(member).put(
        f"/api/v1/creations/{creation.pk}/my-score/", {"creativity": 9}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"creativity", "uniqueness"}
    not_found = APIClient().get("/api/v1/creations/999999/")
    assert not_found.status_code == 404 and "detail" in not_found.json()


# Upload and edit ----------------------------------------------------------------------------


def test_upload_accepts_repeated_and_comma_separated_tags(member):
    response = client_for(member).post(
        "/api/v1/creations/",
        {"title": "Lamp", "tags": ["Minifig Hand, castle", " SPACE "], "image": photo()},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["tags"] == ["castle", "minifig hand", "space"]
    assert data["owner"]["username"] == "member"
    assert default_storage.exists(Creation.objects.get().image.name)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"title": "x", "image": "not-a-file"}, "image", "not a file"),
        ({"title": "x"}, "image", "No file was submitted"),
        ({"title": "", "image": "photo"}, "title", "may not be blank"),
        ({"title": "x", "image": "bad-photo"}, "image", "not an image we accept"),
        (
            {"title": "x", "image": "photo", "tags": ",".join(f"t{n}" for n in range(11))},
            "tags",
            "At most 10 tags",
        ),
        ({"title": "x", "image": "photo", "tags": "a" * 51}, "tags", "longer than 50"),
    ],
)
def test_bad_upload_is_a_400_and_stores_nothing(member, media_files, body, field, message):
    files = {
        "photo": photo(),
        "bad-photo": SimpleUploadedFile("x.png", b"<svg></svg>", "image/png"),
    }
    body = {key: files.get(value, value) for key, value in body.items()}
    response = client_for(member).post("/api/v1/creations/", body, format="multipart")
    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not Creation.objects.exists()
    assert media_files() == []


def test_picture_cannot_be_replaced(creation):
    response = client_for(creation.owner).patch(
        f"/api/v1/creations/{creation.pk}/", {"image": photo()}, format="multipart"
    )
    assert response.status_code == 400
    assert "cannot be replaced" in response.json()["image"][0]


def test_owner_patches_tags_and_status(creation):
    client = client_for(creation.owner)
    response = client.patch(
        f"/api/v1/creations/{creation.pk}/",
        {"tags": ["Castle", "castle"], "status": "hidden"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["tags"] == ["castle"] and response.json()["status"] == "hidden"
    assert APIClient().get(f"/api/v1/creations/{creation.pk}/").status_code == 404


def test_delete_removes_files(creation, media_files, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(creation.owner).delete(f"/api/v1/creations/{creation.pk}/")
    assert response.status_code == 204
    assert media_files() == []


# Filters, ordering, pagination ---------------------------------------------------------------


def listed(client=None, **params):
    response = (client or APIClient()).get("/api/v1/creations/", params)
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


def test_tag_filter_needs_every_tag_and_normalises_input(owner):
    CreationFactory(owner=owner, title="Both", tags="castle, technic pin")
    CreationFactory(owner=owner, title="One", tags="castle")
    assert listed(tag=["Castle", " Technic  PIN"]) == ["Both"]
    assert sorted(listed(tag="castle")) == ["Both", "One"]


def test_owner_q_and_min_rating_filters(owner, member):
    theirs = CreationFactory(owner=member, title="Lamp by member", description="", tags="")
    CreationFactory(owner=owner, title="Tower", description="a lamp inside", tags="")
    CreationFactory(owner=owner, title="Boat", description="", tags="")
    ScoreFactory(creation=theirs, creativity=5, uniqueness=4)

    assert listed(owner="member") == ["Lamp by member"]
    assert sorted(listed(q="lamp")) == ["Lamp by member", "Tower"]
    assert listed(min_rating=4.5) == ["Lamp by member"]
    assert listed(min_rating=4.6) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_rating": 7}, "min_rating"),
        ({"min_rating": "high"}, "min_rating"),
        ({"ordering": "random"}, "ordering"),
        ({"tag": "!!!"}, "tag"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(params, field):
    response = APIClient().get("/api/v1/creations/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_each_ordering(owner):
    old = CreationFactory(owner=owner, title="Old")
    many = CreationFactory(owner=owner, title="Many")
    best = CreationFactory(owner=owner, title="Best")
    for _ in range(3):
        ScoreFactory(creation=many, creativity=3, uniqueness=3)
    for _ in range(2):
        ScoreFactory(creation=best, creativity=5, uniqueness=5)
    ScoreFactory(creation=old, creativity=1, uniqueness=1)

    assert listed() == ["Best", "Many", "Old"]
    assert listed(ordering="newest") == ["Best", "Many", "Old"]
    assert listed(ordering="most_scored") == ["Many", "Best", "Old"]
    assert listed(ordering="top") == ["Best", "Many", "Old"]
    assert listed(ordering="trending")[0] == "Many"


def test_pagination_bounds(owner):
    CreationFactory.create_batch(30, owner=owner)
    first = APIClient().get("/api/v1/creations/").json()
    assert len(first["results"]) == 24 and first["count"] == 30 and first["next"]
    assert len(APIClient().get("/api/v1/creations/?page_size=100").json()["results"]) == 30
    assert len(APIClient().get("/api/v1/creations/?page_size=5&page=2").json()["results"]) == 5
    assert APIClient().get("/api/v1/creations/?page=99").status_code == 404


def test_page_size_is_capped_at_100(owner):
    template = CreationFactory(owner=owner)
    # 100 more rows sharing the first one's picture: the cap needs more than 100 to show.
    Creation.objects.bulk_create(
        Creation(
            owner=owner,
            title=f"Copy {n}",
            image=template.image.name,
            thumbnail=template.thumbnail.name,
            width=template.width,
            height=template.height,
        )
        for n in range(100)
    )
    page = APIClient().get("/api/v1/creations/?page_size=1000").json()
    assert (len(page["results"]), page["count"]) == (100, 101)
    assert page["next"] and "page=2" in page["next"]


def test_hidden_creations_are_absent_for_others_but_listed_for_owner(owner, member, moderator):
    CreationFactory(owner=owner, title="Public", tags="castle")
    CreationFactory(owner=owner, title="Hidden", tags="castle, secret", status="hidden")
    assert listed() == ["Public"]
    assert listed(client_for(member)) == ["Public"]
    assert sorted(listed(client_for(owner))) == ["Hidden", "Public"]
    assert sorted(listed(client_for(moderator))) == ["Hidden", "Public"]
    tags = APIClient().get("/api/v1/tags/").json()["results"]
    assert tags == [{"name": "castle", "slug": "castle", "count": 1}]
    assert APIClient().get("/api/v1/users/owner/").json()["creation_count"] == 1


def test_tags_most_used_first_and_prefix_search(owner):
    CreationFactory.create_batch(2, owner=owner, tags="technic pin, castle")
    CreationFactory(owner=owner, tags="technic beam")
    names = [tag["name"] for tag in APIClient().get("/api/v1/tags/").json()["results"]]
    assert names == ["castle", "technic pin", "technic beam"]
    found = APIClient().get("/api/v1/tags/", {"q": "Technic "}).json()["results"]
    assert [tag["name"] for tag in found] == ["technic pin", "technic beam"]


# my-score -----------------------------------------------------------------------------------


def test_my_score_put_creates_then_replaces_and_delete_withdraws(creation, member):
    client = client_for(member)
    url = f"/api/v1/creations/{creation.pk}/my-score/"
    assert client.put(url, {"creativity": 3, "uniqueness": 4}).status_code == 201
    replaced = client.put(url, {"creativity": 5, "uniqueness": 5})
    assert replaced.status_code == 200 and replaced.json()["creativity"] == 5
    assert client.get(url).json()["uniqueness"] == 5
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    creation.refresh_from_db()
    assert creation.score_count == 0


@pytest.mark.parametrize(
    "body",
    [
        {"creativity": 0, "uniqueness": 3},
        {"creativity": 6, "uniqueness": 3},
        {"creativity": 2.5, "uniqueness": 3},
        {"creativity": "four", "uniqueness": 3},
        {"creativity": True, "uniqueness": 3},
        {"creativity": 3},
        {},
    ],
)
def test_my_score_refuses_bad_values(creation, member, body):
    response = client_for(member).put(f"/api/v1/creations/{creation.pk}/my-score/", body)
    assert response.status_code == 400
    assert set(response.json()) <= {"creativity", "uniqueness"} and response.json()
    assert not Score.objects.exists()


def test_my_score_on_hidden_or_missing_creation_is_404(owner, member):
    hidden = CreationFactory(owner=owner, status="hidden")
    client = client_for(member)
    body = {"creativity": 3, "uniqueness": 3}
    assert client.put(f"/api/v1/creations/{hidden.pk}/my-score/", body).status_code == 404
    assert client.put("/api/v1/creations/999999/my-score/", body).status_code == 404


def test_aggregates_after_several_members_score(creation):
    for creativity, uniqueness in [(5, 4), (3, 2), (4, 4)]:
        client_for(UserFactory()).put(
            f"/api/v1/creations/{creation.pk}/my-score/",
            {"creativity": creativity, "uniqueness": uniqueness},
        )
    data = APIClient().get(f"/api/v1/creations/{creation.pk}/").json()
    assert data["score_count"] == 3
    assert (data["creativity_avg"], data["uniqueness_avg"]) == (4.0, 10 / 3)
    assert data["rating"] == (4.0 + 10 / 3) / 2


@pytest.mark.parametrize("page_size", [1, 100])
def test_list_uses_a_fixed_number_of_queries(owner, member, django_assert_num_queries, page_size):
    for creation in CreationFactory.create_batch(page_size, owner=owner, tags="castle, space"):
        ScoreFactory(creation=creation)
    client = client_for(member)
    # Token, count, page (with the ranking prior), tags prefetch, parts prefetch, and which
    # creations' scores the member sees (blind scoring): `top` sorts by a stored column.
    with django_assert_num_queries(6):
        response = client.get("/api/v1/creations/", {"page_size": page_size, "ordering": "top"})
    assert len(response.json()["results"]) == page_size


def test_detail_uses_a_fixed_number_of_queries(creation, member, django_assert_num_queries):
    client = client_for(member)
    # Token, the creation, its tags, its parts, whether the member sees its scores.
    with django_assert_num_queries(5):
        assert client.get(f"/api/v1/creations/{creation.pk}/").status_code == 200


# Throttling ---------------------------------------------------------------------------------


def test_anonymous_reads_are_throttled_with_retry_after(settings, creation):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "api_anon": "3/m"}
    client = APIClient()
    for _ in range(3):
        assert client.get("/api/v1/creations/").status_code == 200
    response = client.get("/api/v1/creations/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"]


def test_score_writes_share_one_budget_between_pages_and_api(settings, creation, member):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "score": "2/m"}
    client = client_for(member)
    url = f"/api/v1/creations/{creation.pk}/my-score/"
    assert client.put(url, {"creativity": 3, "uniqueness": 3}).status_code == 201
    client.force_login(member)
    page = client.post(
        f"/creations/{creation.pk}/score/", {"creativity": 4, "uniqueness": 4}, format="multipart"
    )
    assert page.status_code == 302
    response = client.put(url, {"creativity": 5, "uniqueness": 5})
    assert response.status_code == 429
    assert Score.objects.get().creativity == 4


def test_uploads_are_throttled_per_member(settings, member):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "upload": "1/h"}
    client = client_for(member)
    body = {"title": "x"}
    first = client.post("/api/v1/creations/", {**body, "image": photo()}, format="multipart")
    assert first.status_code == 201
    response = client.post("/api/v1/creations/", {**body, "image": photo()}, format="multipart")
    assert (
        response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 3600
    )  # an hourly window; it may be ending
    assert Creation.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing/", "/api/v1/creations/abc/", "/api/v1/creations/a%0Ab/"]
)
def test_unknown_api_paths_are_json_404s(path, member):
    response = client_for(member).put(path, {"x": 1})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_schema_documents_every_operation():
    schema = APIClient().get("/api/v1/schema/?format=json").json()
    operations = {
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    }
    assert operations == {
        ("POST", "/api/v1/auth/token/"),
        ("GET", "/api/v1/creations/"),
        ("POST", "/api/v1/creations/"),
        ("GET", "/api/v1/creations/{id}/"),
        ("PUT", "/api/v1/creations/{id}/"),
        ("PATCH", "/api/v1/creations/{id}/"),
        ("DELETE", "/api/v1/creations/{id}/"),
        ("GET", "/api/v1/creations/{id}/scores/"),
        ("GET", "/api/v1/creations/{id}/my-score/"),
        ("PUT", "/api/v1/creations/{id}/my-score/"),
        ("DELETE", "/api/v1/creations/{id}/my-score/"),
        ("POST", "/api/v1/creations/{id}/reveal/"),
        ("GET", "/api/v1/users/me/scores/"),
        ("GET", "/api/v1/users/me/score-distribution/"),
        ("POST", "/api/v1/creations/{id}/reports/"),
        ("GET", "/api/v1/creations/{id}/appeal/"),
        ("POST", "/api/v1/creations/{id}/appeal/"),
        ("GET", "/api/v1/users/{username}/restriction/"),
        ("PUT", "/api/v1/users/{username}/restriction/"),
        ("DELETE", "/api/v1/users/{username}/restriction/"),
        ("PUT", "/api/v1/users/{username}/trust/"),
        ("DELETE", "/api/v1/users/{username}/trust/"),
        ("GET", "/api/v1/moderation/actions/"),
        ("GET", "/api/v1/tags/"),
        ("GET", "/api/v1/parts/"),
        ("GET", "/api/v1/parts/{part_num}/"),
        ("GET", "/api/v1/users/{username}/"),
        ("GET", "/api/v1/users/me/"),
        ("PATCH", "/api/v1/users/me/"),
        ("DELETE", "/api/v1/users/me/"),
        ("POST", "/api/v1/users/me/export/"),
        ("POST", "/api/v1/users/me/verify-email/"),
        ("GET", "/api/v1/creations/{id}/comments/"),
        ("POST", "/api/v1/creations/{id}/comments/"),
        ("PATCH", "/api/v1/comments/{id}/"),
        ("DELETE", "/api/v1/comments/{id}/"),
        ("POST", "/api/v1/comments/{id}/reports/"),
        ("PUT", "/api/v1/creations/{id}/favourite/"),
        ("DELETE", "/api/v1/creations/{id}/favourite/"),
        ("GET", "/api/v1/users/me/favourites/"),
        ("PUT", "/api/v1/users/{username}/follow/"),
        ("DELETE", "/api/v1/users/{username}/follow/"),
        ("PUT", "/api/v1/tags/{slug}/follow/"),
        ("DELETE", "/api/v1/tags/{slug}/follow/"),
        ("GET", "/api/v1/feed/"),
        ("GET", "/api/v1/notifications/"),
        ("POST", "/api/v1/notifications/read/"),
        ("GET", "/api/v1/notifications/preferences/"),
        ("PUT", "/api/v1/notifications/preferences/"),
    }
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation.get("summary"), (method, path)
            assert any(code.startswith("4") for code in operation["responses"]), (method, path)
    list_parameters = {
        p["name"] for p in schema["paths"]["/api/v1/creations/"]["get"]["parameters"]
    }
    assert {
        "tag",
        "part",
        "owner",
        "q",
        "min_rating",
        "ordering",
        "page",
        "page_size",
    } <= list_parameters


def test_swagger_ui_loads_its_assets_locally():
    html = APIClient().get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_the_api_root_links_every_collection():
    response = APIClient().get("/api/v1/")
    assert response.status_code == 200
    assert response.json() == {
        "creations": "http://testserver/api/v1/creations/",
        "tags": "http://testserver/api/v1/tags/",
        "parts": "http://testserver/api/v1/parts/",
    }


@pytest.mark.parametrize(
    "path", ["creations/1/scores/", "creations/1/my-score/", "creations/1/reports/"]
)
def test_feature_routes_keep_their_urls_and_names(path):
    from django.urls import resolve

    name = {"scores": "creation-scores", "my-score": "creation-my-score"}.get(
        path.split("/")[2], "creation-reports"
    )
    assert resolve(f"/api/v1/{path}").view_name == f"api:{name}"
