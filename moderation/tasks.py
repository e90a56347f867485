"""Background tasks of moderation, queued by the beat schedule (CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from .members import members_lift_expired

logger = logging.getLogger(__name__)


@shared_task
def restrictions_expire() -> int:
    """Lift the suspensions whose end has passed, as `manage.py lift_expired_restrictions`
    does: the members' creations and scores come back. Idempotent."""
    lifted = members_lift_expired()
    if lifted:
        logger.info("%d ended suspension(s) lifted", lifted)
    return lifted
