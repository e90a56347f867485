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


CHECKS = {"database": _check_databases, "cache": _check_cache, "storage": _check_storage}


@never_cache
def readyz(request):
    """Ready to serve: the database, the cache and the media storage all answer; 503 if not."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure at all means "not ready"
            logger.warning("readyz: %s check failed: %s", name, error)
            results[name] = f"failed: {type(error).__name__}"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": results},
        status=200 if ready else 503,
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
