from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import connections, models
from django.db.models import (
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from taggit.managers import TaggableManager
from taggit.models import Tag, TaggedItem

from npu_site.fields import PortableArrayField
from npu_site.text import search_text, validate_line, validate_text

from .ranking import DEFAULT_PRIOR_MEAN, DEFAULT_RATER_VARIANCE, TOP_PRIOR_WEIGHT

SORTS = {
    "newest": "Newest",
    "top": "Top rated",
    "trending": "Trending",
    "most_scored": "Most scored",
    "calibrated": "Calibrated",
}
DEFAULT_SORT = "newest"
# The text search dictionary of `search_document` and of the queries against it.
SEARCH_CONFIG = "english"

# An upload key: a UUID's hex or anything like it, in letters, digits and . _ : - only.
validate_upload_key = RegexValidator(
    r"\A[A-Za-z0-9._:-]{1,64}\Z",
    "An upload key is 1 to 64 letters, digits, dots, underscores, colons or hyphens.",
    code="invalid_upload_key",
)


class RankingPrior(models.Model):
    """The site-wide figures behind `top` and `calibrated` (creations.ranking), one row.

    Stored rather than computed per request, so that every stored value was computed with a
    known prior; `manage.py refresh_rankings` recomputes it and every `top` and `calibrated`
    together.
    """

    mean = models.FloatField(default=DEFAULT_PRIOR_MEAN)
    weight = models.PositiveSmallIntegerField(default=TOP_PRIOR_WEIGHT)
    # The spread of a typical rater's scores around their own mean (the pooled within-rater
    # variance of the score values), which `calibrated` divides by; 1.0 until first computed.
    rater_variance = models.FloatField(default=DEFAULT_RATER_VARIANCE)
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"prior {self.mean:.3f} × {self.weight}"

    @classmethod
    def current(cls) -> "RankingPrior":
        return cls.objects.filter(pk=1).first() or cls(pk=1)


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
        # Tags into a plain list (`tag_list`): taggit's manager would otherwise build a
        # queryset per creation just to hold the prefetched rows, a few ms per page.
        return self.select_related("owner").prefetch_related(
            Prefetch("tags", to_attr="prefetched_tags")
        )

    def with_ranking_prior(self):
        """Each creation with the stored prior behind `top` (`prior_mean`, `prior_weight`),
        read by an uncorrelated subquery the database runs once per query."""
        prior = RankingPrior.objects.filter(pk=1)
        return self.annotate(
            prior_mean=Coalesce(
                Subquery(prior.values("mean")[:1]),
                Value(DEFAULT_PRIOR_MEAN),
                output_field=FloatField(),
            ),
            prior_weight=Coalesce(
                Subquery(prior.values("weight")[:1]),
                Value(TOP_PRIOR_WEIGHT),
                output_field=IntegerField(),
            ),
        )

    def with_tags(self, names):
        """Creations carrying every one of the (normalised) tag `names`.

        One query finds the tags' ids (a name no tag has matches nothing). Then, on
        PostgreSQL, one GIN-indexed containment test on the stored ids (`tag_ids @> ARRAY[…]`)
        answers any number of tags, with the ids as constants the planner can weigh against
        its statistics; elsewhere one EXISTS per tag.
        """
        if not names:
            return self
        ids = sorted(Tag.objects.filter(name__in=names).values_list("pk", flat=True))
        if len(ids) < len(set(names)):
            return self.none()
        if self._on_postgresql():
            return self.filter(tag_ids__contains=ids)
        content_type = ContentType.objects.get_for_model(Creation)
        creations = self
        for tag_id in ids:
            creations = creations.filter(
                Exists(
                    TaggedItem.objects.filter(
                        content_type=content_type, object_id=OuterRef("pk"), tag_id=tag_id
                    )
                )
            )
        return creations

    def with_parts(self, part_numbers):
        """Creations featuring every one of `part_numbers`: on PostgreSQL one GIN-indexed
        containment test on the stored part numbers, elsewhere one EXISTS per part."""
        if not part_numbers:
            return self
        if self._on_postgresql():
            return self.filter(part_nums__contains=sorted(set(part_numbers)))
        creations = self
        for number in part_numbers:
            creations = creations.filter(
                Exists(Creation.parts.through.objects.filter(creation=OuterRef("pk"), part=number))
            )
        return creations

    def matching(self, query: str):
        """Text search over title, description and tags.

        On PostgreSQL, full-text search with the English dictionary against the stored
        `search_document` (GIN-indexed; written by creations.services with the tags); elsewhere
        every word must appear somewhere, case-insensitively.
        """
        query = search_text(query)
        if not query:
            return self
        if self._on_postgresql():
            from django.contrib.postgres.search import SearchQuery

            return self.filter(
                search_document=SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
            )
        content_type = ContentType.objects.get_for_model(Creation)
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
        """Order by one of SORTS (anything else is `newest`), each by stored, indexed columns
        (creations.ranking), so a page reads one page of rows whatever the site's size."""
        if sort == "top":
            return self.order_by(F("top").desc(nulls_last=True), "-id")
        if sort == "trending":
            return self.order_by(F("trending").desc(nulls_last=True), "-id")
        if sort == "most_scored":
            return self.order_by("-score_count", F("rating").desc(nulls_last=True), "-id")
        if sort == "calibrated":
            return self.order_by(F("calibrated").desc(nulls_last=True), "-id")
        return self.order_by("-created_at", "-id")

    def _on_postgresql(self) -> bool:
        return connections[self.db].vendor == "postgresql"


class Creation(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        HIDDEN = "hidden", "Hidden"
        # A new member's first uploads (NPU_REVIEW_FIRST_UPLOADS) until a moderator approves.
        PENDING = "pending", "Waiting for review"

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
    # Hidden because a moderator suspended or banned the owner (not by a hide of its own):
    # lifting the restriction publishes exactly these again.
    hidden_with_owner = models.BooleanField(default=False, db_default=False, editable=False)
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
    # Denormalised by community.services (the comments showing, and who saved the creation),
    # so cards and lists show them without a query per creation.
    # (db_default: rows written by a release that predates the columns.)
    comment_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    favourite_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # What `top`, `trending` and `calibrated` sort by (creations.ranking), written with the
    # aggregates.
    top = models.FloatField(null=True, blank=True, editable=False)
    trending = models.FloatField(null=True, blank=True, editable=False)
    calibrated = models.FloatField(null=True, blank=True, editable=False)

    # Kept by creations.services from the tags, parts and text, for the indexes that answer
    # tag, part and text filters in one lookup (PostgreSQL only; see the migrations).
    # Nullable, so rows written without them (by a release before them, or by hand) are
    # accepted; such a row matches no tag or part filter until the service rewrites it.
    tag_ids = PortableArrayField(
        models.IntegerField(), default=list, null=True, blank=True, editable=False
    )
    part_nums = PortableArrayField(
        models.CharField(max_length=50), default=list, null=True, blank=True, editable=False
    )
    search_document = SearchVectorField(null=True, blank=True, editable=False)

    objects = CreationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # One index per order, in exactly the order sorted_by() asks for, so a page of any
        # order is the first rows of an index. Not limited to published rows: a member's
        # list also shows their own hidden creations, and hidden ones are few. The orders with
        # NULLS LAST (top, trending, most_scored, calibrated), which SQLite cannot index, are
        # made on PostgreSQL only, by migrations 0006 and 0008 (ORDER_INDEXES there).
        indexes = [
            models.Index(F("created_at").desc(), F("id").desc(), name="creation_newest_idx"),
            models.Index(
                "owner", F("created_at").desc(), F("id").desc(), name="creation_owner_newest_idx"
            ),
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
                condition=Q(status__in=["published", "hidden", "pending"]),
                name="creation_status_valid",
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
    def tag_list(self) -> list[Tag]:
        """The creation's tags by name, from `for_cards()`'s prefetch when it ran."""
        tags = getattr(self, "prefetched_tags", None)
        if tags is None:
            tags = self.tags.all()
        return sorted(tags, key=lambda tag: tag.name)

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
        hide or approves an upload waiting for review."""
        if not self.can_edit(user):
            return False
        if user.is_moderator:
            return True
        return not self.is_hidden_by_moderator and self.status != self.Status.PENDING

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
