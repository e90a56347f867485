from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from npu_site.text import validate_text

SCORE_MIN = 1
SCORE_MAX = 5
SCORE_VALIDATORS = [MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]
VOID_REASON_MAX_LENGTH = 500


class ScoreQuerySet(models.QuerySet):
    def counting(self):
        """Scores that count: every score but those a moderator voided and those of a
        suspended or banned rater."""
        return self.filter(voided_at=None, rater_restricted=False)

    def voided(self):
        return self.exclude(voided_at=None)


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
    # A moderator's voiding: the score stays (its rater cannot score the creation again) but
    # counts nowhere, neither in the creation's aggregates and rankings nor in its rater's
    # calibration. `voided_by` keeps the moderator; ScoreVoiding logs every change.
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    # The rater is suspended or banned: the score counts nowhere until that is lifted.
    rater_restricted = models.BooleanField(default=False, db_default=False, editable=False)
    void_reason = models.TextField(
        max_length=VOID_REASON_MAX_LENGTH,
        blank=True,
        default="",
        db_default="",  # rows written by a release that predates the column
        editable=False,
        validators=[validate_text],
    )

    objects = ScoreQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        permissions = [("void_score", "Can void and restore scores")]
        indexes = [
            models.Index(fields=["creation", "-updated_at"], name="score_recent_idx"),
            # The manipulation audit's site-wide suspects read one window of recent scores.
            models.Index(fields=["created_at"], name="score_created_idx"),
        ]
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

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @property
    def value(self) -> float:
        """The score as one number: the mean of its two axes."""
        return (self.creativity + self.uniqueness) / 2


class ScoreReveal(models.Model):
    """A member chose to see a creation's scores before scoring it (blind scoring)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score_reveals"
    )
    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.CASCADE, related_name="score_reveals"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "creation"], name="score_reveal_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} sees the scores of {self.creation}"


class RaterCalibration(models.Model):
    """One rater's habits, from their counting scores: what `calibrated` measures each of
    their scores against (creations.ranking), and what their settings page shows them.

    Rewritten by scoring.services whenever the rater's scores change, and all together by
    `refresh_rankings`.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="rater_calibration",
    )
    score_count = models.PositiveIntegerField(default=0)
    mean = models.FloatField(default=0)
    variance = models.FloatField(default=0)
    # w_r in creations.ranking: what one point above `mean` is worth.
    weight = models.FloatField(default=0)
    # How many times the rater gave each value, both axes counted (so twice score_count).
    gave_1 = models.PositiveIntegerField(default=0)
    gave_2 = models.PositiveIntegerField(default=0)
    gave_3 = models.PositiveIntegerField(default=0)
    gave_4 = models.PositiveIntegerField(default=0)
    gave_5 = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.score_count} scores, mean {self.mean:.2f}"


class ScoreVoiding(models.Model):
    """The log of moderators voiding and restoring scores: who, when, why, and what the score
    was. Rows outlive the score and the accounts (the names are kept as text)."""

    class Action(models.TextChoices):
        VOID = "void", "Voided"
        RESTORE = "restore", "Restored"

    action = models.CharField(max_length=10, choices=Action.choices)
    score = models.ForeignKey(
        Score, on_delete=models.SET_NULL, null=True, blank=True, related_name="voidings"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    reason = models.TextField(max_length=VOID_REASON_MAX_LENGTH, validators=[validate_text])
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    rater_name = models.CharField(max_length=150)
    creation = models.ForeignKey(
        "creations.Creation", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    creation_title = models.CharField(max_length=120)
    creativity = models.PositiveSmallIntegerField()
    uniqueness = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "score voiding"

    def __str__(self) -> str:
        return (
            f"{self.actor_name} {self.get_action_display().lower()} {self.rater_name}'s score "
            f"of “{self.creation_title}”"
        )
