"""Sending mail on the background worker.

`mail_queue(message)` hands a built EmailMessage to the worker (npu_site.background.enqueue),
so no web request waits on a mail server. The message travels as plain JSON (subject, body,
addresses, alternatives, headers); attachments are not supported. With no broker the mail is
sent inline, at once; with the broker down it is sent inline too (`inline_if_unavailable`), since
a member is waiting for it (a password reset, a sign-up link).

On the worker, a mail server that fails (a refused connection, a timeout, an SMTP error) is
tried again later, waiting longer each time (exponential back-off with jitter), up to
MAIL_MAX_RETRIES times. Sent inline, a failure is logged and not retried: a request is
waiting, and the member can ask for the mail again.

Sending is at least once: a worker that dies between sending and acknowledging sends the mail
again when the task is redelivered. Every queued message carries a fixed Message-ID, set once
when it is queued, so a mail client shows such a repeat as the same message.
"""

from smtplib import SMTPException

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import make_msgid

from .background import enqueue

# Retries of a mail the server refused: waits of up to 30 s, 1 min, 2 min, … (full jitter),
# each at most half an hour (below the broker's visibility timeout, so a waiting retry is not
# handed to a second worker): some hours in all before the mail is given up and logged.
MAIL_RETRY_BACKOFF = 30
MAIL_RETRY_BACKOFF_MAX = 1800
MAIL_MAX_RETRIES = 20
# smtplib's errors are OSErrors; a refused connection, a timeout or a name that does not
# resolve are too. Anything else (a message that cannot be built) is a bug, not retried.
MAIL_SERVER_ERRORS = (OSError, SMTPException)


def email_message_to_dict(message: EmailMessage) -> dict:
    """A message as JSON-serialisable data for the task; the inverse of
    `email_message_from_dict`."""
    if message.attachments:
        raise ValueError("Queued mail cannot carry attachments.")
    headers = {str(name): str(value) for name, value in message.extra_headers.items()}
    if not any(name.lower() == "message-id" for name in headers):
        headers["Message-ID"] = make_msgid()
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "alternatives": [
            [str(content), mimetype]
            for content, mimetype in getattr(message, "alternatives", None) or []
        ],
        "headers": headers,
    }


def email_message_from_dict(message: dict) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.get("subject", ""),
        body=message.get("body", ""),
        from_email=message.get("from_email"),
        to=message.get("to") or [],
        cc=message.get("cc") or [],
        bcc=message.get("bcc") or [],
        reply_to=message.get("reply_to") or [],
        headers=message.get("headers") or {},
    )
    for content, mimetype in message.get("alternatives") or []:
        email.attach_alternative(content, mimetype)
    return email


@shared_task(bind=True, max_retries=MAIL_MAX_RETRIES)
def send_email_message(self, message: dict) -> int:
    """Send one queued mail (see `email_message_to_dict`); retried with back-off while the mail
    server fails."""
    try:
        return email_message_from_dict(message).send()
    except MAIL_SERVER_ERRORS as error:
        if self.request.is_eager:
            # Inline, a request is waiting: no retries here (Celery would run them at once,
            # one after the other). npu_site.background logs the failure.
            raise
        raise self.retry(
            exc=error,
            countdown=get_exponential_backoff_interval(
                factor=MAIL_RETRY_BACKOFF,
                retries=self.request.retries,
                maximum=MAIL_RETRY_BACKOFF_MAX,
                full_jitter=True,
            ),
        ) from error


def mail_queue(message: EmailMessage) -> None:
    """Send `message` from the background worker once the current transaction commits (at once
    and inline when there is no broker, or when the broker cannot be reached)."""
    enqueue(send_email_message, email_message_to_dict(message), inline_if_unavailable=True)
