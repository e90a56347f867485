"""Appeals: the owner of a creation a moderator hid asks, once per hide, to have it published
again; a moderator grants (publishes it) or denies (it stays hidden). Pages, the API and the
admin call these.

The owner hears of the decision through the core's `appeal_decided` signal (community's
notifications); the decision is logged (GRANT_APPEAL, DENY_APPEAL, category "appeal").
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from creations.models import Creation
from creations.services import creation_set_status
from creations.signals import appeal_decided
from npu_site.text import validate_text

from .log import moderation_log
from .models import Appeal, ModerationAction

NOTE_MAX_LENGTH = 1000
ALREADY_APPEALED = "You have already appealed this decision."
NOT_APPEALABLE = "Only a creation a moderator hid can be appealed."


class NotOwnerAppealError(PermissionDenied):
    """Only the owner appeals the hide of their creation."""

    message = "Only the owner of a creation can appeal its hiding."

    def __init__(self):
        super().__init__(self.message)


def _clean_note(note, *, field: str, required: bool) -> str:
    note = (note or "").strip() if isinstance(note, str) else ""
    if required and not note:
        raise ValidationError({field: ["Say why the creation should be published again."]})
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {field: [f"Ensure this field has no more than {NOTE_MAX_LENGTH} characters."]}
        )
    try:
        validate_text(note)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    return note


def is_appealable(creation) -> bool:
    """Whether a moderator's own hide keeps `creation` hidden (not its owner's suspension)."""
    return creation.is_hidden_by_moderator and not creation.hidden_with_owner


def appeal_check(*, owner, creation) -> None:
    """Raise unless `owner` may appeal `creation` now: their own, hidden by a moderator, and
    not appealed since that hide."""
    if creation.owner_id != owner.pk:
        raise NotOwnerAppealError
    if not is_appealable(creation):
        raise ValidationError({"non_field_errors": [NOT_APPEALABLE]}, code="not_appealable")
    if Appeal.objects.filter(creation=creation, hidden_at=creation.hidden_at).exists():
        raise ValidationError({"non_field_errors": [ALREADY_APPEALED]}, code="already_appealed")


@transaction.atomic
def appeal_create(*, owner, creation, note) -> Appeal:
    """The owner appeals a moderator's hide of their creation, once per hide, with a note."""
    # Re-read and lock: the hide being appealed is the one in the database now.
    creation = Creation.objects.select_for_update().get(pk=creation.pk)
    appeal_check(owner=owner, creation=creation)
    appeal = Appeal(
        creation=creation,
        owner=owner,
        hidden_at=creation.hidden_at,
        note=_clean_note(note, field="note", required=True),
    )
    try:
        with transaction.atomic():
            appeal.save()
    except IntegrityError as error:
        # Two requests raced past the check; the constraint has the last word.
        raise ValidationError(
            {"non_field_errors": [ALREADY_APPEALED]}, code="already_appealed"
        ) from error
    return appeal


@transaction.atomic
def appeal_decide(*, appeals, moderator, grant: bool, note: str = "") -> int:
    """Grant (publish the creation again) or deny (it stays hidden) open appeals; returns how
    many were decided. Each owner is told, with the moderator's note."""
    if moderator is None or not moderator.is_moderator:
        raise PermissionDenied("Only a moderator decides appeals.")
    note = _clean_note(note, field="note", required=False)
    open_appeals = list(
        Appeal.objects.select_for_update(of=("self",))
        .filter(pk__in=[appeal.pk for appeal in appeals], status=Appeal.Status.OPEN)
        .select_related("creation", "owner")
        .order_by("created_at", "id")
    )
    if not open_appeals:
        return 0
    status = Appeal.Status.GRANTED if grant else Appeal.Status.DENIED
    Appeal.objects.filter(pk__in=[appeal.pk for appeal in open_appeals]).update(
        status=status, decided_at=timezone.now(), decided_by=moderator, decision_note=note
    )
    if grant:
        # Only creations still hidden by the hide appealed: one published or hidden again
        # since is left as it is.
        still_hidden = [
            appeal.creation
            for appeal in open_appeals
            if is_appealable(appeal.creation) and appeal.creation.hidden_at == appeal.hidden_at
        ]
        if still_hidden:
            creation_set_status(
                creations=still_hidden, status=Creation.Status.PUBLISHED, actor=moderator
            )
    Action = ModerationAction.Action
    moderation_log(
        actor=moderator,
        action=Action.GRANT_APPEAL if grant else Action.DENY_APPEAL,
        targets=[appeal.creation for appeal in open_appeals],
        reason=note,
        category=ModerationAction.Category.APPEAL,
    )
    for appeal in open_appeals:
        appeal_decided.send(
            Appeal,
            creation=appeal.creation,
            owner=appeal.owner,
            granted=grant,
            note=note,
            appeal_id=appeal.pk,
        )
    return len(open_appeals)


def appeal_latest(*, owner, creation) -> Appeal | None:
    """The owner's latest appeal on `creation`, or None."""
    return (
        Appeal.objects.filter(creation=creation, owner=owner).order_by("-created_at", "-id").first()
    )
