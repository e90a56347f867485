"""Writes to reports. Pages, the API and the admin call these."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from creations.signals import report_resolved

from .log import moderation_log
from .models import ModerationAction, Report


class OwnCreationReportError(PermissionDenied):
    """Nobody reports their own creation."""

    message = "You can't report your own creation; edit or delete it instead."

    def __init__(self):
        super().__init__(self.message)


ALREADY_REPORTED = "You have already reported this creation; thank you."


def report_check(*, reporter, creation) -> None:
    """Raise unless `reporter` may report `creation`: never their own, and only once."""
    if creation.owner_id == reporter.pk:
        raise OwnCreationReportError
    if Report.objects.filter(creation=creation, reporter=reporter).exists():
        raise ValidationError(ALREADY_REPORTED, code="already_reported")


def report_create(*, reporter, creation, reason: str, note: str = "") -> Report:
    """Flag a creation; a member reports a creation once, and never their own."""
    report_check(reporter=reporter, creation=creation)
    report = Report(creation=creation, reporter=reporter, reason=reason, note=note.strip())
    report.full_clean(validate_constraints=False)  # the database checks them below
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as error:
        # Two requests raced past full_clean(); the constraint has the last word.
        raise ValidationError(ALREADY_REPORTED, code="already_reported") from error
    return report


@transaction.atomic
def report_resolve(*, reports, moderator) -> int:
    """Mark open reports resolved by `moderator`; returns how many changed. Each reporter
    hears of it (creations.signals.report_resolved: community's notifications)."""
    open_reports = list(
        Report.objects.select_for_update()
        .filter(pk__in=[report.pk for report in reports], status=Report.Status.OPEN)
        .select_related("creation", "reporter")
    )
    changed = Report.objects.filter(pk__in=[report.pk for report in open_reports]).update(
        status=Report.Status.RESOLVED, resolved_at=timezone.now(), resolved_by=moderator
    )
    for report in open_reports:
        report_resolved.send(
            Report,
            creation=report.creation,
            reporter=report.reporter,
            moderator=moderator,
            report_id=report.pk,
        )
    _log_by_reason(moderator, ModerationAction.Action.RESOLVE_REPORT, open_reports)
    return changed


@transaction.atomic
def report_reopen(*, reports, moderator=None) -> int:
    """Put resolved reports back in the moderators' queue; returns how many changed. The
    `moderator` who reopens them is logged."""
    resolved = list(
        Report.objects.select_for_update()
        .filter(pk__in=[report.pk for report in reports], status=Report.Status.RESOLVED)
        .select_related("creation")
    )
    changed = Report.objects.filter(pk__in=[report.pk for report in resolved]).update(
        status=Report.Status.OPEN, resolved_at=None, resolved_by=None
    )
    _log_by_reason(moderator, ModerationAction.Action.REOPEN_REPORT, resolved)
    return changed


def _log_by_reason(moderator, action: str, reports) -> None:
    """One log row per report, its category the report's reason."""
    if moderator is None:
        return
    by_reason: dict[str, list[Report]] = {}
    for report in reports:
        by_reason.setdefault(report.reason, []).append(report)
    for reason, targets in by_reason.items():
        moderation_log(actor=moderator, action=action, targets=targets, category=reason)
