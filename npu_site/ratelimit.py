"""Rate limits for pages, from settings.NPU_RATE_LIMITS, counted by django-ratelimit.

Over a limit the visitor gets a 429 page saying when to try again, with `Retry-After` set.
"""

import functools

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import get_usage


def username_key(group, request) -> str:
    """The username being logged in to, from a form post or a JSON body, case-folded."""
    body = getattr(request, "data", None) or request.POST
    return str(body.get("username", "")).strip().lower()[:254]


def rate_limit_exceeded(request, name: str, *, key) -> int | None:
    """Count this request against limit `name`; return seconds to wait if it is over.

    Pages and the API count in the same bucket for a given name and key, whatever the method.
    """
    usage = get_usage(
        request,
        group=f"npu.{name}",
        key=key,
        rate=settings.NPU_RATE_LIMITS[name],
        method=get_usage.ALL,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    # time_left is -1 when the cache could not count; ask for a short wait then.
    return max(usage["time_left"], 1)


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)  # round up: never tell people to come back too early
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def too_many_requests(request, retry_after: int):
    response = render(
        request,
        "429.html",
        {"retry_after": retry_after, "wait": _wait_text(retry_after)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(*limits: tuple[str, str], method: str = "POST"):
    """Decorate a view with limits given as (name, key) pairs, e.g. ("upload", "user")."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != method:
                return view(request, *args, **kwargs)
            waits = [rate_limit_exceeded(request, name, key=key) for name, key in limits]
            waits = [wait for wait in waits if wait is not None]
            if waits:
                return too_many_requests(request, max(waits))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
