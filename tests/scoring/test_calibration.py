"""Properties of the trusted-score rankings, on small random sites built through the real
services (score_upsert, scores_void, scores_restore, ranking_prior_refresh,
creation_refresh_all_aggregates) and read through the real orderings.

Each test makes its creations and raters once; every example then runs in a savepoint that is
rolled back, so the examples start from the same empty site."""

import math
from contextlib import contextmanager

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.services import user_set_moderator
from creations.models import Creation, RankingPrior
from creations.ranking import (
    CALIBRATED_DIGITS,
    CALIBRATED_PRIOR_WEIGHT,
    MIN_RATER_VARIANCE,
    RATER_PRIOR_WEIGHT,
)
from scoring.models import SCORE_MAX, SCORE_MIN, RaterCalibration, Score
from scoring.services import (
    creation_refresh_aggregates,
    creation_refresh_all_aggregates,
    ranking_prior_refresh,
    score_upsert,
    scores_restore,
    scores_void,
)
from tests.factories import CreationFactory, UserFactory

MAX_CREATIONS = 6
MAX_RATERS = 6
COLUMNS = (
    "score_count",
    "creativity_avg",
    "uniqueness_avg",
    "rating",
    "top",
    "trending",
    "calibrated",
)
# Database work in every example: few of them, no deadline.
examples = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Pool:
    """The creations, raters, a newcomer (a rater outside the drawn site) and a moderator
    every example draws from."""

    def __init__(self):
        self.creations = CreationFactory.create_batch(MAX_CREATIONS)
        self.raters = UserFactory.create_batch(MAX_RATERS)
        self.newcomer = UserFactory()
        self.moderator = user_set_moderator(user=UserFactory(), is_moderator=True)


@pytest.fixture
def pool(db):
    return Pool()


@contextmanager
def rolled_back():
    """One example's writes, undone afterwards (also when an assertion fails)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@st.composite
def sites(draw, *, high: int = SCORE_MAX):
    """Who scored what: rows[r][c] is rater r's (creativity, uniqueness) for creation c, or
    None; 3 to 6 creations, 3 to 6 raters."""
    creations = draw(st.integers(3, MAX_CREATIONS))
    raters = draw(st.integers(3, MAX_RATERS))
    pair = st.tuples(st.integers(SCORE_MIN, high), st.integers(SCORE_MIN, high))
    return [
        draw(st.lists(st.none() | pair, min_size=creations, max_size=creations))
        for _ in range(raters)
    ]


def build(pool: Pool, rows) -> list[int]:
    """Give the scores of `rows` through score_upsert; returns the site's creation ids."""
    for rater, row in zip(pool.raters, rows, strict=False):
        for creation, pair in zip(pool.creations, row, strict=False):
            if pair is not None:
                score_upsert(user=rater, creation=creation, creativity=pair[0], uniqueness=pair[1])
    return [creation.pk for creation in pool.creations[: len(rows[0])]]


def order(ids: list[int], sort: str) -> list[int]:
    return list(Creation.objects.filter(pk__in=ids).sorted_by(sort).values_list("pk", flat=True))


def snapshot(ids: list[int]) -> dict[int, tuple]:
    return {
        row[0]: row[1:] for row in Creation.objects.filter(pk__in=ids).values_list("pk", *COLUMNS)
    }


def relative_calibrated(ids: list[int]) -> dict[int, float | None]:
    """Each creation's `calibrated` less the prior mean: what the ranking adds to the prior."""
    prior = RankingPrior.current().mean
    return {
        pk: None if value is None else value - prior
        for pk, value in Creation.objects.filter(pk__in=ids).values_list("pk", "calibrated")
    }


def assert_close(first: dict, second: dict, tolerance: float = 1e-9) -> None:
    assert first.keys() == second.keys()
    for key, value in first.items():
        if value is None or second[key] is None:
            assert value is None and second[key] is None, key
        else:
            assert value == pytest.approx(second[key], abs=tolerance), key


# Shifting a rater ----------------------------------------------------------------------------


@examples
@given(sites(), st.data())
def test_a_rater_shifting_every_score_by_one_changes_no_calibrated_rank(pool, rows, data):
    """z = w_r (value - m_r): a rater who scores everything one point higher has the same
    z's, so the calibrated order (and each value's distance from the prior) stays."""
    shifted = data.draw(st.integers(0, len(rows) - 1), label="shifted rater")
    low = st.tuples(st.integers(SCORE_MIN, SCORE_MAX - 1), st.integers(SCORE_MIN, SCORE_MAX - 1))
    row = data.draw(
        st.lists(st.none() | low, min_size=len(rows[0]), max_size=len(rows[0])).filter(
            lambda scores: any(scores)
        ),
        label="their scores, 1 to 4",
    )
    rows[shifted] = row
    with rolled_back():
        ids = build(pool, rows)
        ranking_prior_refresh()
        before, relative = order(ids, "calibrated"), relative_calibrated(ids)
        rater = pool.raters[shifted]
        for creation, pair in zip(pool.creations, row, strict=False):
            if pair is not None:
                score_upsert(
                    user=rater, creation=creation, creativity=pair[0] + 1, uniqueness=pair[1] + 1
                )
        ranking_prior_refresh()
        assert order(ids, "calibrated") == before
        assert_close(relative_calibrated(ids), relative)


