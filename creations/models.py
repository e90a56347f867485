from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import connections, models
from django.db.models import (
    Avg,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Coalesce, Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from taggit.managers import TaggableManager
from taggit.models import TaggedItem

from npu_site.text import search_text, validate_line, validate_text

SORTS = {
    "newest": "Newest",
    "top": "Top rated",
    "trending": "Trending",
    "most_scored": "Most scored",
}
DEFAULT_SORT = "newest"
# `top`: a Bayesian average that treats every creation as if it also had this many scores at
# the site-wide mean, so one 5/5 score does not outrank fifty 4.8s.
TOP_PRIOR_WEIGHT = 5
# `trending`: scores received in this window count; older ones do not.
TRENDING_WINDOW = timedelta(days=7)
TRENDING_HELP = (
    "Trending ranks creations by how many scores they received in the last 7 days, "
    "then by their rating."
)
SITE_MEAN_CACHE_KEY = "npu:site-mean-rating"

# An upload key: a UUID's hex or anything like it, in letters, digits and . _ : - only.
validate_upload_key = RegexValidator(
    r"\A[A-Za-z0-9._:-]{1,64}\Z",
    "An upload key is 1 to 64 letters, digits, dots, underscores, colons or hyphens.",
    code="invalid_upload_key",
)


def site_mean_rating() -> float:
    """The mean rating of scored, published creations: the prior for `top`. Cached briefly."""
    mean = cache.get(SITE_MEAN_CACHE_KEY)
    if mean is None:
        mean = (
            (
                Creation.objects.published()
                .filter(score_count__gt=0)
                .aggregate(mean=Avg("rating"))["mean"]
            )
            or 3.0
        )
        cache.set(SITE_MEAN_CACHE_KEY, mean, 300)
    return mean


class CreationQuerySet(models.QuerySet):
    """Composable reads: every page, endpoint and admin list filters creations through these."""

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

    def with_tags(self, names):
        """Creations carrying every one of the (normalised) tag `names`."""
        content_type = ContentType.objects.get_for_model(Creation)
        creations = self
        for name in names:
            creations = creations.filter(
                Exists(
                    TaggedItem.objects.filter(
                        content_type=content_type, object_id=OuterRef("pk"), tag__name__iexact=name
                    )
                )
            )
        return creations

    def with_parts(self, part_numbers):
        """Creations featuring every one of `part_numbers`."""
        creations = self
        for number in part_numbers:
            creations = creations.filter(
                Exists(Creation.parts.through.objects.filter(creation=OuterRef("pk"), part=number))
            )
        return creations

    def matching(self, query: str):
        """Text search over title, description and tags.

        On PostgreSQL, full-text search with the English dictionary (served by the GIN index
        made in the initial migration); elsewhere every word must appear somewhere,
        case-insensitively.
        """
        query = search_text(query)
        if not query:
            return self
        content_type = ContentType.objects.get_for_model(Creation)
        if connections[self.db].vendor == "postgresql":
            from django.contrib.postgres.search import SearchQuery, SearchVector

            text_query = SearchQuery(query, config="english", search_type="websearch")
            by_text = (
                Creation.objects.alias(
                    document=SearchVector("title", "description", config="english")
                )
                .filter(document=text_query)
                .order_by()
                .values("pk")
            )
            by_tag = (
                TaggedItem.objects.filter(content_type=content_type, tag__name__iexact=query)
                .order_by()
                .values("object_id")
            )
            # A UNION of ids rather than an OR, so PostgreSQL can answer each side from an index.
            return self.filter(pk__in=by_text.union(by_tag))
        creations = self
        for word in query.split():
            tag_match = Exists(
                TaggedItem.objects.filter(
                    content_type=content_type, object_id=OuterRef("pk"), tag__name__icontains=word
                )
            )
            creations = creations.filter(
                Q(title__icontains=word) | Q(description__icontains=word) | tag_match
            )
        return creations

    def sorted_by(self, sort: str | None):
        """Order by one of SORTS; anything else is `newest`."""
        if sort == "top":
            prior = site_mean_rating()
            bayesian = ExpressionWrapper(
                (
                    Value(TOP_PRIOR_WEIGHT * prior)
                    + F("score_count") * Coalesce("rating", Value(0.0))
                )
                / (Value(float(TOP_PRIOR_WEIGHT)) + F("score_count")),
                output_field=FloatField(),
            )
            return self.alias(bayesian=bayesian).order_by("-bayesian", "-score_count", "-id")
        if sort == "trending":
            since = timezone.now() - TRENDING_WINDOW
            # `scores` is scoring's reverse relation; the core names it without importing it.
            recent = Count("scores", filter=Q(scores__updated_at__gte=since))
            return self.alias(recent=recent).order_by(
                "-recent", F("rating").desc(nulls_last=True), "-id"
            )
        if sort == "most_scored":
            return self.order_by("-score_count", F("rating").desc(nulls_last=True), "-id")
        return self.order_by("-created_at", "-id")


class Creation(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        HIDDEN = "hidden", "Hidden"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creations"
    )
    title = models.CharField(max_length=120, validators=[MinLengthValidator(1), validate_line])
    description = models.TextField(max_length=5000, blank=True, validators=[validate_text])
    # Indexed: the local media view looks a file up by its name.
    image = models.ImageField(max_length=255, db_index=True)
    thumbnail = models.ImageField(max_length=255, db_index=True)
    alt_text = models.CharField(
        max_length=250,
        blank=True,
        validators=[validate_line],
        help_text="Describe the picture for people who cannot see it; the title is used if empty.",
    )
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    tags = TaggableManager(blank=True, help_text="Comma-separated, at most 10.")
    parts = models.ManyToManyField(
        "parts.Part",
        blank=True,
        related_name="creations",
        help_text="The featured parts, at most 10.",
    )
    # A 128-bit difference hash of the picture (hex), for recognising re-uploads.
    image_hash = models.CharField(max_length=32, blank=True, editable=False)
    possible_duplicates = models.ManyToManyField(
        "self", blank=True, symmetrical=True, help_text="Creations whose pictures look alike."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    # Who hid the creation, when and why. A moderator's hide is lifted by a moderator only;
    # `hidden_by_moderator` records the role at the time, whatever becomes of the account.
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    hidden_by_moderator = models.BooleanField(default=False, editable=False)
    hidden_reason = models.TextField(
        "reason for hiding",
        max_length=1000,
        blank=True,
        validators=[validate_text],
        help_text="Shown to the owner when a moderator hides the creation.",
    )
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The key the upload form or the API client's Idempotency-Key gave the upload: the same
    # upload sent twice (a double click, a retry after a timeout) makes one creation.
    upload_key = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",  # rows written by a release that predates the column
        editable=False,
        validators=[validate_upload_key],
    )
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
            models.UniqueConstraint(
                fields=["owner", "upload_key"],
                condition=~Q(upload_key=""),
                name="creation_upload_key_once",
            ),
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

    @property
    def is_hidden_by_moderator(self) -> bool:
        return self.status == self.Status.HIDDEN and self.hidden_by_moderator

    def can_publish(self, user) -> bool:
        """The owner may publish what they hid themselves; only a moderator lifts a moderator's
        hide."""
        if not self.can_edit(user):
            return False
        return user.is_moderator or not self.is_hidden_by_moderator

    def can_score(self, user) -> bool:
        """Any member but the owner may score a creation."""
        return user.is_authenticated and self.owner_id != user.pk


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
