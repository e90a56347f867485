from django.core.management.base import BaseCommand

from creations.models import Creation
from scoring.services import creation_refresh_all_aggregates


class Command(BaseCommand):
    help = "Rebuild every creation's score_count, averages and rating from its scores."

    def handle(self, *args, **options):
        fields = ("pk", "score_count", "creativity_avg", "uniqueness_avg", "rating")
        before = set(Creation.objects.values_list(*fields))
        total = creation_refresh_all_aggregates()
        after = set(Creation.objects.values_list(*fields))
        corrected = len(after - before)
        self.stdout.write(
            self.style.SUCCESS(
                f"Recomputed the aggregates of {total} creation(s); {corrected} had drifted."
            )
        )
