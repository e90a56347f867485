from django.conf import settings
from django.db import models
from django.db.models import Q

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
