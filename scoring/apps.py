from django.apps import AppConfig


class ScoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scoring"
    verbose_name = "Scoring"

    def ready(self):
        from creations.visibility import register_unblinded_finder

        from .selectors import unblinded_ids

        register_unblinded_finder(unblinded_ids)

        from . import receivers  # noqa: F401
