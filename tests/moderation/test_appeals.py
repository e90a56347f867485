"""Closing the loop: the owner of a hidden creation hears why and appeals once; a moderator
grants or denies it in the admin; the owner hears the decision; reporters hear of resolved
reports."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.services import user_set_moderator
from community.models import Notification
from community.notifications import digest_send, notification_text, notifications_for
from creations.models import Creation
from creations.services import creation_update
from moderation.appeals import appeal_create, appeal_decide
from moderation.models import Appeal, ModerationAction, Report
from tests.conftest import client_for, run_action
from tests.factories import CreationFactory, ReportFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
APPEALS = "admin:moderation_appeal_changelist"


@pytest.fixture
def hidden(creation, moderator):
    """The owner's creation, hidden by a moderator with a reason."""
    creation_update(
        creation=creation, actor=moderator, status="hidden", hidden_reason="Not LEGO parts."
    )
    creation.refresh_from_db()
    return creation


def appeal_url(creation) -> str:
    return f"/creations/{creation.pk}/appeal/"


def api_url(creation) -> str:
    return f"/api/v1/creations/{creation.pk}/appeal/"


def kinds(user):
    return [row.kind for row in notifications_for(user)]


# Services -----------------------------------------------------------------------------------


def test_owner_appeals_a_moderators_hide_once(hidden, owner):
    appeal = appeal_create(owner=owner, creation=hidden, note="  They are all LEGO.  ")
    assert appeal.status == Appeal.Status.OPEN and appeal.note == "They are all LEGO."
    assert appeal.hidden_at == hidden.hidden_at
    with pytest.raises(ValidationError) as refused:
        appeal_create(owner=owner, creation=hidden, note="Again")
    assert "already appealed" in str(refused.value.message_dict["non_field_errors"])
    assert Appeal.objects.count() == 1


def test_a_new_hide_after_a_granted_appeal_can_be_appealed(hidden, owner, moderator):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    appeal_decide(appeals=[appeal], moderator=moderator, grant=True)
    hidden.refresh_from_db()
    creation_update(creation=hidden, actor=moderator, status="hidden", hidden_reason="Again")
    hidden.refresh_from_db()
    assert appeal_create(owner=owner, creation=hidden, note="Still LEGO").pk != appeal.pk


def test_no_appeal_for_a_creation_hidden_by_its_owner_or_never_hidden(owner, moderator):
    self_hidden = CreationFactory(owner=owner)
    creation_update(creation=self_hidden, actor=owner, status="hidden")
    published = CreationFactory(owner=owner)
    for creation in (self_hidden, published):
        with pytest.raises(ValidationError) as refused:
            appeal_create(owner=owner, creation=creation, note="Why?")
        assert "non_field_errors" in refused.value.message_dict
    assert not Appeal.objects.exists()


def test_no_appeal_for_a_creation_hidden_with_its_suspended_owner(owner):
    creation = CreationFactory(owner=owner)
    Creation.objects.filter(pk=creation.pk).update(
        status="hidden", hidden_by_moderator=True, hidden_with_owner=True
    )
    creation.refresh_from_db()
    with pytest.raises(ValidationError):
        appeal_create(owner=owner, creation=creation, note="Why?")


def test_only_the_owner_appeals(hidden, member, moderator):
    for someone in (member, moderator):
        with pytest.raises(PermissionDenied):
            appeal_create(owner=someone, creation=hidden, note="Publish it")
    assert not Appeal.objects.exists()


@pytest.mark.parametrize("note", ["", "   ", "x" * 1001, "bad\x00byte", "rtl\u202eoverride"])
def test_an_appeal_needs_a_plain_note(hidden, owner, note):
    with pytest.raises(ValidationError) as refused:
        appeal_create(owner=owner, creation=hidden, note=note)
    assert "note" in refused.value.message_dict
    assert not Appeal.objects.exists()


