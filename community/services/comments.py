"""Writes to comments and their reports. Pages, the API and the admin call these.

`Creation.comment_count` counts the live comments of a creation (placeholders left by deleted
comments do not count); every service here that adds or removes one moves it with F() in the
same transaction, and replaces the creation page's cache token (`object_changed`).
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from creations.models import Creation
from creations.signals import moderator_acted
from npu_site.caching import object_changed

from ..events import event_record
from ..models import COMMENT_MAX_LENGTH, Comment, CommentReport
from ..notifications import comment_notifications_delete
from ..text import normalised_line_breaks

BAD_PARENT = "You can only reply to a comment of this creation that is not itself a reply."
DELETED_PARENT = "That comment was deleted; reply to another one."
ALREADY_REPORTED = "You have already reported this comment; thank you."
DELETED_REPORTED = "That comment was deleted; there is nothing left to report."


class CommentRefused(PermissionDenied):
    """A refusal of a comment write, with a message members can read."""

    message = "You can't do that with this comment."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)


class CommentNotAllowed(CommentRefused):
    """Only members who can see a creation comment on it."""

    message = "You can't comment on this creation."


class CommentEditRefused(CommentRefused):
    """The author edits within the edit window; moderators at any time; nobody a deleted one."""

    message = "Only the author (within 15 minutes of posting) or a moderator can edit a comment."


class CommentDeleteRefused(CommentRefused):
    """Only the author or a moderator deletes a comment."""

    message = "Only the author or a moderator can delete a comment."


class OwnCommentReportError(CommentRefused):
    """Nobody reports their own comment."""

    message = "You can't report your own comment; edit or delete it instead."


# Rules, stated once for services, pages, templates and API ----------------------------------


def comment_edit_deadline(comment):
    """Until when the author may edit `comment`."""
    return comment.created_at + timedelta(seconds=settings.NPU_COMMENT_EDIT_SECONDS)


def comment_can_edit(comment, user) -> bool:
    """The author within NPU_COMMENT_EDIT_SECONDS of posting, or a moderator; never a
    deleted comment."""
    if comment.is_deleted or not user.is_authenticated:
        return False
    if user.is_moderator:
        return True
    return comment.user_id == user.pk and timezone.now() <= comment_edit_deadline(comment)


def comment_can_delete(comment, user) -> bool:
    """The author or a moderator; a deleted comment is gone already."""
    if comment.is_deleted or not user.is_authenticated:
        return False
    return comment.user_id == user.pk or user.is_moderator


def comment_can_report(comment, user) -> bool:
    """Any member but the author, while the comment says something."""
    return user.is_authenticated and not comment.is_deleted and comment.user_id != user.pk


def _can_see(creation, user) -> bool:
    # Creation.objects.visible_to() as a test of one instance, without a query.
    return creation.is_published or creation.owner_id == user.pk or user.is_moderator


def comment_body_clean(body) -> str:
    """The body as stored: trimmed, 1 to COMMENT_MAX_LENGTH characters of plain text, every
    line break a plain newline. Raises ValidationError on `body`."""
    text = normalised_line_breaks(str(body if body is not None else "")).strip()
    if not text:
        raise ValidationError({"body": ["Write something first."]}, code="blank")
    # Checked before the characters, so a huge body costs no more than its length.
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "body": [
                    f"A comment is at most {COMMENT_MAX_LENGTH:,} characters; "
                    f"this one has {len(text):,}."
                ]
            },
            code="max_length",
        )
    try:
        for validator in Comment._meta.get_field("body").validators:
            validator(text)
    except ValidationError as error:
        raise ValidationError({"body": error.error_list}) from error
    return text


def _parent_locked(*, parent, creation) -> Comment:
    """The comment `parent` names (a Comment or its id), locked, if it may take a reply."""
    try:
        parent_id = int(getattr(parent, "pk", parent))
    except (TypeError, ValueError):
        raise ValidationError({"parent": [BAD_PARENT]}, code="invalid_parent") from None
    # Locked so that deleting it (which removes a comment without replies) waits for us.
    found = Comment.objects.select_for_update().filter(pk=parent_id).first()
    if found is None or found.creation_id != creation.pk or found.parent_id is not None:
        raise ValidationError({"parent": [BAD_PARENT]}, code="invalid_parent")
    if found.is_deleted:
        raise ValidationError({"parent": [DELETED_PARENT]}, code="deleted_parent")
    return found


def _count_changed(*, creation_id: int, by: int) -> None:
    Creation.objects.filter(pk=creation_id).update(
        comment_count=Greatest(F("comment_count") + by, 0)
    )
    object_changed("creation", creation_id)


# Comments -----------------------------------------------------------------------------------


@transaction.atomic
def comment_create(*, user, creation, body: str, parent=None) -> Comment:
    """Comment on a creation the member can see, or reply to one of its top-level comments
    (`parent`: a Comment or its id). Whoever it concerns hears of it (`comment_created`)."""
    if not user.is_authenticated or not _can_see(creation, user):
        raise CommentNotAllowed
    text = comment_body_clean(body)
    parent_comment = None if parent is None else _parent_locked(parent=parent, creation=creation)
    comment = Comment.objects.create(creation=creation, parent=parent_comment, user=user, body=text)
    _count_changed(creation_id=creation.pk, by=1)
    event_record("comment_created", comment_id=comment.pk)
    return comment


def comment_update_check(*, comment, actor) -> None:
    """Raise CommentEditRefused, saying why, unless `actor` may edit `comment` now."""
    if comment_can_edit(comment, actor):
        return
    if comment.is_deleted:
        raise CommentEditRefused("A deleted comment can't be edited.")
    if actor.is_authenticated and comment.user_id == actor.pk:
        raise CommentEditRefused(
            f"Comments can be edited for {settings.NPU_COMMENT_EDIT_SECONDS // 60} minutes "
            "after posting; that time is over."
        )
    raise CommentEditRefused


@transaction.atomic
def comment_update(*, comment, actor, body: str) -> Comment:
    """Change a comment's text: its author within the edit window, or a moderator."""
    comment_update_check(comment=comment, actor=actor)
    text = comment_body_clean(body)
    now = timezone.now()
    # Only a live comment is changed: one deleted since it was read stays deleted.
    changed = Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).update(
        body=text, edited_at=now
    )
    if not changed:
        raise CommentEditRefused("This comment was deleted meanwhile.")
    comment.body, comment.edited_at = text, now
    object_changed("creation", comment.creation_id)
    return comment


