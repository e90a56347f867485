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
- `calibrated` ranks on each rater's scores measured against that rater's own habits, so a
  member who gives everything 5 (or 1) moves creations less than one who uses the whole
  scale. A score's value is the mean of its two axes. Each rater r with n_r counting scores,
  mean m_r and variance s_r² gets a spread shrunk towards the site's typical one (V, the
  pooled within-rater variance): σ_r = sqrt((n_r·s_r² + K_r·V) / (n_r + K_r)), and a weight
  w_r = n_r / (n_r + K_r) / σ_r, so a rater with few scores counts little. A score's
  normalised value is z = w_r·(value − m_r): shifting all of a rater's scores by the same
  amount changes none of them. A creation's `calibrated` is the mean of its z's with
  CALIBRATED_PRIOR_WEIGHT more at 0 (an unremarkable score), put back on the 1–5 scale:
  prior mean + sqrt(V) × Σz / (n + K), rounded to CALIBRATED_DIGITS before scaling so equal
  creations stay exactly equal. A rater whose scores never vary (everything 5, or 1) gives
  z = 0 every time: each of their scores counts as an unremarkable one, which only pulls the
  creation towards the middle, as one more average score would. scoring.services keeps each
  rater's m_r and w_r and recomputes a creation's value when it is scored;
  `refresh_rankings` recomputes every value with the raters' current figures. An unscored
  creation has none and sorts last.
"""

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

TOP_PRIOR_WEIGHT = 5
DEFAULT_PRIOR_MEAN = 3.0
# Calibration (see above): pseudo-scores at the typical spread in every rater's history, and
# pseudo-scores at z = 0 in every creation's calibrated mean.
RATER_PRIOR_WEIGHT = 5
CALIBRATED_PRIOR_WEIGHT = TOP_PRIOR_WEIGHT
DEFAULT_RATER_VARIANCE = 1.0
# A site where every rater always gives the same value has no spread to divide by.
MIN_RATER_VARIANCE = 0.05
CALIBRATED_DIGITS = 9
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


def rater_weight(*, count: int, variance: float, rater_variance: float) -> float:
    """w_r: what one point above a rater's own mean is worth in `calibrated`."""
    if count <= 0:
        return 0.0
    typical = max(rater_variance, MIN_RATER_VARIANCE)
    spread = math.sqrt(
        (count * max(variance, 0.0) + RATER_PRIOR_WEIGHT * typical) / (count + RATER_PRIOR_WEIGHT)
    )
    return count / (count + RATER_PRIOR_WEIGHT) / spread


def calibrated_scale(rater_variance: float) -> float:
    """What one unit of a creation's mean z is worth on the 1–5 scale."""
    return math.sqrt(max(rater_variance, MIN_RATER_VARIANCE))


def calibrated_value(*, z_sum, score_count, prior_mean, rater_variance):
    """The value `calibrated` sorts by, from the sum of a creation's normalised scores; None
    for an unscored creation (scoring.services computes the same in SQL)."""
    if not score_count:
        return None
    mean_z = round(z_sum / (score_count + CALIBRATED_PRIOR_WEIGHT), CALIBRATED_DIGITS)
    return prior_mean + calibrated_scale(rater_variance) * mean_z


def ranking_explanation(
    *, score_count: int, rating, top, trending, calibrated, prior_mean, prior_weight, now
) -> str:
    """Why a creation ranks where it does, in a sentence or three, from its stored values."""
    if not score_count or rating is None:
        return (
            "Not scored yet, so it has no place among the scored creations: under Top rated, "
            "Trending and Calibrated it comes after every scored creation, newest first."
        )
    scores = f"{score_count} score{'s' if score_count != 1 else ''}"
    parts = [
        f"Rated {rating:.2f} from {scores}. Top rated counts it as if it also had "
        f"{prior_weight} scores at the site's mean of {prior_mean:.2f}, "
        f"which gives {top:.2f}" + (" (few scores weigh little)." if score_count < 10 else ".")
        if top is not None
        else f"Rated {rating:.2f} from {scores}."
    ]
    recent = trending_now(trending, now=now)
    parts.append(
        f"Its recent-score figure is {recent:.2f}: each score counts 1 when given and half as "
        f"much every {TRENDING_HALF_LIFE.days} days, and Trending sorts by it."
    )
    if calibrated is not None:
        parts.append(
            f"Measured against each rater's own habits, it rates {calibrated:.2f} (Calibrated)."
        )
    return " ".join(parts)
