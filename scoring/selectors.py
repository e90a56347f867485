"""Reads of scores: the creation page's histogram and form, the API, profile numbers."""

from django.core.cache import cache
from django.db.models import Avg, Count, F, FloatField, Q
from django.db.models.functions import Cast

from creations.models import Creation
from npu_site.caching import object_cached

from .models import SCORE_MAX, SCORE_MIN, RaterCalibration, Score, ScoreReveal

AXES = ("creativity", "uniqueness")


def score_histogram(*, creation) -> dict[str, list[dict]]:
    """How many scores gave each value on each axis, in one query."""
    values = range(SCORE_MIN, SCORE_MAX + 1)

    def count():
        return (
            Score.objects.counting()
            .filter(creation=creation)
            .aggregate(
                **{
                    f"{axis}_{value}": Count("pk", filter=Q(**{axis: value}))
                    for axis in AXES
                    for value in values
                }
            )
        )

    # Cached under the creation's token, which every score write replaces: a popular
    # creation's histogram reads all of its scores.
    counts = object_cached("creation", creation.pk, "histogram", count)
    total = creation.score_count or 0
    return {
        axis: [
            {
                "value": value,
                "count": counts[f"{axis}_{value}"],
                "percent": round(100 * counts[f"{axis}_{value}"] / total) if total else 0,
            }
            for value in reversed(values)
        ]
        for axis in AXES
    }


def score_of(*, user, creation) -> Score | None:
    """`user`'s score of `creation`, if they gave one."""
    if not user.is_authenticated:
        return None
    return Score.objects.filter(user=user, creation=creation).first()


def creation_scores(*, creation):
    """A creation's scores with their raters, newest first; the list knows its length (the
    creation's exact `score_count`), so paginating it counts nothing."""
    scores = creation.scores.counting().select_related("user").order_by("-updated_at", "-id")
    scores.known_count = creation.score_count
    return scores


def scores_given(*, member) -> int:
    """How many published creations `member` has scored."""
    return (
        Score.objects.counting()
        .filter(user=member, creation__status=Creation.Status.PUBLISHED)
        .count()
    )


def unblinded_ids(member, creation_ids: list[int]) -> set[int]:
    """Which of `creation_ids` `member` has scored (a voided score included) or chosen to see
    the scores of: the finder blind scoring asks (creations.visibility), one query."""
    scored = (
        Score.objects.filter(user=member, creation_id__in=creation_ids)
        .order_by()
        .values_list("creation_id", flat=True)
    )
    revealed = (
        ScoreReveal.objects.filter(user=member, creation_id__in=creation_ids)
        .order_by()
        .values_list("creation_id", flat=True)
    )
    return set(scored.union(revealed))


def member_scores(*, member, viewer):
    """What `member` scored, newest first, with each creation (and its owner) for showing
    their score beside its average; creations hidden from `viewer` are left out."""
    return (
        Score.objects.filter(
            user=member, creation__in=Creation.objects.visible_to(viewer).values("pk")
        )
        .select_related("creation", "creation__owner")
        .order_by("-updated_at", "-id")
    )


def rater_distribution(*, member) -> dict | None:
    """How often `member` gives each value (both axes counted) beside how often the site's
    average rater does: {"count", "rows": [{value, mine, site}]} with percentages; None when
    they have scored nothing. The site's figure is the mean, over raters, of each rater's own
    share, from their stored calibration (RaterCalibration), cached for an hour."""
    mine = RaterCalibration.objects.filter(user=member).first()
    if mine is None or not mine.score_count:
        return None
    site = site_rater_shares()
    given = 2 * mine.score_count
    return {
        "count": mine.score_count,
        "mean": mine.mean,
        "rows": [
            {
                "value": value,
                "mine": round(100 * getattr(mine, f"gave_{value}") / given),
                "site": round(100 * site[value - 1]) if site else None,
            }
            for value in range(SCORE_MAX, SCORE_MIN - 1, -1)
        ],
    }


SITE_SHARES_CACHE_KEY = "scoring:site-rater-shares"
SITE_SHARES_SECONDS = 3600


def site_rater_shares() -> list[float] | None:
    """The average rater's share of each value 1–5 (fractions), or None with no raters."""
    shares = cache.get(SITE_SHARES_CACHE_KEY)
    if shares is None:
        given = Cast(F("score_count") * 2, FloatField())
        row = RaterCalibration.objects.filter(score_count__gt=0).aggregate(
            **{
                f"share_{value}": Avg(Cast(f"gave_{value}", FloatField()) / given)
                for value in range(SCORE_MIN, SCORE_MAX + 1)
            }
        )
        shares = (
            [row[f"share_{value}"] for value in range(SCORE_MIN, SCORE_MAX + 1)]
            if row["share_1"] is not None
            else []
        )
        cache.set(SITE_SHARES_CACHE_KEY, shares, SITE_SHARES_SECONDS)
    return shares or None
