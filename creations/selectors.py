"""Reads for creation pages and endpoints, built from CreationQuerySet methods."""

import unicodedata
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from scoring.models import Score

from .models import Creation, ImageHashBand, Part
from .tagging import comma_separated

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


def creations_sorted(creations: QuerySet[Creation], sort: str) -> QuerySet[Creation]:
    if sort == "top":
        prior = site_mean_rating()
        bayesian = ExpressionWrapper(
            (Value(TOP_PRIOR_WEIGHT * prior) + F("score_count") * Coalesce("rating", Value(0.0)))
            / (Value(float(TOP_PRIOR_WEIGHT)) + F("score_count")),
            output_field=FloatField(),
        )
        return creations.alias(bayesian=bayesian).order_by("-bayesian", "-score_count", "-id")
    if sort == "trending":
        since = timezone.now() - TRENDING_WINDOW
        recent = Count("scores", filter=Q(scores__updated_at__gte=since))
        return creations.alias(recent=recent).order_by(
            "-recent", F("rating").desc(nulls_last=True), "-id"
        )
    if sort == "most_scored":
        return creations.order_by("-score_count", F("rating").desc(nulls_last=True), "-id")
    return creations.order_by("-created_at", "-id")


def creations_with_tags(creations: QuerySet[Creation], tag_names: list[str]) -> QuerySet[Creation]:
    """Creations carrying every one of `tag_names` (case-insensitively)."""
    content_type = ContentType.objects.get_for_model(Creation)
    for name in tag_names:
        creations = creations.filter(
            Exists(
                TaggedItem.objects.filter(
                    content_type=content_type, object_id=OuterRef("pk"), tag__name__iexact=name
                )
            )
        )
    return creations


