"""A member's data export: a zip of their profile, creations with the original pictures,
scores, comments, favourites and follows, built by the background worker.

The accounts app knows only the profile; every app that keeps the member's data answers
`accounts.signals.member_export` with its part. The zip is written to a temporary file (never
held in memory whole) and stored under `exports/` in the default storage, which no public URL
serves (`creations.views.creation_media` answers only a creation's own files): it is
downloaded through `/accounts/export/<token>/`, by its member only.
"""

import json
import logging
import secrets
import shutil
import tempfile
import zipfile
from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from npu_site.background import enqueue

from .models import DataExport, User
from .signals import member_export, member_export_ready

logger = logging.getLogger(__name__)

# How long a finished export can be downloaded; the link's signature expires with it.
EXPORT_VALID_FOR = timedelta(days=7)
# Exports a member may ask for in a day (one at a time).
EXPORTS_PER_DAY = 3
TOO_MANY_EXPORTS = f"You can ask for at most {EXPORTS_PER_DAY} exports a day. Try again tomorrow."
# An export still pending after this is taken for lost (data_exports_purge marks it failed).
STALE_AFTER = timedelta(hours=6)
_TOKEN_SALT = "accounts.data-export"


# The link --------------------------------------------------------------------------------


def export_token(export: DataExport) -> str:
    return signing.dumps({"export": export.pk}, salt=_TOKEN_SALT, compress=False)


def export_token_read(token: str) -> int | None:
    """The export id a link names, or None when it is forged, malformed or past its days."""
    try:
        value = signing.loads(
            str(token), salt=_TOKEN_SALT, max_age=EXPORT_VALID_FOR.total_seconds()
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    export_id = value.get("export") if isinstance(value, dict) else None
    return export_id if type(export_id) is int else None


def export_download_path(export: DataExport) -> str:
    return reverse("accounts:export_download", kwargs={"token": export_token(export)})


def export_for_download(*, user, token: str) -> DataExport | None:
    """The ready, unexpired export the link names, if it is `user`'s; None otherwise."""
    export_id = export_token_read(token)
    if export_id is None or not user.is_authenticated:
        return None
    return DataExport.objects.filter(
        pk=export_id,
        user=user,
        status=DataExport.Status.READY,
        expires_at__gt=timezone.now(),
    ).first()


# Asking for one ---------------------------------------------------------------------------


@transaction.atomic
def data_export_request(*, user: User) -> tuple[DataExport, bool]:
    """Start building the member's export; returns (export, created). While one is being
    prepared that one is returned; at most EXPORTS_PER_DAY a day (a 400 naming `detail`)."""
    # Lock the member's row so two requests at once cannot both start an export.
    User.objects.select_for_update().filter(pk=user.pk).first()
    pending = DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).first()
    if pending is not None:
        return pending, False
    since = timezone.now() - timedelta(days=1)
    if DataExport.objects.filter(user=user, created_at__gte=since).count() >= EXPORTS_PER_DAY:
        raise ValidationError({"detail": TOO_MANY_EXPORTS})
    export = DataExport.objects.create(user=user)
    from .tasks import data_export_build  # the task module imports this one

    enqueue(data_export_build, export.pk)
    return export, True


# Building it ------------------------------------------------------------------------------


def _profile(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "email_verified": user.email_verified,
        "display_name": user.display_name,
        "bio": user.bio,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }


def _sections(user: User) -> tuple[dict, list]:
    documents = {"profile.json": _profile(user)}
    files = []
    for _receiver, answer in member_export.send(sender=User, user=user):
        if not isinstance(answer, dict):
            continue
        documents.update(answer.get("json") or {})
        files.extend(answer.get("files") or [])
    return documents, files


def _zip_write(archive: zipfile.ZipFile, documents: dict, files: list) -> None:
    for name, content in documents.items():
        archive.writestr(name, json.dumps(content, indent=2, ensure_ascii=False) + "\n")
    for arcname, storage_name in files:
        try:
            with default_storage.open(storage_name, "rb") as source:
                # Pictures are compressed already; streamed in chunks, not read whole.
                with archive.open(arcname, "w") as target:
                    shutil.copyfileobj(source, target, 1024 * 1024)
        except FileNotFoundError:
            logger.warning("Export: stored file %s is missing", storage_name)


def data_export_build(*, export_id: int) -> DataExport | None:
    """Build one export (the worker's task): the zip, stored; the row marked ready with its
    size and end; the member told (`member_export_ready`). Idempotent: an export no longer
    pending is left as it is."""
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    documents, files = _sections(export.user)
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _zip_write(archive, documents, files)
        size = spool.tell()
        spool.seek(0)
        name = default_storage.save(f"exports/{secrets.token_urlsafe(24)}.zip", File(spool))
    with transaction.atomic():
        claimed = DataExport.objects.filter(pk=export.pk, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.READY,
            file_name=name,
            size=size,
            finished_at=timezone.now(),
            expires_at=timezone.now() + EXPORT_VALID_FOR,
        )
        if not claimed:  # built twice at once: keep the other one
            transaction.on_commit(lambda: default_storage.delete(name))
            return export
        export.refresh_from_db()
        # A path: the notifications page links it as is; mail and API make it absolute.
        url = export_download_path(export)
        member_export_ready.send(sender=DataExport, user=export.user, export=export, url=url)
    return export


def data_export_failed(*, export_id: int) -> None:
    """Mark an export failed (the task gave up), so the member may ask again."""
    DataExport.objects.filter(pk=export_id, status=DataExport.Status.PENDING).update(
        status=DataExport.Status.FAILED, finished_at=timezone.now()
    )


# Cleaning up ------------------------------------------------------------------------------


def data_exports_purge(*, dry_run: bool = False) -> int:
    """Delete the zips of exports past their end and mark them expired; returns how many."""
    expired = DataExport.objects.filter(
        status=DataExport.Status.READY, expires_at__lte=timezone.now()
    )
    rows = list(expired.values_list("pk", "file_name"))
    if dry_run:
        return len(rows)
    # One whose task never finished (a worker lost, a broker down) stops blocking a new one.
    DataExport.objects.filter(
        status=DataExport.Status.PENDING, created_at__lte=timezone.now() - STALE_AFTER
    ).update(status=DataExport.Status.FAILED, finished_at=timezone.now())
    for pk, name in rows:
        with transaction.atomic():
            changed = DataExport.objects.filter(pk=pk, status=DataExport.Status.READY).update(
                status=DataExport.Status.EXPIRED, file_name=""
            )
            if changed and name:
                transaction.on_commit(lambda name=name: _delete_quietly(name))
    return len(rows)


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:
        logger.exception("Could not delete stored file %s", name)
