"""Short-lived caches of what anonymous visitors see: the gallery, the tag cloud and tag
pages, the parts catalog and part pages, profiles, and creation pages (every view under
@cache_anonymous_page).

A cached page's key carries version tokens, and a change makes a page unreachable by replacing
the token it was stored under: at once, and again once the change commits. Two kinds of
token, so that the pages browsing depends on survive scoring:

- the listings token, which every listing and creation page carries. The services that change
  what they show (creations, tags, parts, profiles) call `listings_changed()`. Score writes do
  not: a listing shows scores (ratings, counts, the `top` order) up to NPU_PAGE_CACHE_SECONDS
  old, which is what keeps it cached while members score at any rate.
- one token per object, which only that object's pages carry (a creation's page). Its services
  call `object_changed("creation", pk)`, score writes included, so a creation's page is exact
  as soon as a score on it commits.

A token is random, so an evicted or expired token can never bring back pages stored under an
earlier one. Nothing but services calls the two functions: admin hooks and views go through
those services. The cache is shared through Redis when REDIS_URL is set; while Redis is down
every page is rendered afresh (npu_site.cache).
"""

import functools
import hashlib
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, QueryDict

# Named apart from the counter an earlier release kept under "npu:listings:version", so two
# releases sharing one Redis during an upgrade never read each other's values.
LISTINGS_KEY = "npu:listings:token"


def _object_key(kind: str, pk) -> str:
    return f"npu:token:{kind}:{pk}"


def _new_token() -> str:
    return uuid.uuid4().hex[:16]


def _versions(keys: list[str]) -> list[str]:
    """The current token of each key, in one round trip; a missing one is created."""
    found = cache.get_many(keys)
    tokens = []
    for key in keys:
        token = found.get(key)
        if token is None:
            token = _new_token()
            # Another process may have just created it: theirs wins, both then agree.
            cache.add(key, token, timeout=_token_timeout(key))
            token = cache.get(key, token)
        tokens.append(token)
    return tokens


def _token_timeout(key: str) -> int | None:
    # The listings token lives as long as the cache does. An object's token need only outlive
    # the pages stored under it; one that expires just makes those pages unreachable.
    return None if key == LISTINGS_KEY else 2 * settings.NPU_PAGE_CACHE_SECONDS


def listings_version() -> str:
    return _versions([LISTINGS_KEY])[0]


def _replace_token(key: str) -> None:
    cache.set(key, _new_token(), timeout=_token_timeout(key))


def _replace_now_and_on_commit(key: str) -> None:
    """Replace a token at once, so reads later in the changing transaction see the change,
    and again when it commits, so nothing another process cached in between (from data as it
    was before the commit) stays reachable. A rollback only costs some cache misses."""
    _replace_token(key)
    transaction.on_commit(lambda: _replace_token(key))


def listings_changed() -> None:
    """Drop every cached listing and creation page (and listed figures such as counts)."""
    _replace_now_and_on_commit(LISTINGS_KEY)


def object_changed(kind: str, pk) -> None:
    """Drop the cached pages of one object, e.g. ("creation", 42)."""
    _replace_now_and_on_commit(_object_key(kind, pk))


# The query parameters any cached page reads. A cached page is rendered from these alone
# (others are dropped from the request first), so they alone make the key: `/?junk=1`,
# `/?junk=2`, … are one entry, not one each, and no junk ends up in a cached page's links.
PAGE_PARAMETERS = ("tag", "part", "q", "sort", "owner", "min_rating", "page")


def known_parameters_only(request) -> None:
    """Drop every query parameter but PAGE_PARAMETERS from `request`, keeping their order."""
    kept = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        if name in PAGE_PARAMETERS:
            kept.setlist(name, values)
    kept._mutable = False
    request.GET = kept
    request.META["QUERY_STRING"] = kept.urlencode()


def page_cache_key(request, *, scope: tuple[str, object] | None = None) -> str:
    """The key of the cached page for `request`: its path and known parameters, under the
    listings token and, for an object's page, that object's token."""
    keys = [LISTINGS_KEY] if scope is None else [LISTINGS_KEY, _object_key(*scope)]
    tokens = ":".join(_versions(keys))
    known = request.META.get("QUERY_STRING", "")
    digest = hashlib.sha256(f"{request.path}?{known}".encode("utf-8", "replace")).hexdigest()
    return f"npu:page:{tokens}:{digest}"


def cache_anonymous_page(view=None, *, scope: tuple[str, str] | None = None):
    """Serve anonymous GETs of `view` from the cache for NPU_PAGE_CACHE_SECONDS.

    `scope=("creation", "pk")` makes it an object's page: the URL argument `pk` names the
    creation whose `object_changed("creation", pk)` drops it.
    """
    if view is None:
        return functools.partial(cache_anonymous_page, scope=scope)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        timeout = settings.NPU_PAGE_CACHE_SECONDS
        if (
            not timeout
            or request.method != "GET"
            or request.user.is_authenticated
            or "messages" in request.COOKIES  # a flash message waits to be shown
        ):
            return view(request, *args, **kwargs)
        known_parameters_only(request)
        kind_and_pk = (scope[0], kwargs[scope[1]]) if scope else None
        key = page_cache_key(request, scope=kind_and_pk)
        cached = cache.get(key)
        if cached is not None:
            response = HttpResponse(cached["content"], content_type=cached["content_type"])
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies:
            cache.set(
                key,
                {"content": response.content, "content_type": response["Content-Type"]},
                timeout,
            )
        response["X-Page-Cache"] = "miss"
        return response

    return wrapper


def listings_cached(name: str, compute, *, timeout: int | None = None):
    """`compute()`, cached under the listings token: recomputed after any change to listings
    (or after `timeout` seconds), not on every request. For figures that read every
    published creation (tag and part counts, the size of a large list)."""
    key = f"npu:listed:{listings_version()}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.NPU_COUNT_CACHE_SECONDS if timeout is None else timeout)
    return value


def object_cached(kind: str, pk, name: str, compute):
    """`compute()`, cached under one object's token (e.g. a creation's score histogram):
    recomputed after `object_changed(kind, pk)`, not on every request."""
    token = _versions([_object_key(kind, pk)])[0]
    key = f"npu:object:{kind}:{pk}:{token}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, 2 * settings.NPU_PAGE_CACHE_SECONDS)
    return value
