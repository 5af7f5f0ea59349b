"""`loandesk cob [--date D] [--until D] [--workers N] [--via-tasks]`: close business dates,
resumably."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loandesk.core.errors import LoanDeskError
from loandesk.postloan import cob


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = (
        "Run close of business for the business date (or --date), catching up every date up "
        "to --until in order. Safe to re-run: finished dates are skipped, an interrupted run "
        "resumes where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=_day, help="first date to close (default: next open)")
        parser.add_argument("--until", type=_day, help="close every date up to this one")
        parser.add_argument(
            "--workers",
            type=int,
            default=1,
            help="loan-id partitions; without --via-tasks, forked processes sharing them",
        )
        parser.add_argument(
            "--via-tasks",
            action="store_true",
            help=(
                "enqueue each partition as a background task for the task workers "
                "(`loandesk db_worker`, on any machine) and wait for them"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            days = cob.dates_to_run(start=options["date"], until=options["until"])
            if not days:
                self.stdout.write("nothing to run: every requested date is already closed")
                return
            if cob.in_progress() is not None:
                raise CommandError("close of business is already running")
            for day in days:
                run = cob.run_day(
                    day,
                    workers=options["workers"],
                    trigger="cli",
                    via_tasks=options["via_tasks"],
                )
                rows = sum(s.rows for s in run.steps.all())
                self.stdout.write(f"{day}: {run.status} ({rows} rows)")
        except LoanDeskError as exc:
            details = exc.details.get("fields") or {}
            text = "; ".join(f"{k}: {v}" for k, v in details.items()) or exc.message
            raise CommandError(text) from exc
