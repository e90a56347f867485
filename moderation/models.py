from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from npu_site.text import validate_text


class Report(models.Model):
    """A member's flag on a creation, resolved by a moderator in the admin."""

    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        OFFENSIVE = "offensive", "Offensive"
        STOLEN = "stolen", "Stolen (not the uploader's work)"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.CASCADE, related_name="reports"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
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
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="report_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "creation"],
                name="report_once_per_member",
                violation_error_message="You have already reported this creation.",
            ),
            models.CheckConstraint(
                condition=Q(reason__in=["spam", "offensive", "stolen", "other"]),
                name="report_reason_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(status="resolved", resolved_at__isnull=False),
                name="report_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} report on “{self.creation}”"


class Member(User):
    """Members as moderators see them in the admin: suspend, ban, lift, trust. A proxy of the
    accounts' User, so moderators get this page without the superusers' account admin."""

    class Meta:
        proxy = True
        verbose_name = "member"
        permissions = [
            ("restrict_member", "Can suspend, ban and lift restrictions on members"),
            ("trust_member", "Can trust members (their uploads skip review)"),
        ]


class ModerationAction(models.Model):
    """One moderator action on one target: the moderation log. Rows are written by
    moderation.log from the services (directly, or through the core's `moderator_acted`
    signal for actions other apps own); they are never edited."""

    class Action(models.TextChoices):
        HIDE = "hide", "Hide creation"
        PUBLISH = "publish", "Publish creation"
        APPROVE = "approve", "Approve upload"
        RESOLVE_REPORT = "resolve_report", "Resolve report"
        REOPEN_REPORT = "reopen_report", "Reopen report"
        VOID_SCORE = "void_score", "Void score"
        RESTORE_SCORE = "restore_score", "Restore score"
        DELETE_COMMENT = "delete_comment", "Delete comment"
        SUSPEND = "suspend", "Suspend member"
        BAN = "ban", "Ban member"
        LIFT = "lift", "Lift suspension or ban"
        TRUST = "trust", "Trust member"
        UNTRUST = "untrust", "Stop trusting member"
        TAG_MERGE = "tag_merge", "Merge tags"
        GRANT_APPEAL = "grant_appeal", "Grant appeal"
        DENY_APPEAL = "deny_appeal", "Deny appeal"
        DELETE_MEMBER = "delete_member", "Delete member"
        DELETE_CREATION = "delete_creation", "Delete creation"
        DELETE_SCORE = "delete_score", "Delete score"
        DELETE_TAG = "delete_tag", "Delete tag"

    class Category(models.TextChoices):
        """Why, in words that name nobody: what /about/moderation/ counts by."""

        SPAM = "spam", "Spam"
        OFFENSIVE = "offensive", "Offensive"
        STOLEN = "stolen", "Stolen (not the uploader's work)"
        MANIPULATION = "manipulation", "Score manipulation"
        REVIEW = "review", "New-account review"
        APPEAL = "appeal", "Appeal"
        OTHER = "other", "Other"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The actor's username when the row was written: the log outlives accounts.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    target_type = models.CharField(max_length=40)  # "creations.creation", "accounts.user", …
    target_id = models.BigIntegerField(null=True, blank=True)
    target_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField(max_length=1000, blank=True, validators=[validate_text])
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="modaction_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.target_repr}"


class Appeal(models.Model):
    """An owner's one appeal against a moderator's hide of their creation."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        GRANTED = "granted", "Granted (published again)"
        DENIED = "denied", "Denied"

    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.CASCADE, related_name="appeals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appeals"
    )
    # Which hide this appeals: one appeal per hide.
    hidden_at = models.DateTimeField()
    note = models.TextField(max_length=1000, validators=[validate_text])
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decision_note = models.TextField(max_length=1000, blank=True, validators=[validate_text])

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="appeal_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["creation", "hidden_at"],
                name="appeal_once_per_hide",
                violation_error_message="You have already appealed this decision.",
            ),
        ]

    def __str__(self) -> str:
        return f"Appeal on “{self.creation}”"