def test_granting_publishes_notifies_and_logs(hidden, owner, moderator):
    appeal = appeal_create(owner=owner, creation=hidden, note="They are LEGO.")
    assert appeal_decide(appeals=[appeal], moderator=moderator, grant=True, note="Sorry!") == 1
    hidden.refresh_from_db()
    appeal.refresh_from_db()
    assert hidden.status == Creation.Status.PUBLISHED and not hidden.hidden_by_moderator
    assert appeal.status == Appeal.Status.GRANTED
    assert appeal.decided_by == moderator and appeal.decided_at and appeal.decision_note == "Sorry!"
    notification = notifications_for(owner).get(kind=Kind.APPEAL_DECIDED)
    assert notification.creation == hidden and notification.actor is None
    assert notification_text(notification, viewer=owner) == (
        "A moderator granted your appeal about “Cheese slope roof”: it is published again. Sorry!"
    )
    logged = ModerationAction.objects.get(action=ModerationAction.Action.GRANT_APPEAL)
    assert logged.actor == moderator and logged.category == "appeal"
    assert (logged.target_type, logged.target_id, logged.reason) == (
        "creations.creation",
        hidden.pk,
        "Sorry!",
    )
    # Publishing is logged too, as every moderator's publish is.
    assert ModerationAction.objects.filter(action="publish", target_id=hidden.pk).exists()


def test_denying_keeps_it_hidden_notifies_and_logs(hidden, owner, moderator):
    appeal = appeal_create(owner=owner, creation=hidden, note="They are LEGO.")
    appeal_decide(appeals=[appeal], moderator=moderator, grant=False, note="Clone brand.")
    hidden.refresh_from_db()
    appeal.refresh_from_db()
    assert hidden.status == Creation.Status.HIDDEN and hidden.is_hidden_by_moderator
    assert appeal.status == Appeal.Status.DENIED
    notification = notifications_for(owner).get(kind=Kind.APPEAL_DECIDED)
    assert notification_text(notification, viewer=owner) == (
        "A moderator denied your appeal about “Cheese slope roof”: it stays hidden. Clone brand."
    )
    logged = ModerationAction.objects.get(action=ModerationAction.Action.DENY_APPEAL)
    assert logged.category == "appeal" and logged.reason == "Clone brand."
    assert not ModerationAction.objects.filter(action="publish").exists()


def test_the_decision_reaches_the_notifications_page_and_the_digest(
    client, mailoutbox, hidden, owner, moderator
):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    appeal_decide(appeals=[appeal], moderator=moderator, grant=False, note="Clone brand.")
    client.force_login(owner)
    page = client.get("/notifications/").content.decode()
    assert "A moderator denied your appeal about" in page and "Clone brand." in page
    assert digest_send(user_id=owner.pk) == 2  # the hide and the decision
    [mail] = mailoutbox
    assert "it stays hidden. Clone brand." in mail.body


def test_a_decided_appeal_is_not_decided_again(hidden, owner, moderator):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    appeal_decide(appeals=[appeal], moderator=moderator, grant=False)
    assert appeal_decide(appeals=[appeal], moderator=moderator, grant=True) == 0
    hidden.refresh_from_db()
    assert hidden.status == Creation.Status.HIDDEN
    assert ModerationAction.objects.filter(action__endswith="_appeal").count() == 1
    assert kinds(owner).count(Kind.APPEAL_DECIDED) == 1


def test_only_a_moderator_decides(hidden, owner, member):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    with pytest.raises(PermissionDenied):
        appeal_decide(appeals=[appeal], moderator=member, grant=True)
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN


def test_a_decision_note_must_be_plain_text(hidden, owner, moderator):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    with pytest.raises(ValidationError) as refused:
        appeal_decide(appeals=[appeal], moderator=moderator, grant=True, note="a\x00b")
    assert "note" in refused.value.message_dict
    appeal.refresh_from_db()
    hidden.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN and hidden.status == Creation.Status.HIDDEN


# The loop's other ends, through the admin as moderators use it --------------------------------


def test_the_owner_hears_of_a_hide_with_the_reason(moderator_client, creation, owner):
    moderator_client.post(
        reverse("admin:creations_creation_changelist"),
        {
            "action": "hide_selected",
            "_selected_action": [creation.pk],
            "reason": "Copied from another builder.",
        },
    )
    creation.refresh_from_db()
    assert creation.is_hidden_by_moderator
    notification = notifications_for(owner).get(kind=Kind.CREATION_HIDDEN)
    assert notification.reason == creation.hidden_reason == "Copied from another builder."
    client = client_for(owner)
    listed = client.get("/api/v1/notifications/").json()["results"]
    assert listed[0]["kind"] == "creation_hidden"
    assert listed[0]["reason"] == "Copied from another builder."


