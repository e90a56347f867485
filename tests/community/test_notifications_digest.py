"""E-mail digests: one mail for many notifications, what the member chose, never twice, and the
one-click unsubscribe link."""

import re
from smtplib import SMTPServerDisconnected

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from community.models import Notification
from community.notifications import (
    DIGEST_MAX_LISTED,
    UNSUBSCRIBE_SALT,
    digest_recipient_ids,
    digest_send,
    digests_send_all,
    preferences_for,
    preferences_update,
    unsubscribe_token,
)
from community.tasks import send_digest, send_digests
from creations.models import Creation
from tests.factories import CreationFactory, ScoreFactory, UserFactory

from .factories_notifications import comment_on, follow

Kind = Notification.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.NPU_SITE_URL = "https://npu.example"


@pytest.fixture
def ann(db):
    return UserFactory(username="ann", display_name="Ann")


def unsubscribe_path(message) -> str:
    link = re.search(r"https://npu\.example(/notifications/unsubscribe/[^/\s]+/)", message.body)
    assert link, message.body
    return link.group(1)


def test_one_mail_lists_every_notification_the_member_wants(mailoutbox, creation, ann):
    parent = comment_on(creation, creation.owner, "Ask me.")
    reply = comment_on(creation, ann, "How?", parent=parent)
    comment_on(creation, ann, "Lovely.")
    follow(ann, creation.owner)  # in the app only by default
    assert digest_send(user_id=creation.owner.pk) == 2
    [mail] = mailoutbox
    assert mail.to == ["owner@example.com"]
    assert mail.subject == "2 new notifications on NPU"
    assert "Ann replied to your comment on “Cheese slope roof”" in mail.body
    assert f"https://npu.example/creations/{creation.pk}/#comment-{reply.pk}" in mail.body
    assert "Ann commented on “Cheese slope roof”" in mail.body
    assert "following" not in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html" and "Ann replied to your comment on" in html
    # Mailed, so not again; the follower stays for the app.
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 1
    assert digest_send(user_id=creation.owner.pk) == 0
    assert len(mailoutbox) == 1


def test_the_digest_carries_one_click_unsubscribe_headers(mailoutbox, creation, ann):
    comment_on(creation, ann)
    digest_send(user_id=creation.owner.pk)
    [mail] = mailoutbox
    path = unsubscribe_path(mail)
    assert mail.extra_headers["List-Unsubscribe"] == f"<https://npu.example{path}>"
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"https://npu.example{path}" in mail.alternatives[0][0]


def test_grouped_scores_read_as_one_line(mailoutbox, creation):
    preferences_update(user=creation.owner, email_kinds={Kind.SCORE})
    for _ in range(5):
        ScoreFactory(creation=creation)
    digest_send(user_id=creation.owner.pk)
    [mail] = mailoutbox
    assert mail.subject == "1 new notification on NPU"
    assert "5 new scores on “Cheese slope roof”" in mail.body
    # Mailed: the next score starts a new group.
    ScoreFactory(creation=creation)
    assert sorted(row.count for row in Notification.objects.all()) == [1, 5]


def test_nothing_to_send_sends_nothing(mailoutbox, creation, ann):
    assert digest_send(user_id=creation.owner.pk) == 0
    ScoreFactory(creation=creation, user=ann)  # scores are in the app only by default
    follow(ann, creation.owner)
    assert digest_send(user_id=creation.owner.pk) == 0
    assert mailoutbox == []
    assert digest_recipient_ids() == []


def test_read_notifications_are_not_mailed(mailoutbox, creation, ann):
    comment_on(creation, ann)
    Notification.objects.update(read_at=timezone.now())
    assert digest_send(user_id=creation.owner.pk) == 0
    assert mailoutbox == []


def test_preferences_are_respected(mailoutbox, creation, ann):
    preferences_update(user=creation.owner, email_kinds={Kind.FOLLOWER})
    comment_on(creation, ann)
    follow(ann, creation.owner)
    assert digest_send(user_id=creation.owner.pk) == 1
    [mail] = mailoutbox
    assert "Ann started following you" in mail.body
    assert "commented" not in mail.body
    assert Notification.objects.get(kind=Kind.COMMENT).emailed_at is None


def test_members_without_an_address_or_inactive_are_skipped(mailoutbox, creation, ann):
    comment_on(creation, ann)
    creation.owner.email = ""
    creation.owner.save(update_fields=["email"])
    assert digest_recipient_ids() == []
    assert digest_send(user_id=creation.owner.pk) == 0
    creation.owner.email = "owner@example.com"
    creation.owner.is_active = False
    creation.owner.save(update_fields=["email", "is_active"])
    assert digest_send(user_id=creation.owner.pk) == 0
    assert digest_send(user_id=987654) == 0
    assert mailoutbox == []