# Raters with no spread -------------------------------------------------------------------------


@examples
@given(sites(), st.data())
def test_an_always_5_rater_ranks_as_an_always_1_rater(pool, rows, data):
    """A rater who gives every creation the same value has all their z's at 0: whether that
    value is 5 or 1 changes no calibrated value relative to the others (only the prior, which
    every creation shares), while `top` follows the raw values."""
    ids_drawn = data.draw(
        st.lists(st.integers(0, len(rows[0]) - 1), min_size=1, unique=True),
        label="creations the constant rater scores",
    )
    with rolled_back():
        ids = build(pool, rows)
        relatives = []
        for value in (SCORE_MAX, SCORE_MIN):
            for index in ids_drawn:
                score_upsert(
                    user=pool.newcomer,
                    creation=pool.creations[index],
                    creativity=value,
                    uniqueness=value,
                )
            ranking_prior_refresh()
            calibration = RaterCalibration.objects.get(user=pool.newcomer)
            assert (calibration.mean, calibration.variance) == (value, 0.0)
            relatives.append((order(ids, "calibrated"), relative_calibrated(ids)))
        assert relatives[0][0] == relatives[1][0]
        assert_close(relatives[0][1], relatives[1][1])


@examples
@given(sites(), st.data())
def test_a_rater_with_one_score_moves_nothing(pool, rows, data):
    """A single score is its rater's mean: its z is 0, whatever the value."""
    index = data.draw(st.integers(0, len(rows[0]) - 1), label="the creation")
    values = data.draw(
        st.lists(
            st.tuples(st.integers(SCORE_MIN, SCORE_MAX), st.integers(SCORE_MIN, SCORE_MAX)),
            min_size=2,
            max_size=2,
            unique=True,
        ),
        label="two values of the one score",
    )
    with rolled_back():
        ids = build(pool, rows)
        relatives = []
        for creativity, uniqueness in values:
            score_upsert(
                user=pool.newcomer,
                creation=pool.creations[index],
                creativity=creativity,
                uniqueness=uniqueness,
            )
            ranking_prior_refresh()
            relatives.append((order(ids, "calibrated"), relative_calibrated(ids)))
        assert relatives[0][0] == relatives[1][0]
        assert_close(relatives[0][1], relatives[1][1])


@pytest.mark.django_db
def test_a_creation_scored_only_by_raters_without_spread_sits_at_the_prior():
    creation, other = CreationFactory(), CreationFactory()
    for value in (5, 1, 3):  # three one-score raters
        score_upsert(user=UserFactory(), creation=creation, creativity=value, uniqueness=value)
    constant, varied = UserFactory(), UserFactory()
    for target in (creation, other):
        score_upsert(user=constant, creation=target, creativity=5, uniqueness=5)
    score_upsert(user=varied, creation=other, creativity=5, uniqueness=4)
    score_upsert(user=varied, creation=CreationFactory(), creativity=1, uniqueness=2)
    prior = ranking_prior_refresh()
    creation.refresh_from_db()
    other.refresh_from_db()
    assert creation.calibrated == prior.mean
    assert other.calibrated > prior.mean  # the varied rater's 4.5 is above their mean


# Top -------------------------------------------------------------------------------------------


@examples
@given(sites(), st.data())
def test_a_perfect_score_never_lowers_a_creation_under_top(pool, rows, data):
    """Also from unscored to scored, by a site rater who had not scored it or by a newcomer."""
    index = data.draw(st.integers(0, len(rows[0]) - 1), label="the creation")
    free = [r for r, row in enumerate(rows) if row[index] is None]
    rater_index = data.draw(st.sampled_from([None, *free]), label="the rater (None: newcomer)")
    refresh_first = data.draw(st.booleans(), label="prior refreshed before")
    with rolled_back():
        ids = build(pool, rows)
        if refresh_first:
            ranking_prior_refresh()
        creation = pool.creations[index]
        before = order(ids, "top").index(creation.pk)
        rater = pool.newcomer if rater_index is None else pool.raters[rater_index]
        score_upsert(user=rater, creation=creation, creativity=5, uniqueness=5)
        assert order(ids, "top").index(creation.pk) <= before


