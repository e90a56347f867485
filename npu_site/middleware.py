"""Project-wide middleware: health probes, request ids, the Content Security Policy, the 405
page, request body limits, and the client's address for rate limits."""

import contextlib
import ipaddress
import re
import uuid

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string

from .logging import request_id_var

# Accept a proxy's request id only if it looks like one; anything else gets a fresh uuid.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class HealthProbeMiddleware:
    """Answer /healthz and /readyz before host validation and the HTTPS redirect.

    Load balancers and the container HEALTHCHECK call them by IP address over plain HTTP, and
    a probe must not depend on which host names the site is configured to serve.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from . import views

        if request.path == "/healthz":
            return views.healthz(request)
        if request.path == "/readyz":
            return views.readyz(request)
        return self.get_response(request)


class RequestIdMiddleware:
    """Give every request an id: in the logs (via a context variable) and in X-Request-ID."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Not reset on the way out: Django logs error responses after the middleware returns.
        # The request_finished signal clears it (npu_site.logging).
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.NPU_CONTENT_SECURITY_POLICY)
        return response


class MethodNotAllowedPageMiddleware:
    """Give a page's bare 405 (Django's HttpResponseNotAllowed, from require_POST or a class
    view's http_method_names) the site's 405 page; status and Allow header stay. The API
    answers 405 in JSON itself, so /api/ is left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not response.streaming
            and not response.content
            and not request.path.startswith("/api/")
        ):
            response.content = render_to_string("405.html", request=request)
        return response


class RequestBodyLimitMiddleware:
    """Refuse a request body over its view's limit with a 413, before anything reads it.

    Django bounds the form fields and JSON it holds in memory (DATA_UPLOAD_MAX_MEMORY_SIZE) but
    not an uploaded file, which it spools to disk whatever its size, and it reads the body to
    find out. The declared length is checked here first: the views that take a picture
    (settings.NPU_UPLOAD_VIEWS) accept NPU_UPLOAD_REQUEST_MAX_BYTES, every other view
    NPU_REQUEST_MAX_BYTES. It must come before CsrfViewMiddleware, which reads the form.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads no body then either
        match = request.resolver_match
        if match is not None and match.view_name in settings.NPU_UPLOAD_VIEWS:
            limit = settings.NPU_UPLOAD_REQUEST_MAX_BYTES
        else:
            limit = settings.NPU_REQUEST_MAX_BYTES
        if length <= limit:
            return None
        message = (
            f"The request is too large ({filesizeformat(length)}); "
            f"the limit here is {filesizeformat(limit)}."
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=413)
        return render(request, "413.html", {"message": message}, status=413)


def client_ip(request) -> str:
    """The client's address for rate limits: REMOTE_ADDR, or X-Forwarded-For's entry written
    by the outermost trusted proxy when DJANGO_TRUSTED_PROXY_COUNT says there are proxies."""
    trusted = settings.NPU_TRUSTED_PROXY_COUNT
    if trusted > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= trusted:
            try:
                return str(ipaddress.ip_address(hops[-trusted]))
            except ValueError:
                pass  # a garbled header: fall back to the connection's address
    return request.META.get("REMOTE_ADDR") or "0.0.0.0"


class QueryCountHeaderMiddleware:
    """Count the SQL statements a request runs, on every database alias, and say how many in
    the X-NPU-Queries response header: what `make bench` reads to report queries per request.

    On only with NPU_QUERY_COUNT_HEADER; otherwise Django drops it from the chain at start-up,
    so it costs nothing. It must be the outermost middleware, so that the queries of every
    other middleware (sessions, health probes) count too.
    """

    def __init__(self, get_response):
        if not settings.NPU_QUERY_COUNT_HEADER:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counting(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with contextlib.ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(counting))
            response = self.get_response(request)
        response["X-NPU-Queries"] = str(count)
        return response
