"""Writes to scores. Every change to a score refreshes its creation's aggregates."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from creations.models import Creation, RankingPrior
from creations.ranking import (
    DEFAULT_PRIOR_MEAN,
    TOP_PRIOR_WEIGHT,
    TRENDING_EPOCH,
    TRENDING_HALF_LIFE,
    top_value,
    trending_value,
)
from creations.signals import creation_scored
from npu_site.caching import listings_changed, object_changed
from npu_site.db import without_statement_timeout

from .models import SCORE_MAX, SCORE_MIN, Score


class OwnCreationScoreError(PermissionDenied):
    """Nobody scores their own creation."""

    message = "You can't score your own creation."

    def __init__(self):
        super().__init__(self.message)


def _prior_mean() -> Subquery:
    """The stored prior (creations.RankingPrior), read inside the UPDATE that uses it."""
    return Coalesce(
        Subquery(RankingPrior.objects.filter(pk=1).values("mean")[:1]),
        Value(DEFAULT_PRIOR_MEAN),
        output_field=FloatField(),
    )


def _aggregate_expressions(creation_ref) -> dict:
    """UPDATE expressions computing a creation's aggregates from its scores, in the database.

    It serves a single creation, and the full rebuild on SQLite; the full rebuild on
    PostgreSQL computes the same figures in one grouped pass (_STATS_SQL), and the tests
    compare the two. The columns change in one statement, so the check constraint tying them
    together holds after every statement. `top` is computed from the same subqueries (an
    UPDATE's right-hand sides see the old row) with the stored prior.
    """
    scores = Score.objects.filter(creation=creation_ref).order_by().values("creation")

    def average(field: str) -> Subquery:
        return Subquery(
            scores.annotate(value=Avg(Cast(field, FloatField()))).values("value"),
            output_field=FloatField(),
        )

    count = Coalesce(Subquery(scores.annotate(value=Count("pk")).values("value")), 0)
    creativity, uniqueness = average("creativity"), average("uniqueness")
    rating = (creativity + uniqueness) / Value(2.0)
    return {
        "score_count": count,
        "creativity_avg": creativity,
        "uniqueness_avg": uniqueness,
        "rating": rating,
        "top": ExpressionWrapper(
            top_value(score_count=count, rating=rating, prior_mean=_prior_mean()),
            output_field=FloatField(),
        ),
    }


def creation_refresh_aggregates(*, creation_id: int) -> None:
    """Recompute one creation's score_count, averages, rating, `top` and `trending`.

    The creation's cached page is dropped; cached listings are not, and show the new figures
    within NPU_PAGE_CACHE_SECONDS (npu_site.caching), so browsing stays cached while members
    score.
    """
    times = Score.objects.filter(creation_id=creation_id).values_list("updated_at", flat=True)
    Creation.objects.filter(pk=creation_id).update(
        **_aggregate_expressions(creation_id), trending=trending_value(times)
    )
    object_changed("creation", creation_id)


def _trending_refresh_all(batch_size: int = 10_000) -> None:
    """Recompute every creation's `trending` from its scores' times with trending_value(),
    streaming the scores in creation order so memory stays flat (the SQLite path)."""
    Creation.objects.exclude(trending=None).filter(score_count=0).update(trending=None)
    pending: list[Creation] = []
    current, times = None, []

    def flush():
        Creation.objects.bulk_update(pending, ["trending"], batch_size=500)
        pending.clear()

    rows = (
        Score.objects.order_by("creation_id")
        .values_list("creation_id", "updated_at")
        .iterator(chunk_size=batch_size)
    )
    for creation_id, updated_at in rows:
        if creation_id != current:
            if current is not None:
                pending.append(Creation(pk=current, trending=trending_value(times)))
            current, times = creation_id, []
            if len(pending) >= batch_size:
                flush()
        times.append(updated_at)
    if current is not None:
        pending.append(Creation(pk=current, trending=trending_value(times)))
    flush()


# The full rebuild on PostgreSQL: one pass over the scores and one rewrite of each creation,
# instead of one set of subqueries per creation. The figures are those the single-creation
# path computes: count and float averages of small integers (exact, whatever the order), and
# creations.ranking's `top` and `trending` formulas written in SQL (tests compare the two).
_STATS_SQL = """
    SELECT creation_id, count(*) AS n,
           avg(creativity::float8) AS c, avg(uniqueness::float8) AS u,
           max(m) + ln(sum(power(2.0::float8, x - m))) / ln(2.0::float8) AS trending
    FROM (
        SELECT creation_id, creativity, uniqueness, x,
               max(x) OVER (PARTITION BY creation_id) AS m
        FROM (
            SELECT creation_id, creativity, uniqueness,
                   extract(epoch FROM updated_at - %(epoch)s) / %(half_life)s AS x
            FROM {score}
        ) AS timed
    ) AS windowed
    GROUP BY creation_id
"""


def _refresh_all_on_postgresql() -> int:
    score, creation = Score._meta.db_table, Creation._meta.db_table
    stats = _STATS_SQL.format(score=score)
    params = {
        "epoch": TRENDING_EPOCH,
        "half_life": TRENDING_HALF_LIFE.total_seconds(),
        "weight": TOP_PRIOR_WEIGHT,
        "published": Creation.Status.PUBLISHED,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT avg((s.c + s.u) / 2.0) FROM ({stats}) AS s
                JOIN {creation} AS c ON c.id = s.creation_id
                WHERE c.status = %(published)s""",
            params,
        )
        mean = cursor.fetchone()[0]
        prior = _prior_save(DEFAULT_PRIOR_MEAN if mean is None else mean)
        cursor.execute(
            f"""UPDATE {creation} AS c SET
                    score_count = s.n, creativity_avg = s.c, uniqueness_avg = s.u,
                    rating = (s.c + s.u) / 2.0,
                    top = (%(weight)s * %(prior)s + s.n * ((s.c + s.u) / 2.0))
                          / (%(weight)s + s.n),
                    trending = s.trending
                FROM ({stats}) AS s
                WHERE c.id = s.creation_id""",
            {**params, "prior": prior.mean},
        )
        scored = cursor.rowcount
        cursor.execute(
            f"""UPDATE {creation} AS c SET score_count = 0, creativity_avg = NULL,
                    uniqueness_avg = NULL, rating = NULL, top = NULL, trending = NULL
                WHERE NOT EXISTS (SELECT 1 FROM {score} AS s WHERE s.creation_id = c.id)
                  AND (score_count <> 0 OR rating IS NOT NULL OR top IS NOT NULL
                       OR trending IS NOT NULL)"""
        )
    return scored + Creation.objects.filter(score_count=0).count()


