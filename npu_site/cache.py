"""The shared cache, degrading instead of failing when Redis is unreachable.

Django's own Redis backend raises on every call while Redis is down, and nearly every request
reads the cache (cached pages, rate-limit counters, sessions), so one stopped Redis turned the
whole site into 500s. Everything NPU keeps in the cache can be rebuilt or skipped, so this
backend answers as an empty cache would instead: reads miss, writes are dropped, `incr` raises
ValueError as for a missing key (django-ratelimit then reports that it could not count, and
`npu_site.ratelimit` decides per limit whether to let the request through). Sessions, being
`cached_db`, read through to the database.

After a failure the backend stops calling Redis for `NPU_CACHE_RETRY_SECONDS`, so a Redis that
hangs costs one socket timeout per process every few seconds rather than one per cache call,
and the outage is logged once when it starts and once when it ends, not on every request.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What "Redis is not answering" looks like: refused or dropped connections, timeouts, a server
# still loading its data or shutting down. Other errors (a bad command) are bugs and still raise.
UNAVAILABLE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


class CacheUnavailable(Exception):
    """The cache is skipped for now: it failed a moment ago."""


class ResilientRedisCache(RedisCache):
    """Django's Redis cache that behaves as an empty cache while Redis is unreachable."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    # Bookkeeping of the outage ------------------------------------------------------------

    @property
    def is_available(self) -> bool:
        """False while calls are being skipped after a failure."""
        return self._down_since is None or time.monotonic() >= self._retry_at

    def _failed(self, operation: str, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = now
            self._retry_at = now + settings.NPU_CACHE_RETRY_SECONDS
        if first:
            logger.warning(
                "Cache unavailable (%s on %s: %s); serving without it and retrying every %s s.",
                type(error).__name__,
                operation,
                error,
                settings.NPU_CACHE_RETRY_SECONDS,
            )

    def _succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            down_since, self._down_since = self._down_since, None
        if down_since is not None:
            logger.warning("Cache available again after %.1f s.", time.monotonic() - down_since)

    def _call(self, operation: str, call, *args, **kwargs):
        if not self.is_available:
            raise CacheUnavailable
        try:
            result = call(*args, **kwargs)
        except UNAVAILABLE_ERRORS as error:
            self._failed(operation, error)
            raise CacheUnavailable from error
        self._succeeded()
        return result

    # Django's cache API, each answering as an empty cache would while Redis is away --------

    def get(self, key, default=None, version=None):
        try:
            return self._call("get", super().get, key, default, version)
        except CacheUnavailable:
            return default

    def get_many(self, keys, version=None):
        try:
            return self._call("get_many", super().get_many, keys, version)
        except CacheUnavailable:
            return {}

    def has_key(self, key, version=None):
        try:
            return self._call("has_key", super().has_key, key, version)
        except CacheUnavailable:
            return False

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            self._call("set", super().set, key, value, timeout, version)
        except CacheUnavailable:
            pass

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("set_many", super().set_many, data, timeout, version)
        except CacheUnavailable:
            return list(data)  # the keys that could not be set

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("add", super().add, key, value, timeout, version)
        except CacheUnavailable:
            return False

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return self._call("touch", super().touch, key, timeout, version)
        except CacheUnavailable:
            return False

    def delete(self, key, version=None):
        try:
            return self._call("delete", super().delete, key, version)
        except CacheUnavailable:
            return False

    def delete_many(self, keys, version=None):
        try:
            self._call("delete_many", super().delete_many, keys, version)
        except CacheUnavailable:
            pass

    def incr(self, key, delta=1, version=None):
        try:
            return self._call("incr", super().incr, key, delta, version)
        except CacheUnavailable as error:
            # What every backend raises when it cannot increment: callers handle it already.
            raise ValueError(
                f"Key {key!r} cannot be incremented: the cache is unavailable."
            ) from error

    def clear(self):
        try:
            return self._call("clear", super().clear)
        except CacheUnavailable:
            return False

    def probe(self) -> None:
        """Ping Redis now, whatever the last failure said; raise if it does not answer.

        For /readyz: it reports the cache as it is, and a good answer ends the skipping early.
        """
        try:
            self._cache.get_client(write=True).ping()
        except UNAVAILABLE_ERRORS as error:
            self._failed("ping", error)
            raise
        self._succeeded()
