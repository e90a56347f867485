from django.core.management.base import BaseCommand

from scoring.services import ranking_prior_refresh


class Command(BaseCommand):
    help = (
        "Recompute the priors (the site-wide mean rating behind `top`, the typical rater "
        "spread behind `calibrated`), every rater's calibration, and every creation's `top` "
        "and `calibrated` with them. Run it periodically (hourly is plenty): the priors move "
        "slowly, and scores keep each scored creation's values current in between."
    )

    def handle(self, *args, **options):
        prior = ranking_prior_refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"The prior for `top` is now {prior.mean:.4f} (weight {prior.weight}), the "
                f"typical rater variance {prior.rater_variance:.4f}; "
                f"{prior.refreshed} scored creation(s) re-ranked."
            )
        )
