"""Queueing background work without making a web request depend on the broker.

`enqueue(task, ...)` hands a Celery task to the workers once the current transaction commits,
so a worker never looks for rows that are not there yet. With no broker configured
(CELERY_TASK_ALWAYS_EAGER) the task runs at once, inline, in the caller's transaction.

When the broker cannot be reached the request still succeeds: the failure is logged and,
depending on the task, either the task runs inline (`inline_if_unavailable`, for mail a member
is waiting for) or it is left for the periodic sweep (work recorded in the database first, such
as community's pending events, which `process_pending_events` picks up once the broker is back).
"""

import logging

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task, *args, inline_if_unavailable: bool = False, **kwargs) -> None:
    """Run `task(*args, **kwargs)` in the background once the current transaction commits."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _run_inline(task, args, kwargs)
        return
    transaction.on_commit(lambda: _publish(task, args, kwargs, inline_if_unavailable))


def _publish(task, args, kwargs, inline_if_unavailable: bool) -> None:
    try:
        task.apply_async(args, kwargs, retry=False)
    except Exception:  # noqa: BLE001  kombu, redis and socket errors alike: the broker is down
        if inline_if_unavailable:
            logger.warning("broker unavailable; running %s inline", task.name, exc_info=True)
            _run_inline(task, args, kwargs)
        else:
            logger.warning(
                "broker unavailable; %s is left for the periodic sweep", task.name, exc_info=True
            )


def _run_inline(task, args, kwargs) -> None:
    """Run a task in this process. A failure is logged, never raised into the request: the
    work it failed to do is retried by the periodic sweep or by the member asking again."""
    try:
        task.apply(args, kwargs, throw=True)
    except Exception:
        logger.exception("background task %s failed inline", task.name)
