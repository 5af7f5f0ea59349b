from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from loandesk.demo.data import USERS
from loandesk.demo.services import has_data, seed_demo


class Command(BaseCommand):
    help = "Create the demo organisation, roles and accounts (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only seed a database without users (first start).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and has_data():
            self.stdout.write("Demo data: database already has users, nothing seeded.")
        else:
            created = seed_demo()
            self.stdout.write(f"Demo data seeded: {created}")
        self.stdout.write(
            "Demo accounts (password: LOANDESK_DEMO_PASSWORD, default "
            f"{settings.LOANDESK_DEMO_PASSWORD!r} unless you set it):"
        )
        for username, full_name, role, dept, _phone, _head in USERS:
            self.stdout.write(f"  {username:<10} {full_name:<6} {role:<10} {dept}")
