"""The community: comments, favourites, follows and notifications, hanging off creations."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse

from npu_site.text import validate_text

COMMENT_MAX_LENGTH = 2000


class Comment(models.Model):
    """A member's comment on a creation, or a reply to one (one level deep).

    A deleted comment with replies stays as a placeholder (`deleted_at` set, body emptied) so
    the replies keep their place; without replies it is removed.
    """

    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.CASCADE, related_name="comments"
    )
    # A top-level comment of the same creation, or None (community.services checks both).
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    # None once the author's account is gone: shown as "deleted member".
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
    )
    body = models.TextField(max_length=COMMENT_MAX_LENGTH, validators=[validate_text])
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # A thread, oldest first; a member's comments.
            models.Index(fields=["creation", "created_at", "id"], name="comment_thread_idx"),
            models.Index(fields=["user", "-created_at"], name="comment_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), COMMENT_MAX_LENGTH),
                name="comment_body_max_length",
            ),
            # A live comment says something; a deleted one keeps nothing.
            models.CheckConstraint(
                condition=Q(deleted_at__isnull=True, body__gt="")
                | Q(deleted_at__isnull=False, body=""),
                name="comment_body_unless_deleted",
            ),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="comment_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on creation {self.creation_id}"

    def get_absolute_url(self) -> str:
        return reverse("creations:detail", kwargs={"pk": self.creation_id}) + f"#comment-{self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class CommentReport(models.Model):
    """A member's flag on a comment, worked by moderators in the admin's comment queue."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        OFFENSIVE = "offensive", "Offensive"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comment_reports"
    )
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.TextField(max_length=1000, blank=True, validators=[validate_text])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="commentreport_queue_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                name="commentreport_once_per_member",
                violation_error_message="You have already reported this comment.",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=["spam", "offensive", "other"]),
                name="commentreport_reason_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} report on comment {self.comment_id}"


class Favourite(models.Model):
    """A member saved a creation. Private: only the member sees what they saved."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.CASCADE, related_name="favourites"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="favourite_user_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "creation"], name="favourite_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saved {self.creation_id}"


class Follow(models.Model):
    """A member follows another member or a tag: exactly one of the two."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    followed_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="followers",
    )
    tag = models.ForeignKey(
        "taggit.Tag", on_delete=models.CASCADE, null=True, blank=True, related_name="followers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(followed_user__isnull=False, tag__isnull=True)
                | Q(followed_user__isnull=True, tag__isnull=False),
                name="follow_one_target",
            ),
            models.CheckConstraint(
                condition=~Q(follower=F("followed_user")), name="follow_not_oneself"
            ),
            models.UniqueConstraint(
                fields=["follower", "followed_user"],
                condition=Q(followed_user__isnull=False),
                name="follow_member_once",
            ),
            models.UniqueConstraint(
                fields=["follower", "tag"], condition=Q(tag__isnull=False), name="follow_tag_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followed_user_id or f'tag {self.tag_id}'}"


class Notification(models.Model):
    """Something a member should hear about. Scores on one creation are grouped into one row
    ("5 new scores on …") while it is unread and not yet mailed."""

    class Kind(models.TextChoices):
        SCORE = "score", "New scores on your creations"
        COMMENT = "comment", "Comments on your creations"
        REPLY = "reply", "Replies to your comments"
        MENTION = "mention", "Mentions of you"
        FOLLOWER = "follower", "New followers"
        REPORT_RESOLVED = "report_resolved", "Your reports resolved"
        CREATION_HIDDEN = "creation_hidden", "Your creations hidden by a moderator"
        UPLOAD_APPROVED = "upload_approved", "Your uploads approved after review"
        APPEAL_DECIDED = "appeal_decided", "Your appeals decided"
        EXPORT_READY = "export_ready", "Your data export ready"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The latest member behind it (a grouped row names the latest scorer).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    creation = models.ForeignKey(
        "creations.Creation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # How many events the row stands for (scores are grouped).
    count = models.PositiveIntegerField(default=1)
    # A moderator's reason, for a hidden creation (or an appeal's decision).
    reason = models.TextField(max_length=1000, blank=True)
    # Where the notification leads when it has no creation or comment (a data export's link).
    url = models.CharField(max_length=500, blank=True, default="", db_default="")
    # What made it, for idempotent fan-out: one row per recipient and source (a retried task
    # finds its row and adds nothing).
    source = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-updated_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(emailed_at__isnull=True),
                name="notification_unmailed_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "source"], name="notification_once"),
            models.CheckConstraint(condition=Q(count__gte=1), name="notification_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """Per member and kind: in the app only, or also in the e-mail digest. A missing row
    means the kind's default (community.notifications.EMAIL_BY_DEFAULT)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Notification.Kind.choices)
    email = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notificationpreference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} {'e-mail' if self.email else 'in-app'}"


class PendingEvent(models.Model):
    """Something that happened and whose notifications are still to be made (an outbox).

    Written in the transaction of the event itself, so it exists exactly when the event
    does; the worker's task turns it into notifications and marks it processed in one
    transaction. If the broker was down when it was queued, the periodic sweep
    (`process_pending_events`) picks it up.
    """

    kind = models.CharField(max_length=30)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(processed_at__isnull=True),
                name="pendingevent_todo_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} event {self.pk}"
