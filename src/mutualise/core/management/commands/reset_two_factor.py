"""`mutualise manage reset_two_factor USERNAME`: turn off someone's two-factor sign-in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mutualise.core import two_factor
from mutualise.core.models import User


class Command(BaseCommand):
    help = (
        "Turn off two-factor sign-in for someone who has lost their phone and recovery codes. "
        "Check who is asking first; the reset is recorded in the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user has the username {options['username']!r}")
        if not two_factor.is_on(user):
            raise CommandError(f"{user.username} does not have two-factor sign-in turned on")
        two_factor.reset(user)
        self.stdout.write(
            f"Two-factor sign-in is off for {user.username}; they sign in with their password "
            "and can set it up again from their account page."
        )
