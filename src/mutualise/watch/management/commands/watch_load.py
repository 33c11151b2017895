from django.core.management.base import BaseCommand

from mutualise.watch.services import load_from_warehouse


class Command(BaseCommand):
    help = "Load retender chains, outcomes and notices from the pipeline warehouse (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--warehouse", default=None)

    def handle(self, *args, **options):
        summary = load_from_warehouse(options["warehouse"])
        self.stdout.write(
            summary.skipped
            or f"{summary.created} new, {summary.updated} changed, "
            f"{summary.unchanged} unchanged contracts; {summary.outcomes} outcomes."
        )
