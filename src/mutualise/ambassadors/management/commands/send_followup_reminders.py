"""Email ambassadors about follow-ups past their date. Run daily from cron; safe to run again."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mutualise.ambassadors.services import send_followup_reminders


class Command(BaseCommand):
    help = "Email ambassadors about overdue follow-ups (each reminder is sent once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="Treat this date (YYYY-MM-DD) as today.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_followup_reminders(options["today"])
        self.stdout.write(f"Queued {sent} follow-up reminder{'s' if sent != 1 else ''}.")
