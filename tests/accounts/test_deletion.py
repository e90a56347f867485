"""Deleting an account, through the settings page, the API and the admin (one page and the
bulk action): everything that was the member's goes, every number that counted them is
recomputed, their files leave storage and their cached profile page is not served again."""

from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from accounts.models import DataExport, User
from accounts.services import user_delete
from community.models import Comment, Favourite, Follow, Notification
from community.services.comments import comment_create
from community.services.favourites import favourite_add
from community.services.follows import follow_add
from creations.models import Creation
from moderation.models import ModerationAction
from scoring.models import RaterCalibration, Score, ScoreReveal
from scoring.services import creation_refresh_all_aggregates, scores_reveal
from tests.conftest import client_for, run_action
from tests.factories import PASSWORD, CreationFactory, ScoreFactory, UserFactory
from tests.test_storage_s3 import bucket_keys, s3, s3_endpoint  # noqa: F401

AGGREGATES = ("score_count", "creativity_avg", "uniqueness_avg", "rating")


@dataclass
class World:
    leaving: User
    alice: User
    bob: User
    theirs: list  # the leaving member's creations
    alices: Creation
    bobs: Creation
    their_files: list
    comment: Comment
    reply: Comment


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        leaving = UserFactory(username="leaving")
        alice = UserFactory(username="alice")
        bob = UserFactory(username="bob")
        theirs = [CreationFactory(owner=leaving, title=f"Leaving {n}") for n in range(2)]
        alices = CreationFactory(owner=alice, title="Alice's lamp")
        bobs = CreationFactory(owner=bob, title="Bob's boat")
        # Scores the leaving member gave, and scores others gave them.
        ScoreFactory(user=leaving, creation=alices, creativity=5, uniqueness=5)
        ScoreFactory(user=leaving, creation=bobs, creativity=1, uniqueness=1)
        ScoreFactory(user=alice, creation=bobs, creativity=4, uniqueness=2)
        ScoreFactory(user=alice, creation=theirs[0], creativity=3, uniqueness=3)
        ScoreFactory(user=bob, creation=theirs[0], creativity=2, uniqueness=4)
        scores_reveal(user=leaving, creation=alices)
        # A comment with a reply by someone else; a comment on their creation.
        comment = comment_create(user=leaving, creation=alices, body="Lovely use of @bob's idea")
        reply = comment_create(user=bob, creation=alices, body="Thanks!", parent=comment)
        comment_create(user=alice, creation=theirs[1], body="Neat")
        favourite_add(user=leaving, creation=alices)
        favourite_add(user=bob, creation=alices)
        favourite_add(user=alice, creation=theirs[0])
        follow_add(follower=leaving, user=alice)
        follow_add(follower=bob, user=leaving)
    their_files = [name for c in theirs for name in (c.image.name, c.thumbnail.name)]
    assert Notification.objects.filter(recipient=leaving).exists()  # comment, follower
    assert Notification.objects.filter(actor=leaving).exists()  # alice: comment on her lamp
    alices.refresh_from_db()
    assert (alices.score_count, alices.favourite_count) == (1, 2)
    return World(leaving, alice, bob, theirs, alices, bobs, their_files, comment, reply)


def cached_profile(username: str) -> Client:
    """An anonymous visitor who has had the profile served from the page cache."""
    visitor = Client()
    assert visitor.get(f"/u/{username}/").status_code == 200
    response = visitor.get(f"/u/{username}/")
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "hit"
    return visitor


