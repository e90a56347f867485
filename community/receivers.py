"""The core's signals (creations.signals), recorded as events for notifications.

Each receiver only writes an outbox row (community.events); the notifications are made by the
worker, so a score, a hide or a resolved report costs its request one INSERT.
"""

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.dispatch import receiver

from accounts.signals import member_deleting, member_export, member_export_ready
from creations.models import Creation
from creations.signals import (
    appeal_decided,
    creation_approved,
    creation_hidden,
    creation_scored,
    report_resolved,
)
from npu_site.caching import listings_changed

from .events import event_record
from .models import Comment, Favourite, Follow, Notification, NotificationPreference
from .notifications import _unread_changed, export_ready_notify

# What happens to a member's account (accounts.signals): done at once, in the sender's
# transaction, unlike the core's events above.


@receiver(member_deleting, dispatch_uid="community.member_deleting")
def community_of_deleted_member(sender, *, user, **kwargs):
    """A departing member's comments stay, signed "deleted member"; their favourites (each
    saved creation's count recounted), follows both ways, notifications and preferences go.
    Notifications they caused stay, from "a former member" (actor set to null)."""
    Comment.objects.filter(user=user).update(user=None)
    favourites = Favourite.objects.filter(user=user)
    saved_ids = sorted(set(favourites.values_list("creation_id", flat=True)))
    favourites.delete()
    if saved_ids:
        count = (
            Favourite.objects.filter(creation=OuterRef("pk"))
            .order_by()
            .values("creation")
            .annotate(n=Count("pk"))
            .values("n")
        )
        Creation.objects.filter(pk__in=saved_ids).update(
            favourite_count=Coalesce(Subquery(count), 0)
        )
        listings_changed()
    Follow.objects.filter(Q(follower=user) | Q(followed_user=user)).delete()
    Notification.objects.filter(recipient=user).delete()
    _unread_changed([user.pk])
    NotificationPreference.objects.filter(user=user).delete()


@receiver(member_export, dispatch_uid="community.member_export")
def community_for_export(sender, *, user, **kwargs):
    """The member's comments (deleted ones left out), saved creations and follows."""
    comments = [
        {
            "id": comment.pk,
            "creation_id": comment.creation_id,
            "parent_id": comment.parent_id,
            "body": comment.body,
            "created_at": comment.created_at.isoformat(),
            "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
        }
        for comment in Comment.objects.filter(user=user, deleted_at__isnull=True).order_by(
            "created_at", "pk"
        )
    ]
    favourites = [
        {
            "creation_id": favourite.creation_id,
            "creation_title": favourite.creation.title,
            "created_at": favourite.created_at.isoformat(),
        }
        for favourite in Favourite.objects.filter(user=user)
        .select_related("creation")
        .order_by("created_at", "pk")
    ]
    follows = [
        {
            "member": follow.followed_user.username if follow.followed_user else None,
            "tag": follow.tag.name if follow.tag else None,
            "created_at": follow.created_at.isoformat(),
        }
        for follow in Follow.objects.filter(follower=user)
        .select_related("followed_user", "tag")
        .order_by("created_at", "pk")
    ]
    return {
        "json": {
            "comments.json": comments,
            "favourites.json": favourites,
            "follows.json": follows,
        },
        "files": [],
    }


@receiver(member_export_ready, dispatch_uid="community.member_export_ready")
def on_member_export_ready(sender, *, user, export, url, **kwargs):
    export_ready_notify(user=user, export_id=export.pk, url=url)


@receiver(creation_scored, dispatch_uid="community.creation_scored")
def on_creation_scored(sender, *, creation, user, score_id, **kwargs):
    event_record("creation_scored", creation_id=creation.pk, user_id=user.pk, score_id=score_id)


@receiver(creation_hidden, dispatch_uid="community.creation_hidden")
def on_creation_hidden(sender, *, creation, actor, reason, **kwargs):
    event_record("creation_hidden", creation_id=creation.pk, actor_id=actor.pk, reason=reason or "")


@receiver(creation_approved, dispatch_uid="community.creation_approved")
def on_creation_approved(sender, *, creation, actor, **kwargs):
    event_record("creation_approved", creation_id=creation.pk, actor_id=actor.pk)


@receiver(report_resolved, dispatch_uid="community.report_resolved")
def on_report_resolved(sender, *, creation, reporter, moderator, report_id, **kwargs):
    event_record(
        "report_resolved",
        report_id=report_id,
        creation_id=creation.pk,
        reporter_id=reporter.pk,
        moderator_id=getattr(moderator, "pk", None),
    )


@receiver(appeal_decided, dispatch_uid="community.appeal_decided")
def on_appeal_decided(sender, *, creation, owner, granted, note, appeal_id, **kwargs):
    event_record(
        "appeal_decided",
        appeal_id=appeal_id,
        creation_id=creation.pk,
        owner_id=owner.pk,
        granted=bool(granted),
        note=note or "",
    )
