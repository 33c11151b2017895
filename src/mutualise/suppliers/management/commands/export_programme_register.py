from django.core.management.base import BaseCommand

from mutualise.suppliers.services import export_programme_register


class Command(BaseCommand):
    help = "Write the programme's organisations to the warehouse as registers/programme.parquet."

    def add_arguments(self, parser):
        parser.add_argument("--warehouse", default=None)

    def handle(self, *args, **options):
        path, count = export_programme_register(options["warehouse"])
        self.stdout.write(f"{count:,} organisations written to {path}")
