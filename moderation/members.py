"""Suspending, banning and trusting members: who may, with what reason, and the log.

The account changes themselves are the accounts app's (`user_restriction_set`,
`user_restriction_lift`, `user_trust_set`); the member's creations and scores follow through
`accounts.signals.member_restricted`, in the same transaction. The admin's member pages,
`manage.py lift_expired_restrictions` and the periodic task call these.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Restriction, User
from accounts.services import user_restriction_lift, user_restriction_set, user_trust_set
from npu_site.text import validate_text

from .log import moderation_log
from .models import ModerationAction

REASON_MAX_LENGTH = 1000
SUSPENSION_ENDED = "suspension ended"
# The furthest end a suspension can have (a date past it could not even be shown).
SUSPENSION_MAX = datetime.timedelta(days=3653)


def _reason(reason, *, required: bool = True) -> str:
    if reason is None:
        reason = ""
    if not isinstance(reason, str):
        raise ValidationError({"reason": "The reason must be text."})
    reason = reason.strip()
    if required and not reason:
        raise ValidationError(
            {"reason": "Say why: the member is told the reason, and it is kept in the log."}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": f"Keep the reason under {REASON_MAX_LENGTH} characters."})
    try:
        validate_text(reason)
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from error
    return reason


def _category(category) -> str:
    if category not in ModerationAction.Category.values:
        raise ValidationError({"category": "Choose one of the listed categories."})
    return category


def _ends_at(ends_at):
    if ends_at is None:
        return None
    if not isinstance(ends_at, datetime.datetime) or timezone.is_naive(ends_at):
        raise ValidationError({"ends_at": "Give the end as a date and time with its time zone."})
    if ends_at <= timezone.now():
        raise ValidationError({"ends_at": "The end of a suspension must be in the future."})
    if ends_at > timezone.now() + SUSPENSION_MAX:
        raise ValidationError(
            {"ends_at": "A suspension ends within ten years; for longer, ban the member."}
        )
    return ends_at


def _check(*, moderator, member, permission: str) -> None:
    """Raise PermissionDenied unless `moderator` may restrict or lift `member`."""
    if moderator is None or not moderator.has_perm(permission):
        raise PermissionDenied("Only moderators suspend, ban or trust members.")
    if permission != "moderation.restrict_member":
        return
    if member.pk == moderator.pk:
        raise PermissionDenied("You can't suspend, ban or lift yourself.")
    if not moderator.is_superuser and (member.is_superuser or member.is_moderator):
        raise PermissionDenied("Only a superuser can suspend or ban a moderator or a superuser.")


def _as_user(member) -> User:
    # The admin hands in `Member` proxies: the service and the log speak of accounts.User.
    return User.objects.get(pk=member.pk)


@transaction.atomic
def _restrict(*, member, moderator, restriction, reason, ends_at, category, action) -> User:
    member = _as_user(member)
    _check(moderator=moderator, member=member, permission="moderation.restrict_member")
    reason = _reason(reason)
    category = _category(category)
    ends_at = _ends_at(ends_at)
    member = user_restriction_set(
        user=member, restriction=restriction, reason=reason, ends_at=ends_at
    )
    moderation_log(
        actor=moderator, action=action, targets=[member], reason=reason, category=category
    )
    return member


def member_suspend(*, member, moderator, reason: str, ends_at=None, category: str) -> User:
    """Suspend a member until `ends_at` (None: until a moderator lifts it), with a reason
    they are told when they try to log in."""
    return _restrict(
        member=member,
        moderator=moderator,
        restriction=Restriction.SUSPENDED,
        reason=reason,
        ends_at=ends_at,
        category=category,
        action=ModerationAction.Action.SUSPEND,
    )


def member_ban(*, member, moderator, reason: str, category: str) -> User:
    """Ban a member until a moderator lifts it, with a reason they are told."""
    return _restrict(
        member=member,
        moderator=moderator,
        restriction=Restriction.BANNED,
        reason=reason,
        ends_at=None,
        category=category,
        action=ModerationAction.Action.BAN,
    )


@transaction.atomic
def member_lift(*, member, moderator, reason: str = "") -> bool:
    """End a member's suspension or ban; returns whether there was one. `moderator` None is
    the site itself ending a suspension on time (logged with no actor)."""
    member = _as_user(member)
    if moderator is not None:
        _check(moderator=moderator, member=member, permission="moderation.restrict_member")
    reason = _reason(reason, required=False)
    if not member.restriction:
        return False
    user_restriction_lift(user=member)
    moderation_log(
        actor=moderator,
        action=ModerationAction.Action.LIFT,
        targets=[member],
        reason=reason,
        category=ModerationAction.Category.OTHER,
    )
    return True


@transaction.atomic
def member_trust(*, member, moderator, trusted: bool) -> bool:
    """Trust a member (their uploads skip the review of first uploads) or stop; returns
    whether it changed."""
    member = _as_user(member)
    _check(moderator=moderator, member=member, permission="moderation.trust_member")
    if member.trusted == bool(trusted):
        return False
    user_trust_set(user=member, trusted=trusted)
    moderation_log(
        actor=moderator,
        action=ModerationAction.Action.TRUST if trusted else ModerationAction.Action.UNTRUST,
        targets=[member],
        category=ModerationAction.Category.REVIEW,
    )
    return True


def members_lift_expired(*, now=None, member=None) -> int:
    """Lift every suspension whose end has passed (only `member`'s, when given), each in its
    own transaction, so the member's creations and scores come back; returns how many.
    Idempotent: a suspension lifted already (or by a concurrent run) is skipped."""
    now = now or timezone.now()
    ended = User.objects.filter(restriction=Restriction.SUSPENDED, restriction_ends_at__lte=now)
    if member is not None:
        ended = ended.filter(pk=member.pk)
    lifted = 0
    for ended_member in ended.order_by("pk").iterator():
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=ended_member.pk)
            if locked.restriction_ends_at is None or locked.restriction_ends_at > now:
                continue  # changed since: suspended again, or banned
            if locked.restriction != Restriction.SUSPENDED:
                continue
            lifted += member_lift(member=locked, moderator=None, reason=SUSPENSION_ENDED)
    return lifted


def member_logged_in(sender, *, user, **kwargs):
    """A member logs in (page or token) after their suspension ended: lift it at once, so
    their creations and scores are back from their first request, not at the next sweep."""
    ends_at = getattr(user, "restriction_ends_at", None)
    if user.restriction == Restriction.SUSPENDED and ends_at is not None:
        if ends_at <= timezone.now():
            members_lift_expired(member=user)
            user.refresh_from_db(
                fields=["restriction", "restriction_reason", "restricted_at", "restriction_ends_at"]
            )
