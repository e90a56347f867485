"""Short-lived caches of what anonymous visitors see: the gallery, the tag cloud and tag
pages, the parts catalog and part pages, and profiles (every view under @cache_anonymous_page).

Every cached page's key carries a version number. The services that change what those pages
show (creations, tags, scores, parts, profiles) call `listings_changed()`, which bumps the
version once the change commits, so no visitor sees a stale page for longer than it takes to
commit. Nothing else calls it: admin hooks and views go through those services. The cache is
shared through Redis when REDIS_URL is set.
"""

import functools
import hashlib

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, QueryDict

VERSION_KEY = "npu:listings:version"


def listings_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def listings_changed() -> None:
    """Drop every cached listing, once the current transaction commits."""
    transaction.on_commit(_bump)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # the key was evicted: any new value makes old keys unreachable
        cache.set(VERSION_KEY, listings_version() + 1, timeout=None)


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


def page_cache_key(request) -> str:
    known = request.META.get("QUERY_STRING", "")
    digest = hashlib.sha256(f"{request.path}?{known}".encode("utf-8", "replace")).hexdigest()
    return f"npu:page:{listings_version()}:{digest}"


def cache_anonymous_page(view):
    """Serve anonymous GETs of `view` from the cache for NPU_PAGE_CACHE_SECONDS."""

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
        key = page_cache_key(request)
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
