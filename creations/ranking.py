"""What the `top` and `trending` orders mean, as numbers stored on each creation.

A list sorted by an expression computed per request reads every row it sorts; a list sorted
by a stored, indexed column reads one page. So each ordering sorts by a column of `Creation`
(`top`, `trending`), which scoring's services write whenever a creation's scores change, with
the functions here. Neither value drifts between writes:

- `top` is a Bayesian average: the creation's rating as if it also had TOP_PRIOR_WEIGHT scores
  at the site-wide mean rating (the prior), so one 5/5 does not outrank fifty 4.8s. The prior
  is stored (`RankingPrior`) and moves slowly; `manage.py refresh_rankings` recomputes it and
  every `top` with it. An unscored creation has no `top` and sorts after every scored one.
- `trending` is a time-decayed count of scores: each score counts 1 when given, 1/2 after
  TRENDING_HALF_LIFE, 1/4 after two, and so on, smoothly. Every score decays at the same rate,
  so the order never changes while no score arrives, and the stored value needs no refresh:
  it is log2 of the sum, over scores, of 2^(when it was given, in half-lives since a fixed
  epoch). `trending_now()` turns it back into today's decayed count.
"""

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

TOP_PRIOR_WEIGHT = 5
DEFAULT_PRIOR_MEAN = 3.0
TRENDING_HALF_LIFE = timedelta(days=3)
TRENDING_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
TRENDING_HELP = (
    "Trending counts the scores a creation received, each worth half as much every "
    "3 days, so recent scores count most."
)


def half_lives_since_epoch(moment: datetime) -> float:
    return (moment - TRENDING_EPOCH) / TRENDING_HALF_LIFE


def trending_value(times: Iterable[datetime]) -> float | None:
    """log2 of the sum over scores of 2^(half-lives from the epoch to when it was given).

    Summed as max + log2(sum of 2^(x - max)), which never overflows however far from the
    epoch. None for no scores: such a creation sorts after every scored one.
    """
    exponents = [half_lives_since_epoch(moment) for moment in times]
    if not exponents:
        return None
    highest = max(exponents)
    return highest + math.log2(math.fsum(2.0 ** (x - highest) for x in exponents))


def trending_now(value: float | None, *, now: datetime) -> float:
    """How many scores a `trending` value is worth at `now`: each score decayed to its age."""
    if value is None:
        return 0.0
    # Capped, so a score dated after `now` (a clock ahead) cannot overflow the float.
    return 2.0 ** min(value - half_lives_since_epoch(now), 1000.0)


def top_value(*, score_count, rating, prior_mean):
    """The Bayesian average `top` sorts by; None for an unscored creation.

    Written once for numbers and for database expressions alike: in SQL an unscored
    creation's NULL rating makes the whole value NULL, as the early return does here.
    """
    if rating is None:
        return None
    return (TOP_PRIOR_WEIGHT * prior_mean + score_count * rating) / (TOP_PRIOR_WEIGHT + score_count)
