"""Mail through the background worker (npu_site.mail): what a queued message carries, how the
site's mails reach it, and what a failing mail server does inline and on a worker.

Tasks run inline in the suite; tests/test_worker.py sends mail through a real worker."""

import json
import logging
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives

from accounts.services import email_change_request, signup_create
from npu_site import mail as site_mail
from npu_site.mail import (
    MAIL_RETRY_BACKOFF,
    email_message_from_dict,
    email_message_to_dict,
    mail_queue,
    send_email_message,
)

SITE = "https://npu.example.org"


def full_message() -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        "Your digest ✓",
        "Plain text.\nTwo lines.",
        "NPU <digest@example.org>",
        ["fan@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        reply_to=["reply@example.com"],
        headers={"List-Unsubscribe": "<https://npu.example.org/u/x/>"},
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    return message


def test_a_queued_message_is_plain_json_and_comes_back_whole():
    data = email_message_to_dict(full_message())

    assert json.loads(json.dumps(data)) == data
    rebuilt = email_message_from_dict(data)
    assert rebuilt.subject == "Your digest ✓"
    assert rebuilt.body == "Plain text.\nTwo lines."
    assert rebuilt.from_email == "NPU <digest@example.org>"
    assert (rebuilt.to, rebuilt.cc, rebuilt.bcc, rebuilt.reply_to) == (
        ["fan@example.com"],
        ["cc@example.com"],
        ["bcc@example.com"],
        ["reply@example.com"],
    )
    assert [tuple(alternative) for alternative in rebuilt.alternatives] == [
        ("<p>HTML</p>", "text/html")
    ]
    assert rebuilt.extra_headers["List-Unsubscribe"] == "<https://npu.example.org/u/x/>"


def test_a_queued_message_gets_one_message_id_kept_through_retries():
    data = email_message_to_dict(EmailMessage("Hi", "Body", None, ["fan@example.com"]))
    message_id = data["headers"]["Message-ID"]
    assert message_id.startswith("<") and message_id.endswith(">")
    # Rebuilt for each try, the message keeps it.
    assert email_message_from_dict(data).message()["Message-ID"] == message_id
    assert email_message_from_dict(data).message()["Message-ID"] == message_id
    own = email_message_to_dict(
        EmailMessage("Hi", "Body", None, ["fan@example.com"], headers={"Message-ID": "<a@b>"})
    )
    assert own["headers"] == {"Message-ID": "<a@b>"}


def test_a_message_with_attachments_cannot_be_queued():
    message = EmailMessage("Hi", "Body", None, ["fan@example.com"])
    message.attach("notes.txt", "text", "text/plain")
    with pytest.raises(ValueError, match="attachments"):
        mail_queue(message)
    assert mail.outbox == []


def test_without_a_broker_mail_queue_sends_at_once_inline(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER
    mail_queue(full_message())

    (sent,) = mail.outbox
    assert sent.subject == "Your digest ✓"
    assert sent.to == ["fan@example.com"] and sent.bcc == ["bcc@example.com"]
    assert sent.alternatives[0][1] == "text/html"
    assert sent.extra_headers["List-Unsubscribe"] == "<https://npu.example.org/u/x/>"


def test_a_mail_server_failure_inline_is_logged_once_and_never_raised(caplog):
    with mock.patch.object(
        EmailMultiAlternatives, "send", side_effect=SMTPServerDisconnected("gone")
    ) as send:
        with caplog.at_level(logging.ERROR, logger="npu_site.background"):
            mail_queue(EmailMessage("Hi", "Body", None, ["fan@example.com"]))

    # Inline a request is waiting: one try, no retries one after the other.
    assert send.call_count == 1
    assert "background task npu_site.mail.send_email_message failed inline" in caplog.text


def test_on_a_worker_a_mail_server_failure_is_retried_with_back_off():
    data = email_message_to_dict(EmailMessage("Hi", "Body", None, ["fan@example.com"]))
    error = ConnectionRefusedError("no mail server")
    with (
        mock.patch.object(EmailMultiAlternatives, "send", side_effect=error),
        mock.patch.object(send_email_message, "retry", side_effect=Retry()) as retry,
    ):
        # Called as a worker calls it: not eager, on its third try.
        send_email_message.push_request(is_eager=False, retries=2)
        try:
            with pytest.raises(Retry):
                send_email_message.run(data)
        finally:
            send_email_message.pop_request()

    ((_, kwargs),) = retry.call_args_list
    assert kwargs["exc"] is error
    assert 0 <= kwargs["countdown"] <= MAIL_RETRY_BACKOFF * 2**2


def test_on_a_worker_a_broken_message_is_not_retried():
    with mock.patch.object(send_email_message, "retry") as retry:
        send_email_message.push_request(is_eager=False, retries=0)
        try:
            with pytest.raises(TypeError):
                send_email_message.run({"subject": "Hi", "body": "Body", "to": "not-a-list"})
        finally:
            send_email_message.pop_request()
    assert not retry.called


# The site's mails go through the queue ----------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """Every message queued through npu_site.mail, still sent inline afterwards."""
    calls = []
    enqueue = site_mail.enqueue

    def recording_enqueue(task, *args, **kwargs):
        calls.append((task.name, args, kwargs))
        return enqueue(task, *args, **kwargs)

    monkeypatch.setattr(site_mail, "enqueue", recording_enqueue)
    return calls


def test_the_password_reset_mail_is_queued(client, member, queued):
    response = client.post("/accounts/password/reset/", {"email": member.email})

    assert response.status_code == 302
    ((name, (data,), options),) = queued
    assert name == "npu_site.mail.send_email_message"
    assert options == {"inline_if_unavailable": True}
    assert data["to"] == [member.email]
    assert "/accounts/password/reset/" in data["body"]
    assert "\n" not in data["subject"]
    (sent,) = mail.outbox
    assert sent.body == data["body"]


def test_the_sign_up_mails_are_queued(member, queued, db):
    for username, email in (("newcomer", "new@example.com"), ("copycat", member.email)):
        signup_create(username=username, email=email, password="long-password-1", base_url=SITE)

    assert [data["to"] for _, (data,), _ in queued] == [["new@example.com"], [member.email]]
    assert "/accounts/verify/" in queued[0][1][0]["body"]
    assert len(mail.outbox) == 2


def test_the_address_change_mails_are_queued(member, other_member, queued):
    email_change_request(user=member, email="moved@example.com", base_url=SITE)
    email_change_request(user=member, email=other_member.email, base_url=SITE)

    assert [data["to"] for _, (data,), _ in queued] == [
        ["moved@example.com"],
        [other_member.email],
    ]
    assert "/accounts/email/confirm/" in queued[0][1][0]["body"]
    assert len(mail.outbox) == 2
