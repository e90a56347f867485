"""503 answers for a dependency that is down, instead of 500s and tracebacks.

While PostgreSQL restarts, every query fails with OperationalError (or InterfaceError on a
connection it dropped); a counter that must be kept (the log-in limit) cannot be kept while
Redis is away. Each is a moment's outage, not a bug: the visitor gets a short 503 page (JSON
under /api/) with `Retry-After`, and the log gets one line. Django's connection health checks
(CONN_HEALTH_CHECKS) replace a dead connection on the next request, so the site recovers by
itself once the database is back.

Three places turn them into that answer, because they are raised in three kinds of places:
`ServiceUnavailableMiddleware` for views and templates, the API's exception handler for DRF
views (`npu_site.api`), and `server_error`, the site's handler500, for anything raised in a
middleware (the log-in check that reads the user, say).
"""

import logging
import sys

import botocore.exceptions
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

# An S3 endpoint that refuses, drops or does not answer a connection (after botocore's
# timeouts and retry, AWS_S3_CLIENT_CONFIG); an upload's files are removed as for any failure.
STORAGE_UNREACHABLE = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.ReadTimeoutError,
)

# Seconds a client should wait before trying again after the database or the storage failed:
# a restart or a fail-over takes a few seconds.
RETRY_AFTER = 5


class ServiceUnavailable(Exception):
    """Something this request needs is down for a moment; try again in `retry_after` s."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def as_unavailable(error: BaseException) -> ServiceUnavailable | None:
    """`error` as a ServiceUnavailable when it means a dependency is down, else None."""
    if isinstance(error, ServiceUnavailable):
        return error
    if isinstance(error, OperationalError | InterfaceError):
        return ServiceUnavailable(
            "The site cannot reach its database for a moment. Please try again in a few seconds.",
            retry_after=RETRY_AFTER,
        )
    if isinstance(error, STORAGE_UNREACHABLE):
        return ServiceUnavailable(
            "The site cannot reach its picture storage for a moment. Please try again in a "
            "few seconds.",
            retry_after=RETRY_AFTER,
        )
    return None


def unavailable_response(request, unavailable: ServiceUnavailable) -> HttpResponse:
    """A 503 with Retry-After: JSON for the API, a plain page (no database, no cache) else."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": unavailable.message}, status=503)
    else:
        # Rendered without the request: the page must not read the user, the session or
        # anything else that may be what is down.
        response = HttpResponse(
            render_to_string("503.html", {"message": unavailable.message}), status=503
        )
    response["Retry-After"] = str(unavailable.retry_after)
    response["Cache-Control"] = "no-store"
    return response


def log_unavailable(request, error: BaseException) -> None:
    logger.warning(
        "503 for %s %s: %s: %s", request.method, request.path, type(error).__name__, error
    )


class ServiceUnavailableMiddleware:
    """Answer 503 when a view or its template fails because a dependency is down."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        unavailable = as_unavailable(exception)
        if unavailable is None:
            return None
        log_unavailable(request, exception)
        return unavailable_response(request, unavailable)


@requires_csrf_token
def server_error(request):
    """handler500: a 503 when the error means a dependency is down, the 500 page otherwise."""
    error = sys.exc_info()[1]
    unavailable = as_unavailable(error) if error is not None else None
    if unavailable is not None:
        return unavailable_response(request, unavailable)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)
