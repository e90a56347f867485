"""The core's signals (creations.signals), recorded as events for notifications.

Each receiver only writes an outbox row (community.events); the notifications are made by the
worker, so a score, a hide or a resolved report costs its request one INSERT.
"""

from django.dispatch import receiver

from creations.signals import creation_hidden, creation_scored, report_resolved

from .events import event_record


@receiver(creation_scored, dispatch_uid="community.creation_scored")
def on_creation_scored(sender, *, creation, user, score_id, **kwargs):
    event_record("creation_scored", creation_id=creation.pk, user_id=user.pk, score_id=score_id)


@receiver(creation_hidden, dispatch_uid="community.creation_hidden")
def on_creation_hidden(sender, *, creation, actor, reason, **kwargs):
    event_record("creation_hidden", creation_id=creation.pk, actor_id=actor.pk, reason=reason or "")


@receiver(report_resolved, dispatch_uid="community.report_resolved")
def on_report_resolved(sender, *, creation, reporter, moderator, report_id, **kwargs):
    event_record(
        "report_resolved",
        report_id=report_id,
        creation_id=creation.pk,
        reporter_id=reporter.pk,
        moderator_id=getattr(moderator, "pk", None),
    )