def assert_deleted(world: World, visitor: Client, media_files) -> None:
    leaving_id = world.leaving.pk
    assert not User.objects.filter(pk=leaving_id).exists()
    # Their creations and their files, on disk and at their old URLs.
    assert not Creation.objects.filter(pk__in=[c.pk for c in world.theirs]).exists()
    stored = media_files()
    for name in world.their_files:
        assert name not in stored
        assert visitor.get(f"/media/{name}").status_code == 404
    # Every aggregate they counted in is what a full recomputation gives.
    remaining = {c.pk: c for c in Creation.objects.all()}
    assert set(remaining) == {world.alices.pk, world.bobs.pk}  # nothing else went
    creation_refresh_all_aggregates()
    for creation in Creation.objects.all():
        before = remaining[creation.pk]
        assert [getattr(before, f) for f in AGGREGATES] == [
            getattr(creation, f) for f in AGGREGATES
        ]
    alices, bobs = remaining[world.alices.pk], remaining[world.bobs.pk]
    assert (alices.score_count, alices.rating) == (0, None)
    assert (bobs.score_count, bobs.creativity_avg, bobs.uniqueness_avg) == (1, 4.0, 2.0)
    assert alices.favourite_count == 1  # bob's
    assert alices.comment_count == 2
    assert not Score.objects.filter(user_id=leaving_id).exists()
    assert not ScoreReveal.objects.filter(user_id=leaving_id).exists()
    assert not RaterCalibration.objects.filter(user_id=leaving_id).exists()
    # Alice's and Bob's calibration counts only their scores still standing.
    assert RaterCalibration.objects.get(user=world.alice).score_count == 1
    assert Score.objects.filter(user=world.alice).count() == 1
    # Their comment stays, by a "deleted member", with Bob's reply.
    comment = Comment.objects.get(pk=world.comment.pk)
    assert comment.user_id is None and comment.body.startswith("Lovely")
    assert Comment.objects.get(pk=world.reply.pk).parent_id == comment.pk
    page = visitor.get(alices.get_absolute_url())
    assert page.status_code == 200
    assert "deleted member" in page.content.decode()
    assert "Thanks!" in page.content.decode()
    api_comment = next(
        row
        for row in client_for(None)
        .get(f"/api/v1/creations/{alices.pk}/comments/")
        .json()["results"]
        if row["id"] == comment.pk
    )
    assert "leaving" not in str(api_comment)
    # Favourites, follows and notifications.
    assert not Favourite.objects.filter(user_id=leaving_id).exists()
    assert not Follow.objects.filter(follower_id=leaving_id).exists()
    assert not Follow.objects.filter(followed_user_id=leaving_id).exists()
    assert not Notification.objects.filter(recipient_id=leaving_id).exists()
    kept = Notification.objects.filter(recipient=world.alice, comment=world.comment)
    assert kept.get().actor is None  # "a former member"
    assert client_for(world.alice).get("/api/v1/notifications/").status_code == 200
    # The profile is not served from the cache any more.
    assert visitor.get("/u/leaving/").status_code == 404
    # Everyone else is still here.
    assert set(User.objects.values_list("username", flat=True)) >= {"alice", "bob"}


def test_delete_from_the_settings_page(
    world, client, media_files, django_capture_on_commit_callbacks
):
    visitor = cached_profile("leaving")
    client.force_login(world.leaving)
    settings_page = client.get("/accounts/settings/").content.decode()
    assert 'href="/accounts/delete/"' in settings_page
    confirm = client.get("/accounts/delete/")
    assert confirm.status_code == 200
    assert "deleted member" in confirm.content.decode()

    wrong = client.post("/accounts/delete/", {"password": "not it"})
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.content.decode()
    assert User.objects.filter(pk=world.leaving.pk).exists()
    assert Creation.objects.filter(owner=world.leaving).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/delete/", {"password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert not response.wsgi_request.user.is_authenticated
    assert "Your account and everything in it are deleted" in response.content.decode()
    assert_deleted(world, visitor, media_files)
    assert not ModerationAction.objects.exists()  # their own deletion is nobody's action


