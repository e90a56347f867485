"""Reads for pages and endpoints, chained from CreationQuerySet methods."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import Avg, Count, Q, QuerySet
from taggit.models import Tag

from npu_site.caching import listings_cached
from parts.models import Part
from parts.selectors import parts_search

from .models import Creation, ImageHashBand


def gallery_creations(*, owner=None) -> QuerySet[Creation]:
    """Published creations ready for cards, newest first; a FilterSet narrows and sorts them."""
    creations = Creation.objects.published().for_cards()
    if owner is not None:
        creations = creations.filter(owner=owner)
    return creations.sorted_by(None)


def creations_waiting_for_review(*, owner) -> list[Creation]:
    """`owner`'s uploads waiting for a moderator's review, oldest first, ready for cards."""
    return list(
        Creation.objects.filter(owner=owner, status=Creation.Status.PENDING)
        .for_cards()
        .order_by("created_at", "pk")
    )


def creation_for_detail(*, viewer, pk: int) -> Creation:
    """One creation as `viewer` may see it; raises Creation.DoesNotExist otherwise."""
    return Creation.objects.visible_to(viewer).for_cards().prefetch_related("parts").get(pk=pk)


def creation_by_upload_key(*, owner, upload_key: str) -> Creation | None:
    """The creation `owner` already made with this upload key, if any."""
    if not upload_key:
        return None
    return Creation.objects.filter(owner=owner, upload_key=upload_key).first()


@dataclass(slots=True)
class TagCount:
    """A tag with how many published creations carry it (and, on the cloud, a font size)."""

    pk: int
    name: str
    slug: str
    count: int
    weight: int = 1


def tag_cloud(*, limit: int | None = None) -> list[TagCount]:
    """Tags used by published creations, each with its `count`, most used first.

    Counting reads every tagged creation, so the cloud is counted once per change to listings
    and cached (npu_site.caching.listings_cached) as plain tuples, not on every request.
    """
    rows = listings_cached("tag-cloud", _tag_cloud_rows)
    if limit:
        rows = rows[:limit]
    return [TagCount(*row) for row in rows]


def _reading_connection():
    """The connection reads of creations go to (the replica, when there is one)."""
    return connections[router.db_for_read(Creation)]


def _tag_cloud_rows() -> list[tuple]:
    connection = _reading_connection()
    if connection.vendor == "postgresql":
        # One pass over the creations' stored tag ids, rather than a join of every tagging
        # with the published creations (over ten seconds at a million creations).
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT t.id, t.name, t.slug, c.n FROM {Tag._meta.db_table} AS t
                    JOIN (SELECT unnest(tag_ids) AS tag_id, count(*) AS n
                          FROM {Creation._meta.db_table} WHERE status = %s GROUP BY 1) AS c
                    ON c.tag_id = t.id
                    ORDER BY c.n DESC, t.name""",
                [Creation.Status.PUBLISHED],
            )
            return cursor.fetchall()
    content_type = ContentType.objects.get_for_model(Creation)
    published = Creation.objects.published().values("pk")
    return list(
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
        .values_list("pk", "name", "slug", "count")
    )


def tag_is_public(*, tag: Tag) -> bool:
    """Whether any published creation carries `tag`; a tag only hidden ones carry is secret."""
    return Creation.objects.published().with_tags([tag.name]).exists()


def member_creation_stats(*, member) -> dict:
    """A member's published creations: how many, and the mean rating they received.

    Counted once per change to listings and cached: a prolific member's figures read every
    one of their creations. The mean follows new scores within NPU_COUNT_CACHE_SECONDS.
    """

    def count():
        # Avg skips the null ratings of unscored creations.
        return (
            Creation.objects.published()
            .filter(owner=member)
            .aggregate(creation_count=Count("pk"), mean_rating=Avg("rating"))
        )

    return listings_cached(f"member-stats:{member.pk}", count)


def with_creation_count(member):
    """`member` with `creation_count`: their published creations, from the cached stats."""
    member.creation_count = member_creation_stats(member=member)["creation_count"]
    return member


def part_creation_counts() -> dict[str, int]:
    """How many published creations feature each part (parts featured at least once).

    Counted once per change to listings and cached, like the tag cloud."""
    return listings_cached("part-counts", _part_creation_counts)


def _part_creation_counts() -> dict[str, int]:
    connection = _reading_connection()
    if connection.vendor == "postgresql":
        # One pass over the creations' stored part numbers, like the tag cloud.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT part, count(*) FROM (
                        SELECT unnest(part_nums) AS part FROM {Creation._meta.db_table}
                        WHERE status = %s) AS featured
                    GROUP BY part""",
                [Creation.Status.PUBLISHED],
            )
            return dict(cursor.fetchall())
    return dict(
        Creation.parts.through.objects.filter(creation__status=Creation.Status.PUBLISHED)
        .order_by()
        .values("part_id")
        .annotate(count=Count("creation_id"))
        .values_list("part_id", "count")
    )


def with_creation_counts(parts) -> list[Part]:
    """`parts` as a list, each with its `creation_count`."""
    counts = part_creation_counts()
    parts = list(parts)
    for part in parts:
        part.creation_count = counts.get(part.part_num, 0)
    return parts


def part_catalog(*, query: str = "") -> list[Part]:
    """Parts with their featured counts, most featured first; `query` matches number or name."""
    parts = with_creation_counts(parts_search(query=query))
    parts.sort(key=lambda part: (-part.creation_count, part.part_num))
    return parts


# Look-alike pictures ---------------------------------------------------------------------------

HASH_BANDS = 16
BAND_BITS = 8
# benchmarks/hash_separation.py on the 60 demo pictures: half-size and quality-40 copies are
# 0-6 bits from the original, 1% crops up to 12, 2-4% crops up to 18 (58 and 59 of 60 within
# 14); the closest two different pictures are 20 apart.
DUPLICATE_MAX_DISTANCE = 14
# Every band is stored, but band values from flat areas (all darker or all brighter) are shared
# by too many pictures to narrow a lookup, so lookups do not ask for them.
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