def _prior_save(mean: float) -> RankingPrior:
    prior = RankingPrior.current()
    prior.mean, prior.weight, prior.computed_at = mean, TOP_PRIOR_WEIGHT, timezone.now()
    prior.save()
    return prior


@transaction.atomic
def ranking_prior_refresh() -> RankingPrior:
    """Recompute the site-wide mean rating behind `top` and every `top` with it; the prior
    returned says in `refreshed` how many creations were re-ranked."""
    without_statement_timeout()
    mean = (Creation.objects.published().filter(score_count__gt=0).aggregate(mean=Avg("rating")))[
        "mean"
    ]
    prior = _prior_save(DEFAULT_PRIOR_MEAN if mean is None else mean)
    prior.refreshed = Creation.objects.filter(score_count__gt=0).update(
        top=ExpressionWrapper(
            top_value(score_count=F("score_count"), rating=F("rating"), prior_mean=prior.mean),
            output_field=FloatField(),
        )
    )
    listings_changed()
    return prior


@transaction.atomic
def creation_refresh_all_aggregates() -> int:
    """Rebuild every creation's aggregates and ranking values from the scores, and the prior;
    returns how many creations."""
    without_statement_timeout()
    listings_changed()
    if connection.vendor == "postgresql":
        return _refresh_all_on_postgresql()
    count = Creation.objects.update(**_aggregate_expressions(OuterRef("pk")))
    _trending_refresh_all()
    ranking_prior_refresh()
    return count


def _check_value(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({name: f"{name.capitalize()} must be a whole number."})
    if not SCORE_MIN <= value <= SCORE_MAX:
        raise ValidationError(
            {name: f"{name.capitalize()} must be between {SCORE_MIN} and {SCORE_MAX}."}
        )
    return value


def _lock(creation: Creation) -> Creation:
    # Lock the creation's row so concurrent writers refresh its aggregates one after another.
    return Creation.objects.select_for_update().get(pk=creation.pk)


@transaction.atomic
def score_upsert(*, user, creation, creativity: int, uniqueness: int) -> tuple[Score, bool]:
    """Create or replace `user`'s score of `creation`; returns (score, created)."""
    creativity = _check_value("creativity", creativity)
    uniqueness = _check_value("uniqueness", uniqueness)
    locked = _lock(creation)
    if locked.owner_id == user.pk:
        raise OwnCreationScoreError
    score, created = Score.objects.update_or_create(
        user=user,
        creation=locked,
        defaults={"creativity": creativity, "uniqueness": uniqueness},
    )
    creation_refresh_aggregates(creation_id=locked.pk)
    if created:
        creation_scored.send(Score, creation=locked, user=user, score_id=score.pk)
    return score, created


@transaction.atomic
def score_withdraw(*, user, creation) -> bool:
    """Remove `user`'s score of `creation`; returns whether there was one."""
    locked = _lock(creation)
    deleted, _ = Score.objects.filter(user=user, creation=locked).delete()
    if deleted:
        creation_refresh_aggregates(creation_id=locked.pk)
    return bool(deleted)


@transaction.atomic
def score_delete_many(*, scores) -> int:
    """Delete scores (moderation) and refresh every affected creation; returns how many."""
    score_ids = [score.pk for score in scores]
    creation_ids = sorted(
        set(Score.objects.filter(pk__in=score_ids).values_list("creation_id", flat=True))
    )
    # Lock in id order so two moderators deleting overlapping sets cannot deadlock.
    list(Creation.objects.select_for_update().filter(pk__in=creation_ids).order_by("pk"))
    deleted, _ = Score.objects.filter(pk__in=score_ids).delete()
    for creation_id in creation_ids:
        creation_refresh_aggregates(creation_id=creation_id)
    return deleted
