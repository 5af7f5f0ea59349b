"""Dashboard → PDF, drawn on the server with ReportLab (the contract PDFs' stack): A4 portrait,
the title, the data period and filters, when and for whom it was made, the KPI cards, then each
chart as the image the phone drew (ECharts `getDataURL`, sent with the request) and each table
widget as a real table. Numbers come from the server (reports.snapshot, the viewer's data
scope), never from the client; the images are only pictures, decoded and re-encoded by Pillow.
Text uses ReportLab's built-in CID font STSong-Light, so no font is embedded or fetched.
"""

import base64
import binascii
import io
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PilImage
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from loandesk.accounts.models import User
from loandesk.core import audit
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import EN, current_language
from loandesk.reports import snapshot
from loandesk.reports.models import Dashboard

FONT = "STSong-Light"
# One chart image, decoded (the whole request is also bounded by DATA_UPLOAD_MAX_MEMORY_SIZE,
# 2.5 MB: a larger body is a 413 before it is parsed).
MAX_IMAGE_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
PDF_ROWS = 200  # rows of one table in the PDF (the Excel export has all of them)
CONTENT_WIDTH = A4[0] - 30 * mm
MAX_CHART_HEIGHT = 110 * mm
_PREFIXES = ("data:image/png;base64,", "data:image/jpeg;base64,")

_font_ready = False


def _ensure_font() -> None:
    global _font_ready
    if not _font_ready:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _font_ready = True


def _en() -> bool:
    return current_language() == EN


def decode_images(images: Mapping[str, str], widget_ids: set[str]) -> dict[str, PilImage.Image]:
    """The chart images sent by the client, by widget id, checked: a PNG or JPEG data URL of at
    most MAX_IMAGE_BYTES and MAX_IMAGE_PIXELS; flattened onto white. Ids not on the dashboard
    are ignored. Anything else is a 422 naming the widget."""
    out: dict[str, PilImage.Image] = {}
    for key, url in images.items():
        if key not in widget_ids:
            continue
        try:
            if not isinstance(url, str) or not url.startswith(_PREFIXES):
                raise ValueError("not a data URL")
            data = base64.b64decode(url.partition(",")[2], validate=True)
            if len(data) > MAX_IMAGE_BYTES:
                raise ValueError("too large")
            with PilImage.open(io.BytesIO(data)) as probe:
                if probe.format not in ("PNG", "JPEG"):
                    raise ValueError("not PNG/JPEG")
                if probe.width * probe.height > MAX_IMAGE_PIXELS:
                    raise ValueError("too many pixels")
                probe.load()
                rgba = probe.convert("RGBA")
        except (ValueError, binascii.Error, OSError, PilImage.DecompressionBombError):
            raise ValidationFailed.field(
                "images", "reports.bad_image", widget=key[:40], mb=MAX_IMAGE_BYTES // 1024**2
            ) from None
        flat = PilImage.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        out[key] = flat
    return out


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=4),
        "meta": ParagraphStyle("meta", parent=base, fontSize=8.5, textColor=colors.grey),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=17, spaceBefore=8),
        "cell": base,
        "num": ParagraphStyle("num", parent=base, alignment=2),
        "kpi_label": ParagraphStyle("kl", parent=base, fontSize=8.5, textColor=colors.grey),
        "kpi_value": ParagraphStyle("kv", parent=base, fontSize=14, leading=19),
        "note": ParagraphStyle("note", parent=base, fontSize=8, textColor=colors.grey),
    }


def _t(text: Any) -> str:
    # U+00B7 (the "·" of titles like "贷款余额 · 按组织") has no glyph through the Adobe-GB1
    # CMap in common readers; the katakana middle dot U+30FB looks the same and has one.
    return str(text).replace("\u00b7", "\u30fb")


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(_t(text)), style)


