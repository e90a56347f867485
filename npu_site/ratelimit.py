"""Rate limits for pages, from settings.NPU_RATE_LIMITS, counted by django-ratelimit.

Over a limit the visitor gets a 429 page saying when to try again, with `Retry-After` set.
While the cache that keeps the counters is down, members' limits let requests through and the
log-in, sign-up and mail limits answer 503 (`_uncounted`).
"""

import functools
import logging
import unicodedata

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import get_usage

from .unavailable import ServiceUnavailable

logger = logging.getLogger(__name__)


def identifier_normalised(value) -> str:
    """A log-in name or an e-mail address as limits count it: NFKC, case-folded, trimmed.

    NFKC folds compatibility forms as Django's username field does (a long ſ is an s,
    fullwidth letters are ASCII); casefold() folds more than lower() does (ß is ss), so the
    spellings of one name share one budget.
    """
    text = unicodedata.normalize("NFKC", str(value)[:1000])
    return text.casefold().strip()[:254]


def body_field(request, field: str) -> str:
    """Field `field` of a form post or a JSON object body, as text ("" when absent)."""
    body = getattr(request, "data", None) or request.POST
    if not hasattr(body, "get"):  # a JSON list or scalar: no fields at all
        return ""
    value = body.get(field, "")
    return value if isinstance(value, str) else str(value)


def username_key(group, request) -> str:
    """The username being logged in to, from a form post or a JSON body, normalised."""
    return identifier_normalised(body_field(request, "username"))


def email_key(group, request) -> str:
    """The e-mail address a form post or JSON body names, normalised: mail limits count it."""
    return identifier_normalised(body_field(request, "email"))


def own_email_key(group, request) -> str:
    """The logged-in member's own address, normalised: a link mailed to it again counts
    against the same limit as mail to a typed-in address."""
    return identifier_normalised(request.user.email)


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
    if usage is None:
        return None
    # django-ratelimit's answer when the cache could not count. (A time_left of -1 alone is
    # not it: that also happens when the window ends during the call; a counted try is >= 1.)
    if usage["count"] == 0 and usage["time_left"] == -1:
        return _uncounted(name)
    if not usage["should_limit"]:
        return None
    return max(usage["time_left"], 1)


def _uncounted(name: str) -> None:
    """What a limit does while its counter cannot be kept (the cache is down).

    Members' limits (uploads, scores, API reads) fail open: the request goes through, and the
    cache backend has logged the outage. Limits that stand between a stranger and a password
    guess or a mail to someone's address fail closed: guessing without a limit is what an
    attacker would wait for, so log-in, sign-up and mailed links answer 503 with Retry-After.
    """
    if name in settings.NPU_RATE_LIMITS_FAIL_CLOSED:
        raise ServiceUnavailable(
            "This is not possible for a moment (a safety check is unavailable). Please try "
            "again in a minute.",
            retry_after=settings.NPU_RATE_LIMIT_UNAVAILABLE_RETRY_AFTER,
        )
    logger.info("Limit %s not counted: the cache is unavailable.", name)
    return None


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


# Mail to an address someone typed in (sign-up and address-change links): per client and per
# address receiving it.
VERIFICATION_MAIL_LIMITS = (
    ("verification_mail_ip", "ip"),
    ("verification_mail_address", email_key),
)


# A verification link mailed again to the member's own address: per client and per address.
OWN_ADDRESS_MAIL_LIMITS = (
    ("verification_mail_ip", "ip"),
    ("verification_mail_address", own_email_key),
)


def limits_exceeded(request, *limits: tuple[str, object]) -> int | None:
    """Count this request against each (name, key) limit; the longest wait, or None."""
    waits = [rate_limit_exceeded(request, name, key=key) for name, key in limits]
    waits = [wait for wait in waits if wait is not None]
    return max(waits) if waits else None


def rate_limited(*limits: tuple[str, object], method: str = "POST"):
    """Decorate a view with limits given as (name, key) pairs, e.g. ("upload", "user")."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != method:
                return view(request, *args, **kwargs)
            wait = limits_exceeded(request, *limits)
            if wait is not None:
                return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
