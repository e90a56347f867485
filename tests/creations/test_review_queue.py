"""The review of a new member's first uploads: they wait, seen only by their owner and the
moderators, until a moderator approves them (logged, and the owner is told)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from community.models import Notification
from community.notifications import notification_text, notifications_for
from creations.models import Creation
from creations.services import (
    ModeratorHideError,
    ReviewPendingError,
    creation_set_status,
    creation_update,
)
from moderation.models import ModerationAction
from tests.conftest import client_for, run_action
from tests.factories import CreationFactory, UserFactory
from tests.images import image_bytes

pytestmark = pytest.mark.django_db

PENDING, PUBLISHED = Creation.Status.PENDING, Creation.Status.PUBLISHED


@pytest.fixture
def newcomer(db):
    return UserFactory(username="newcomer", trusted=False)


def upload(owner, title="First build"):
    return CreationFactory(owner=owner, title=title)


def approve(creations, moderator):
    return creation_set_status(creations=creations, status=PUBLISHED, actor=moderator)


def test_a_new_members_first_three_uploads_wait_and_the_fourth_is_published(newcomer, moderator):
    first = [upload(newcomer, f"Build {n}") for n in range(3)]
    assert [creation.status for creation in first] == [PENDING] * 3
    assert upload(newcomer, "Build 3").status == PUBLISHED
    approve(first, moderator)
    assert upload(newcomer, "Build 4").status == PUBLISHED


def test_a_rejected_upload_does_not_count_towards_the_first_three(newcomer, moderator):
    first = [upload(newcomer, f"Build {n}") for n in range(3)]
    creation_set_status(creations=first[:1], status="hidden", actor=moderator, reason="Spam")
    assert upload(newcomer, "Build 3").status == PENDING  # two kept, so this is the third
    assert upload(newcomer, "Build 4").status == PUBLISHED


def test_deleting_a_waiting_upload_makes_the_next_one_wait(newcomer):
    first = [upload(newcomer, f"Build {n}") for n in range(3)]
    first[0].delete()
    assert upload(newcomer, "Build 3").status == PENDING


def test_trusted_members_and_moderators_upload_straight_to_the_gallery(moderator):
    trusted = UserFactory(trusted=True)
    assert upload(trusted).status == PUBLISHED
    moderator.trusted = False
    moderator.save(update_fields=["trusted"])
    assert upload(moderator).status == PUBLISHED


def test_review_off_when_the_threshold_is_zero(newcomer, settings):
    settings.NPU_REVIEW_FIRST_UPLOADS = 0
    assert upload(newcomer).status == PUBLISHED


def test_the_threshold_is_a_setting(newcomer, moderator, settings):
    settings.NPU_REVIEW_FIRST_UPLOADS = 1
    waiting = upload(newcomer)
    assert waiting.status == PENDING
    assert upload(newcomer).status == PUBLISHED
    approve([waiting], moderator)
    assert upload(newcomer).status == PUBLISHED
    settings.NPU_REVIEW_FIRST_UPLOADS = 5
    assert [upload(newcomer).status for _ in range(3)] == [PENDING, PENDING, PUBLISHED]


# What the owner and the others see -------------------------------------------------------------


def test_the_owner_sees_waiting_for_review_on_the_creation_page(client, newcomer):
    waiting = upload(newcomer)
    client.force_login(newcomer)
    body = client.get(waiting.get_absolute_url()).content.decode()
    assert "Waiting for review." in body and "will look at this one soon" in body
    assert "Hidden: only the owner" not in body


def test_others_do_not_see_a_waiting_upload(client, newcomer, member):
    waiting = upload(newcomer, "Secret build")
    assert client.get(waiting.get_absolute_url()).status_code == 404
    assert "Secret build" not in client.get("/").content.decode()
    client.force_login(member)
    assert client.get(waiting.get_absolute_url()).status_code == 404
    assert "Secret build" not in client.get("/").content.decode()
    assert "Secret build" not in client.get("/u/newcomer/").content.decode()
    api = client_for(member)
    assert api.get(f"/api/v1/creations/{waiting.pk}/").status_code == 404
    listed = client_for(None).get("/api/v1/creations/").json()["results"]
    assert waiting.pk not in [item["id"] for item in listed]


def test_moderators_see_a_waiting_upload(client, newcomer, moderator):
    waiting = upload(newcomer)
    client.force_login(moderator)
    assert client.get(waiting.get_absolute_url()).status_code == 200
    assert client_for(moderator).get(f"/api/v1/creations/{waiting.pk}/").json()["status"] == (
        "pending"
    )


def test_the_owners_profile_lists_their_waiting_uploads_with_a_badge(client, newcomer, member):
    upload(newcomer, "Queued build")
    client.force_login(newcomer)
    body = client.get("/u/newcomer/").content.decode()
    assert "Queued build" in body and "Waiting for review</p>" in body
    client.force_login(member)
    assert "Queued build" not in client.get("/u/newcomer/").content.decode()


def test_the_upload_page_says_the_upload_waits_for_review(client, newcomer):
    client.force_login(newcomer)
    response = client.post(
        reverse("creations:new"),
        {
            "title": "Via the form",
            "image": SimpleUploadedFile("p.png", image_bytes("PNG"), content_type="image/png"),
            "tags": "castle",
        },
        follow=True,
    )
    body = response.content.decode()
    assert Creation.objects.get(title="Via the form").status == PENDING
    assert "waits for review" in body and "Your creation is published" not in body


def test_the_api_shows_pending_to_the_owner(newcomer):
    response = client_for(newcomer).post(
        "/api/v1/creations/",
        {
            "title": "Via the API",
            "image": SimpleUploadedFile("p.png", image_bytes("PNG"), content_type="image/png"),
        },
        format="multipart",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert client_for(newcomer).get(response.json()["url"]).json()["status"] == "pending"


# Only a moderator publishes it -----------------------------------------------------------------


def test_the_owner_cannot_publish_a_waiting_upload(client, newcomer):
    waiting = upload(newcomer)
    response = client_for(newcomer).patch(
        f"/api/v1/creations/{waiting.pk}/", {"status": "published"}, format="json"
    )
    assert response.status_code == 403
    with pytest.raises(ModeratorHideError):
        creation_update(creation=waiting, actor=newcomer, status=PUBLISHED)
    with pytest.raises(ModeratorHideError):
        creation_set_status(creations=[waiting], status=PUBLISHED, actor=newcomer)
    # Editing the text through the page leaves it waiting.
    client.force_login(newcomer)
    client.post(
        reverse("creations:edit", args=[waiting.pk]),
        {"title": "Renamed", "description": "", "alt_text": "", "tags": "", "parts": ""},
    )
    waiting.refresh_from_db()
    assert waiting.status == PENDING and waiting.title == "Renamed"
    assert not ModerationAction.objects.exists()


def test_the_owner_cannot_hide_a_waiting_upload_to_publish_it_later(newcomer):
    waiting = upload(newcomer)
    with pytest.raises(ReviewPendingError):
        creation_update(creation=waiting, actor=newcomer, status="hidden")
    with pytest.raises(ReviewPendingError):
        creation_set_status(creations=[waiting], status="hidden", actor=newcomer)
    waiting.refresh_from_db()
    assert waiting.status == PENDING


# Approval: the admin action, the log and the owner's notification -------------------------------


def test_approving_in_the_admin_publishes_logs_and_notifies(moderator_client, moderator, newcomer):
    waiting = [upload(newcomer, f"Build {n}") for n in range(2)]
    published = CreationFactory()  # not waiting: the action leaves it alone
    response = run_action(
        moderator_client,
        "admin:creations_creation_changelist",
        "approve_selected",
        [*waiting, published],
    )
    assert response.status_code == 302
    for creation in waiting:
        creation.refresh_from_db()
        assert creation.status == PUBLISHED
    assert sorted(
        ModerationAction.objects.values_list("actor_id", "action", "category", "target_id")
    ) == sorted((moderator.pk, "approve", "review", creation.pk) for creation in waiting)
    notifications = list(notifications_for(newcomer))
    assert len(notifications) == 2
    assert {row.kind for row in notifications} == {Notification.Kind.UPLOAD_APPROVED}
    assert {notification_text(row, viewer=newcomer) for row in notifications} == {
        "A moderator approved your upload “Build 0”: it is published.",
        "A moderator approved your upload “Build 1”: it is published.",
    }
    assert all(row.actor is None for row in notifications)


def test_the_approve_action_leaves_hidden_creations_hidden(moderator_client, owner):
    hidden = CreationFactory(owner=owner)
    creation_update(creation=hidden, actor=owner, status="hidden")
    run_action(
        moderator_client, "admin:creations_creation_changelist", "approve_selected", [hidden]
    )
    hidden.refresh_from_db()
    assert hidden.status == "hidden"
    assert not ModerationAction.objects.exists()


def test_publishing_a_waiting_upload_through_the_api_is_an_approval(moderator, newcomer):
    waiting = upload(newcomer)
    response = client_for(moderator).patch(
        f"/api/v1/creations/{waiting.pk}/", {"status": "published"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "published"
    assert list(ModerationAction.objects.values_list("action", "category")) == [
        ("approve", "review")
    ]
    assert [row.kind for row in notifications_for(newcomer)] == ["upload_approved"]


def test_an_approval_shows_on_the_notifications_page_and_in_the_api(client, moderator, newcomer):
    approve([upload(newcomer, "Tiny house")], moderator)
    client.force_login(newcomer)
    body = client.get(reverse("community:notifications")).content.decode()
    assert "approved your upload" in body and "Tiny house" in body
    listed = client_for(newcomer).get("/api/v1/notifications/").json()["results"]
    assert listed[0]["kind"] == "upload_approved"


def test_the_admin_status_filter_offers_waiting_for_review(moderator_client, newcomer):
    waiting = upload(newcomer)
    CreationFactory()
    url = reverse("admin:creations_creation_changelist")
    response = moderator_client.get(url, {"status__exact": "pending"})
    assert "Waiting for review" in response.content.decode()
    assert [row.pk for row in response.context["cl"].result_list] == [waiting.pk]