def test_the_reporter_hears_that_their_report_was_resolved(moderator_client, creation, member):
    report = ReportFactory(creation=creation, reporter=member)
    run_action(moderator_client, "admin:moderation_report_changelist", "resolve_selected", [report])
    report.refresh_from_db()
    assert report.status == Report.Status.RESOLVED
    assert kinds(member) == [Kind.REPORT_RESOLVED]
    [listed] = client_for(member).get("/api/v1/notifications/").json()["results"]
    assert listed["text"] == (
        "A moderator resolved your report about “Cheese slope roof”. Thank you."
    )


# Pages --------------------------------------------------------------------------------------


def test_owner_sees_the_reason_and_the_appeal_form(client, hidden, owner):
    client.force_login(owner)
    body = client.get(hidden.get_absolute_url()).content.decode()
    assert "Not LEGO parts." in body
    assert f'action="{appeal_url(hidden)}"' in body and 'name="note"' in body


def test_others_see_no_appeal_form(client, hidden, moderator, member, creation):
    client.force_login(moderator)
    assert 'name="note"' not in client.get(hidden.get_absolute_url()).content.decode()
    client.force_login(member)
    published = CreationFactory(owner=hidden.owner)
    assert "appeal" not in client.get(published.get_absolute_url()).content.decode().lower()


def test_appeal_page_post_sends_it_and_the_page_says_it_waits(client, hidden, owner):
    client.force_login(owner)
    response = client.post(appeal_url(hidden), {"note": "All parts are LEGO."})
    assert response.status_code == 302 and response["Location"] == hidden.get_absolute_url()
    appeal = Appeal.objects.get()
    assert appeal.owner == owner and appeal.note == "All parts are LEGO."
    body = client.get(hidden.get_absolute_url()).content.decode()
    assert "Your appeal is waiting" in body and 'name="note"' not in body


def test_appeal_page_shows_the_decision(client, hidden, owner, moderator):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    appeal_decide(appeals=[appeal], moderator=moderator, grant=False, note="Clone brand.")
    client.force_login(owner)
    body = client.get(hidden.get_absolute_url()).content.decode()
    assert "Your appeal was denied" in body and "Clone brand." in body


def test_appeal_page_errors_are_400_and_change_nothing(client, hidden, owner):
    client.force_login(owner)
    response = client.post(appeal_url(hidden), {"note": "bad\x00"})
    assert response.status_code == 400
    assert "not allowed" in response.content.decode()
    assert client.post(appeal_url(hidden), {"note": ""}).status_code == 400
    assert not Appeal.objects.exists()
    client.post(appeal_url(hidden), {"note": "First"})
    second = client.post(appeal_url(hidden), {"note": "Second"})
    assert second.status_code == 400 and "already appealed" in second.content.decode()
    assert Appeal.objects.count() == 1


def test_appeal_page_refuses_others(client, hidden, member, moderator):
    client.force_login(member)
    assert client.post(appeal_url(hidden), {"note": "x"}).status_code == 404
    client.force_login(moderator)
    assert client.post(appeal_url(hidden), {"note": "x"}).status_code == 403
    assert client.get(appeal_url(hidden)).status_code == 405
    assert not Appeal.objects.exists()


# API ----------------------------------------------------------------------------------------


def test_api_appeal_and_read_it_back(hidden, owner):
    api = client_for(owner)
    assert api.get(api_url(hidden)).status_code == 404
    response = api.post(api_url(hidden), {"note": "All LEGO."}, format="json")
    assert response.status_code == 201
    data = response.json()
    assert set(data) == {
        "id",
        "creation",
        "note",
        "status",
        "created_at",
        "decided_at",
        "decision_note",
    }
    assert (data["creation"], data["note"], data["status"]) == (hidden.pk, "All LEGO.", "open")
    assert api.get(api_url(hidden)).json()["id"] == data["id"]


