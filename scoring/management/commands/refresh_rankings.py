from django.core.management.base import BaseCommand

from scoring.services import ranking_prior_refresh


class Command(BaseCommand):
    help = (
        "Recompute the site-wide mean rating behind the `top` order and every creation's "
        "`top` with it. Run it periodically (hourly is plenty): the prior moves slowly, and "
        "scores keep each creation's own values exact in between."
    )

    def handle(self, *args, **options):
        prior = ranking_prior_refresh()
        self.stdout.write(
            self.style.SUCCESS(
                f"The prior for `top` is now {prior.mean:.4f} (weight {prior.weight}); "
                f"{prior.refreshed} scored creation(s) re-ranked."
            )
        )