# Voiding and restoring -------------------------------------------------------------------------

# What the refresh recomputes from a sum over rows in the database's order: the prior mean, and
# through it every `top` and `calibrated`, equal to the last bit or so for the same scores.
PRIOR_DEPENDENT = {"top", "calibrated"}


def assert_same_figures(first: dict, second: dict) -> None:
    """Equal snapshots: exactly, but `top` and `calibrated` to 1e-12 (PRIOR_DEPENDENT)."""
    assert first.keys() == second.keys()
    for pk, row in first.items():
        for name, a, b in zip(COLUMNS, row, second[pk], strict=True):
            if name in PRIOR_DEPENDENT and a is not None and b is not None:
                assert a == pytest.approx(b, rel=1e-12), (pk, name)
            else:
                assert a == b, (pk, name)


@examples
@given(sites(), st.data())
def test_voiding_a_score_gives_back_the_aggregates_without_it_and_restoring_those_with_it(
    pool, rows, data
):
    index = data.draw(st.integers(0, len(rows[0]) - 1), label="the creation")
    free = [r for r, row in enumerate(rows) if row[index] is None]
    rater_index = data.draw(st.sampled_from([None, *free]), label="the rater (None: newcomer)")
    pair = data.draw(
        st.tuples(st.integers(SCORE_MIN, SCORE_MAX), st.integers(SCORE_MIN, SCORE_MAX)),
        label="the score",
    )
    with rolled_back():
        ids = build(pool, rows)
        ranking_prior_refresh()
        without = snapshot(ids)
        creation = pool.creations[index]
        rater = pool.newcomer if rater_index is None else pool.raters[rater_index]
        score, _ = score_upsert(
            user=rater, creation=creation, creativity=pair[0], uniqueness=pair[1]
        )
        with_it = snapshot(ids)
        moderator = pool.moderator

        assert scores_void(scores=[score], actor=moderator, reason="Test account") == 1
        voided = snapshot(ids)
        # Every column but `calibrated`, which the next refresh settles.
        assert voided[creation.pk][:-1] == without[creation.pk][:-1]
        ranking_prior_refresh()
        assert_same_figures(snapshot(ids), without)

        assert scores_restore(scores=[score], actor=moderator, reason="Was genuine") == 1
        # The other creations too: the refresh in between gave them the figures they had.
        assert_same_figures(snapshot(ids), with_it)


# The two ways of computing the aggregates ------------------------------------------------------


def assert_same_columns(first: dict, second: dict, *, exact_calibrated: bool) -> None:
    assert first.keys() == second.keys()
    for pk, row in first.items():
        other = second[pk]
        assert row[0] == other[0], (pk, "score_count")
        for name, a, b in zip(COLUMNS[1:], row[1:], other[1:], strict=True):
            if a is None or b is None:
                assert a is None and b is None, (pk, name)
            elif name == "calibrated" and exact_calibrated:
                assert a == b, (pk, name)
            else:
                assert a == pytest.approx(b, rel=1e-12), (pk, name)


@examples
@given(sites())
def test_the_single_creation_refresh_and_the_full_rebuild_agree(pool, rows):
    with rolled_back():
        ids = build(pool, rows)
        ranking_prior_refresh()
        for pk in ids:
            creation_refresh_aggregates(creation_id=pk)
        by_creation = snapshot(ids)
        Creation.objects.filter(pk__in=ids).update(
            score_count=0,
            creativity_avg=None,
            uniqueness_avg=None,
            rating=None,
            top=None,
            trending=None,
            calibrated=None,
        )
        creation_refresh_all_aggregates()
        rebuilt = snapshot(ids)
        # The rebuild recomputes the prior (the same mean, summed in another order).
        assert_same_columns(by_creation, rebuilt, exact_calibrated=False)
        # With the rebuild's prior and raters' figures, each creation's own refresh gives
        # exactly the rebuild's `calibrated`.
        for pk in ids:
            creation_refresh_aggregates(creation_id=pk)
        assert_same_columns(snapshot(ids), rebuilt, exact_calibrated=True)


# The stored calibration against the formula ----------------------------------------------------


