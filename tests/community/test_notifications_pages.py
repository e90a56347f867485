"""The notifications page, opening and marking read, the settings page and the header badge."""

import pytest
from django.test import Client
from django.urls import reverse

from community.models import Notification
from community.notifications import preferences_for
from creations.models import Creation
from moderation.services import report_resolve
from tests.conftest import session_queries
from tests.factories import CreationFactory, ReportFactory, ScoreFactory, UserFactory

from .factories_notifications import comment_on, follow

Kind = Notification.Kind

pytestmark = pytest.mark.django_db

URL = "/notifications/"


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", display_name="Ann")


def listed(response) -> list[Notification]:
    return list(response.context["page"].object_list)


def test_anonymous_visitors_are_sent_to_log_in(client):
    for url in [URL, "/notifications/settings/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert client.post("/notifications/read/").status_code == 302
    assert Notification.objects.count() == 0


def test_the_page_lists_mine_newest_first_with_links(client, creation, ann):
    comment = comment_on(creation, ann)
    follow(ann, creation.owner)
    ScoreFactory(creation=creation, user=UserFactory())
    comment_on(CreationFactory(owner=ann), creation.owner)  # Ann's, not the owner's
    client.force_login(creation.owner)
    response = client.get(URL)
    assert response.status_code == 200
    assert [row.kind for row in listed(response)] == [Kind.SCORE, Kind.FOLLOWER, Kind.COMMENT]
    body = response.content.decode()
    assert '<a href="/u/ann/">Ann</a> started following you' in body
    assert (
        f'<a href="/u/ann/">Ann</a> <a href="/creations/{creation.pk}/#comment-{comment.pk}">'
        f'commented</a> on <a href="/creations/{creation.pk}/">“Cheese slope roof”</a>'
    ) in body
    assert body.count('<span class="notification-new">New</span>') == 3
    assert "3 unread." in body


def test_read_ones_are_not_marked_new(client, creation, ann):
    comment_on(creation, ann)
    Notification.objects.update(read_at="2024-01-01T00:00Z")
    client.force_login(creation.owner)
    body = client.get(URL).content.decode()
    assert "notification-new" not in body and "Nothing unread." in body
    assert "Mark all read" not in body


def test_text_is_escaped(client, owner):
    creation = CreationFactory(owner=owner, title="<b>Bold</b> & co")
    sly = UserFactory(username="sly", display_name="<script>x</script>")
    comment_on(creation, sly)
    client.force_login(owner)
    body = client.get(URL).content.decode()
    assert "<script>x</script>" not in body and "&lt;script&gt;x&lt;/script&gt;" in body
    assert "“&lt;b&gt;Bold&lt;/b&gt; &amp; co”" in body


def test_notifications_about_creations_i_can_no_longer_see_are_not_listed(
    client, owner, ann, moderator
):
    creation = CreationFactory(owner=owner, title="Soon hidden")
    bob = UserFactory(username="bob")
    parent = comment_on(creation, bob, "First")
    comment_on(creation, ann, "@bob hi", parent=parent)
    Creation.objects.filter(pk=creation.pk).update(status=Creation.Status.HIDDEN)
    client.force_login(bob)
    response = client.get(URL)
    assert listed(response) == []
    assert "1 unread" not in response.content.decode()
    client.force_login(owner)
    assert len(listed(client.get(URL))) == 2  # the owner still sees their creation


def test_a_resolved_report_about_a_hidden_creation_stays_without_its_link(
    client, creation, ann, moderator
):
    report_resolve(reports=[ReportFactory(creation=creation, reporter=ann)], moderator=moderator)
    Creation.objects.filter(pk=creation.pk).update(status=Creation.Status.HIDDEN)
    client.force_login(ann)
    response = client.get(URL)
    [notification] = listed(response)
    body = response.content.decode()
    assert "A moderator resolved your report about “Cheese slope roof”. Thank you." in body
    assert f'href="/creations/{creation.pk}/"' not in body


def test_the_page_is_paginated_by_24(client, owner):
    creations = CreationFactory.create_batch(25, owner=owner)
    for creation in creations:
        ScoreFactory(creation=creation)
    client.force_login(owner)
    first = client.get(URL)
    assert len(listed(first)) == 24
    assert listed(first)[0].creation == creations[-1]
    second = client.get(URL + "?page=2")
    assert [row.creation for row in listed(second)] == [creations[0]]
    assert len(listed(client.get(URL + "?page=x%00"))) == 24


@pytest.mark.parametrize("count", [1, 24])
def test_the_page_uses_a_fixed_number_of_queries(client, owner, django_assert_num_queries, count):
    for creation in CreationFactory.create_batch(count, owner=owner):
        comment_on(creation, UserFactory())
    client.force_login(owner)
    # The member, the count, the page of notifications with their actors, creations and
    # comments, and the unread count (cached for the header's badge); and the session unless
    # Redis holds it.
    with django_assert_num_queries(4 + session_queries()):
        response = client.get(URL)
    assert len(listed(response)) == count


def test_opening_a_notification_marks_it_read_and_goes_to_it(client, creation, ann):
    comment = comment_on(creation, ann)
    follow(ann, creation.owner)
    client.force_login(creation.owner)
    to_comment = Notification.objects.get(kind=Kind.COMMENT)
    response = client.post(f"/notifications/{to_comment.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/creations/{creation.pk}/#comment-{comment.pk}"
    to_comment.refresh_from_db()
    assert to_comment.is_read
    to_follower = Notification.objects.get(kind=Kind.FOLLOWER)
    assert client.post(f"/notifications/{to_follower.pk}/open/")["Location"] == "/u/ann/"
    assert client.get(f"/notifications/{to_follower.pk}/open/").status_code == 405


def test_nobody_opens_someone_elses_notification(client, creation, ann):
    comment_on(creation, ann)
    notification = Notification.objects.get()
    client.force_login(ann)
    assert client.post(f"/notifications/{notification.pk}/open/").status_code == 404
    assert client.post(f"/notifications/{2**64}/open/").status_code == 404
    notification.refresh_from_db()
    assert not notification.is_read


def test_mark_all_read(client, creation, ann):
    comment_on(creation, ann)
    follow(ann, creation.owner)
    comment_on(CreationFactory(owner=ann), creation.owner)
    client.force_login(creation.owner)
    response = client.post("/notifications/read/", follow=True)
    assert response.redirect_chain == [("/notifications/", 302)]
    assert "All your notifications are marked read." in response.content.decode()
    assert Notification.objects.filter(recipient=creation.owner, read_at=None).count() == 0
    assert Notification.objects.filter(recipient=ann, read_at=None).count() == 1
    assert client.get("/notifications/read/").status_code == 405


def test_mark_all_read_needs_the_csrf_token(creation, ann):
    comment_on(creation, ann)
    client = Client(enforce_csrf_checks=True)
    client.force_login(creation.owner)
    assert client.post("/notifications/read/").status_code == 403
    assert Notification.objects.get().read_at is None


# Settings -----------------------------------------------------------------------------------


def test_settings_page_shows_a_checkbox_per_kind(client, member):
    client.force_login(member)
    body = client.get("/notifications/settings/").content.decode()
    assert body.count('type="checkbox"') == len(Kind.choices)
    assert "Also by e-mail (in a digest)" in body
    assert '<input type="checkbox" name="comment" id="id_comment" checked>' in body
    assert '<input type="checkbox" name="score" id="id_score">' in body


def test_settings_page_saves_the_choice(client, member):
    client.force_login(member)
    response = client.post("/notifications/settings/", {"score": "on", "mention": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/settings/"
    chosen = preferences_for(member)
    assert {kind for kind, email in chosen.items() if email} == {Kind.SCORE, Kind.MENTION}


def test_settings_page_ignores_unknown_fields(client, member):
    client.force_login(member)
    client.post("/notifications/settings/", {"everything": "on", "comment": "\x00"})
    assert {kind for kind, email in preferences_for(member).items() if email} == {Kind.COMMENT}


def test_account_settings_link_to_notification_settings(client, member):
    client.force_login(member)
    body = client.get(reverse("accounts:settings")).content.decode()
    assert 'href="/notifications/settings/"' in body


# The badge ----------------------------------------------------------------------------------


def test_badge_shows_the_unread_count(client, creation, ann):
    client.force_login(creation.owner)
    body = client.get("/").content.decode()
    assert '<a class="nav-notifications" href="/notifications/">Notifications</a>' in body
    comment_on(creation, ann)
    follow(ann, creation.owner)
    ScoreFactory(creation=creation)
    body = client.get("/").content.decode()
    assert (
        '<a class="nav-notifications" href="/notifications/">Notifications '
        '<span class="badge">3</span><span class="visually-hidden"> unread</span></a>'
    ) in body
    ScoreFactory(creation=creation)  # folds into the unread group: still 3
    assert '<span class="badge">3</span>' in client.get("/").content.decode()
    client.post("/notifications/read/")
    assert 'class="badge"' not in client.get("/").content.decode()


def test_badge_drops_when_one_is_opened(client, creation, ann):
    comment_on(creation, ann)
    follow(ann, creation.owner)
    client.force_login(creation.owner)
    assert '<span class="badge">2</span>' in client.get("/").content.decode()
    client.post(f"/notifications/{Notification.objects.get(kind=Kind.COMMENT).pk}/open/")
    assert '<span class="badge">1</span>' in client.get("/").content.decode()


def test_badge_is_cached_between_pages(client, creation, ann, django_assert_num_queries):
    comment_on(creation, ann)
    client.force_login(creation.owner)
    client.get("/")
    # The gallery's own queries only: the count comes from the cache.
    with django_assert_num_queries(4 + session_queries()):
        body = client.get("/").content.decode()
    assert '<span class="badge">1</span>' in body


def test_anonymous_visitors_get_no_badge(client, creation):
    body = client.get("/").content.decode()
    assert "nav-notifications" not in body and "/notifications/" not in body


def test_a_large_count_is_capped(client, owner):
    Notification.objects.bulk_create(
        [Notification(recipient=owner, kind=Kind.FOLLOWER, source=f"test:{n}") for n in range(120)]
    )
    client.force_login(owner)
    assert '<span class="badge">99+</span>' in client.get("/").content.decode()
