"""Writes to follows: a member follows another member or a tag, or stops following.

A new follow of a member is an event (`follow_created`) the followed member hears of. Following
again soon after unfollowing records no second event, so toggling the button cannot flood
anyone with "new follower" notifications.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..events import event_record
from ..models import Follow, Notification, PendingEvent

# How long a follow of the same member by the same follower stays notified once.
FOLLOW_NOTIFIED_FOR = timedelta(days=1)
NOT_ONESELF = "You can't follow yourself."


def _target(*, follower, user, tag) -> dict:
    if (user is None) == (tag is None):
        raise ValueError("Follow exactly one member or one tag.")
    if user is not None and user.pk == follower.pk:
        raise ValidationError(NOT_ONESELF, code="follow_oneself")
    return (
        {"followed_user": user, "tag": None}
        if user is not None
        else {"followed_user": None, "tag": tag}
    )


def _recently_notified(*, follower, user) -> bool:
    """Whether this follow was notified in the last FOLLOW_NOTIFIED_FOR, or is about to be.

    Through the member's own notifications (the inbox index) and the events still waiting in
    the outbox (its partial index on unprocessed rows), never the outbox's processed rows of
    every kind, which pile up between clean-ups."""
    since = timezone.now() - FOLLOW_NOTIFIED_FOR
    notified = Notification.objects.filter(
        recipient=user, kind=Notification.Kind.FOLLOWER, actor=follower, created_at__gte=since
    )
    waiting = PendingEvent.objects.filter(
        processed_at__isnull=True,
        created_at__gte=since,
        kind="follow_created",
        data__follower_id=follower.pk,
        data__followed_user_id=user.pk,
    )
    return notified.exists() or waiting.exists()


@transaction.atomic
def follow_add(*, follower, user=None, tag=None) -> bool:
    """Follow a member (`user`) or a `tag`; returns whether the follow is new. Never oneself."""
    target = _target(follower=follower, user=user, tag=tag)
    # get_or_create settles a race on the unique constraints in a savepoint.
    follow, created = Follow.objects.get_or_create(follower=follower, **target)
    if created and user is not None and not _recently_notified(follower=follower, user=user):
        event_record(
            "follow_created",
            follow_id=follow.pk,
            follower_id=follower.pk,
            followed_user_id=user.pk,
        )
    return created


@transaction.atomic
def follow_remove(*, follower, user=None, tag=None) -> bool:
    """Stop following a member or a tag; returns whether there was such a follow."""
    target = _target(follower=follower, user=user, tag=tag)
    deleted, _ = Follow.objects.filter(follower=follower, **target).delete()
    return bool(deleted)
