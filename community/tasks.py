"""Background tasks of the community (placeholder until the notification rules land)."""

from celery import shared_task


@shared_task
def process_event(event_id: int) -> None:
    """Turn one recorded event into notifications."""
