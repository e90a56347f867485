"""The scoring tasks beat runs (npu_site.settings CELERY_BEAT_SCHEDULE)."""

import pytest

from creations.models import Creation, RankingPrior
from scoring.tasks import refresh_rankings
from tests.factories import ScoreFactory

pytestmark = pytest.mark.django_db


def test_refresh_rankings_recomputes_the_prior_and_every_top_like_the_command(creation):
    ScoreFactory(creation=creation, creativity=5, uniqueness=4)  # rating 4.5
    Creation.objects.filter(pk=creation.pk).update(top=1.0)  # ranked with a stale prior

    assert refresh_rankings.delay().get() == 1  # inline in the suite, as without a broker

    prior = RankingPrior.current()
    assert prior.mean == 4.5
    creation.refresh_from_db()
    assert creation.top == pytest.approx(4.5)
    # Idempotent: a second run (a repeat from beat, a retry) changes nothing more.
    assert refresh_rankings.delay().get() == 1
    creation.refresh_from_db()
    assert creation.top == pytest.approx(4.5)
