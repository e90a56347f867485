"""Shared pieces of the REST API: pagination and throttles.

The throttles count in the same django-ratelimit buckets as the pages (npu_site.ratelimit), so
a member has one score-write budget and one upload budget, whether through pages or the API.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .paginator import CountingPaginator
from .ratelimit import rate_limit_exceeded
from .unavailable import as_unavailable, log_unavailable


class Pagination(PageNumberPagination):
    django_paginator_class = CountingPaginator
    page_size = 24
    page_size_query_param = "page_size"
    max_page_size = 100


class LimitThrottle(BaseThrottle):
    """A DRF throttle backed by one of settings.NPU_RATE_LIMITS; subclasses say which."""

    limits: tuple[tuple[str, object], ...] = ()  # (limit name, django-ratelimit key)
    methods: frozenset[str] | None = None  # None: every method
    members_only = False
    anonymous_only = False

    def allow_request(self, request, view):
        self.retry_after = None
        if self.methods is not None and request.method not in self.methods:
            return True
        if self.members_only and not request.user.is_authenticated:
            return True
        if self.anonymous_only and request.user.is_authenticated:
            return True
        waits = [rate_limit_exceeded(request, name, key=key) for name, key in self.limits]
        waits = [wait for wait in waits if wait is not None]
        if waits:
            self.retry_after = max(waits)
            return False
        return True

    def wait(self):
        return self.retry_after


READS = frozenset(SAFE_METHODS)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AnonReadThrottle(LimitThrottle):
    """API reads: 120 a minute per anonymous IP address."""

    limits = (("api_anon", "ip"),)
    methods = READS
    anonymous_only = True


class MemberReadThrottle(LimitThrottle):
    """API reads: 600 a minute per member."""

    limits = (("api_member", "user"),)
    methods = READS
    members_only = True


class ScoreWriteThrottle(LimitThrottle):
    """Score writes: 60 a minute per member, shared with the pages."""

    limits = (("score", "user"),)
    methods = WRITES
    members_only = True


class CommentWriteThrottle(LimitThrottle):
    """Comments written or edited: 10 a minute per member, shared with the pages."""

    limits = (("comment", "user"),)
    methods = frozenset({"POST", "PATCH"})
    members_only = True


class UploadThrottle(LimitThrottle):
    """Uploads: 20 an hour per member, shared with the pages."""

    limits = (("upload", "user"),)
    methods = frozenset({"POST"})
    members_only = True


def exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError (raised by services) as a 400, and a
    database or counter that is down for a moment as a 503 with Retry-After."""
    unavailable = as_unavailable(exc)
    if unavailable is not None:
        request = context["request"]
        log_unavailable(request, exc)
        set_rollback()
        response = Response({"detail": unavailable.message}, status=503)
        response["Retry-After"] = str(unavailable.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict") and set(exc.error_dict) != {NON_FIELD_ERRORS}:
            detail = exc.message_dict
        else:  # a refusal of the whole request, not of one field
            detail = {"detail": " ".join(exc.messages)}
        exc = ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


DETAIL = inline_serializer("ErrorDetail", fields={"detail": serializers.CharField()})
ERROR_DESCRIPTIONS = {
    400: 'Invalid input: `{field: [messages]}` or `{"detail": ...}`.',
    401: "Not logged in: send `Authorization: Token <key>`.",
    403: "Logged in, but not allowed to do this.",
    404: "No such object (or hidden from you), or no such page of a list.",
    429: "Over a rate limit; `Retry-After` says how many seconds to wait.",
}


def errors(*codes: int) -> dict:
    """OpenAPI responses for the given error status codes, for `extend_schema(responses=...)`."""
    return {
        code: OpenApiResponse(
            OpenApiTypes.OBJECT if code == 400 else DETAIL,
            description=ERROR_DESCRIPTIONS[code],
        )
        for code in codes
    }
