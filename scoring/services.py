"""Writes to scores. Every change to a score refreshes its creation's aggregates."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.db.models.lookups import GreaterThan
from django.utils import timezone

from creations.models import Creation, RankingPrior
from creations.ranking import (
    CALIBRATED_DIGITS,
    CALIBRATED_PRIOR_WEIGHT,
    DEFAULT_PRIOR_MEAN,
    TOP_PRIOR_WEIGHT,
    TRENDING_EPOCH,
    TRENDING_HALF_LIFE,
    calibrated_scale,
    rater_weight,
    top_value,
    trending_value,
)
from creations.signals import creation_scored, moderator_acted
from npu_site.caching import listings_changed, object_changed
from npu_site.db import without_statement_timeout
from npu_site.text import validate_text

from .models import (
    SCORE_MAX,
    SCORE_MIN,
    VOID_REASON_MAX_LENGTH,
    RaterCalibration,
    Score,
    ScoreReveal,
    ScoreVoiding,
)


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


def _calibrated_expression(scores, count, prior: RankingPrior):
    """`calibrated` (creations.ranking) computed in the database from a creation's counting
    `scores`, their raters' stored calibration and the stored prior. The mean z is rounded as
    a decimal (PostgreSQL has no round() of a float to some digits)."""
    z = (
        Cast(F("creativity") + F("uniqueness"), FloatField()) / Value(2.0)
        - F("user__rater_calibration__mean")
    ) * F("user__rater_calibration__weight")
    z_sum = Coalesce(
        Subquery(scores.annotate(value=Sum(z)).values("value"), output_field=FloatField()),
        Value(0.0),
    )
    mean_z = Cast(
        Round(
            Cast(
                z_sum / (count + Value(CALIBRATED_PRIOR_WEIGHT)),
                DecimalField(max_digits=40, decimal_places=20),
            ),
            CALIBRATED_DIGITS,
        ),
        FloatField(),
    )
    return Case(
        When(
            GreaterThan(count, 0),
            then=Value(prior.mean) + Value(calibrated_scale(prior.rater_variance)) * mean_z,
        ),
        default=None,
        output_field=FloatField(),
    )


def _aggregate_expressions(creation_ref, prior: RankingPrior | None = None) -> dict:
    """UPDATE expressions computing a creation's aggregates from its scores, in the database.

    It serves a single creation, and the full rebuild on SQLite; the full rebuild on
    PostgreSQL computes the same figures in one grouped pass (_STATS_SQL), and the tests
    compare the two. The columns change in one statement, so the check constraint tying them
    together holds after every statement. `top` is computed from the same subqueries (an
    UPDATE's right-hand sides see the old row) with the stored prior.
    """
    scores = Score.objects.counting().filter(creation=creation_ref).order_by().values("creation")

    def average(field: str) -> Subquery:
        return Subquery(
            scores.annotate(value=Avg(Cast(field, FloatField()))).values("value"),
            output_field=FloatField(),
        )

    count = Coalesce(Subquery(scores.annotate(value=Count("pk")).values("value")), 0)
    creativity, uniqueness = average("creativity"), average("uniqueness")
    rating = (creativity + uniqueness) / Value(2.0)
    expressions = {
        "score_count": count,
        "creativity_avg": creativity,
        "uniqueness_avg": uniqueness,
        "rating": rating,
        "top": ExpressionWrapper(
            top_value(score_count=count, rating=rating, prior_mean=_prior_mean()),
            output_field=FloatField(),
        ),
    }
    if prior is not None:
        expressions["calibrated"] = _calibrated_expression(scores, count, prior)
    return expressions


def creation_refresh_aggregates(*, creation_id: int, prior: RankingPrior | None = None) -> None:
    """Recompute one creation's score_count, averages, rating, `top`, `trending` and
    `calibrated` from its counting scores (with its raters' calibration as stored).

    The creation's cached page is dropped; cached listings are not, and show the new figures
    within NPU_PAGE_CACHE_SECONDS (npu_site.caching), so browsing stays cached while members
    score.
    """
    prior = prior or RankingPrior.current()
    times = (
        Score.objects.counting()
        .filter(creation_id=creation_id)
        .values_list("updated_at", flat=True)
    )
    Creation.objects.filter(pk=creation_id).update(
        **_aggregate_expressions(creation_id, prior), trending=trending_value(times)
    )
    object_changed("creation", creation_id)


# What a rater's calibration is computed from: their counting scores' count, the sum and sum
# of squares of their values, and how often each value was given on either axis.
def _rater_figures() -> dict:
    value = Cast(F("creativity") + F("uniqueness"), FloatField()) / Value(2.0)
    figures = {
        "n": Count("pk"),
        "total": Sum(value),
        "squares": Sum(value * value),
    }
    for given in range(SCORE_MIN, SCORE_MAX + 1):
        figures[f"gave_{given}"] = Count("pk", filter=Q(creativity=given)) + Count(
            "pk", filter=Q(uniqueness=given)
        )
    return figures


def _rater_calibration(user_id: int, row: dict, rater_variance: float) -> RaterCalibration:
    n = row["n"] or 0
    mean = (row["total"] or 0.0) / n if n else 0.0
    variance = max((row["squares"] or 0.0) / n - mean * mean, 0.0) if n else 0.0
    return RaterCalibration(
        user_id=user_id,
        score_count=n,
        mean=mean,
        variance=variance,
        weight=rater_weight(count=n, variance=variance, rater_variance=rater_variance),
        updated_at=timezone.now(),
        **{f"gave_{given}": row[f"gave_{given}"] or 0 for given in range(SCORE_MIN, SCORE_MAX + 1)},
    )


_CALIBRATION_FIELDS = [
    "score_count",
    "mean",
    "variance",
    "weight",
    *(f"gave_{given}" for given in range(SCORE_MIN, SCORE_MAX + 1)),
    "updated_at",
]


def _calibrations_save(calibrations: list[RaterCalibration]) -> None:
    RaterCalibration.objects.bulk_create(
        calibrations,
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=_CALIBRATION_FIELDS,
        batch_size=1000,
    )


def rater_refresh(*, user_id: int, prior: RankingPrior) -> None:
    """Recompute one rater's calibration from their counting scores (one read, one upsert).

    The creations they scored earlier keep the `calibrated` computed with the rater's old
    figures until the next `refresh_rankings`; the creation being scored is recomputed with
    the new ones.
    """
    row = Score.objects.counting().filter(user_id=user_id).aggregate(**_rater_figures())
    _calibrations_save([_rater_calibration(user_id, row, prior.rater_variance)])


def raters_refresh_all() -> float:
    """Recompute every rater's calibration and the site's typical spread (the pooled
    within-rater variance) that shrinks them; returns that variance."""
    rows = (
        Score.objects.counting()
        .order_by()
        .values("user_id")
        .annotate(**_rater_figures())
        .values_list("user_id", "n", "total", "squares", *(f"gave_{g}" for g in range(1, 6)))
    )
    names = ["n", "total", "squares", *(f"gave_{g}" for g in range(1, 6))]
    raters = [(row[0], dict(zip(names, row[1:], strict=True))) for row in rows.iterator()]
    within = sum(max(r["squares"] - r["total"] * r["total"] / r["n"], 0.0) for _, r in raters)
    scores = sum(r["n"] for _, r in raters)
    rater_variance = within / scores if scores else RankingPrior().rater_variance
    _calibrations_save([_rater_calibration(pk, r, rater_variance) for pk, r in raters])
    RaterCalibration.objects.exclude(user_id__in=[pk for pk, _ in raters]).delete()
    return rater_variance


# Creations re-ranked per transaction by _rankings_refresh: each batch locks its rows only for
# its own short UPDATE, so score writes (which lock their creation first) wait well under a
# second, not for the whole refresh.
RANKING_REFRESH_BATCH = 2_000


def _rankings_refresh(prior: RankingPrior, *, batch_size: int = RANKING_REFRESH_BATCH) -> int:
    """Recompute every scored creation's `top` and `calibrated` with `prior` and the raters'
    stored figures, in id ranges of `batch_size`, one transaction each; returns how many."""
    bounds = Creation.objects.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    scores = Score.objects.counting().filter(creation=OuterRef("pk")).order_by().values("creation")
    count = Coalesce(Subquery(scores.annotate(value=Count("pk")).values("value")), 0)
    refreshed = 0
    for start in range(bounds["low"], bounds["high"] + 1, batch_size):
        with transaction.atomic():
            without_statement_timeout()
            batch = Creation.objects.filter(pk__gte=start, pk__lt=start + batch_size)
            batch.filter(score_count=0).exclude(calibrated=None).update(calibrated=None)
            refreshed += batch.filter(score_count__gt=0).update(
                top=ExpressionWrapper(
                    top_value(
                        score_count=F("score_count"), rating=F("rating"), prior_mean=prior.mean
                    ),
                    output_field=FloatField(),
                ),
                calibrated=_calibrated_expression(scores, count, prior),
            )
    return refreshed


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
        Score.objects.counting()
        .order_by("creation_id")
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
            WHERE voided_at IS NULL AND NOT rater_restricted
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
                WHERE NOT EXISTS (SELECT 1 FROM {score} AS s
                                  WHERE s.creation_id = c.id AND s.voided_at IS NULL
                                    AND NOT s.rater_restricted)
                  AND (score_count <> 0 OR rating IS NOT NULL OR top IS NOT NULL
                       OR trending IS NOT NULL)"""
        )
    return scored + Creation.objects.filter(score_count=0).count()


def _prior_save(mean: float, rater_variance: float | None = None) -> RankingPrior:
    prior = RankingPrior.current()
    prior.mean, prior.weight, prior.computed_at = mean, TOP_PRIOR_WEIGHT, timezone.now()
    if rater_variance is not None:
        prior.rater_variance = rater_variance
    prior.save()
    return prior


def ranking_prior_refresh() -> RankingPrior:
    """Recompute the priors (the site-wide mean rating behind `top`, the typical rater spread
    behind `calibrated`) and every rater's calibration in one transaction, then every `top`
    and `calibrated` with them in short batches (_rankings_refresh); the prior returned says
    in `refreshed` how many creations were re-ranked.

    Between batches a creation ranked with the old prior sits beside one ranked with the new:
    priors move slowly, so for those seconds the order is as good as it was an hour ago."""
    with transaction.atomic():
        without_statement_timeout()
        mean = (
            Creation.objects.published().filter(score_count__gt=0).aggregate(mean=Avg("rating"))
        )["mean"]
        rater_variance = raters_refresh_all()
        prior = _prior_save(DEFAULT_PRIOR_MEAN if mean is None else mean, rater_variance)
    prior.refreshed = _rankings_refresh(prior)
    listings_changed()
    return prior


@transaction.atomic
def creation_refresh_all_aggregates() -> int:
    """Rebuild every creation's aggregates and ranking values from the scores, and the prior;
    returns how many creations."""
    without_statement_timeout()
    listings_changed()
    if connection.vendor == "postgresql":
        count = _refresh_all_on_postgresql()
        prior = _prior_save(RankingPrior.current().mean, raters_refresh_all())
        _rankings_refresh(prior)
        return count
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


class RestrictedRaterError(PermissionDenied):
    """A suspended or banned member does not score (they cannot log in either)."""

    message = "Your account is suspended or banned, so you can't score."

    def __init__(self):
        super().__init__(self.message)


class VoidedScoreError(PermissionDenied):
    """A score a moderator voided stays as it is until a moderator restores it."""

    message = "A moderator voided your score of this creation, so it can't be changed."

    def __init__(self):
        super().__init__(self.message)


def _after_scores_changed(*, user_ids, creation_ids) -> None:
    """Recompute the calibration of the raters and then the aggregates of the creations
    whose scores changed (in the caller's transaction, creations already locked)."""
    prior = RankingPrior.current()
    for user_id in sorted(set(user_ids)):
        rater_refresh(user_id=user_id, prior=prior)
    for creation_id in sorted(set(creation_ids)):
        creation_refresh_aggregates(creation_id=creation_id, prior=prior)


@transaction.atomic
def score_upsert(*, user, creation, creativity: int, uniqueness: int) -> tuple[Score, bool]:
    """Create or replace `user`'s score of `creation`; returns (score, created)."""
    creativity = _check_value("creativity", creativity)
    uniqueness = _check_value("uniqueness", uniqueness)
    if getattr(user, "is_restricted", False):
        raise RestrictedRaterError
    locked = _lock(creation)
    if locked.owner_id == user.pk:
        raise OwnCreationScoreError
    score = Score.objects.filter(user=user, creation=locked).first()
    if score is not None and score.is_voided:
        raise VoidedScoreError
    created = score is None
    if created:
        score = Score.objects.create(
            user=user,
            creation=locked,
            creativity=creativity,
            uniqueness=uniqueness,
            # A suspension past its end but not yet lifted: like the rater's other scores,
            # it counts once the sweep lifts it (rater_scores_set_restricted).
            rater_restricted=bool(getattr(user, "restriction", "")),
        )
    else:
        score.creativity, score.uniqueness = creativity, uniqueness
        score.save(update_fields=["creativity", "uniqueness", "updated_at"])
    _after_scores_changed(user_ids=[user.pk], creation_ids=[locked.pk])
    if created:
        creation_scored.send(Score, creation=locked, user=user, score_id=score.pk)
    return score, created


@transaction.atomic
def score_withdraw(*, user, creation) -> bool:
    """Remove `user`'s score of `creation`; returns whether there was one.

    The member has seen the creation's scores, so they stay shown to them (a reveal)."""
    locked = _lock(creation)
    score = Score.objects.filter(user=user, creation=locked).first()
    if score is None:
        return False
    if score.is_voided:
        raise VoidedScoreError
    score.delete()
    ScoreReveal.objects.bulk_create(
        [ScoreReveal(user=user, creation=locked)], ignore_conflicts=True
    )
    _after_scores_changed(user_ids=[user.pk], creation_ids=[locked.pk])
    return True


def _lock_creations_of(score_ids) -> list[int]:
    creation_ids = sorted(
        set(Score.objects.filter(pk__in=score_ids).values_list("creation_id", flat=True))
    )
    # Lock in id order so two moderators changing overlapping sets cannot deadlock.
    list(Creation.objects.select_for_update().filter(pk__in=creation_ids).order_by("pk"))
    return creation_ids


@transaction.atomic
def score_delete_many(*, scores, actor=None) -> int:
    """Delete scores (moderation) and refresh every affected creation; returns how many.
    A moderator's deletion is logged, one row per score (`actor`: who asks)."""
    score_ids = [score.pk for score in scores]
    creation_ids = _lock_creations_of(score_ids)
    user_ids = list(Score.objects.filter(pk__in=score_ids).values_list("user_id", flat=True))
    if actor is not None and actor.is_moderator:
        doomed = list(Score.objects.filter(pk__in=score_ids).select_related("user", "creation"))
        moderator_acted.send(
            Score, actor=actor, action="delete_score", targets=doomed, category="manipulation"
        )
    deleted, _ = Score.objects.filter(pk__in=score_ids).delete()
    _after_scores_changed(user_ids=user_ids, creation_ids=creation_ids)
    return deleted


def _void_reason(reason) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError({"reason": "Say why: the reason is kept in the log."})
    reason = reason.strip()
    if len(reason) > VOID_REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"Keep the reason under {VOID_REASON_MAX_LENGTH} characters."}
        )
    try:
        validate_text(reason)
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from error
    return reason


