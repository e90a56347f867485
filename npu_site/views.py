"""Project-wide views: liveness and readiness probes, and local media."""

import logging
import mimetypes
import os
import uuid

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connections
from django.http import FileResponse, Http404, JsonResponse
from django.utils._os import safe_join
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """The process is up and answering; nothing else is checked."""
    return JsonResponse({"status": "ok"})


def _check_databases() -> None:
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")


def _check_cache() -> None:
    probe = getattr(cache, "probe", None)
    if probe is not None:  # Redis (npu_site.cache): ask it directly, past any back-off
        probe()
        return
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return what was just written")
    cache.delete(key)


def _check_storage() -> None:
    if isinstance(default_storage, FileSystemStorage):
        location = default_storage.location
        os.makedirs(location, exist_ok=True)
        if not os.access(location, os.W_OK):
            raise RuntimeError(f"{location} is not writable")
    elif hasattr(default_storage, "bucket_name"):
        # HEAD on the bucket: proves the endpoint answers, the bucket exists and the
        # credentials may use it.
        client = default_storage.connection.meta.client
        client.head_bucket(Bucket=default_storage.bucket_name)
    else:
        default_storage.exists("readyz-probe")


# What the site cannot serve without: when one fails, the process is taken out of service.
REQUIRED = {"database": _check_databases, "storage": _check_storage}
# What it serves without, more slowly: the cache (pages are rendered afresh, sessions read from
# the database, members' limits uncounted; log-in and sign-up answer 503 meanwhile).
OPTIONAL = {"cache": _check_cache}


def _run(check) -> Exception | None:
    try:
        check()
    except Exception as error:  # any failure at all is reported, never raised
        return error
    return None


@never_cache
def readyz(request):
    """Ready to serve: 200 while the database and the media storage answer (`degraded` when
    only the cache does not), 503 naming the failing part otherwise."""
    results = {}
    status = "ok"
    for name, check in {**REQUIRED, **OPTIONAL}.items():
        error = _run(check)
        if error is None:
            results[name] = "ok"
            continue
        logger.warning("readyz: %s check failed: %s: %s", name, type(error).__name__, error)
        if name in REQUIRED:
            results[name] = f"failed: {type(error).__name__}"
            status = "unavailable"
        else:
            results[name] = f"degraded: {type(error).__name__}"
            status = "degraded" if status == "ok" else status
    return JsonResponse(
        {"status": status, "checks": results}, status=503 if status == "unavailable" else 200
    )


@csrf_exempt
def api_not_found(request):
    return JsonResponse({"detail": "Not found."}, status=404)


# One year: stored names are random and never reused, so a URL's content never changes.
MEDIA_MAX_AGE = 365 * 24 * 60 * 60


def media_file_response(path: str, *, public: bool) -> FileResponse:
    """An uploaded file from MEDIA_ROOT, for sites that keep media on the local disk.

    The app whose files they are decides who may have one (creations.views.creation_media);
    `public` files may be cached by anyone for a year, others by the viewer's browser only.
    """
    try:
        full_path = safe_join(settings.MEDIA_ROOT, path)
    except SuspiciousFileOperation as error:
        raise Http404("No such file.") from error
    if not os.path.isfile(full_path):
        raise Http404("No such file.")
    content_type, _ = mimetypes.guess_type(full_path)
    response = FileResponse(open(full_path, "rb"), content_type=content_type)
    response["Cache-Control"] = (
        f"public, max-age={MEDIA_MAX_AGE}, immutable" if public else "private, no-cache"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