def expected_calibration(scores: list[tuple[int, int, int]]) -> tuple[dict, float]:
    """Each rater's figures (creations.ranking's formula, computed plainly) and the site's
    typical variance V, from (user id, creativity, uniqueness) of the counting scores."""
    by_rater: dict[int, list[tuple[int, int]]] = {}
    for user_id, creativity, uniqueness in scores:
        by_rater.setdefault(user_id, []).append((creativity, uniqueness))
    figures = {}
    within = 0.0
    for user_id, pairs in by_rater.items():
        values = [(c + u) / 2 for c, u in pairs]
        n = len(values)
        mean = sum(values) / n
        variance = sum((v - mean) ** 2 for v in values) / n
        within += variance * n
        figures[user_id] = {
            "score_count": n,
            "mean": mean,
            "variance": variance,
            **{
                f"gave_{g}": sum((c == g) + (u == g) for c, u in pairs)
                for g in range(SCORE_MIN, SCORE_MAX + 1)
            },
        }
    rater_variance = within / len(scores) if scores else 1.0
    typical = max(rater_variance, MIN_RATER_VARIANCE)
    for row in figures.values():
        n = row["score_count"]
        spread = math.sqrt(
            (n * row["variance"] + RATER_PRIOR_WEIGHT * typical) / (n + RATER_PRIOR_WEIGHT)
        )
        row["weight"] = n / (n + RATER_PRIOR_WEIGHT) / spread
    return figures, rater_variance


@examples
@given(sites(), st.data())
def test_the_stored_calibration_is_the_formula(pool, rows, data):
    """Every rater's stored figures, the site's V and every creation's `calibrated`, against
    a plain computation from the counting scores (some scores voided, which do not count)."""
    with rolled_back():
        ids = build(pool, rows)
        given_scores = list(Score.objects.order_by("pk"))
        voided = data.draw(
            st.sets(st.sampled_from(given_scores)) if given_scores else st.just(set())
        )
        if voided:
            scores_void(scores=voided, actor=pool.moderator, reason="Test account")
        prior = ranking_prior_refresh()

        counting = [
            (score.user_id, score.creativity, score.uniqueness)
            for score in given_scores
            if score not in voided
        ]
        figures, rater_variance = expected_calibration(counting)
        assert prior.rater_variance == pytest.approx(rater_variance, abs=1e-12)
        stored = {row.user_id: row for row in RaterCalibration.objects.all()}
        assert stored.keys() == figures.keys()
        for user_id, expected in figures.items():
            for name, value in expected.items():
                assert getattr(stored[user_id], name) == pytest.approx(value, abs=1e-12), name

        z_sums: dict[int, float] = {}
        counts: dict[int, int] = {}
        creation_of = {score.pk: score.creation_id for score in given_scores}
        for score in given_scores:
            if score in voided:
                continue
            rater = figures[score.user_id]
            z = rater["weight"] * ((score.creativity + score.uniqueness) / 2 - rater["mean"])
            pk = creation_of[score.pk]
            z_sums[pk] = z_sums.get(pk, 0.0) + z
            counts[pk] = counts.get(pk, 0) + 1
        scale = math.sqrt(max(rater_variance, MIN_RATER_VARIANCE))
        for pk, calibrated in Creation.objects.filter(pk__in=ids).values_list("pk", "calibrated"):
            if pk not in counts:
                assert calibrated is None
                continue
            mean_z = z_sums[pk] / (counts[pk] + CALIBRATED_PRIOR_WEIGHT)
            # Rounded to CALIBRATED_DIGITS in the database: equal up to that rounding.
            assert calibrated == pytest.approx(
                prior.mean + scale * mean_z, abs=scale * 10**-CALIBRATED_DIGITS
            )


@examples
@given(sites(), st.tuples(st.integers(1, 5), st.integers(1, 5)))
def test_a_score_write_refreshes_its_rater_with_the_stored_variance(pool, rows, pair):
    """Between refreshes, a rater's figures follow their writes, shrunk with the stored V."""
    with rolled_back():
        build(pool, rows)
        prior = ranking_prior_refresh()
        score_upsert(
            user=pool.newcomer, creation=pool.creations[0], creativity=pair[0], uniqueness=pair[1]
        )
        score_upsert(user=pool.newcomer, creation=pool.creations[1], creativity=3, uniqueness=3)
        stored = RaterCalibration.objects.get(user=pool.newcomer)
        mine = Score.objects.filter(user=pool.newcomer).values_list(
            "user_id", "creativity", "uniqueness"
        )
        expected, _ = expected_calibration(list(mine))
        expected = expected[pool.newcomer.pk]
        n, variance = expected["score_count"], expected["variance"]
        typical = max(prior.rater_variance, MIN_RATER_VARIANCE)
        spread = math.sqrt((n * variance + RATER_PRIOR_WEIGHT * typical) / (n + RATER_PRIOR_WEIGHT))
        assert stored.mean == pytest.approx(expected["mean"], abs=1e-12)
        assert stored.variance == pytest.approx(variance, abs=1e-12)
        assert stored.weight == pytest.approx(n / (n + RATER_PRIOR_WEIGHT) / spread, rel=1e-12)
