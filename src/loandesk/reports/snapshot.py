"""A dashboard's numbers at one moment, as one viewer's data scope sees them: the KPI cards and
each chart's data as a table. The PDF export (reports.pdf) and the scheduled e-mails
(reports.subscriptions: plain text, HTML and the .xlsx attachment) are all drawn from it, so the
three show the same numbers."""

import html
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.utils import timezone
from openpyxl import Workbook

from loandesk.accounts.models import User
from loandesk.core.errors import LoanDeskError
from loandesk.core.i18n import EN, current_language
from loandesk.core.money import format_yuan
from loandesk.customers.export import neutralise
from loandesk.reports import query as q
from loandesk.reports.models import Dashboard
from loandesk.reports.selectors import ANALYSIS_CHARTS

# Charts whose natural printed form is a table (the others print as their chart image).
TABLE_CHARTS = ("table", "pivot", "ranking")
UNIT_SUFFIX = {"percent": "%", "hours": " h"}


def _en() -> bool:
    return current_language() == EN


def shown(unit: str, value: Any) -> str:
    """A number as people read it: ¥1,234.56, 12.5%, 3.2 h, 1,234; None is a dash."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if unit == "money":
        return format_yuan(number)
    if unit in UNIT_SUFFIX:
        return f"{value}{UNIT_SUFFIX[unit]}"
    return f"{number:,}" if number == number.to_integral_value() else str(value)


@dataclass
class Kpi:
    label: str
    unit: str
    value: Any
    previous: Any = None
    higher_is_better: bool = True

    @property
    def change(self) -> Decimal | None:
        """Change against the previous period in percent (one decimal), when compared."""
        try:
            now, before = Decimal(str(self.value)), Decimal(str(self.previous))
        except (InvalidOperation, TypeError):
            return None
        if self.previous is None or before == 0:
            return None
        return ((now - before) / abs(before) * 100).quantize(Decimal("0.1"))


@dataclass
class Table:
    head: list[str]
    units: list[str]  # one per value column (the first column is the label)
    rows: list[list[Any]]
    total: list[Any] | None = None


@dataclass
class Block:
    widget_id: str
    title: str
    chart: str
    period: dict[str, Any] | None = None
    filters: list[str] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)
    table: Table | None = None
    error: str = ""

    @property
    def is_kpi(self) -> bool:
        return self.chart == "kpi"


@dataclass
class Snapshot:
    name: str
    viewer: str
    generated_at: datetime
    blocks: list[Block]

    @property
    def kpis(self) -> list[Block]:
        return [b for b in self.blocks if b.is_kpi]

    @property
    def others(self) -> list[Block]:
        return [b for b in self.blocks if not b.is_kpi]

    @property
    def period_text(self) -> str:
        periods = [b.period for b in self.blocks if b.period]
        if not periods:
            return ""
        start = min(str(p["start"]) for p in periods)
        end = max(str(p["end"]) for p in periods)
        return f"{start} ~ {end}"


def result_table(result: dict[str, Any]) -> Table:
    """A chart result (reports.query.run_query) as a table: the label column, then one column
    per metric (or per series item), with a total row when there is no series."""
    dim = result["dimension"]
    if result["series"]:
        items = result["series"]["items"]
        unit = result["metrics"][0]["unit"]
        return Table(
            head=[dim["label"], *(i["label"] for i in items)],
            units=[unit] * len(items),
            rows=[[r["label"], *(r["values"][i["key"]] for i in items)] for r in result["rows"]],
        )
    metrics = result["metrics"]
    head = [dim["label"]] if dim else []
    return Table(
        head=[*head, *(m["label"] for m in metrics)],
        units=[m["unit"] for m in metrics],
        rows=[[r["label"], *(r["values"][m["key"]] for m in metrics)] for r in result["rows"]],
        total=[
            *(["Total" if _en() else "合计"] if dim else []),
            *(result["totals"][m["key"]] for m in metrics),
        ],
    )


def _filters_text(filters: Any) -> list[str]:
    if not isinstance(filters, dict):
        return []
    return [q.dim_label(k) if k in q.DIMENSIONS else str(k) for k in filters if filters[k]]


def _block(widget: dict[str, Any], actor: User) -> Block:
    chart = str(widget.get("chart") or "")
    query = widget.get("query") or {}
    block = Block(
        widget_id=str(widget.get("id") or ""),
        title=str(widget.get("title") or ""),
        chart=chart,
        filters=_filters_text(query.get("filters")),
    )
    if chart in ANALYSIS_CHARTS:
        return block  # month-end loan analyses print as their image only
    try:
        if chart == "kpi":
            parsed = q.parse_query({**query, "dimension": None, "series": None})
        else:
            parsed = q.parse_query(query)
        result = q.run_query(actor=actor, query=parsed)
    except LoanDeskError as exc:  # e.g. a custom metric whose field was removed since
        fields = exc.details.get("fields") or {}
        block.error = "; ".join(str(v) for v in fields.values()) or exc.message
        return block
    block.period = result["period"]
    if not block.title:
        block.title = " / ".join(m["label"] for m in result["metrics"])
    if chart == "kpi":
        previous = result.get("previous_totals") or {}
        block.kpis = [
            Kpi(
                label=m["label"],
                unit=m["unit"],
                value=result["totals"].get(m["key"]),
                previous=previous.get(m["key"]),
                higher_is_better=m["higher_is_better"],
            )
            for m in result["metrics"]
        ]
    else:
        block.table = result_table(result)
    return block


def dashboard_name(dashboard: Dashboard) -> str:
    return (dashboard.name_en or dashboard.name) if _en() else dashboard.name


def take(*, dashboard: Dashboard, actor: User, at: datetime | None = None) -> Snapshot:
    """Every widget of the dashboard, in reading order, inside the actor's data scope."""
    widgets = sorted(
        dashboard.widgets or [], key=lambda w: (int(w.get("y") or 0), int(w.get("x") or 0))
    )
    return Snapshot(
        name=dashboard_name(dashboard),
        viewer=actor.full_name or actor.username,
        generated_at=timezone.localtime(at or timezone.now(), q._tz()),
        blocks=[_block(w, actor) for w in widgets],
    )


