"""Recording what happened, for the notifications it makes (the outbox).

A service that makes an event calls `event_record(kind, **data)` inside its transaction: the
event is a row (PendingEvent) committed with the change itself, and the worker's
`process_event` task turns it into notifications (community.notifications) once it commits.
With no broker the task runs inline; with the broker down, the periodic sweep picks the row up
when it is back. Data holds ids only (JSON), never model instances.

Kinds and their data:
- `comment_created`: comment_id
- `follow_created`: follow_id
- `creation_scored`: creation_id, user_id, score_id
- `creation_hidden`: creation_id, actor_id, reason
- `creation_approved`: creation_id, actor_id
- `report_resolved`: report_id, creation_id, reporter_id, moderator_id
- `appeal_decided`: appeal_id, creation_id, owner_id, granted, note
"""

from npu_site.background import enqueue

from .models import PendingEvent

EVENT_KINDS = (
    "comment_created",
    "follow_created",
    "creation_scored",
    "creation_hidden",
    "creation_approved",
    "report_resolved",
    "appeal_decided",
)


def event_record(kind: str, **data) -> PendingEvent:
    """Record an event and queue its processing for when the transaction commits."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    event = PendingEvent.objects.create(kind=kind, data=data)
    from .tasks import process_event  # the tasks import the notification rules, which import us

    enqueue(process_event, event.pk)
    return event