def _scores_set_voided(*, scores, actor, reason: str, void: bool) -> int:
    if not actor.has_perm("scoring.void_score"):
        raise PermissionDenied("Only moderators void or restore scores.")
    reason = _void_reason(reason)
    score_ids = sorted({score.pk for score in scores})
    creation_ids = _lock_creations_of(score_ids)
    changing = list(
        Score.objects.filter(pk__in=score_ids, voided_at__isnull=void)
        .select_related("user", "creation")
        .select_for_update(of=("self",))
    )
    if not changing:
        return 0
    now = timezone.now()
    Score.objects.filter(pk__in=[score.pk for score in changing]).update(
        voided_at=now if void else None,
        voided_by=actor if void else None,
        void_reason=reason if void else "",
    )
    ScoreVoiding.objects.bulk_create(
        ScoreVoiding(
            action=ScoreVoiding.Action.VOID if void else ScoreVoiding.Action.RESTORE,
            score=score,
            actor=actor,
            actor_name=actor.get_username(),
            reason=reason,
            rater=score.user,
            rater_name=score.user.get_username(),
            creation=score.creation,
            creation_title=score.creation.title,
            creativity=score.creativity,
            uniqueness=score.uniqueness,
        )
        for score in changing
    )
    # The one moderation log too (moderation writes the rows, in this transaction).
    moderator_acted.send(
        Score,
        actor=actor,
        action="void_score" if void else "restore_score",
        targets=changing,
        reason=reason,
        category="manipulation",
    )
    _after_scores_changed(
        user_ids=[score.user_id for score in changing],
        creation_ids=[score.creation_id for score in changing if score.creation_id in creation_ids],
    )
    listings_changed()
    return len(changing)