# --- Excel -----------------------------------------------------------------------------------


def _sheet_title(title: str, taken: set[str]) -> str:
    clean = "".join("_" if c in "[]:*?/\\" else c for c in title).strip("' ") or "Sheet"
    base = clean[:28]
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}~{n}", n + 1
    taken.add(name.lower())
    return name


def workbook(snapshot: Snapshot) -> IO[bytes]:
    """The snapshot as .xlsx: a summary sheet of the KPI cards, then one sheet per chart with its
    full data. Text is neutralised against formula injection; numbers are numbers."""
    from loandesk.reports.export import _cell, _save, table_lines

    en = _en()
    book = Workbook(write_only=True)
    taken: set[str] = set()
    summary = book.create_sheet(_sheet_title("Summary" if en else "概览", taken))
    summary.append([neutralise(snapshot.name)])
    summary.append(
        [
            "Generated" if en else "生成时间",
            snapshot.generated_at.strftime("%Y-%m-%d %H:%M"),
            "Viewer" if en else "查看人",
            neutralise(snapshot.viewer),
        ]
    )
    summary.append([])
    summary.append(
        ["Card", "Metric", "Value", "Previous", "Period"]
        if en
        else ["卡片", "指标", "数值", "上期", "期间"]
    )
    for block in snapshot.kpis:
        period = f"{block.period['start']} ~ {block.period['end']}" if block.period else ""
        for kpi in block.kpis:
            summary.append(
                [
                    neutralise(block.title),
                    neutralise(kpi.label),
                    _cell(kpi.value),
                    _cell(kpi.previous),
                    period,
                ]
            )
    for block in snapshot.others:
        if block.table is None:
            continue
        sheet = book.create_sheet(_sheet_title(block.title, taken))
        sheet.append([neutralise(block.title)])
        if block.period:
            period = f"{block.period['start']} ~ {block.period['end']}"
            sheet.append(["Period" if en else "期间", period])
        for line in table_lines(block.table):
            sheet.append(line)
    return _save(book)


# --- e-mail ----------------------------------------------------------------------------------

MAIL_ROWS = 20  # rows of a table shown in the HTML body; the attachment has all of them


def plain_text(snapshot: Snapshot, day: Any) -> str:
    """The KPI cards as text lines (the e-mail's text/plain part)."""
    lines = [f"{snapshot.name} · {day.isoformat()}", ""]
    for block in snapshot.kpis:
        for kpi in block.kpis:
            value = kpi.value
            unit = {"money": " 元", "percent": "%", "hours": " h"}.get(kpi.unit, "")
            lines.append(f"{kpi.label}: {'—' if value is None else f'{value}{unit}'}")
    lines += ["", "完整数据见附件 Excel。 The full data is in the attached Excel file."]
    return "\n".join(lines)[:4000]


