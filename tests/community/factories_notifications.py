"""Making the events notifications come from, without the comment and follow pages."""

from community.events import event_record
from community.models import Comment, Follow, Notification, PendingEvent


def comment_on(creation, user, body="Nice use of the hinge.", parent=None) -> Comment:
    """A comment, recorded as an event as the comment service records it (processed at once:
    the suite runs tasks inline)."""
    comment = Comment.objects.create(creation=creation, user=user, body=body, parent=parent)
    event_record("comment_created", comment_id=comment.pk)
    return comment


def follow(follower, followed) -> Follow:
    row = Follow.objects.create(follower=follower, followed_user=followed)
    event_record("follow_created", follow_id=row.pk)
    return row


def unprocessed_event(kind: str, **data) -> PendingEvent:
    """An event recorded but not queued (as when the broker was down)."""
    return PendingEvent.objects.create(kind=kind, data=data)


def notifications_of(user, **filters) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, **filters).order_by("id"))


def kinds_of(user) -> list[str]:
    return [notification.kind for notification in notifications_of(user)]
