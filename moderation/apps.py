from django.apps import AppConfig


class ModerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self):
        from creations.signals import moderator_acted

        from .log import moderator_acted_received

        moderator_acted.connect(moderator_acted_received, dispatch_uid="moderation.log")
