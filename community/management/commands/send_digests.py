"""`manage.py send_digests`: what the beat schedule does, run by hand or from cron.

First the sweep (events whose notifications were never made, for instance while the broker was
down), then one digest mail per member with something to mail, sent by this process. Safe to
run at any time and as often as wanted: nothing is notified or mailed twice.
"""

from django.core.management.base import BaseCommand

from community.notifications import digest_recipient_ids, digest_send, events_process_pending


class Command(BaseCommand):
    help = (
        "Make the notifications still waiting in the outbox, then mail each member one digest "
        "of what they chose to get by e-mail. Idempotent."
    )

    def handle(self, *args, **options):
        processed = 0
        while batch := events_process_pending(older_than_seconds=0):
            processed += batch
        self.stdout.write(f"Processed {processed} waiting event(s).")
        mailed = listed = 0
        for user_id in digest_recipient_ids():
            sent = digest_send(user_id=user_id)
            mailed += bool(sent)
            listed += sent
        self.stdout.write(
            self.style.SUCCESS(f"Mailed {mailed} digest(s) listing {listed} notification(s).")
        )
