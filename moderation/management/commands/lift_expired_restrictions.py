from django.core.management.base import BaseCommand

from moderation.members import members_lift_expired


class Command(BaseCommand):
    help = (
        "Lift every suspension whose end date has passed: the members' creations are shown "
        "again and their scores count again, and each lift is logged with the reason "
        "“suspension ended”. The beat schedule runs the same every 5 minutes "
        "(moderation.tasks.restrictions_expire); a suspended member can log in as soon as "
        "the end passes, whether or not this has run."
    )

    def handle(self, *args, **options):
        lifted = members_lift_expired()
        self.stdout.write(self.style.SUCCESS(f"Lifted {lifted} ended suspension(s)."))