def test_delete_through_the_api(world, media_files, django_capture_on_commit_callbacks):
    visitor = cached_profile("leaving")
    api = client_for(world.leaving)
    missing = api.delete("/api/v1/users/me/", {}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()
    wrong = api.delete("/api/v1/users/me/", {"password": "nope"}, format="json")
    assert wrong.status_code == 400 and "password" in wrong.json()
    not_text = api.delete("/api/v1/users/me/", {"password": ["x"]}, format="json")
    assert not_text.status_code == 400 and "password" in not_text.json()
    assert User.objects.filter(pk=world.leaving.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete("/api/v1/users/me/", {"password": PASSWORD}, format="json")
    assert response.status_code == 204
    assert_deleted(world, visitor, media_files)
    assert api.get("/api/v1/users/me/").status_code == 401
    assert not ModerationAction.objects.exists()


def test_delete_through_the_api_needs_a_token(db):
    assert client_for(None).delete("/api/v1/users/me/", {"password": "x"}).status_code == 401


def test_password_tries_share_the_log_in_limit(world, settings):
    settings.NPU_RATE_LIMITS = {**settings.NPU_RATE_LIMITS, "login_username": "2/m"}
    api = client_for(world.leaving)
    for _ in range(2):
        assert api.delete("/api/v1/users/me/", {"password": "x"}, format="json").status_code == 400
    assert api.delete("/api/v1/users/me/", {"password": PASSWORD}, format="json").status_code == 429
    assert User.objects.filter(pk=world.leaving.pk).exists()


def assert_logged_deletion(world, superuser) -> None:
    """An operator's deletion is in the moderation log: one row, kept after the account."""
    rows = ModerationAction.objects.values_list(
        "actor_id", "actor_name", "action", "target_type", "target_id", "target_repr"
    )
    assert list(rows) == [
        (
            superuser.pk,
            superuser.username,
            "delete_member",
            "accounts.user",
            world.leaving.pk,
            "leaving",
        )
    ]


def test_delete_in_the_admin(
    world, client, superuser, media_files, django_capture_on_commit_callbacks
):
    visitor = cached_profile("leaving")
    client.force_login(superuser)
    page = f"/admin/accounts/user/{world.leaving.pk}/delete/"
    assert client.get(page).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page, {"post": "yes"})
    assert response.status_code == 302
    assert_deleted(world, visitor, media_files)
    assert_logged_deletion(world, superuser)


def test_bulk_delete_in_the_admin(
    world, client, superuser, media_files, django_capture_on_commit_callbacks
):
    visitor = cached_profile("leaving")
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(
            client, "admin:accounts_user_changelist", "delete_selected", [world.leaving], post="yes"
        )
    assert response.status_code == 302
    assert_deleted(world, visitor, media_files)
    assert_logged_deletion(world, superuser)


def test_moderators_cannot_delete_members_in_the_admin(world, client, moderator):
    client.force_login(moderator)
    response = client.post(f"/admin/accounts/user/{world.leaving.pk}/delete/", {"post": "yes"})
    assert response.status_code in (302, 403)
    assert User.objects.filter(pk=world.leaving.pk).exists()


def test_a_wrong_password_changes_nothing(world):
    with pytest.raises(ValidationError) as raised:
        user_delete(user=world.leaving, password="wrong")
    assert "password" in raised.value.message_dict
    assert Creation.objects.filter(owner=world.leaving).count() == 2
    assert Score.objects.filter(user=world.leaving).count() == 2


def test_their_export_zips_leave_storage(world, django_capture_on_commit_callbacks):
    name = default_storage.save("exports/old.zip", ContentFile(b"zip"))
    DataExport.objects.create(user=world.leaving, status="ready", file_name=name)
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=world.leaving)
    assert not default_storage.exists(name)
    assert not DataExport.objects.exists()


@pytest.mark.django_db
def test_delete_removes_their_files_from_an_s3_bucket(
    s3,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        leaving = UserFactory(username="leaving")
        kept = CreationFactory(owner=UserFactory(username="stays"))
        CreationFactory(owner=leaving)
        CreationFactory(owner=leaving)
    assert len(bucket_keys(s3)) == 6
    with django_capture_on_commit_callbacks(execute=True):
        client_for(leaving).delete("/api/v1/users/me/", {"password": PASSWORD}, format="json")
    assert bucket_keys(s3) == sorted([kept.image.name, kept.thumbnail.name])
