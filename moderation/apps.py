from django.apps import AppConfig


class ModerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.signals import member_deleting
        from creations.signals import moderator_acted

        from .log import member_deleting_received, moderator_acted_received
        from .members import member_logged_in

        moderator_acted.connect(moderator_acted_received, dispatch_uid="moderation.log")
        member_deleting.connect(member_deleting_received, dispatch_uid="moderation.member_deleting")
        user_logged_in.connect(member_logged_in, dispatch_uid="moderation.member_logged_in")