def test_api_refusals(hidden, owner, member, moderator):
    api = client_for(owner)
    assert api.post(api_url(hidden), {}, format="json").json().keys() == {"note"}
    assert api.post(api_url(hidden), {"note": "a\x00"}, format="json").status_code == 400
    assert api.post(api_url(hidden), {"note": "First"}, format="json").status_code == 201
    again = api.post(api_url(hidden), {"note": "Second"}, format="json")
    assert again.status_code == 400 and "non_field_errors" in again.json()
    published = CreationFactory(owner=owner)
    never = api.post(api_url(published), {"note": "Why?"}, format="json")
    assert never.status_code == 400 and "non_field_errors" in never.json()
    assert client_for(None).post(api_url(hidden), {"note": "x"}, format="json").status_code == 401
    assert client_for(member).post(api_url(hidden), {"note": "x"}, format="json").status_code == 404
    assert client_for(member).get(api_url(hidden)).status_code == 404
    assert client_for(member).post(api_url(published), {"note": "x"}).status_code == 403
    assert client_for(moderator).post(api_url(hidden), {"note": "x"}).status_code == 403
    assert Appeal.objects.count() == 1


# Admin --------------------------------------------------------------------------------------


def test_admin_lists_appeals_oldest_first_with_the_creation(moderator_client, owner, moderator):
    creations = CreationFactory.create_batch(3, owner=owner)
    for creation in creations:
        creation_update(creation=creation, actor=moderator, status="hidden", hidden_reason="Why")
        creation.refresh_from_db()
        appeal_create(owner=owner, creation=creation, note=f"About {creation.title}")
    response = moderator_client.get(reverse(APPEALS))
    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert [appeal.creation for appeal in listed] == creations
    body = response.content.decode()
    assert creations[0].thumbnail.url in body and creations[0].title in body
    filtered = moderator_client.get(reverse(APPEALS), {"status__exact": "granted"})
    assert list(filtered.context["cl"].result_list) == []


def test_admin_grant_asks_for_a_note_then_publishes(moderator_client, hidden, owner):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    page = run_action(moderator_client, APPEALS, "grant_selected", [appeal])
    assert page.status_code == 200 and "Note to the owner" in page.content.decode()
    assert 'value="Grant: publish again"' in page.content.decode()
    assert f'name="_selected_action" value="{appeal.pk}"' in page.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN  # nothing until the page is sent
    done = run_action(
        moderator_client, APPEALS, "grant_selected", [appeal], apply="1", note="Our mistake."
    )
    assert done.status_code == 302
    appeal.refresh_from_db()
    hidden.refresh_from_db()
    assert appeal.status == Appeal.Status.GRANTED and appeal.decision_note == "Our mistake."
    assert hidden.status == Creation.Status.PUBLISHED


def test_admin_deny_without_a_note(moderator_client, hidden, owner):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    run_action(moderator_client, APPEALS, "deny_selected", [appeal], apply="1", note="")
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.DENIED
    assert ModerationAction.objects.filter(action="deny_appeal").count() == 1


def test_admin_bad_note_shows_the_page_again_and_changes_nothing(moderator_client, hidden, owner):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    page = run_action(
        moderator_client, APPEALS, "grant_selected", [appeal], apply="1", note="a\x00b"
    )
    assert page.status_code == 200 and "not allowed" in page.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.OPEN


def test_admin_appeals_are_read_only(moderator_client, hidden, owner, superuser, client):
    appeal = appeal_create(owner=owner, creation=hidden, note="Please")
    change = reverse("admin:moderation_appeal_change", args=[appeal.pk])
    page = moderator_client.get(change)
    assert page.status_code == 200 and "Not LEGO parts." in page.content.decode()
    moderator_client.post(change, {"note": "Changed", "status": "granted"})
    appeal.refresh_from_db()
    assert appeal.note == "Please" and appeal.status == Appeal.Status.OPEN
    client.force_login(superuser)
    assert client.get(reverse("admin:moderation_appeal_add")).status_code == 403
    assert (
        client.get(reverse("admin:moderation_appeal_delete", args=[appeal.pk])).status_code == 403
    )


def test_admin_appeals_are_for_moderators_only(client, hidden, owner):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(reverse(APPEALS)).status_code == 403
    user_set_moderator(user=staff, is_moderator=True)
    assert client.get(reverse(APPEALS)).status_code == 200
