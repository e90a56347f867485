"""GET /api/v1/notifications/, POST …/read/ and …/preferences/."""

import pytest

from community.models import Notification
from community.notifications import EMAIL_BY_DEFAULT, preferences_for
from creations.models import Creation
from creations.services import creation_update
from tests.conftest import client_for
from tests.factories import CreationFactory, ScoreFactory, UserFactory

from .factories_notifications import comment_on, follow

Kind = Notification.Kind

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"
READ = "/api/v1/notifications/read/"
PREFERENCES = "/api/v1/notifications/preferences/"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.NPU_SITE_URL = "https://npu.example"


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", display_name="Ann")


def test_anonymous_callers_get_401(client):
    api = client_for(None)
    assert api.get(LIST).status_code == 401
    assert api.post(READ, {}, format="json").status_code == 401
    assert api.get(PREFERENCES).status_code == 401
    assert api.put(PREFERENCES, {"email": {}}, format="json").status_code == 401


def test_list_is_mine_newest_first_with_the_unread_count(creation, ann):
    comment = comment_on(creation, ann)
    follow(ann, creation.owner)
    for _ in range(3):
        ScoreFactory(creation=creation)
    comment_on(CreationFactory(owner=ann), creation.owner)  # Ann's
    response = client_for(creation.owner).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["count", "next", "previous", "unread_count", "results"]
    assert body["count"] == 3 and body["unread_count"] == 3
    score, follower, to_comment = body["results"]
    assert score["kind"] == "score" and score["count"] == 3
    assert score["text"] == "3 new scores on “Cheese slope roof”"
    assert score["url"] == f"https://npu.example/creations/{creation.pk}/"
    assert score["creation"] == creation.pk and score["comment"] is None
    assert follower["actor"] == {"username": "ann", "display_name": "Ann"}
    assert follower["url"] == "https://npu.example/u/ann/"
    assert follower["creation"] is None
    assert to_comment == {
        "id": to_comment["id"],
        "kind": "comment",
        "text": "Ann commented on “Cheese slope roof”",
        "count": 1,
        "actor": {"username": "ann", "display_name": "Ann"},
        "creation": creation.pk,
        "comment": comment.pk,
        "reason": "",
        "url": f"https://npu.example/creations/{creation.pk}/#comment-{comment.pk}",
        "created_at": to_comment["created_at"],
        "updated_at": to_comment["updated_at"],
        "read": False,
        "read_at": None,
    }


def test_hidden_reason_and_a_gone_actor(creation, moderator, ann):
    comment_on(creation, ann)
    ann.delete()
    creation_update(creation=creation, status="hidden", actor=moderator, hidden_reason="Spam")
    body = client_for(creation.owner).get(LIST).json()
    hidden, to_comment = body["results"]
    assert hidden["kind"] == "creation_hidden" and hidden["reason"] == "Spam"
    assert hidden["actor"] is None
    assert hidden["text"] == "A moderator hid your creation “Cheese slope roof”: Spam"
    # Ann's account is gone; her comment stays, as "a former member"'s.
    assert to_comment["actor"] is None
    assert to_comment["text"].startswith("A former member commented")


def test_list_leaves_out_creations_i_can_no_longer_see(owner, ann):
    creation = CreationFactory(owner=owner)
    comment_on(creation, owner, "@ann look")
    Creation.objects.filter(pk=creation.pk).update(status=Creation.Status.HIDDEN)
    body = client_for(ann).get(LIST).json()
    assert body["count"] == 0 and body["unread_count"] == 0


@pytest.mark.parametrize("count", [1, 24])
def test_list_uses_a_fixed_number_of_queries(owner, django_assert_num_queries, count):
    for creation in CreationFactory.create_batch(count, owner=owner):
        comment_on(creation, UserFactory())
    api = client_for(owner)
    # The token and its member, the count, the page with actors, creations and comments, the
    # unread count (cached afterwards).
    with django_assert_num_queries(4):
        response = api.get(LIST)
    assert len(response.json()["results"]) == count
    with django_assert_num_queries(3):
        api.get(LIST)