def creations_matching(creations: QuerySet[Creation], query: str) -> QuerySet[Creation]:
    """Text search over title, description and tags.

    On PostgreSQL, full-text search with the English dictionary (served by the GIN index
    made in migration 0002); elsewhere every word must appear somewhere, case-insensitively.
    """
    query = search_text(query)
    if not query:
        return creations
    content_type = ContentType.objects.get_for_model(Creation)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        text_query = SearchQuery(query, config="english", search_type="websearch")
        by_text = (
            Creation.objects.alias(document=SearchVector("title", "description", config="english"))
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
        return creations.filter(pk__in=by_text.union(by_tag))
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


def gallery_creations(
    *,
    viewer,
    sort: str | None = None,
    tags: list[str] | None = None,
    parts: list[str] | None = None,
    query: str = "",
    owner=None,
) -> QuerySet[Creation]:
    """Published creations for a gallery page, filtered and sorted, ready for cards."""
    creations = Creation.objects.published().for_cards()
    if owner is not None:
        creations = creations.filter(owner=owner)
    if tags:
        creations = creations_with_tags(creations, tags)
    if parts:
        creations = creations_with_parts(creations, parts)
    if query:
        creations = creations_matching(creations, query)
    return creations_sorted(creations, sort if sort in SORTS else DEFAULT_SORT)


def creation_for_detail(*, viewer, pk: int) -> Creation:
    """One creation as `viewer` may see it; raises Creation.DoesNotExist otherwise."""
    return Creation.objects.visible_to(viewer).for_cards().prefetch_related("parts").get(pk=pk)


def tag_cloud(*, limit: int | None = None) -> QuerySet[Tag]:
    """Tags used by published creations, with how many, most used first."""
    content_type = ContentType.objects.get_for_model(Creation)
    published = Creation.objects.published().values("pk")
    tags = (
        Tag.objects.annotate(
            count=Count(
                "taggit_taggeditem_items",
                filter=Q(
                    taggit_taggeditem_items__content_type=content_type,
                    taggit_taggeditem_items__object_id__in=published,
                ),
            )
        )
        .filter(count__gt=0)
        .order_by("-count", "name")
    )
    return tags[:limit] if limit else tags


def member_stats(*, member) -> dict:
    """A member's public numbers: published creations, scores given, mean rating received."""
    # Avg skips the null ratings of unscored creations.
    published = Creation.objects.published().filter(owner=member)
    numbers = published.aggregate(creation_count=Count("pk"), mean_rating=Avg("rating"))
    return {
        "creation_count": numbers["creation_count"],
        "scores_given": Score.objects.filter(
            user=member, creation__status=Creation.Status.PUBLISHED
        ).count(),
        "mean_rating": numbers["mean_rating"],
    }


# Parts -------------------------------------------------------------------------------------

MAX_PARTS = 10


def part_numbers_parse(value) -> list[str]:
    """Part numbers (or exact part names) from a comma-separated string or a list, in order.

    Raises ValidationError for control characters, which no part number or name contains.
    """
    numbers: list[str] = []
    for piece in comma_separated(value):
        piece = " ".join(piece.split())
        if any(unicodedata.category(character).startswith("C") for character in piece):
            raise ValidationError("Part numbers cannot contain control characters.")
        if piece and piece not in numbers:
            numbers.append(piece[:250])
    return numbers


def parts_resolve(values: list[str]) -> tuple[list[Part], list[str]]:
    """The parts named by number or, failing that, by exact name (any letter case); and the
    values that matched nothing."""
    lowered = {value.lower() for value in values}
    by_number: dict[str, Part] = {}
    by_name: dict[str, Part] = {}
    candidates = (
        Part.objects.annotate(number_lower=Lower("part_num"), name_lower=Lower("name"))
        .filter(Q(number_lower__in=lowered) | Q(name_lower__in=lowered))
        .order_by("part_num")
    )
    for part in candidates:
        by_number[part.number_lower] = part
        by_name.setdefault(part.name_lower, part)
    found: list[Part] = []
    unknown: list[str] = []
    for value in values:
        part = by_number.get(value.lower()) or by_name.get(value.lower())
        if part is None:
            unknown.append(value)
        elif part not in found:
            found.append(part)
    return found, unknown


def search_text(text: str, limit: int = 200) -> str:
    """A search box's text made safe to query with: no control characters, single spaces."""
    kept = "".join(c for c in str(text) if not unicodedata.category(c).startswith("C"))
    return " ".join(kept.split())[:limit]


def part_catalog(*, query: str = "") -> QuerySet[Part]:
    """Parts with their featured counts, most featured first; `query` matches number or name."""
    parts = Part.objects.with_creation_count().select_related("category")
    query = search_text(query, 100)
    if query:
        every_word_in_name = Q()
        for word in query.split():
            every_word_in_name &= Q(name__icontains=word)
        parts = parts.filter(Q(part_num__istartswith=query) | every_word_in_name)
    return parts.order_by("-creation_count", "part_num")


def creations_with_parts(creations: QuerySet[Creation], part_numbers: list[str]):
    """Creations featuring every one of `part_numbers`."""
    for number in part_numbers:
        creations = creations.filter(
            Exists(Creation.parts.through.objects.filter(creation=OuterRef("pk"), part=number))
        )
    return creations


# Look-alike pictures ---------------------------------------------------------------------------

HASH_BANDS = 16
BAND_BITS = 8
# benchmarks/hash_separation.py on the 60 demo pictures: half-size and quality-40 copies are
# 0-6 bits from the original, 1% crops up to 12, 2-4% crops up to 18 (58 and 59 of 60 within
# 14); the closest two different pictures are 20 apart.
DUPLICATE_MAX_DISTANCE = 14
# Band values from flat areas (all darker or all brighter) are shared by too many pictures to
# narrow a lookup; they are not indexed.
FLAT_BAND_VALUES = {0, (1 << BAND_BITS) - 1}


def hash_bands(fingerprint: int) -> list[tuple[int, int]]:
    """The (position, value) of each 8-bit band of a 128-bit fingerprint."""
    mask = (1 << BAND_BITS) - 1
    return [
        (position, (fingerprint >> (BAND_BITS * (HASH_BANDS - 1 - position))) & mask)
        for position in range(HASH_BANDS)
    ]


def similar_creations(*, fingerprint: int, exclude_pk=None) -> list[tuple[Creation, int]]:
    """Creations whose pictures are within DUPLICATE_MAX_DISTANCE bits, closest first."""
    condition = Q()
    for position, value in hash_bands(fingerprint):
        if value not in FLAT_BAND_VALUES:
            condition |= Q(position=position, value=value)
    if not condition:
        return []
    # One indexed query returns each candidate's id and hash; the distance is a popcount here.
    candidates = (
        ImageHashBand.objects.filter(condition)
        .exclude(creation_id=exclude_pk)
        .values_list("creation_id", "creation__image_hash")
    )
    distances: dict[int, int] = {}
    for creation_id, image_hash in candidates:
        if image_hash and creation_id not in distances:
            distances[creation_id] = (int(image_hash, 16) ^ fingerprint).bit_count()
    close = {
        pk: distance for pk, distance in distances.items() if distance <= DUPLICATE_MAX_DISTANCE
    }
    matches = [
        (creation, close[creation.pk])
        for creation in Creation.objects.filter(pk__in=close).only(
            "pk", "title", "status", "owner_id", "image_hash"
        )
    ]
    return sorted(matches, key=lambda match: (match[1], match[0].pk))