def _kpi_grid(blocks: list[snapshot.Block], st: dict[str, ParagraphStyle]) -> Table | None:
    cells: list[list[Paragraph]] = []
    for block in blocks:
        for kpi in block.kpis:
            value = snapshot.shown(kpi.unit, kpi.value)
            parts = [_p(kpi.label, st["kpi_label"]), _p(value, st["kpi_value"])]
            change = kpi.change
            if change is not None:
                arrow = "▲" if change > 0 else ("▼" if change < 0 else "")
                parts.append(
                    _p(f"{arrow} {abs(change)}% {'vs previous' if _en() else '较上期'}", st["note"])
                )
            cells.append(parts)
    if not cells:
        return None
    per_row = 3
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    rows[-1] += [[]] * (per_row - len(rows[-1]))
    table = Table(rows, colWidths=[CONTENT_WIDTH / per_row] * per_row)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f7f8fa")),
                ("GRID", (0, 0), (-1, -1), 3, colors.white),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _data_table(table: snapshot.Table, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    labels = len(table.head) - len(table.units)

    def line(row: list[Any]) -> list[Paragraph]:
        return [
            _p(v, st["cell"])
            if i < labels
            else _p(snapshot.shown(table.units[i - labels], v), st["num"])
            for i, v in enumerate(row)
        ]

    body = [line(r) for r in table.rows[:PDF_ROWS]]
    head = [_p(h, st["cell"] if i < labels else st["num"]) for i, h in enumerate(table.head)]
    data = [head, *body]
    if table.total is not None:
        data.append(line(table.total))
    cols = max(1, len(table.head))
    first = min(CONTENT_WIDTH * 0.4, CONTENT_WIDTH / cols * 1.5) if labels else 0
    rest = (CONTENT_WIDTH - first) / max(1, cols - labels)
    widths = [first] * labels + [rest] * (cols - labels)
    out = Table(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f3f5")),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dcdee0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if table.total is not None:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f7f8fa")))
    out.setStyle(TableStyle(style))
    flow: list[Flowable] = [out]
    if len(table.rows) > PDF_ROWS:
        more = len(table.rows) - PDF_ROWS
        flow.append(
            _p(
                f"{more} more rows: export the chart to Excel"
                if _en()
                else f"另有 {more} 行,请导出 Excel 查看",
                st["note"],
            )
        )
    return flow


def _chart_image(img: PilImage.Image) -> Image:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    width = CONTENT_WIDTH
    height = width * img.height / img.width
    if height > MAX_CHART_HEIGHT:
        height = MAX_CHART_HEIGHT
        width = height * img.width / img.height
    return Image(buf, width=width, height=height)


def build(snap: snapshot.Snapshot, images: Mapping[str, PilImage.Image]) -> bytes:
    _ensure_font()
    en = _en()
    st = _styles()
    story: list[Flowable] = [_p(snap.name, st["title"])]
    meta = [
        ("Period" if en else "数据期间", snap.period_text or "—"),
        ("Generated" if en else "生成时间", snap.generated_at.strftime("%Y-%m-%d %H:%M")),
        ("Viewer (data scope)" if en else "查看人(数据范围)", snap.viewer),
    ]
    colon = ": " if en else ":"
    story.append(_p("  ·  ".join(f"{k}{colon}{v}" for k, v in meta), st["meta"]))
    story.append(Spacer(1, 4 * mm))
    grid = _kpi_grid(snap.kpis, st)
    if grid is not None:
        story.append(grid)
    for block in snap.others:
        head: list[Flowable] = [_p(block.title, st["h2"])]
        notes = []
        if block.period:
            notes.append(f"{block.period['start']} ~ {block.period['end']}")
        if block.filters:
            notes.append(("Filters: " if en else "筛选:") + "、".join(block.filters))
        if notes:
            head.append(_p(" · ".join(notes), st["note"]))
        head.append(Spacer(1, 1.5 * mm))
        image = images.get(block.widget_id)
        if block.error:
            story.append(KeepTogether([*head, _p(block.error, st["note"])]))
        elif block.chart in snapshot.TABLE_CHARTS and block.table is not None:
            story.extend(head)
            story.extend(_data_table(block.table, st))
        elif image is not None:
            story.append(KeepTogether([*head, _chart_image(image)]))
        elif block.table is not None:  # no picture sent: the chart's data as a table
            story.extend(head)
            story.extend(_data_table(block.table, st))
        else:
            note = "Open LoanDesk to see this chart." if en else "请在系统中查看此图表。"
            story.append(KeepTogether([*head, _p(note, st["note"])]))

    left = _t(f"{snap.name} · {snap.generated_at:%Y-%m-%d %H:%M}")

    class NumberedCanvas(Canvas):
        """The built-in CID font from the first operator on (no Helvetica), and a footer with
        "第 x 页 共 y 页" (pages are kept until the count is known)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = FONT
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.saveState()
                self.setFont(FONT, 7.5)
                self.setFillColor(colors.grey)
                number = self._pageNumber
                page = f"Page {number} of {total}" if en else f"第 {number} 页 共 {total} 页"
                self.drawString(15 * mm, 8 * mm, left)
                self.drawRightString(A4[0] - 15 * mm, 8 * mm, page)
                self.restoreState()
                super().showPage()
            super().save()

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=16 * mm,
        title=snap.name,
        author=snap.viewer,
        creator="LoanDesk",
    )
    doc.build(story, canvasmaker=NumberedCanvas)
    return out.getvalue()


def dashboard_pdf(*, actor: User, dashboard: Dashboard, images: Mapping[str, str]) -> bytes:
    """The PDF of a dashboard the actor may open (the caller checked), in their data scope."""
    ids = {str(w.get("id")) for w in dashboard.widgets or []}
    decoded = decode_images(images, ids)
    snap = snapshot.take(dashboard=dashboard, actor=actor)
    data = build(snap, decoded)
    audit.record(
        action="reports.dashboard_pdf",
        actor=actor,
        target=dashboard,
        extra={"widgets": len(ids), "images": len(decoded)},
    )
    return data