def test_mark_all_read(creation, ann):
    comment_on(creation, ann)
    follow(ann, creation.owner)
    comment_on(CreationFactory(owner=ann), creation.owner)
    api = client_for(creation.owner)
    response = api.post(READ, {}, format="json")
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread_count": 0}
    assert api.post(READ, {}, format="json").json() == {"marked": 0, "unread_count": 0}
    body = api.get(LIST).json()
    assert body["unread_count"] == 0
    assert all(row["read"] and row["read_at"] for row in body["results"])
    assert Notification.objects.filter(recipient=ann, read_at=None).count() == 1


def test_mark_some_read(creation, ann):
    comment_on(creation, ann)
    follow(ann, creation.owner)
    others = comment_on(CreationFactory(owner=ann), creation.owner)
    theirs = Notification.objects.get(comment=others)
    mine = Notification.objects.get(kind=Kind.FOLLOWER)
    api = client_for(creation.owner)
    response = api.post(READ, {"ids": [mine.pk, theirs.pk, 999999]}, format="json")
    assert response.json() == {"marked": 1, "unread_count": 1}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert api.post(READ, {"ids": []}, format="json").json() == {"marked": 0, "unread_count": 1}


@pytest.mark.parametrize(
    "body",
    [
        {"ids": "1"},
        {"ids": "1,2"},
        {"ids": None},
        {"ids": {"1": 1}},
        {"ids": ["1"]},
        {"ids": [1.5]},
        {"ids": [True]},
        {"ids": [0]},
        {"ids": [-1]},
        {"ids": [2**63]},
        {"ids": [10**100]},
        {"ids": [[1]]},
        {"ids": list(range(1, 102))},
    ],
)
def test_hostile_ids_are_a_400_naming_ids(creation, ann, body):
    comment_on(creation, ann)
    response = client_for(creation.owner).post(READ, body, format="json")
    assert response.status_code == 400
    assert "ids" in response.json()
    assert Notification.objects.get().read_at is None


def test_a_misspelt_field_is_refused_rather_than_marking_everything(creation, ann):
    comment_on(creation, ann)
    response = client_for(creation.owner).post(READ, {"id": [1]}, format="json")
    assert response.status_code == 400 and "id" in response.json()
    assert Notification.objects.get().read_at is None


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"ids"', b"null", b"{", b'{"ids": [1]\x00}'])
def test_a_body_that_is_not_an_object_is_a_400(member, raw):
    response = client_for(member).post(READ, raw, content_type="application/json")
    assert response.status_code == 400


def test_preferences_read_and_write(member):
    api = client_for(member)
    assert api.get(PREFERENCES).json() == {"email": EMAIL_BY_DEFAULT}
    response = api.put(PREFERENCES, {"email": {"score": True, "comment": False}}, format="json")
    assert response.status_code == 200
    expected = {**EMAIL_BY_DEFAULT, "score": True, "comment": False}
    assert response.json() == {"email": expected}
    assert preferences_for(member) == expected
    assert api.get(PREFERENCES).json() == {"email": expected}


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"everything": True}},
        {"email": {"score": "yes"}},
        {"email": {"score": 1}},
        {"email": ["score"]},
        {"email": None},
        {},
    ],
)
def test_bad_preferences_are_a_400_naming_email(member, body):
    response = client_for(member).put(PREFERENCES, body, format="json")
    assert response.status_code == 400
    assert "email" in response.json()
    assert preferences_for(member) == EMAIL_BY_DEFAULT


def test_the_schema_describes_the_endpoints(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get"} <= set(paths["/api/v1/notifications/"])
    assert {"post"} <= set(paths["/api/v1/notifications/read/"])
    assert {"get", "put"} <= set(paths["/api/v1/notifications/preferences/"])
    listing = paths["/api/v1/notifications/"]["get"]["responses"]["200"]
    ref = listing["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "unread_count" in schema["components"]["schemas"][ref]["properties"]
