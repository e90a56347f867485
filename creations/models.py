from django.conf import settings
from django.core.validators import MinLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from taggit.managers import TaggableManager


class PartCategory(models.Model):
    """A category of the parts catalog, keyed by Rebrickable's category id."""

    id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "part categories"

    def __str__(self) -> str:
        return self.name


class PartQuerySet(models.QuerySet):
    def with_creation_count(self):
        """Annotate how many published creations feature each part."""
        return self.annotate(
            creation_count=models.Count(
                "creations",
                filter=Q(creations__status=Creation.Status.PUBLISHED),
                distinct=True,
            )
        )


class Part(models.Model):
    """A LEGO element, keyed by its part number as Rebrickable numbers it (3001: Brick 2 x 4)."""

    part_num = models.CharField("part number", max_length=50, primary_key=True)
    name = models.CharField(max_length=250)
    category = models.ForeignKey(
        PartCategory, on_delete=models.PROTECT, related_name="parts", null=True, blank=True
    )
    material = models.CharField(max_length=50, blank=True)
    image_url = models.URLField(max_length=500, blank=True)

    objects = PartQuerySet.as_manager()

    class Meta:
        ordering = ["part_num"]
        indexes = [models.Index(fields=["name"], name="part_name_idx")]

    def __str__(self) -> str:
        return f"{self.part_num} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("creations:part", kwargs={"part_num": self.part_num})


class CreationQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Creation.Status.PUBLISHED)

    def visible_to(self, user):
        """Hidden creations exist only for their owner and moderators."""
        published = Q(status=Creation.Status.PUBLISHED)
        if not user.is_authenticated:
            return self.filter(published)
        if user.is_moderator:
            return self
        return self.filter(published | Q(owner=user))

    def for_cards(self):
        """What a gallery card shows, in a fixed number of queries."""
        return self.select_related("owner").prefetch_related("tags")


class Creation(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        HIDDEN = "hidden", "Hidden"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creations"
    )
    title = models.CharField(max_length=120, validators=[MinLengthValidator(1)])
    description = models.TextField(max_length=5000, blank=True)
    image = models.ImageField(max_length=255)
    thumbnail = models.ImageField(max_length=255)
    alt_text = models.CharField(
        max_length=250,
        blank=True,
        help_text="Describe the picture for people who cannot see it; the title is used if empty.",
    )
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    tags = TaggableManager(blank=True, help_text="Comma-separated, at most 10.")
    parts = models.ManyToManyField(
        Part, blank=True, related_name="creations", help_text="The featured parts, at most 10."
    )
    # A 128-bit difference hash of the picture (hex), for recognising re-uploads.
    image_hash = models.CharField(max_length=32, blank=True, editable=False)
    possible_duplicates = models.ManyToManyField(
        "self", blank=True, symmetrical=True, help_text="Creations whose pictures look alike."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Denormalised from scoring.Score by scoring.services; never written anywhere else.
    score_count = models.PositiveIntegerField(default=0)
    creativity_avg = models.FloatField(null=True, blank=True)
    uniqueness_avg = models.FloatField(null=True, blank=True)
    rating = models.FloatField(null=True, blank=True, help_text="Mean of the two averages.")

    objects = CreationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="creation_status_created_idx"),
            models.Index(fields=["status", "-rating"], name="creation_status_rating_idx"),
            models.Index(fields=["status", "-score_count"], name="creation_status_scores_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="creation_title_not_empty"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), 5000),
                name="creation_description_max_length",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["published", "hidden"]), name="creation_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(score_count=0, creativity_avg=None, uniqueness_avg=None, rating=None)
                    | Q(
                        score_count__gt=0,
                        creativity_avg__range=(1, 5),
                        uniqueness_avg__range=(1, 5),
                        rating__range=(1, 5),
                    )
                ),
                name="creation_aggregates_consistent",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("creations:detail", kwargs={"pk": self.pk})

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def image_alt(self) -> str:
        return self.alt_text or self.title

    def can_edit(self, user) -> bool:
        """The owner and moderators may change or delete a creation."""
        if not user.is_authenticated:
            return False
        return self.owner_id == user.pk or user.is_moderator

    def can_score(self, user) -> bool:
        """Any member but the owner may score a creation."""
        return user.is_authenticated and self.owner_id != user.pk


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

    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    reason = models.CharField(max_length=10, choices=Reason.choices)
    note = models.TextField(max_length=1000, blank=True)
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


class ImageHashBand(models.Model):
    """One 8-bit slice of a creation's picture hash, indexed for finding look-alikes.

    Two hashes within 15 bits of each other share at least one of their 16 bands exactly, so
    looking up the bands finds every such candidate through the index.
    """

    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="hash_bands")
    position = models.PositiveSmallIntegerField()
    value = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["position", "value"], name="hashband_lookup_idx")]
        constraints = [
            models.UniqueConstraint(fields=["creation", "position"], name="hashband_once"),
        ]

    def __str__(self) -> str:
        return f"band {self.position} = {self.value} of creation {self.creation_id}"
