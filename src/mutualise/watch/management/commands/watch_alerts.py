from django.core.management.base import BaseCommand

from mutualise.watch.services import send_due_alerts


class Command(BaseCommand):
    help = "Send due contract watch alerts (schedule daily; never sends the same event twice)."

    def handle(self, *args, **options):
        self.stdout.write(f"Sent {send_due_alerts()} alerts.")