def test_a_creation_hidden_since_is_not_mailed_to_someone_who_cannot_see_it(mailoutbox, owner, ann):
    creation = CreationFactory(owner=owner)
    bob = UserFactory(username="bob")
    comment_on(creation, ann, "@bob look")
    Creation.objects.filter(pk=creation.pk).update(status=Creation.Status.HIDDEN)
    assert digest_send(user_id=bob.pk) == 0
    assert mailoutbox == []
    # It is marked all the same, so it does not wait for a mail forever.
    assert Notification.objects.get(recipient=bob).emailed_at is not None
    assert digest_send(user_id=owner.pk) == 1  # the owner still sees it


def test_a_long_digest_lists_the_newest_and_counts_the_rest(mailoutbox, creation):
    for fan in UserFactory.create_batch(DIGEST_MAX_LISTED + 3):
        comment_on(creation, fan)
    assert digest_send(user_id=creation.owner.pk) == DIGEST_MAX_LISTED + 3
    [mail] = mailoutbox
    assert "… and 3 more" in mail.body
    assert mail.body.count(" commented on ") == DIGEST_MAX_LISTED


def test_send_all_mails_each_member_once(mailoutbox, owner, ann):
    first = CreationFactory(owner=owner)
    second = CreationFactory(owner=ann)
    comment_on(first, ann)
    comment_on(first, UserFactory())
    comment_on(second, owner)
    assert sorted(digest_recipient_ids()) == sorted([owner.pk, ann.pk])
    assert digests_send_all() == 2
    assert sorted(mail.to[0] for mail in mailoutbox) == ["ann@example.com", "owner@example.com"]
    # The task, run again (a redelivery, the next beat): nothing new, nothing sent.
    assert send_digests.apply().get() == 0
    send_digest.apply(args=[owner.pk]).get()
    assert len(mailoutbox) == 2


def test_a_mail_server_failure_leaves_the_digest_for_the_next_try(
    mailoutbox, creation, ann, monkeypatch
):
    comment_on(creation, ann)

    def refuse(self, *args, **kwargs):
        raise SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(SMTPServerDisconnected):
        send_digest.apply(args=[creation.owner.pk], throw=True)
    assert Notification.objects.get().emailed_at is None
    monkeypatch.undo()
    assert send_digest.apply(args=[creation.owner.pk]).get() == 1
    assert len(mailoutbox) == 1


# Unsubscribing ------------------------------------------------------------------------------


def test_the_mailed_link_unsubscribes_with_one_click(client, mailoutbox, creation, ann):
    comment_on(creation, ann)
    digest_send(user_id=creation.owner.pk)
    response = client.get(unsubscribe_path(mailoutbox[0]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "You are unsubscribed" in body
    assert 'href="/notifications/settings/"' in body
    assert not any(preferences_for(creation.owner).values())
    comment_on(creation, ann, "Another")
    assert digest_send(user_id=creation.owner.pk) == 0
    assert len(mailoutbox) == 1


def test_one_click_post_needs_no_session_or_csrf(mailoutbox, creation, ann):
    comment_on(creation, ann)
    digest_send(user_id=creation.owner.pk)
    client = Client(enforce_csrf_checks=True)
    response = client.post(unsubscribe_path(mailoutbox[0]), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not any(preferences_for(creation.owner).values())


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "1:abc",
        "x" * 500,
        "%E2%80%AE",
        signing.dumps(1, salt="accounts.signup"),  # another link's signature
    ],
)
def test_a_bad_token_is_a_400_page(client, member, token):
    response = client.get(f"/notifications/unsubscribe/{token}/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 400
    assert preferences_for(member)[Kind.COMMENT] is True


def test_a_token_for_a_string_or_a_gone_member_is_refused(client, member):
    for value in ["1", [1], True]:
        token = signing.dumps(value, salt=UNSUBSCRIBE_SALT)
        assert client.get(f"/notifications/unsubscribe/{token}/").status_code == 400
    token = unsubscribe_token(member)
    member.delete()
    assert client.get(f"/notifications/unsubscribe/{token}/").status_code == 400


def test_a_control_character_in_the_token_is_a_404(client):
    assert client.get("/notifications/unsubscribe/a%00b/").status_code == 404
