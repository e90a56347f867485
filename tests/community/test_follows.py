"""Follows: the services, the follow buttons (pages, no JavaScript) and the /following/ feed."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from taggit.models import Tag

from community.feed import feed_creations, following_of
from community.models import Follow, PendingEvent
from community.services.follows import follow_add, follow_remove
from creations.models import Creation
from tests.conftest import session_queries
from tests.factories import CreationFactory, UserFactory

pytestmark = pytest.mark.django_db


def titles(response):
    return [creation.title for creation in response.context["page"].object_list]


def tag(name: str) -> Tag:
    return Tag.objects.get(name=name)


def follow_events():
    return PendingEvent.objects.filter(kind="follow_created")


# Services -----------------------------------------------------------------------------------


def test_following_a_member_is_idempotent_and_notifies_once(member, owner):
    assert follow_add(follower=member, user=owner) is True
    assert follow_add(follower=member, user=owner) is False
    follow = Follow.objects.get()
    assert (follow.follower, follow.followed_user, follow.tag) == (member, owner, None)
    [event] = follow_events()
    assert event.data["follow_id"] == follow.pk


def test_unfollowing_is_idempotent(member, owner):
    follow_add(follower=member, user=owner)
    assert follow_remove(follower=member, user=owner) is True
    assert follow_remove(follower=member, user=owner) is False
    assert not Follow.objects.exists()


def test_following_again_soon_after_unfollowing_does_not_notify_again(member, owner):
    follow_add(follower=member, user=owner)
    follow_remove(follower=member, user=owner)
    assert follow_add(follower=member, user=owner) is True
    assert follow_events().count() == 1
    # Another follower of the same member is news.
    follow_add(follower=UserFactory(), user=owner)
    assert follow_events().count() == 2


def test_nobody_follows_themselves(member):
    with pytest.raises(ValidationError, match="can't follow yourself"):
        follow_add(follower=member, user=member)
    with pytest.raises(ValidationError):
        follow_remove(follower=member, user=member)
    assert not Follow.objects.exists() and not follow_events().exists()


def test_following_a_tag_is_idempotent_and_notifies_nobody(member, creation):
    technic = tag("technic pin")
    assert follow_add(follower=member, tag=technic) is True
    assert follow_add(follower=member, tag=technic) is False
    assert Follow.objects.get().tag == technic
    assert not follow_events().exists()
    assert follow_remove(follower=member, tag=technic) is True
    assert follow_remove(follower=member, tag=technic) is False


def test_a_follow_names_exactly_one_target(member, owner, creation):
    with pytest.raises(ValueError):
        follow_add(follower=member)
    with pytest.raises(ValueError):
        follow_add(follower=member, user=owner, tag=tag("technic pin"))


# Buttons ------------------------------------------------------------------------------------


def test_profile_shows_a_follow_form_to_members_but_not_on_their_own(client, owner, member):
    client.force_login(member)
    body = client.get("/u/owner/").content.decode()
    assert 'action="/u/owner/follow/"' in body
    assert 'name="action" value="follow"' in body and 'name="next" value="/u/owner/"' in body
    assert 'aria-pressed="false">Follow<' in body
    client.force_login(owner)
    assert 'action="/u/owner/follow/"' not in client.get("/u/owner/").content.decode()


def test_anonymous_visitor_gets_a_log_in_link_to_follow(client, owner, creation):
    body = client.get("/u/owner/").content.decode()
    assert 'href="/accounts/login/?next=/u/owner/"' in body
    assert 'name="action" value="follow"' not in body
    body = client.get("/tags/technic-pin/").content.decode()
    assert 'href="/accounts/login/?next=/tags/technic-pin/"' in body
    response = client.post("/u/owner/follow/", {"action": "follow"})
    assert response["Location"] == "/accounts/login/?next=/u/owner/"
    response = client.post("/tags/technic-pin/follow/", {"action": "follow"})
    assert response["Location"] == "/accounts/login/?next=/tags/technic-pin/"
    assert not Follow.objects.exists()


def test_following_a_member_through_the_form(client, owner, member):
    client.force_login(member)
    response = client.post("/u/owner/follow/", {"action": "follow", "next": "/u/owner/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/u/owner/?page=2"
    assert Follow.objects.filter(follower=member, followed_user=owner).exists()
    body = client.get("/u/owner/").content.decode()
    assert "You follow Owner" in body
    assert 'name="action" value="unfollow"' in body
    assert 'aria-pressed="true">Following ✓ (unfollow)<' in body
    response = client.post("/u/owner/follow/", {"action": "unfollow"}, follow=True)
    assert "You no longer follow Owner" in response.content.decode()
    assert not Follow.objects.exists()


def test_following_a_tag_through_the_form(client, creation, member):
    client.force_login(member)
    body = client.get("/tags/technic-pin/").content.decode()
    assert 'action="/tags/technic-pin/follow/"' in body and 'aria-pressed="false"' in body
    response = client.post("/tags/technic-pin/follow/", {"action": "follow"})
    assert response["Location"] == "/tags/technic-pin/"
    assert Follow.objects.get(follower=member).tag == tag("technic pin")
    assert 'aria-pressed="true">Following ✓' in client.get("/tags/technic-pin/").content.decode()


def test_following_oneself_through_the_form_says_no(client, member):
    client.force_login(member)
    response = client.post("/u/member/follow/", {"action": "follow"}, follow=True)
    assert "You can&#x27;t follow yourself." in response.content.decode()
    assert not Follow.objects.exists()


def test_unknown_members_and_secret_tags_are_404(client, owner, member):
    CreationFactory(owner=owner, tags="secret", status=Creation.Status.HIDDEN)
    client.force_login(member)
    assert client.post("/u/nobody/follow/", {"action": "follow"}).status_code == 404
    assert client.post("/tags/nope/follow/", {"action": "follow"}).status_code == 404
    assert client.post("/tags/secret/follow/", {"action": "follow"}).status_code == 404
    assert client.post("/u/a%00b/follow/", {"action": "follow"}).status_code == 404
    assert not Follow.objects.exists()


def test_a_followed_tag_that_turned_secret_can_still_be_unfollowed(client, owner, member):
    creation = CreationFactory(owner=owner, tags="secret")
    follow_add(follower=member, tag=tag("secret"))
    Creation.objects.filter(pk=creation.pk).update(status=Creation.Status.HIDDEN)
    client.force_login(member)
    assert client.post("/tags/secret/follow/", {"action": "unfollow"}).status_code == 302
    assert not Follow.objects.exists()


def test_follow_forms_only_answer_posts(client, owner, member):
    client.force_login(member)
    assert client.get("/u/owner/follow/").status_code == 405


def test_unsafe_next_goes_back_to_the_profile(client, owner, member):
    client.force_login(member)
    response = client.post(
        "/u/owner/follow/", {"action": "follow", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/u/owner/"


# The feed -----------------------------------------------------------------------------------


def test_following_page_needs_a_member(client):
    response = client.get("/following/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/following/"


def test_following_page_says_how_to_start(client, member, django_assert_num_queries):
    client.force_login(member)
    # The member, their follows and the notification badge: no creation is read.
    with django_assert_num_queries(3 + session_queries()):
        response = client.get("/following/")
    assert "You follow nobody yet" in response.content.decode()


def test_feed_has_followed_members_and_tags_each_once_newest_first(client, member):
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    CreationFactory(owner=alice, title="Alice castle", tags="castle")
    CreationFactory(owner=bob, title="Bob space", tags="space")
    CreationFactory(owner=carol, title="Carol castle", tags="castle, space")
    CreationFactory(owner=carol, title="Carol train", tags="train")
    CreationFactory(owner=alice, title="Alice hidden", status=Creation.Status.HIDDEN)
    CreationFactory(owner=carol, title="Carol hidden castle", tags="castle", status="hidden")
    client.force_login(member)

    follow_add(follower=member, user=alice)
    assert titles(client.get("/following/")) == ["Alice castle"]

    follow_add(follower=member, tag=tag("castle"))
    assert titles(client.get("/following/")) == ["Carol castle", "Alice castle"]

    follow_add(follower=member, tag=tag("space"))
    follow_add(follower=member, user=carol)
    response = client.get("/following/")
    assert titles(response) == ["Carol train", "Carol castle", "Bob space", "Alice castle"]
    assert response.context["page"].paginator.count == 4
    body = response.content.decode()
    assert 'aria-label="Members you follow"' in body and alice.public_name in body
    assert 'href="/tags/castle/"' in body

    follow_remove(follower=member, user=carol)
    assert titles(client.get("/following/")) == ["Carol castle", "Bob space", "Alice castle"]


def test_feed_leaves_out_members_and_tags_not_followed(client, member, owner):
    CreationFactory(owner=owner, title="Unfollowed", tags="castle")
    follow_add(follower=UserFactory(), user=owner)  # someone else's follow
    client.force_login(member)
    follow_add(follower=member, tag=tag("castle"))
    follow_remove(follower=member, tag=tag("castle"))
    response = client.get("/following/")
    assert titles(response) == []
    assert "You follow nobody yet" in response.content.decode()


def test_feed_paginates_by_24(client, member, owner):
    CreationFactory.create_batch(25, owner=owner)
    follow_add(follower=member, user=owner)
    client.force_login(member)
    assert len(titles(client.get("/following/"))) == 24
    assert len(titles(client.get("/following/?page=2"))) == 1


def test_feed_selector_is_one_query_for_a_page(member, owner, django_assert_num_queries):
    CreationFactory.create_batch(3, owner=owner, tags="castle")
    follow_add(follower=member, user=owner)
    follow_add(follower=member, tag=tag("castle"))
    following = following_of(member=member)
    with django_assert_num_queries(1):
        rows = list(
            feed_creations(following=following).select_related(None).prefetch_related(None)[:24]
        )
    assert len(rows) == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL plan")
def test_feed_on_postgresql_tests_the_stored_tag_ids_with_constants(member, owner):
    follow_add(follower=member, user=owner)
    follow_add(follower=member, tag=CreationFactory(owner=UserFactory(), tags="castle").tags.get())
    sql = str(feed_creations(following=following_of(member=member)).query)
    assert '"tag_ids" &&' in sql and "community_follow" not in sql
    assert 'ORDER BY "creations_creation"."created_at" DESC, "creations_creation"."id" DESC' in sql


def follow_many(member, *, members: int, tags: int):
    owners = UserFactory.create_batch(members)
    for owner in owners:
        follow_add(follower=member, user=owner)
    for index in range(tags):
        name = f"tag{index}"
        CreationFactory(owner=owners[0], tags=name)
        follow_add(follower=member, tag=tag(name))
    return owners


@pytest.mark.parametrize(("follows", "items"), [((1, 0), 1), ((1, 1), 2), ((6, 4), 20)])
def test_following_page_uses_a_fixed_number_of_queries(
    client, member, django_assert_num_queries, follows, items
):
    owners = follow_many(member, members=follows[0], tags=follows[1])
    for index in range(items - follows[1]):
        CreationFactory(owner=owners[index % len(owners)], tags="castle, space")
    client.force_login(member)
    # The member, their follows (with names), the count, the page, its tags, which cards'
    # ratings the member may see (blind scoring), the notification badge and which cards the
    # member saved; the same for 1 or 20 creations, 1 or 10 follows.
    with django_assert_num_queries(8 + session_queries()):
        response = client.get("/following/")
    assert len(response.context["page"].object_list) == items
