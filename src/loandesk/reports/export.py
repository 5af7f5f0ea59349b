"""Chart data and record lists to Excel: write-only openpyxl, every text cell neutralised
against formula injection (the customers export's rule), numbers written as numbers."""

import tempfile
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

from loandesk.accounts.models import User
from loandesk.core import audit
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import EN, current_language
from loandesk.customers.export import neutralise
from loandesk.reports import query as q
from loandesk.reports import selectors, snapshot

MAX_EXPORT_ROWS = 50_000


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        try:
            # Decimal strings from the engine (money, percent) go out as numbers.
            number = Decimal(value)
            if number.is_finite() and value.strip() == value and "e" not in value.lower():
                return number
        except ArithmeticError:
            pass
    return neutralise(value)


def _save(workbook: Workbook) -> IO[bytes]:
    out = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the streaming response)
    workbook.save(out)
    out.seek(0)
    return out


def table_lines(table: "snapshot.Table") -> Iterator[list[Any]]:
    """The header, the rows and the total row of a chart table, ready for `sheet.append`:
    label columns neutralised, value columns as numbers."""
    labels = len(table.head) - len(table.units)
    yield [neutralise(h) for h in table.head]
    for row in [*table.rows, *([table.total] if table.total is not None else [])]:
        yield [neutralise(v) if i < labels else _cell(v) for i, v in enumerate(row)]


def export_chart(*, actor: User, payload: dict[str, Any], title: str = "") -> IO[bytes]:
    query = q.parse_query(payload)
    result = q.run_query(actor=actor, query=query)
    en = current_language() == EN
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Data" if en else "数据")
    if title:
        sheet.append([neutralise(title)])
    period = result["period"]
    sheet.append([("Period" if en else "期间"), f"{period['start']} ~ {period['end']}"])
    for line in table_lines(snapshot.result_table(result)):
        sheet.append(line)
    audit.record(
        action="reports.exported",
        actor=actor,
        target_type="reports.chart",
        target_label=",".join(query.metrics)[:200],
        extra={"metrics": list(query.metrics), "dimension": query.dimension},
    )
    return _save(workbook)


def export_records(
    *, actor: User, metric_key: str, filters: dict[str, Any], period: Any
) -> IO[bytes]:
    kind, qs = selectors.records_queryset(
        actor=actor, metric_key=metric_key, filters=filters, period=period
    )
    count = qs.count()
    if count > MAX_EXPORT_ROWS:
        params = {"max": MAX_EXPORT_ROWS}
        raise ValidationFailed(
            {"filters": q.message("reports.export_too_large", params)},
            code="reports.export_too_large",
            params=params,
        )
    builder, columns, _ = selectors.RECORD_KINDS[kind]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Records" if current_language() == EN else "明细")
    sheet.append([neutralise(selectors.column_label(c)) for c in columns])
    for start in range(0, count, 2000):
        for row in builder(qs[start : start + 2000]):
            sheet.append([_cell(row.get(c)) for c in columns])
    audit.record(
        action="reports.records_exported",
        actor=actor,
        target_type="reports.records",
        target_label=f"{metric_key} {count}",
        extra={"metric": metric_key, "count": count},
    )
    return _save(workbook)
