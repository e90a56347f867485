from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

SCORE_MIN = 1
SCORE_MAX = 5
SCORE_VALIDATORS = [MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]


class Score(models.Model):
    """One member's judgement of one creation, on two axes from 1 to 5."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scores"
    )
    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.CASCADE, related_name="scores"
    )
    creativity = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    uniqueness = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["creation", "-updated_at"], name="score_recent_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "creation"],
                name="score_once_per_member",
                violation_error_message="You have already scored this creation.",
            ),
            models.CheckConstraint(
                condition=Q(creativity__gte=SCORE_MIN, creativity__lte=SCORE_MAX),
                name="score_creativity_range",
            ),
            models.CheckConstraint(
                condition=Q(uniqueness__gte=SCORE_MIN, uniqueness__lte=SCORE_MAX),
                name="score_uniqueness_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.creation}: {self.creativity}/{self.uniqueness}"
