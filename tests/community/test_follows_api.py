"""Follows through the API: PUT/DELETE /api/v1/users/{username}/follow/ and
/api/v1/tags/{slug}/follow/, and GET /api/v1/feed/."""

import pytest
from django.urls import resolve
from taggit.models import Tag

from community.models import Follow, PendingEvent
from community.services.follows import follow_add
from creations.models import Creation
from tests.conftest import client_for
from tests.factories import CreationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_put_follows_a_member_with_201_then_200(owner, member):
    first = client_for(member).put("/api/v1/users/owner/follow/")
    assert first.status_code == 201 and first.json() == {"following": True}
    again = client_for(member).put("/api/v1/users/owner/follow/")
    assert again.status_code == 200 and again.json() == {"following": True}
    assert Follow.objects.get().followed_user == owner
    assert PendingEvent.objects.filter(kind="follow_created").count() == 1


def test_delete_unfollows_a_member_with_204_every_time(owner, member):
    follow_add(follower=member, user=owner)
    for _ in range(2):
        assert client_for(member).delete("/api/v1/users/owner/follow/").status_code == 204
    assert not Follow.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete"])
def test_following_oneself_is_a_400(member, method):
    response = getattr(client_for(member), method)("/api/v1/users/member/follow/")
    assert response.status_code == 400
    assert response.json() == {"detail": "You can't follow yourself."}
    assert not Follow.objects.exists()


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize(
    "path",
    ["/api/v1/users/nobody/follow/", "/api/v1/tags/nope/follow/", "/api/v1/users/a%00b/follow/"],
)
def test_unknown_targets_are_404(member, method, path):
    assert getattr(client_for(member), method)(path).status_code == 404


def test_inactive_members_cannot_be_followed(member):
    UserFactory(username="gone", is_active=False)
    assert client_for(member).put("/api/v1/users/gone/follow/").status_code == 404


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/users/owner/follow/", "/api/v1/tags/castle/follow/"])
def test_anonymous_callers_get_401(owner, method, path):
    CreationFactory(owner=owner, tags="castle")
    assert getattr(client_for(None), method)(path).status_code == 401


def test_put_and_delete_follow_a_tag(creation, member):
    client = client_for(member)
    assert client.put("/api/v1/tags/technic-pin/follow/").status_code == 201
    assert client.put("/api/v1/tags/technic-pin/follow/").status_code == 200
    assert Follow.objects.get().tag == Tag.objects.get(slug="technic-pin")
    assert not PendingEvent.objects.filter(kind="follow_created").exists()
    assert client.delete("/api/v1/tags/technic-pin/follow/").status_code == 204
    assert client.delete("/api/v1/tags/technic-pin/follow/").status_code == 204
    assert not Follow.objects.exists()


def test_a_tag_only_hidden_creations_carry_cannot_be_followed(owner, member):
    CreationFactory(owner=owner, tags="secret", status=Creation.Status.HIDDEN)
    assert client_for(member).put("/api/v1/tags/secret/follow/").status_code == 404
    assert client_for(member).delete("/api/v1/tags/secret/follow/").status_code == 404
    # Its owner sees it, but the tag still exists for nobody else: following it would tell.
    assert client_for(owner).put("/api/v1/tags/secret/follow/").status_code == 404


def test_routes_reach_the_follow_views_not_the_profiles():
    assert resolve("/api/v1/users/someone/follow/").view_name == "api:user-follow"
    assert resolve("/api/v1/users/me/follow/").view_name == "api:user-follow"
    assert resolve("/api/v1/tags/castle/follow/").view_name == "api:tag-follow"
    assert resolve("/api/v1/feed/").view_name == "api:feed"
    assert resolve("/api/v1/users/someone/").view_name == "api:user-detail"


# The feed -----------------------------------------------------------------------------------


def feed_titles(member, **params):
    response = client_for(member).get("/api/v1/feed/", params)
    assert response.status_code == 200
    return [item["title"] for item in response.json()["results"]]


def test_feed_needs_a_member():
    assert client_for(None).get("/api/v1/feed/").status_code == 401


def test_feed_lists_followed_members_and_tags_once_newest_first(member):
    alice, bob = UserFactory(), UserFactory()
    CreationFactory(owner=alice, title="Alice castle", tags="castle")
    CreationFactory(owner=bob, title="Bob castle", tags="castle, space")
    CreationFactory(owner=bob, title="Bob train", tags="train")
    CreationFactory(owner=alice, title="Alice hidden", status=Creation.Status.HIDDEN)
    assert feed_titles(member) == []
    follow_add(follower=member, user=alice)
    follow_add(follower=member, tag=Tag.objects.get(name="castle"))
    follow_add(follower=member, tag=Tag.objects.get(name="space"))
    assert feed_titles(member) == ["Bob castle", "Alice castle"]
    follow_add(follower=member, user=bob)
    assert feed_titles(member) == ["Bob train", "Bob castle", "Alice castle"]
    data = client_for(member).get("/api/v1/feed/", {"page_size": 2, "page": 2}).json()
    assert data["count"] == 3 and [item["title"] for item in data["results"]] == ["Alice castle"]
    assert set(data["results"][0]) >= {"id", "title", "owner", "tags", "parts"}


@pytest.mark.parametrize(("members", "items"), [(1, 1), (5, 10)])
def test_feed_uses_a_fixed_number_of_queries(member, django_assert_num_queries, members, items):
    owners = UserFactory.create_batch(members)
    for owner in owners:
        follow_add(follower=member, user=owner)
    follow_add(follower=member, tag=CreationFactory(owner=owners[0], tags="castle").tags.get())
    for index in range(items - 1):
        CreationFactory(owner=owners[index % members], tags="castle, space")
    client = client_for(member)
    # Token, the follows, the count, the page (with the ranking prior), its tags, its parts,
    # which scores the member sees (blind scoring).
    with django_assert_num_queries(7):
        response = client.get("/api/v1/feed/")
    assert len(response.json()["results"]) == items


def test_feed_with_no_follows_reads_no_creation(member, django_assert_num_queries):
    client = client_for(member)
    with django_assert_num_queries(2):  # token, follows
        assert client.get("/api/v1/feed/").json()["count"] == 0