@transaction.atomic
def comment_delete(*, comment, actor) -> Comment | None:
    """Delete a comment: its author or a moderator.

    A top-level comment with replies stays as a placeholder (no text; `deleted_at`,
    `deleted_by`) so the replies keep their place, and its open reports are resolved; any
    other comment is removed, and a placeholder whose last reply goes goes with it. Returns
    the placeholder, or None when the comment is gone. Deleting a deleted comment changes
    nothing.
    """
    if not actor.is_authenticated or not (comment.user_id == actor.pk or actor.is_moderator):
        raise CommentDeleteRefused
    # Lock the thread's top-level comment first (replies and deletions of one thread wait for
    # each other), then the comment itself.
    parent = (
        Comment.objects.select_for_update().filter(pk=comment.parent_id).first()
        if comment.parent_id
        else None
    )
    current = Comment.objects.select_for_update().filter(pk=comment.pk).first()
    if current is None or current.is_deleted:
        return current
    creation_id = current.creation_id
    if current.user_id != actor.pk:
        _moderator_deleted(current, actor=actor)
    comment_notifications_delete(comment_ids=[current.pk])
    if parent is None and current.replies.exists():
        now = timezone.now()
        current.body, current.deleted_at, current.deleted_by = "", now, actor
        current.save(update_fields=["body", "deleted_at", "deleted_by"])
        CommentReport.objects.filter(comment=current, status=CommentReport.Status.OPEN).update(
            status=CommentReport.Status.RESOLVED,
            resolved_at=now,
            resolved_by=actor if actor.is_moderator else None,
        )
        result = current
    else:
        current.delete()
        # Replies are never placeholders (they have no replies), so every reply is live.
        if parent is not None and parent.is_deleted and not parent.replies.exists():
            comment_notifications_delete(comment_ids=[parent.pk])
            parent.delete()
        result = None
    _count_changed(creation_id=creation_id, by=-1)
    return result


def _moderator_deleted(comment, *, actor) -> None:
    """Log a moderator's deletion of someone's comment (moderation's log, through the core's
    `moderator_acted`), before the row goes; its category is the reason it was reported for,
    if it was."""
    reported_for = (
        CommentReport.objects.filter(comment=comment, status=CommentReport.Status.OPEN)
        .order_by("created_at", "pk")
        .values_list("reason", flat=True)
        .first()
    )
    moderator_acted.send(
        Comment,
        actor=actor,
        action="delete_comment",
        targets=[comment],
        category=reported_for or "other",
    )


# Reports ------------------------------------------------------------------------------------


def comment_report_check(*, reporter, comment) -> None:
    """Raise unless `reporter` may report `comment`: never their own, a live one, once."""
    if comment.user_id is not None and comment.user_id == reporter.pk:
        raise OwnCommentReportError
    if comment.is_deleted:
        raise ValidationError(DELETED_REPORTED, code="deleted")
    if CommentReport.objects.filter(comment=comment, reporter=reporter).exists():
        raise ValidationError(ALREADY_REPORTED, code="already_reported")


def comment_report_create(*, reporter, comment, reason: str, note: str = "") -> CommentReport:
    """Flag a comment for the moderators; a member reports a comment once, never their own."""
    comment_report_check(reporter=reporter, comment=comment)
    report = CommentReport(comment=comment, reporter=reporter, reason=reason, note=note.strip())
    # The foreign keys are the instances given; the database checks the constraints below.
    report.full_clean(exclude=["comment", "reporter"], validate_constraints=False)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as error:
        # Two requests raced past the check; the constraint has the last word.
        raise ValidationError(ALREADY_REPORTED, code="already_reported") from error
    return report


@transaction.atomic
def comment_reports_resolve(*, reports, moderator) -> int:
    """Mark open comment reports resolved by `moderator`; returns how many changed. Each is
    logged (moderation's log, through the core's `moderator_acted`), its category the report's
    reason."""
    open_reports = list(
        CommentReport.objects.select_for_update().filter(
            pk__in=[report.pk for report in reports], status=CommentReport.Status.OPEN
        )
    )
    changed = CommentReport.objects.filter(pk__in=[report.pk for report in open_reports]).update(
        status=CommentReport.Status.RESOLVED, resolved_at=timezone.now(), resolved_by=moderator
    )
    by_reason: dict[str, list[CommentReport]] = {}
    for report in open_reports:
        by_reason.setdefault(report.reason, []).append(report)
    for reason, targets in by_reason.items():
        moderator_acted.send(
            CommentReport,
            actor=moderator,
            action="resolve_report",
            targets=targets,
            category=reason,
        )
    return changed
