"""`loandesk schedule`: print a repayment schedule (a table, or the API's JSON with --json)."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from loandesk.core.i18n import message
from loandesk.lending import calculator
from loandesk.lending.finance import FinanceInputError

OPTIONS = [
    ("--principal", "principal", "amount in yuan, e.g. 12000"),
    ("--annual-rate", "annual_rate", "annual rate in percent, e.g. 6"),
    ("--periods", "periods", "number of installments"),
    ("--method", "method", "equal_installment|equal_principal|interest_only|bullet|flat"),
    ("--start", "start", "disbursement date YYYY-MM-DD (default: the business date)"),
    ("--first-due", "first_due", "first due date (default: one period after the start)"),
    ("--interest-period", "interest_period", "period|daily"),
    ("--day-count", "day_count", "act/365|act/360|act/act|30/360"),
    ("--installment-multiple", "installment_multiple", "round the installment to this, e.g. 1"),
    ("--frequency", "frequency", "monthly|weekly|biweekly|quarterly|daily"),
    ("--grace-periods", "grace_periods", "interest-only periods at the start"),
    ("--due-day", "due_day", "due day of month (31 = last day)"),
    ("--upfront-fee", "upfront_fee", "fee deducted at disbursement, yuan"),
    ("--period-fee", "period_fee", "fee per period"),
    ("--cap-line", "cap_line", "judicial|24|36 (APR cap to check against)"),
]


class Command(BaseCommand):
    help = "Compute a repayment schedule with the loan-math library."

    def add_arguments(self, parser: CommandParser) -> None:
        for flag, dest, text in OPTIONS:
            parser.add_argument(flag, dest=dest, help=text)
        parser.add_argument(
            "--holiday-shift", action="store_true", help="move due dates to workdays"
        )
        parser.add_argument("--json", action="store_true", help="print the API's JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        params = {dest: options[dest] for _, dest, _ in OPTIONS if options.get(dest) is not None}
        if options["holiday_shift"]:
            params["holiday_shift"] = True
        try:
            body = calculator.schedule(params)
        except FinanceInputError as exc:
            raise CommandError(f"{exc.field}: {message(exc.code, exc.message_params)}") from exc
        if options["json"]:
            self.stdout.write(json.dumps(body, ensure_ascii=False, indent=2))
            return
        self.stdout.write(self._table(body))

    def _table(self, body: dict[str, Any]) -> str:
        head = ["seq", "due date", "days", "principal", "interest", "fee", "total", "balance"]
        rows = [
            [
                str(r["seq"]),
                r["due_date"],
                str(r["days"]),
                r["principal"],
                r["interest"],
                r["fee"],
                r["total"],
                r["balance"],
            ]
            for r in body["rows"]
        ]
        t = body["totals"]
        rows.append(["", "total", "", t["principal"], t["interest"], t["fee"], t["total"], ""])
        widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.append("")
        lines.append(f"installment {body['installment']}   APR {body['apr']}%")
        cap = body["cap"]
        if cap["exceeded"]:
            lines.append(f"WARNING: {cap['message']}")
        lines += [f"warning: {w['message']}" for w in body["warnings"]]
        return "\n".join(lines)
