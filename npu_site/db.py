"""Primary/replica routing for DATABASE_REPLICA_URL.

Reads go to the replica, except reads inside a transaction on the primary, every read of a
request after that request wrote something, and the reads of the writer's next requests for
NPU_REPLICA_PIN_SECONDS (a short-lived cookie): a member sees their own write at once, even if
the replica lags behind.
"""

import contextvars

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
PIN_COOKIE = "npu_primary"

# Set by the first write of a request; the middleware clears it when the request ends.
_pinned_to_primary: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "pinned_to_primary", default=False
)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if _pinned_to_primary.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        _pinned_to_primary.set(True)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two connections

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class PinToPrimaryAfterWriteMiddleware:
    """Scope the read-your-writes pin to a request and, by a cookie, to the writer's next few."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pinned_by_cookie = request.COOKIES.get(PIN_COOKIE) == "1"
        token = _pinned_to_primary.set(pinned_by_cookie)
        try:
            response = self.get_response(request)
            wrote = _pinned_to_primary.get() and not pinned_by_cookie
        finally:
            _pinned_to_primary.reset(token)
        if wrote and REPLICA in settings.DATABASES:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.NPU_REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


def without_statement_timeout(using: str = DEFAULT_DB_ALIAS) -> None:
    """Lift the statement timeout for the rest of the current transaction (PostgreSQL).

    For maintenance that rewrites every row (full rebuilds, `refresh_rankings`), which runs
    from commands and workers, never from a web request, and may take longer than a request's
    statements are allowed to.
    """
    connection = connections[using]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")
