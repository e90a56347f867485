from django.apps import AppConfig


class CreationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "creations"
    verbose_name = "Creations"

    def ready(self):
        from . import receivers  # noqa: F401