_FONT = "font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;"
_CELL = "padding:6px 8px;border-bottom:1px solid #ebedf0;font-size:13px;"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _kpi_cell(kpi: Kpi) -> str:
    change = kpi.change
    note = ""
    if change is not None:
        good = (change > 0) == kpi.higher_is_better if change != 0 else None
        colour = "#969799" if good is None else ("#07c160" if good else "#ee0a24")
        arrow = "▲" if change > 0 else ("▼" if change < 0 else "")
        note = (
            f'<div style="font-size:12px;color:{colour};">{arrow} {_e(abs(change))}% '
            f"较上期 vs previous</div>"
        )
    return (
        f'<td style="padding:10px 12px;background:#f7f8fa;border:4px solid #fff;'
        f'vertical-align:top;width:50%;">'
        f'<div style="font-size:12px;color:#646566;">{_e(kpi.label)}</div>'
        f'<div style="font-size:20px;font-weight:600;color:#323233;margin-top:4px;">'
        f"{_e(shown(kpi.unit, kpi.value))}</div>{note}</td>"
    )


def _table_html(table: Table) -> str:
    head = "".join(
        f'<th style="{_CELL}text-align:{"left" if i == 0 else "right"};color:#646566;'
        f'font-weight:600;background:#f7f8fa;">{_e(h)}</th>'
        for i, h in enumerate(table.head)
    )
    offset = len(table.head) - len(table.units)  # 1 with a label column, 0 for totals only

    def cells(row: list[Any], bold: bool = False) -> str:
        weight = "font-weight:600;" if bold else ""
        out = []
        for i, v in enumerate(row):
            if i < offset:
                out.append(f'<td style="{_CELL}{weight}text-align:left;">{_e(v)}</td>')
            else:
                text = shown(table.units[i - offset], v)
                out.append(f'<td style="{_CELL}{weight}text-align:right;">{_e(text)}</td>')
        return "<tr>" + "".join(out) + "</tr>"

    body = "".join(cells(r) for r in table.rows[:MAIL_ROWS])
    if len(table.rows) > MAIL_ROWS:
        more = len(table.rows) - MAIL_ROWS
        body += (
            f'<tr><td colspan="{len(table.head)}" style="{_CELL}color:#969799;">'
            f"另有 {more} 行见附件 · {more} more rows in the attachment</td></tr>"
        )
    if table.total is not None:
        body += cells(table.total, bold=True)
    return (
        f'<table role="presentation" style="border-collapse:collapse;width:100%;">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def mail_html(snapshot: Snapshot, day: Any) -> str:
    """The e-mail's text/html part: inline styles only (mail clients drop <style>), Chinese
    first with English second, KPI cards two to a row, then each chart's data as a table."""
    parts = [
        f'<div style="{_FONT}max-width:640px;margin:0 auto;color:#323233;">',
        f'<h1 style="font-size:20px;margin:16px 0 4px;">{_e(snapshot.name)}</h1>',
        f'<p style="font-size:12px;color:#969799;margin:0 0 12px;">'
        f"{_e(day.isoformat())} · 数据期间 Period {_e(snapshot.period_text)} · "
        f"按 {_e(snapshot.viewer)} 的数据范围 Scope of {_e(snapshot.viewer)}</p>",
    ]
    kpis = [kpi for block in snapshot.kpis for kpi in block.kpis]
    if kpis:
        rows = []
        for i in range(0, len(kpis), 2):
            pair = "".join(_kpi_cell(k) for k in kpis[i : i + 2])
            if len(kpis[i : i + 2]) == 1:
                pair += '<td style="width:50%;"></td>'
            rows.append(f"<tr>{pair}</tr>")
        parts.append(
            '<table role="presentation" style="border-collapse:collapse;width:100%;">'
            + "".join(rows)
            + "</table>"
        )
    for block in snapshot.others:
        parts.append(f'<h2 style="font-size:15px;margin:20px 0 6px;">{_e(block.title)}</h2>')
        if block.period:
            parts.append(
                f'<p style="font-size:12px;color:#969799;margin:0 0 6px;">'
                f"{_e(block.period['start'])} ~ {_e(block.period['end'])}</p>"
            )
        if block.table is not None:
            parts.append(_table_html(block.table))
        else:
            parts.append(
                '<p style="font-size:13px;color:#969799;">请在系统中查看此图表。'
                " Open LoanDesk to see this chart.</p>"
            )
    parts.append(
        '<p style="font-size:12px;color:#969799;margin-top:24px;">'
        "完整数据见附件 Excel。此邮件由信贷通按订阅自动发送。<br>"
        "The full data is in the attached Excel file. Sent by LoanDesk on a subscription.</p>"
        "</div>"
    )
    return "".join(parts)
