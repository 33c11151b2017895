from django.core.management.base import BaseCommand

from mutualise.suppliers.services import load_supplier_links


class Command(BaseCommand):
    help = "Load the warehouse's supplier_links and review_queue into the app (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--warehouse", default=None)

    def handle(self, *args, **options):
        counts = load_supplier_links(options["warehouse"])
        self.stdout.write(
            ", ".join(f"{value:,} {key.replace('_', ' ')}" for key, value in counts.items())
        )
