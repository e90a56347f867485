"""The community's background tasks: notification fan-out, the sweep behind it, and digests.

Every task is idempotent (community.notifications): a rerun makes no second notification and
sends no second mail. On a worker a failure is retried later, waiting longer each time
(exponential back-off with jitter). Run inline (no broker) a failure is not retried at once:
the caller is waiting, and the periodic sweep (events) or the next digest run picks the work up.
"""

from smtplib import SMTPException

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from .notifications import digest_send, digests_send_all, event_process, events_process_pending

# Waits of up to 1 s, 2 s, 4 s, … (full jitter), each at most 10 minutes; past the last
# retry an event is left to the sweep, a digest to the next digest run.
RETRY_BACKOFF_MAX = 600
EVENT_MAX_RETRIES = 8
DIGEST_MAX_RETRIES = 8
# smtplib's errors are OSErrors, as are refused connections and timeouts.
MAIL_SERVER_ERRORS = (OSError, SMTPException)


def _retry(task, error):
    if task.request.is_eager:
        # Inline, Celery would run every retry at once, one after the other.
        raise error
    raise task.retry(
        exc=error,
        countdown=get_exponential_backoff_interval(
            factor=1, retries=task.request.retries, maximum=RETRY_BACKOFF_MAX, full_jitter=True
        ),
    ) from error


@shared_task(bind=True, max_retries=EVENT_MAX_RETRIES)
def process_event(self, event_id: int) -> bool:
    """Turn one recorded event into notifications."""
    try:
        return event_process(event_id=event_id)
    except Exception as error:  # noqa: BLE001  any failure is worth a later try
        _retry(self, error)


@shared_task
def process_pending_events() -> int:
    """The periodic sweep: events whose task was never queued (the broker was down) or gave
    up."""
    return events_process_pending()


@shared_task
def send_digests() -> int:
    """The periodic digest run: one `send_digest` per member with something to mail."""
    return digests_send_all()


@shared_task(bind=True, max_retries=DIGEST_MAX_RETRIES)
def send_digest(self, user_id: int) -> int:
    """Mail one member their digest; retried while the mail server fails."""
    try:
        return digest_send(user_id=user_id)
    except MAIL_SERVER_ERRORS as error:
        _retry(self, error)
