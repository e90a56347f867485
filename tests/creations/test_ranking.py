"""The stored ranking values: what `top` and `trending` sort by, and that the services keep
them exact."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from creations.models import Creation, RankingPrior
from creations.ranking import (
    TRENDING_HALF_LIFE,
    top_value,
    trending_now,
    trending_value,
)
from scoring.models import Score
from scoring.services import (
    creation_refresh_aggregates,
    creation_refresh_all_aggregates,
    ranking_prior_refresh,
    score_withdraw,
)
from tests.factories import CreationFactory, ScoreFactory, UserFactory

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
moments = st.datetimes(
    min_value=datetime(2019, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
)


def test_trending_is_a_decayed_count():
    assert trending_value([]) is None
    assert trending_now(None, now=NOW) == 0
    assert trending_now(trending_value([NOW]), now=NOW) == pytest.approx(1)
    half_life_ago = NOW - TRENDING_HALF_LIFE
    assert trending_now(trending_value([NOW, half_life_ago]), now=NOW) == pytest.approx(1.5)
    # Two scores a half-life apart weigh what 1.5 fresh ones do, now and at any later time.
    later = NOW + 10 * TRENDING_HALF_LIFE
    assert trending_now(trending_value([NOW, half_life_ago]), now=later) == pytest.approx(
        1.5 / 2**10
    )


@given(st.lists(moments, min_size=1, max_size=30), st.lists(moments, min_size=1, max_size=30))
def test_trending_order_never_depends_on_when_it_is_read(first, second):
    """The order of two creations is the order of their decayed counts at any moment."""
    a, b = trending_value(first), trending_value(second)
    assert math.isfinite(a) and math.isfinite(b)
    for now in (datetime(2030, 1, 1, tzinfo=UTC), datetime(2044, 6, 1, tzinfo=UTC)):
        counts = trending_now(a, now=now), trending_now(b, now=now)
        if abs(a - b) > 1e-9:
            assert (a > b) == (counts[0] > counts[1]) or counts[0] == counts[1] == 0.0


@given(st.lists(moments, max_size=20), moments)
def test_one_more_score_never_lowers_trending(times, extra):
    before = trending_value(times)
    after = trending_value([*times, extra])
    assert before is None or after >= before


@given(
    st.integers(min_value=1, max_value=500),
    st.floats(min_value=1, max_value=5),
    st.floats(min_value=1, max_value=5),
)
def test_a_perfect_score_never_lowers_top(count, rating, prior):
    before = top_value(score_count=count, rating=rating, prior_mean=prior)
    after = top_value(
        score_count=count + 1, rating=(rating * count + 5) / (count + 1), prior_mean=prior
    )
    assert after >= before - 1e-12


def stored(creation):
    creation.refresh_from_db()
    return creation.top, creation.trending


@pytest.mark.django_db
def test_score_writes_keep_top_and_trending_exact():
    RankingPrior.objects.update_or_create(pk=1, defaults={"mean": 3.5})
    creation = CreationFactory()
    assert stored(creation) == (None, None)
    first = ScoreFactory(creation=creation, creativity=5, uniqueness=4)
    second = ScoreFactory(creation=creation, creativity=2, uniqueness=3)
    top, trending = stored(creation)
    assert top == pytest.approx((5 * 3.5 + 2 * 3.5) / 7)
    times = Score.objects.filter(creation=creation).values_list("updated_at", flat=True)
    assert trending == pytest.approx(trending_value(times))
    assert trending_now(trending, now=timezone.now()) == pytest.approx(2, abs=0.01)
    score_withdraw(user=second.user, creation=creation)
    assert stored(creation)[0] == pytest.approx((5 * 3.5 + 4.5) / 6)
    score_withdraw(user=first.user, creation=creation)
    assert stored(creation) == (None, None)


@pytest.mark.django_db
def test_unscored_creations_rank_after_every_scored_one_in_top_and_trending(client):
    poor = CreationFactory(title="Poorly scored")
    ScoreFactory(creation=poor, creativity=1, uniqueness=1)
    CreationFactory(title="Unscored")
    for sort in ("top", "trending"):
        titles = [c.title for c in Creation.objects.published().sorted_by(sort)]
        assert titles == ["Poorly scored", "Unscored"], sort


@pytest.mark.django_db
def test_the_prior_refresh_reranks_with_the_new_mean():
    loved, liked = CreationFactory(), CreationFactory()
    ScoreFactory(creation=loved, creativity=5, uniqueness=5)
    ScoreFactory(creation=liked, creativity=4, uniqueness=4)
    prior = ranking_prior_refresh()
    assert prior.mean == pytest.approx(4.5) and prior.refreshed == 2
    assert stored(loved)[0] == pytest.approx((5 * 4.5 + 5) / 6)
    assert stored(liked)[0] == pytest.approx((5 * 4.5 + 4) / 6)


@pytest.mark.django_db
def test_the_full_rebuild_gives_what_the_writes_gave():
    creations = CreationFactory.create_batch(3)
    raters = UserFactory.create_batch(4)
    for index, creation in enumerate(creations[:2]):
        for rater in raters[: index + 2]:
            ScoreFactory(creation=creation, user=rater, creativity=index + 3, uniqueness=2)
    ranking_prior_refresh()
    Score.objects.filter(creation=creations[0]).update(
        updated_at=timezone.now() - timedelta(days=9)
    )
    creation_refresh_aggregates(creation_id=creations[0].pk)
    # The writes computed `calibrated` with each rater's figures at the time; the refresh
    # settles every creation on the final ones, as the rebuild does.
    ranking_prior_refresh()
    fields = (
        "pk",
        "score_count",
        "creativity_avg",
        "uniqueness_avg",
        "rating",
        "top",
        "trending",
        "calibrated",
    )
    by_writes = list(Creation.objects.order_by("pk").values_list(*fields))
    assert sum(row[-1] is not None for row in by_writes) == 2
    Creation.objects.update(
        top=None,
        trending=None,
        calibrated=None,
        score_count=0,
        rating=None,
        creativity_avg=None,
        uniqueness_avg=None,
    )
    creation_refresh_all_aggregates()
    rebuilt = list(Creation.objects.order_by("pk").values_list(*fields))
    for written, again in zip(by_writes, rebuilt, strict=True):
        assert written[:2] == again[:2]
        for a, b in zip(written[2:], again[2:], strict=True):
            assert a == b or a == pytest.approx(b, rel=1e-12)


@pytest.mark.django_db
def test_histogram_and_score_list_follow_every_score(client, django_assert_num_queries):
    from scoring.selectors import creation_scores, score_histogram

    creation = CreationFactory()
    ScoreFactory(creation=creation, creativity=5, uniqueness=4)
    creation.refresh_from_db()
    assert score_histogram(creation=creation)["creativity"][0] == {
        "value": 5,
        "count": 1,
        "percent": 100,
    }
    with django_assert_num_queries(0):  # cached under the creation's token
        score_histogram(creation=creation)
    ScoreFactory(creation=creation, creativity=5, uniqueness=2)
    creation.refresh_from_db()
    assert score_histogram(creation=creation)["creativity"][0]["count"] == 2
    assert creation_scores(creation=creation).known_count == 2
    assert client.get(f"/api/v1/creations/{creation.pk}/scores/").json()["count"] == 2