@transaction.atomic
def scores_void(*, scores, actor, reason: str) -> int:
    """Void scores (a moderator, with a reason): they stop counting, the aggregates, rankings
    and raters' calibration are recomputed in this transaction, and each voiding is logged
    (ScoreVoiding). Scores already voided are left alone; returns how many were voided."""
    return _scores_set_voided(scores=scores, actor=actor, reason=reason, void=True)


@transaction.atomic
def scores_restore(*, scores, actor, reason: str) -> int:
    """Undo voiding (a moderator, with a reason), recomputed and logged the same way; returns
    how many scores count again."""
    return _scores_set_voided(scores=scores, actor=actor, reason=reason, void=False)


@transaction.atomic
def rater_scores_set_restricted(*, user, restricted: bool) -> int:
    """Stop counting every score of a suspended or banned member (`restricted=True`), or
    count them again once it is lifted: the aggregates and rankings of every creation they
    scored and their calibration are recomputed in this transaction. Returns how many scores
    changed. Called by scoring.receivers on accounts.signals.member_restricted."""
    score_ids = list(
        Score.objects.filter(user=user, rater_restricted=not restricted).values_list(
            "pk", flat=True
        )
    )
    if not score_ids:
        return 0
    creation_ids = _lock_creations_of(score_ids)
    Score.objects.filter(pk__in=score_ids).update(rater_restricted=restricted)
    _after_scores_changed(user_ids=[user.pk], creation_ids=creation_ids)
    listings_changed()
    return len(score_ids)


@transaction.atomic
def scores_reveal(*, user, creation) -> bool:
    """Remember that `user` chose to see `creation`'s scores before scoring it; returns
    whether this is new. Anonymous visitors, owners and moderators see them anyway."""
    if not user.is_authenticated:
        raise PermissionDenied("Log in to see a creation's scores.")
    _, created = ScoreReveal.objects.get_or_create(user=user, creation=creation)
    return created
