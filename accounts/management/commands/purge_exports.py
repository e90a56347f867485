"""`manage.py purge_exports`: what the beat schedule does daily, run by hand or from cron."""

from django.core.management.base import BaseCommand

from accounts.exports import data_exports_purge


class Command(BaseCommand):
    help = (
        "Delete the stored zips of data exports past their end and mark them expired. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say how many would be deleted."
        )

    def handle(self, *args, dry_run=False, **options):
        count = data_exports_purge(dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"{count} expired export(s) would be deleted.")
            return
        self.stdout.write(self.style.SUCCESS(f"Deleted {count} expired export(s)."))
