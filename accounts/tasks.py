"""The accounts app's background tasks: building data exports and removing expired ones."""

from celery import shared_task

from .exports import data_export_build as export_build
from .exports import data_export_failed, data_exports_purge

EXPORT_MAX_RETRIES = 3


@shared_task(bind=True, max_retries=EXPORT_MAX_RETRIES)
def data_export_build(self, export_id: int) -> bool:
    """Build one member's data export; retried a few times, then marked failed."""
    try:
        return export_build(export_id=export_id) is not None
    except Exception as error:
        if self.request.is_eager or self.request.retries >= EXPORT_MAX_RETRIES:
            data_export_failed(export_id=export_id)
            raise
        raise self.retry(exc=error, countdown=60 * 2**self.request.retries) from error


@shared_task
def purge_exports() -> int:
    """The periodic clean-up: zips past their end deleted, their rows marked expired."""
    return data_exports_purge()
