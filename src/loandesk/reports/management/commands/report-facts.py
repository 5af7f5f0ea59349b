import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from loandesk.reports import facts


class Command(BaseCommand):
    help = (
        "Recompute the dashboards' fact tables from the loans, installments, customers,"
        " applications and approvals, and restate every closed month end of the vintage and"
        " roll-rate analyses under today's owners (ADR 0012, ADR 0013). Writers of those"
        " tables wait while it runs (about two minutes at a million loans): run it in a quiet"
        " hour."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Rebuild (without it: show the row counts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from loandesk.reports.models import DailyFact, MonthEndClose, MonthEndFact, PortfolioFact

        if options["rebuild"]:
            started = time.perf_counter()
            written = facts.rebuild()
            self.stdout.write(f"Rebuilt in {time.perf_counter() - started:.1f} s:")
        else:
            written = {
                "reports_portfoliofact": PortfolioFact.objects.count(),
                "reports_dailyfact": DailyFact.objects.count(),
                "reports_monthendfact": MonthEndFact.objects.count(),
            }
        for table, rows in written.items():
            self.stdout.write(f"  {table}: {rows:,} rows")
        closes = MonthEndClose.objects.order_by("month_end")
        stale = closes.filter(stale=True).count()
        first, last = closes.first(), closes.last()
        if first and last:
            self.stdout.write(
                f"  month ends taken: {closes.count()} ({first.month_end} to {last.month_end}),"
                f" {stale} stale"
            )
        else:
            self.stdout.write("  month ends taken: none")
