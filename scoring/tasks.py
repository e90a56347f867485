"""Background tasks of scoring, queued by the beat schedule (CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from .services import ranking_prior_refresh

logger = logging.getLogger(__name__)


@shared_task
def refresh_rankings() -> int:
    """Recompute the priors, every rater's calibration and every scored creation's `top` and
    `calibrated`, as `manage.py refresh_rankings` does; idempotent, so a repeated or
    overlapping run changes nothing more."""
    prior = ranking_prior_refresh()
    logger.info(
        "the prior for `top` is now %.4f (weight %d), the typical rater variance %.4f; "
        "%d scored creation(s) re-ranked",
        prior.mean,
        prior.weight,
        prior.rater_variance,
        prior.refreshed,
    )
    return prior.refreshed
