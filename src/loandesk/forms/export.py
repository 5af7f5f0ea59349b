"""Excel export of form records: one sheet for the records, one per sub-table. Text that a
spreadsheet would run as a formula is neutralised (see selectors.safe_cell)."""

import io
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from loandesk.accounts.models import User
from loandesk.core import audit
from loandesk.core.i18n import current_language
from loandesk.forms import selectors


def sheet_title(name: str) -> str:
    cleaned = "".join(c for c in name if c not in "[]:*?/\\")
    return cleaned[:31] or "Sheet"


def _cells(sheet: WriteOnlyWorksheet, values: list[Any], formats: list[str | None]) -> list[Any]:
    out: list[Any] = []
    for value, fmt in zip(values, formats, strict=False):
        if fmt and value is not None:
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = fmt
            out.append(cell)
        else:
            out.append(value)
    return out


def export_xlsx(
    *,
    actor: User,
    code: str,
    params: dict[str, str],
    sort: str,
    request: HttpRequest | None = None,
) -> tuple[str, bytes]:
    """(Content-Disposition file name, workbook bytes) for the records the actor may see."""
    form, head, sub_heads, rows, total = selectors.export_rows(
        actor=actor, code=code, params=params, sort=sort
    )
    workbook = Workbook(write_only=True)
    main = workbook.create_sheet(sheet_title(form.name))
    main.append([h["label"] for h in head])
    formats = [h["format"] for h in head]
    subs: dict[str, tuple[WriteOnlyWorksheet, list[str | None]]] = {}
    for sub, sub_head in sub_heads:
        sheet = workbook.create_sheet(sheet_title(sub.title(current_language())))
        sheet.append([h["label"] for h in sub_head])
        subs[sub.key] = (sheet, [h["format"] for h in sub_head])
    for line, sub_rows in rows:
        main.append(_cells(main, line, formats))
        for key, sub_lines in sub_rows.items():
            sheet, sub_formats = subs[key]
            for sub_line in sub_lines:
                sheet.append(_cells(sheet, sub_line, sub_formats))
    buffer = io.BytesIO()
    workbook.save(buffer)
    audit.record(
        action="forms.exported",
        actor=actor,
        target=form,
        extra={"rows": total, "filters": {k: v for k, v in params.items() if k.startswith("f.")}},
        request=request,
    )
    return f"attachment; filename*=UTF-8''{quote(form.name + '.xlsx')}", buffer.getvalue()
