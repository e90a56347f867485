"""The moderation log: one `ModerationAction` row per moderator action and target.

Moderation's own services call `moderation_log` directly. Actions other apps own (hiding and
publishing creations and merging tags in the core, voiding scores in scoring, deleting
comments in community) send the core's `creations.signals.moderator_acted`, which
`ModerationConfig.ready()` connects to `moderator_acted_received`. Either way the row is
written inside the action's transaction: the action and its log entry commit together.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db import models

from .models import ModerationAction, Report

REPR_MAX = 200


def _target(target) -> tuple[str, int | None, str]:
    if isinstance(target, models.Model):
        meta = target._meta
        return f"{meta.app_label}.{meta.model_name}", target.pk, str(target)[:REPR_MAX]
    return "", None, str(target)[:REPR_MAX]


def moderation_log(
    *,
    actor,
    action: str,
    targets: Iterable,
    reason: str = "",
    category: str = ModerationAction.Category.OTHER,
) -> list[ModerationAction]:
    """Record that `actor` did `action` to each of `targets`, with the reason given."""
    if action not in ModerationAction.Action.values:
        raise ValueError(f"Unknown moderation action {action!r}")
    if category not in ModerationAction.Category.values:
        category = ModerationAction.Category.OTHER
    actor_pk = getattr(actor, "pk", None)
    rows = []
    for target in targets:
        target_type, target_id, target_repr = _target(target)
        rows.append(
            ModerationAction(
                actor_id=actor_pk,
                actor_name=actor.get_username() if actor_pk else "",
                action=action,
                category=category,
                target_type=target_type,
                target_id=target_id,
                target_repr=target_repr,
                reason=(reason or "").strip()[:1000],
            )
        )
    return ModerationAction.objects.bulk_create(rows)


def _report_categories(creations) -> dict[int, str]:
    """The category of each reported creation among `creations`: the reason most of its
    reports gave (open ones first; a tie goes to the reason listed first), by creation id."""
    reasons: dict[int, Counter] = defaultdict(Counter)
    rows = Report.objects.filter(creation__in=[creation.pk for creation in creations])
    for creation_id, reason, status in rows.values_list("creation_id", "reason", "status"):
        reasons[creation_id][(status == Report.Status.OPEN, reason)] += 1
    order = list(Report.Reason.values)
    categories = {}
    for creation_id, counted in reasons.items():
        (_, reason), _ = max(
            counted.items(), key=lambda item: (item[0][0], item[1], -order.index(item[0][1]))
        )
        categories[creation_id] = reason
    return categories


def moderator_acted_received(sender, *, actor, action, targets, reason="", category="", **kwargs):
    """Log an action another app did. A hide says no category of its own: each hidden
    creation's is the reason it was reported for (`other` when nobody reported it)."""
    targets = list(targets)
    if action == ModerationAction.Action.HIDE and not category and targets:
        by_creation = _report_categories(targets)
        groups: dict[str, list] = defaultdict(list)
        for target in targets:
            groups[by_creation.get(target.pk, ModerationAction.Category.OTHER)].append(target)
        for group_category, group in groups.items():
            moderation_log(
                actor=actor, action=action, targets=group, reason=reason, category=group_category
            )
        return
    moderation_log(
        actor=actor,
        action=action,
        targets=targets,
        reason=reason,
        category=category or ModerationAction.Category.OTHER,
    )


def member_deleting_received(sender, *, user, actor=None, **kwargs):
    """An operator deleting someone's account from the admin is a logged action (a member
    deleting their own account is not), written before the account goes."""
    if actor is not None and actor.pk != user.pk:
        moderation_log(
            actor=actor,
            action=ModerationAction.Action.DELETE_MEMBER,
            targets=[user],
            category=ModerationAction.Category.OTHER,
        )
