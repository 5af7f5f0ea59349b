"""Loan contracts: admin-edited templates rendered to PDF and stored on the customer.

The template language is deliberately tiny, so an admin can edit it on a phone and nothing an
admin types is ever executed (no eval, no Django template engine on admin input):

- paragraphs are separated by blank lines; a single line break stays a line break;
- a paragraph starting with `# ` is a heading;
- `{{name}}` inserts a value from `PLACEHOLDERS` (or `{{form.<key>}}`, any field of the
  application form); unknown names are refused when the template is saved;
- `{{schedule_table}}` and `{{signatures}}` are blocks and stand alone as a paragraph.

PDFs are drawn with ReportLab's built-in CID font STSong-Light (Adobe-GB1): no font file is
embedded or downloaded, every PDF reader ships the font. For the same inputs the bytes are the
same (the creation date is the contract date, the file ID a digest of the inputs).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from loandesk.accounts.models import User
from loandesk.accounts.scoping import ScopeSpec, has_perm, require_perm, scoped
from loandesk.core import audit, outbox
from loandesk.core.errors import (
    Conflict,
    LoanDeskError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from loandesk.core.i18n import EN, current_language, message
from loandesk.core.money import FEN, fen_to_yuan, format_yuan, to_chinese_capital
from loandesk.core.services import get_business_date
from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed
from loandesk.lending.finance.rounding import percent_str
from loandesk.lending.loans import next_contract_no
from loandesk.lending.models import ContractTemplate, GeneratedContract, Product
from loandesk.lending.products import Priced, parse_terms, price, rate_text

MANAGE_PERM = "contracts.manage_templates"
DEFAULT_TEMPLATE = "loan_contract"
DEFAULT_LENDER_NAME = "信贷通示范小额贷款有限公司"
FONT = "STSong-Light"
MAX_BODY = 50_000
MAX_TEXT_VALUE = 200
APPLICATION_FORM = "loan_application"
DOCUMENT_KIND = "contract"

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_FORM_KEY = re.compile(r"^form\.[A-Za-z_][A-Za-z0-9_]{0,63}$")
_PLACEHOLDER = re.compile(r"\{\{([^{}\n]*)\}\}")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\u3000]*\n")


@dataclass(frozen=True)
class PlaceholderDef:
    name: str
    zh: str
    en: str
    block: bool = False


PLACEHOLDERS: tuple[PlaceholderDef, ...] = (
    PlaceholderDef("contract_no", "合同编号", "Contract number"),
    PlaceholderDef("date", "签订日期(营业日)", "Contract date (business date)"),
    PlaceholderDef("lender.name", "贷款人名称", "Lender name"),
    PlaceholderDef("customer.name", "借款人姓名/名称", "Borrower name"),
    PlaceholderDef(
        "customer.id_number",
        "借款人身份证号(企业为统一社会信用代码)",
        "Borrower ID number (USCC for companies)",
    ),
    PlaceholderDef("product.name", "贷款产品", "Loan product"),
    PlaceholderDef("amount", "借款金额(小写,如 ￥100,000.00)", "Amount in figures (￥100,000.00)"),
    PlaceholderDef("amount_capital", "借款金额(大写)", "Amount in Chinese capital numerals"),
    PlaceholderDef("term", "借款期数", "Number of periods"),
    PlaceholderDef("annual_rate", "年利率(如 12.00%)", "Annual interest rate (e.g. 12.00%)"),
    PlaceholderDef("apr", "年化利率 APR(IRR 口径)", "APR (IRR method)"),
    PlaceholderDef("repayment_method", "还款方式", "Repayment method"),
    PlaceholderDef("monthly_payment", "每期还款额", "Installment amount"),
    PlaceholderDef("first_due_date", "首期还款日", "First due date"),
    PlaceholderDef("maturity_date", "到期日", "Maturity date"),
    PlaceholderDef("total_interest", "利息总额", "Total interest"),
    PlaceholderDef("total_payment", "还款总额", "Total repayment"),
    PlaceholderDef("penalty_rate", "逾期罚息年利率", "Penalty interest rate (per year)"),
    PlaceholderDef("grace_days", "宽限期(天)", "Grace days"),
    PlaceholderDef(
        "schedule_table", "还款计划表(独占一段)", "Repayment schedule (own paragraph)", True
    ),
    PlaceholderDef("signatures", "签章栏(独占一段)", "Signature block (own paragraph)", True),
)
_BY_NAME = {p.name: p for p in PLACEHOLDERS}
BLOCKS = frozenset(p.name for p in PLACEHOLDERS if p.block)

_METHOD_ZH = {m.value: m.label for m in Product.Method}
_METHOD_EN = {
    "equal_installment": "equal installments",
    "equal_principal": "equal principal",
    "interest_only": "interest only, principal at maturity",
    "bullet": "principal and interest at maturity",
    "flat": "flat rate",
}


# --- the template language ------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One paragraph of a parsed template: `kind` heading / paragraph / block; `parts` are
    literal strings and placeholder names (as ("ph", name) tuples)."""

    kind: str
    parts: tuple[str | tuple[str, str], ...] = ()
    name: str = ""
    line: int = 1


def _line_of(body: str, offset: int) -> int:
    return body.count("\n", 0, offset) + 1


def _bad(code: str, body: str, offset: int, name: str = "", length: int = 0) -> ValidationFailed:
    line = _line_of(body, offset)
    params = {"name": name, "line": line}
    error = ValidationFailed({"body": message(code, params)}, code=code, params=params)
    # Where the editor should put the cursor: the offending placeholder.
    error.details["placeholder"] = {
        "name": name,
        "line": line,
        "offset": offset,
        "length": length,
    }
    return error


def known_placeholder(name: str) -> bool:
    return (name in _BY_NAME and name not in BLOCKS) or bool(_FORM_KEY.match(name))


def parse_template(body: str) -> list[Block]:
    """Split a body into blocks, or raise ValidationFailed naming the first bad placeholder."""
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed.field("body", "contracts.body_empty")
    if len(body) > MAX_BODY:
        raise ValidationFailed.field("body", "contracts.body_too_long", max=MAX_BODY)
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    blocks: list[Block] = []
    start = 0
    for chunk in [*_PARAGRAPH_BREAK.split(body)]:
        offset = body.index(chunk, start)
        start = offset + len(chunk)
        text = chunk.strip()
        if not text:
            continue
        offset += chunk.index(text)
        heading = text.startswith("# ")
        if heading:
            inner = text[2:].strip()
            offset += len(text) - len(text[2:].lstrip())
            text = inner
        parts: list[str | tuple[str, str]] = []
        pos = 0
        for match in _PLACEHOLDER.finditer(text):
            name = match.group(1).strip()
            at = offset + match.start()
            if name in BLOCKS:
                if heading:
                    raise _bad("contracts.block_in_heading", body, at, name, len(match.group(0)))
                if text.strip() != match.group(0):
                    raise _bad(
                        "contracts.block_placeholder_alone", body, at, name, len(match.group(0))
                    )
            elif not known_placeholder(name):
                raise _bad("contracts.unknown_placeholder", body, at, name, len(match.group(0)))
            literal = text[pos : match.start()]
            _check_literal(literal, body, offset + pos)
            if literal:
                parts.append(literal)
            parts.append(("ph", name))
            pos = match.end()
        _check_literal(text[pos:], body, offset + pos)
        if text[pos:]:
            parts.append(text[pos:])
        line = _line_of(body, offset)
        if len(parts) == 1 and isinstance(parts[0], tuple) and parts[0][1] in BLOCKS:
            blocks.append(Block("block", name=parts[0][1], line=line))
        else:
            blocks.append(Block("heading" if heading else "paragraph", tuple(parts), line=line))
    return blocks


def _check_literal(text: str, body: str, offset: int) -> None:
    """Text between placeholders must not hold a half placeholder ("{{amount" or "x}}")."""
    for token in ("{{", "}}"):
        at = text.find(token)
        if at >= 0:
            raise _bad("contracts.placeholder_unclosed", body, offset + at, "", 2)


def placeholders_used(body: str) -> list[str]:
    return sorted(
        {part[1] for b in parse_template(body) for part in b.parts if isinstance(part, tuple)}
        | {b.name for b in parse_template(body) if b.kind == "block"}
    )


def placeholder_catalog(lang: str | None = None) -> list[dict[str, Any]]:
    """The list the editor's picker shows: fixed placeholders, then the application form's
    fields (from its published version, when there is one)."""
    english = (lang or current_language()) == EN
    items: list[dict[str, Any]] = [
        {
            "name": p.name,
            "token": "{{" + p.name + "}}",
            "label": p.en if english else p.zh,
            "zh": p.zh,
            "en": p.en,
            "block": p.block,
            "group": "block" if p.block else "contract",
        }
        for p in PLACEHOLDERS
    ]
    for key, zh, en in _form_fields():
        items.append(
            {
                "name": f"form.{key}",
                "token": "{{form." + key + "}}",
                "label": en if english else zh,
                "zh": f"申请表:{zh}",
                "en": f"Application: {en}",
                "block": False,
                "group": "form",
            }
        )
    return items


def _form_fields() -> list[tuple[str, str, str]]:
    from loandesk.forms.models import FormDefinition
    from loandesk.forms.services import compiled_version

    form = FormDefinition.objects.filter(code=APPLICATION_FORM).first()
    version = form.current_version if form is not None else None
    if version is None:
        return []
    out: list[tuple[str, str, str]] = []
    for _parent, f in compiled_version(version).walk():
        if _parent is None and not f.children and _FORM_KEY.match(f"form.{f.key}"):
            out.append((f.key, f.title("zh-CN"), f.title("en-US")))
    return out


# --- values --------------------------------------------------------------------------------


@dataclass
class ContractData:
    """Everything a template can show, already formatted (plus the schedule for the table)."""

    contract_no: str
    day: date
    lender_name: str
    customer_name: str
    customer_id_number: str
    priced: Priced
    form: dict[str, str] = field(default_factory=dict)
    preview: bool = False

    def values(self) -> dict[str, str]:
        p = self.priced
        rows = p.result.rows
        totals = p.result.totals
        product = p.product
        penalty = p.terms.annual_rate * product.penalty_rate_multiplier
        return {
            "contract_no": self.contract_no,
            "date": _cn_date(self.day),
            "lender.name": self.lender_name,
            "customer.name": self.customer_name,
            "customer.id_number": self.customer_id_number,
            "product.name": product.name,
            "amount": _pdf_yuan(p.terms.amount),
            "amount_capital": to_chinese_capital(p.terms.amount),
            "term": str(p.terms.periods),
            "annual_rate": f"{rate_text(p.terms.annual_rate)}%",
            "apr": f"{percent_str(p.apr)}%",
            "repayment_method": _METHOD_ZH.get(product.method, product.method),
            "monthly_payment": _pdf_yuan(p.result.installment),
            "first_due_date": _cn_date(rows[0].due_date),
            "maturity_date": _cn_date(rows[-1].due_date),
            "total_interest": _pdf_yuan(totals.interest),
            "total_payment": _pdf_yuan(totals.principal + totals.interest + totals.fee),
            "penalty_rate": f"{percent_str(penalty)}%",
            "grace_days": str(product.grace_days),
            **{f"form.{key}": value for key, value in self.form.items()},
        }

    def seed(self) -> bytes:
        """The inputs as bytes: the PDF's file ID is derived from them."""
        p = self.priced
        return json.dumps(
            [
                self.contract_no,
                self.day.isoformat(),
                self.customer_name,
                self.customer_id_number,
                p.product.code,
                str(p.terms.amount),
                p.terms.periods,
                str(p.terms.annual_rate),
                self.form,
                self.preview,
            ],
            ensure_ascii=False,
            sort_keys=True,
        ).encode()


def _pdf_yuan(amount: Decimal) -> str:
    """￥1,234.56 with the full-width yuan sign: STSong-Light (GB 2312) has no glyph for ¥."""
    return format_yuan(amount, symbol="￥")


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def lender_name() -> str:
    from django.conf import settings

    return str(getattr(settings, "LOANDESK_LENDER_NAME", "") or DEFAULT_LENDER_NAME)


# --- rendering -----------------------------------------------------------------------------

_font_ready = False


def _ensure_font() -> None:
    global _font_ready
    if not _font_ready:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _font_ready = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body",
        fontName=FONT,
        fontSize=10.5,
        leading=17,
        wordWrap="CJK",
        spaceAfter=5,
        firstLineIndent=0,
    )
    return {
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4
        ),
        "no": ParagraphStyle("no", parent=base, fontSize=9.5, alignment=TA_RIGHT, spaceAfter=10),
        "heading": ParagraphStyle(
            "heading",
            parent=base,
            fontSize=12,
            leading=20,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "body": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11, spaceAfter=0),
        "sign": ParagraphStyle("sign", parent=base, fontSize=10.5, leading=22, spaceAfter=0),
    }


def _inline(parts: tuple[str | tuple[str, str], ...], values: Mapping[str, str]) -> str:
    """Paragraph markup: admin text and values escaped, line breaks kept, values underlined."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, tuple):
            value = values.get(part[1], "")
            out.append(f"<u>{escape(value)}</u>" if value else "_" * 16)
        else:
            out.append(escape(part))
    return "".join(out).replace("\n", "<br/>")


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(FEN):,.2f}"


def schedule_table(priced: Priced, styles: Mapping[str, ParagraphStyle]) -> Table:
    """期次 / 还款日 / 本金 / 利息 (/ 费用) / 应还合计 / 剩余本金, with an exact total row."""
    rows = priced.result.rows
    with_fee = any(r.fee for r in rows)
    header = ["期次", "还款日", "应还本金", "应还利息"]
    if with_fee:
        header.append("费用")
    header += ["应还合计", "剩余本金"]
    data: list[list[Any]] = [header]
    for r in rows:
        line = [str(r.seq), r.due_date.isoformat(), _money(r.principal), _money(r.interest)]
        if with_fee:
            line.append(_money(r.fee))
        line += [_money(r.total), _money(r.closing_balance)]
        data.append(line)
    principal = sum((r.principal for r in rows), Decimal(0))
    interest = sum((r.interest for r in rows), Decimal(0))
    fee = sum((r.fee for r in rows), Decimal(0))
    total = sum((r.total for r in rows), Decimal(0))
    footer = ["合计", "", _money(principal), _money(interest)]
    if with_fee:
        footer.append(_money(fee))
    footer += [_money(total), ""]
    data.append(footer)
    width = A4[0] - 40 * mm
    widths = [10, 23, 24, 22, 18, 24, 24] if with_fee else [12, 26, 29, 26, 29, 29]
    scale = width / (sum(widths) * mm)
    table = Table(data, colWidths=[w * mm * scale for w in widths], repeatRows=1, hAlign="CENTER")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 8.5),
                ("LEADING", (0, 0), (-1, -1), 11),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f6f6")),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (0, 1), (1, -1), "CENTER"),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def signature_block(data: ContractData, styles: Mapping[str, ParagraphStyle]) -> Flowable:
    blank = "_" * 14
    sign = styles["sign"]
    lender = [
        Paragraph(f"甲方(贷款人):{escape(data.lender_name)}", sign),
        Paragraph("(盖章)", sign),
        Paragraph(f"法定代表人或授权代表(签字):{blank}", sign),
        Paragraph(f"日期:{blank}", sign),
    ]
    borrower = [
        Paragraph(f"乙方(借款人):{escape(data.customer_name)}", sign),
        Paragraph(f"证件号码:{escape(data.customer_id_number)}", sign),
        Paragraph(f"借款人(签字并按手印):{blank}", sign),
        Paragraph(f"日期:{blank}", sign),
    ]
    width = (A4[0] - 40 * mm) / 2
    table = Table([[lender, borrower]], colWidths=[width, width])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 10.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 12),
            ]
        )
    )
    return KeepTogether([Spacer(1, 6 * mm), table])


def _canvas_class(data: ContractData) -> type[Canvas]:
    """A canvas that numbers pages "第 x 页 共 y 页" (pages are kept until the count is known)
    and stamps the contract number; dates and the file ID come from the inputs."""
    seed = data.seed()
    day = data.day
    footer_left = f"合同编号:{data.contract_no}"
    preview = data.preview

    class ContractCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["invariant"] = 1
            kwargs["initialFontName"] = FONT
            super().__init__(*args, **kwargs)
            stamp = self._doc._timeStamp
            stamp.YMDhms = (day.year, day.month, day.day, 0, 0, 0)
            stamp.dhh, stamp.dmm = 8, 0
            self._doc.signature.update(seed)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._footer(total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _footer(self, total: int) -> None:
            self.saveState()
            self.setFont(FONT, 8.5)
            self.setFillColor(colors.HexColor("#666666"))
            self.drawString(20 * mm, 12 * mm, footer_left)
            self.drawCentredString(A4[0] / 2, 12 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            if preview:
                self.drawRightString(A4[0] - 20 * mm, 12 * mm, "预览样本,非正式合同")
            self.restoreState()

    return ContractCanvas


def render_contract(*, title: str, blocks: list[Block], data: ContractData) -> bytes:
    """The PDF bytes for parsed `blocks` filled with `data`."""
    _ensure_font()
    styles = _styles()
    values = data.values()
    story: list[Flowable] = [
        Paragraph(escape(title), styles["title"]),
        Paragraph(escape(f"合同编号:{data.contract_no}"), styles["no"]),
    ]
    for block in blocks:
        if block.kind == "heading":
            story.append(Paragraph(_inline(block.parts, values), styles["heading"]))
        elif block.kind == "paragraph":
            story.append(Paragraph(_inline(block.parts, values), styles["body"]))
        elif block.name == "schedule_table":
            story += [Spacer(1, 2 * mm), schedule_table(data.priced, styles), Spacer(1, 4 * mm)]
        elif block.name == "signatures":
            story.append(signature_block(data, styles))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        title=f"{title} {data.contract_no}",
        author=data.lender_name,
        subject=title,
        creator="LoanDesk",
        producer="LoanDesk",
        invariant=1,
        lang="zh-CN",
    )
    doc.build(story, canvasmaker=_canvas_class(data))
    return buffer.getvalue()


# --- templates: admin writes and reads ------------------------------------------------------


def _clean_template(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if creating or "code" in data:
        code = data.get("code")
        if not isinstance(code, str) or not _CODE.match(code.strip()):
            errors["code"] = message("contracts.code_invalid")
        else:
            values["code"] = code.strip()
    if creating or "name" in data:
        name = data.get("name")
        name = name.strip() if isinstance(name, str) else ""
        if not name or len(name) > 100:
            errors["name"] = message("contracts.name_invalid")
        else:
            values["name"] = name
    if "is_active" in data and data["is_active"] is not None:
        if not isinstance(data["is_active"], bool):
            errors["is_active"] = message("lending.boolean_invalid")
        else:
            values["is_active"] = data["is_active"]
    if creating or "body" in data:
        body = data.get("body")
        if errors:  # report the simple fields together with the body's first problem
            try:
                parse_template(body)  # type: ignore[arg-type]
            except ValidationFailed as exc:
                errors.update(exc.details["fields"])
                error = ValidationFailed(errors, code=exc.code, params=exc.params)
                if "placeholder" in exc.details:
                    error.details["placeholder"] = exc.details["placeholder"]
                raise error from None
        else:
            parse_template(body)  # type: ignore[arg-type]
        values["body"] = body.replace("\r\n", "\n")  # type: ignore[union-attr]
    if errors:
        raise ValidationFailed(errors)
    return values


_AUDITED = ("code", "name", "body", "is_active", "version")


def create_template(*, actor: User, data: Mapping[str, Any]) -> ContractTemplate:
    require_perm(actor, MANAGE_PERM)
    values = _clean_template(data, creating=True)
    if ContractTemplate.objects.filter(code=values["code"]).exists():
        raise ValidationFailed.field("code", "contracts.code_taken")
    try:
        with transaction.atomic():
            template = ContractTemplate.objects.create(**values, updated_by=actor)
            audit.record_change(
                actor=actor,
                instance=template,
                before=None,
                after=audit.snapshot(template, _AUDITED),
            )
    except IntegrityError:
        raise ValidationFailed.field("code", "contracts.code_taken") from None
    return template


@transaction.atomic
def update_template(
    *, actor: User, code: str, data: Mapping[str, Any], expected_version: int | None = None
) -> ContractTemplate:
    """Change name, body and/or is_active; the version grows when anything changed.
    `expected_version` (the version the editor loaded) refuses a save over someone else's."""
    require_perm(actor, MANAGE_PERM)
    template = ContractTemplate.objects.select_for_update().filter(code=code).first()
    if template is None:
        raise NotFound()
    if "code" in data and data["code"] not in (None, code):
        raise ValidationFailed.field("code", "lending.product.code_immutable")
    changes = {k: v for k, v in data.items() if k in ("name", "body", "is_active")}
    values = _clean_template(changes, creating=False)
    if expected_version is not None and expected_version != template.version:
        raise Conflict("contracts.version_conflict", params={"version": template.version})
    before = audit.snapshot(template, _AUDITED)
    changed = {k: v for k, v in values.items() if getattr(template, k) != v}
    if not changed:
        return template
    for name, value in changed.items():
        setattr(template, name, value)
    template.version += 1
    template.updated_by = actor
    template.save()
    audit.record_change(
        actor=actor, instance=template, before=before, after=audit.snapshot(template, _AUDITED)
    )
    return template


def require_manage(actor: User) -> None:
    require_perm(actor, MANAGE_PERM)


def list_templates(*, actor: User) -> QuerySet[ContractTemplate]:
    require_perm(actor, MANAGE_PERM)
    return ContractTemplate.objects.select_related("updated_by").order_by("code")


def get_template(*, actor: User, code: str) -> ContractTemplate:
    require_perm(actor, MANAGE_PERM)
    template = ContractTemplate.objects.select_related("updated_by").filter(code=code).first()
    if template is None:
        raise NotFound()
    return template


def template_out(template: ContractTemplate, *, with_body: bool = True) -> dict[str, Any]:
    by = template.updated_by
    out: dict[str, Any] = {
        "code": template.code,
        "name": template.name,
        "is_active": template.is_active,
        "version": template.version,
        "updated_at": template.updated_at,
        "updated_by": {"id": by.pk, "name": by.full_name or by.username} if by else None,
    }
    if with_body:
        out["body"] = template.body
    return out


# --- preview -------------------------------------------------------------------------------

SAMPLE: dict[str, Any] = {
    "customer_name": "张三",
    "customer_id_number": "110101199003074514",
    "amount": "100000",
    "term": 12,
    "annual_rate": "12",
    "form": {"purpose": "日常消费"},
}


def _text_value(value: Any, name: str, errors: dict[str, str]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | Decimal) or isinstance(value, bool):
        errors[name] = message("contracts.values_invalid")
        return ""
    text = str(value).strip()
    if len(text) > MAX_TEXT_VALUE:
        errors[name] = message("contracts.text_too_long", {"max": MAX_TEXT_VALUE})
    return text


def _integral(value: Any) -> Any:
    """A whole number given as "12", "12.0" or Decimal("12") becomes 12 (form numbers are
    stored as decimal strings); anything else is passed on for parse_terms to judge."""
    if isinstance(value, bool):
        return value
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        return value
    if number.is_finite() and number == number.to_integral_value():
        return int(number)
    return value


def _priced(product: Product, *, amount: Any, term: Any, annual_rate: Any, day: date) -> Priced:
    try:
        terms = parse_terms(
            amount=amount,
            periods=_integral(term),
            annual_rate=annual_rate,
            start=day,
            first_due=None,
        )
        return price(product, terms)
    except ValidationFailed as exc:
        fields = {("term" if k == "periods" else k): v for k, v in exc.details["fields"].items()}
        raise ValidationFailed(fields, code=exc.code, params=exc.params) from None


def preview_contract(
    *,
    actor: User,
    template_code: str,
    values: Mapping[str, Any] | None = None,
    body: str | None = None,
) -> bytes:
    """A sample PDF of the template (or of an unsaved `body`), filled with `values` over the
    sample borrower; nothing is numbered or stored."""
    template = get_template(actor=actor, code=template_code)
    blocks = parse_template(template.body if body is None else body)
    given = {**SAMPLE, **{k: v for k, v in (values or {}).items() if v not in (None, "")}}
    errors: dict[str, str] = {}
    name = _text_value(given.get("customer_name"), "customer_name", errors)
    id_number = _text_value(given.get("customer_id_number"), "customer_id_number", errors)
    form_values: dict[str, str] = {}
    raw_form = given.get("form") or {}
    if not isinstance(raw_form, Mapping):
        errors["form"] = message("contracts.values_invalid")
    else:
        for key, value in raw_form.items():
            if not isinstance(key, str) or not _FORM_KEY.match(f"form.{key}"):
                errors["form"] = message("contracts.values_invalid")
                continue
            form_values[key] = _text_value(value, f"form.{key}", errors)
    code = given.get("product")
    product = (
        Product.objects.filter(code=code).first()
        if isinstance(code, str) and code
        else Product.objects.filter(active=True).order_by("code").first()
    )
    if product is None:
        errors["product"] = message("contracts.product_unknown", {"product": code or "-"})
    if errors:
        raise ValidationFailed(errors)
    assert product is not None
    day = get_business_date()
    priced = _priced(
        product,
        amount=given.get("amount"),
        term=given.get("term"),
        annual_rate=given.get("annual_rate"),
        day=day,
    )
    data = ContractData(
        contract_no=f"HT{day:%Y%m%d}0000",
        day=day,
        lender_name=lender_name(),
        customer_name=name,
        customer_id_number=id_number,
        priced=priced,
        form=form_values,
        preview=True,
    )
    return render_contract(title=template.name, blocks=blocks, data=data)


# --- generating the contract of an application ---------------------------------------------


def _form_values(record: Any) -> dict[str, str]:
    """Every top-level field of the record as display text (PII decrypted: the contract is the
    place the full values belong; generation is audited)."""
    from loandesk.forms.fieldtypes import DisplayContext
    from loandesk.forms.services import compiled_version

    compiled = compiled_version(record.version)
    ctx = DisplayContext()
    out: dict[str, str] = {}
    for parent, f in compiled.walk():
        if parent is not None or f.children:
            continue
        raw = record.data.get(f.key)
        if raw is None:
            continue
        try:
            value = f.type.from_storage(raw)
            out[f.key] = f.type.display(value, f, ctx)
        except (LoanDeskError, ValueError, TypeError, KeyError, ArithmeticError):
            out[f.key] = ""
    return out


def _plain_data(record: Any) -> dict[str, Any]:
    """The record's values with PII decrypted (for the loan terms)."""
    from loandesk.forms.services import compiled_version

    compiled = compiled_version(record.version)
    data = dict(record.data)
    for key, f in compiled.by_key.items():
        if key in data and getattr(f.type, "pii", False):
            data[key] = f.type.from_storage(data[key])
    return data


def _term_of(data: Mapping[str, Any]) -> Any:
    for key in ("term", "term_months", "periods"):
        if data.get(key) not in (None, ""):
            return data[key]
    return None


def generate_contract(
    *,
    actor: User,
    record: Any,
    template_code: str = DEFAULT_TEMPLATE,
    instance_id: int | None = None,
    step_id: str | None = None,
    terms: Mapping[str, Any] | None = None,
) -> tuple[GeneratedContract, bool]:
    """Number, render and store the contract of a loan application (a forms.Record).

    `terms` overrides the record's amount / term / annual_rate / product (the approved values
    of the flow). Returns (contract, created). Per (instance_id, step_id) this runs once: a
    re-run returns the first contract and stores nothing. Called by the flow's automated step,
    the approval flow authorises it; called directly, the actor needs `customers.update` on
    the customer.
    """
    if instance_id is not None:
        existing = _existing(instance_id, step_id or "")
        if existing is not None:
            return existing, False
    from loandesk.customers.models import Customer
    from loandesk.customers.services import can_see

    template = ContractTemplate.objects.filter(code=template_code).first()
    if template is None:
        raise NotFound("contracts.template_not_found", params={"code": template_code})
    if not template.is_active:
        raise ValidationFailed.field("template", "contracts.template_inactive", code=template_code)
    customer = record.customer
    if customer is None:
        raise ValidationFailed.field("customer", "contracts.no_customer")
    if instance_id is None and not (
        has_perm(actor, "customers.update") and can_see(actor, customer)
    ):
        raise PermissionDenied(details={"permission": "customers.update"})
    if customer.status != Customer.Status.ACTIVE:
        raise ValidationFailed.field("customer", "contracts.customer_inactive")
    blocks = parse_template(template.body)
    data = {**_plain_data(record), **{k: v for k, v in (terms or {}).items() if v is not None}}
    product_code = data.get("product")
    product = (
        Product.objects.filter(code=product_code).first() if isinstance(product_code, str) else None
    )
    if product is None:
        raise ValidationFailed.field(
            "product", "contracts.no_product", product=str(product_code or "-")
        )
    day = get_business_date()
    priced = _priced(
        product,
        amount=data.get("amount"),
        term=_term_of(data),
        annual_rate=data.get("annual_rate"),
        day=day,
    )
    is_company = customer.kind == Customer.Kind.ENTERPRISE
    try:
        with transaction.atomic():
            contract = _write(
                actor=actor,
                record=record,
                template=template,
                blocks=blocks,
                customer=customer,
                priced=priced,
                day=day,
                id_number=(customer.uscc or "") if is_company else customer.id_number,
                instance_id=instance_id,
                step_id=step_id or "",
            )
    except IntegrityError:
        # A concurrent run of the same step won the unique (instance_id, step_id).
        if instance_id is not None:
            existing = _existing(instance_id, step_id or "")
            if existing is not None:
                return existing, False
        raise
    return contract, True


def _existing(instance_id: int, step_id: str) -> GeneratedContract | None:
    return (
        GeneratedContract.objects.select_related("document", "template")
        .filter(instance_id=instance_id, step_id=step_id)
        .first()
    )


def _write(
    *,
    actor: User,
    record: Any,
    template: ContractTemplate,
    blocks: list[Block],
    customer: Any,
    priced: Priced,
    day: date,
    id_number: str,
    instance_id: int | None,
    step_id: str,
) -> GeneratedContract:
    from loandesk.customers import files
    from loandesk.customers.services import _record_document, add_timeline_event

    contract_no = next_contract_no(day)
    data = ContractData(
        contract_no=contract_no,
        day=day,
        lender_name=lender_name(),
        customer_name=customer.name,
        customer_id_number=id_number,
        priced=priced,
        form=_form_values(record),
    )
    pdf = render_contract(title=template.name, blocks=blocks, data=data)
    checked = files.check_upload(io.BytesIO(pdf))
    stored = default_storage.save(files.random_name("customers", "pdf"), ContentFile(pdf))
    try:
        with transaction.atomic():
            document = _record_document(
                actor,
                customer,
                DOCUMENT_KIND,
                stored,
                f"{contract_no}-{template.name}.pdf",
                checked,
                None,
            )
            amount_fen = int(priced.terms.amount * 100)
            contract = GeneratedContract.objects.create(
                template=template,
                template_version=template.version,
                record=record,
                document=document,
                contract_no=contract_no,
                instance_id=instance_id,
                step_id=step_id,
                amount_fen=amount_fen,
                sha256=checked.sha256,
                created_by=actor if actor.is_authenticated else None,
            )
            amount = format_yuan(fen_to_yuan(amount_fen))
            add_timeline_event(
                customer=customer,
                kind="contract_generated",
                summary_code="contracts.timeline.generated",
                params={"contract_no": contract_no, "template": template.name, "amount": amount},
                actor=actor,
                ref_type="lending.generatedcontract",
                ref_id=contract.pk,
            )
            outbox.publish(
                "contract.generated",
                payload={
                    "contract_id": contract.pk,
                    "contract_no": contract_no,
                    "customer_id": customer.pk,
                    "record_id": record.pk,
                    "document_id": document.pk,
                    "template": template.code,
                    "template_version": template.version,
                    "amount_fen": amount_fen,
                    "instance_id": instance_id,
                    "step_id": step_id,
                },
                aggregate_type="lending.contract",
                aggregate_id=contract.pk,
            )
            audit.record(
                action="contract.generate",
                actor=actor,
                target=contract,
                extra={
                    "customer_id": customer.pk,
                    "record_id": record.pk,
                    "document_id": document.pk,
                    "template": template.code,
                    "template_version": template.version,
                    "sha256": checked.sha256,
                    # The PDF holds the borrower's full ID number.
                    "unmasked": ["customer.id_number"],
                    "instance_id": instance_id,
                    "step_id": step_id,
                },
            )
    except BaseException:
        default_storage.delete(stored)
        raise
    return contract


def download_url(contract: GeneratedContract) -> str:
    """The authorised customer-document download endpoint for the stored PDF."""
    document = contract.document
    return f"/api/v1/customers/{document.customer_id}/documents/{document.pk}/file"


def contract_out(contract: GeneratedContract) -> dict[str, Any]:
    document = contract.document
    return {
        "id": contract.pk,
        "contract_no": contract.contract_no,
        "template": contract.template.code,
        "template_name": contract.template.name,
        "template_version": contract.template_version,
        "record_id": contract.record_id,
        "customer_id": document.customer_id,
        "document_id": document.pk,
        "file_name": document.original_name,
        "size": document.size,
        "sha256": contract.sha256,
        "amount": str(fen_to_yuan(contract.amount_fen)),
        "instance_id": contract.instance_id,
        "step_id": contract.step_id or None,
        "download_url": download_url(contract),
        "created_at": contract.created_at,
    }


def generated_for_record(*, actor: User, record_id: int) -> QuerySet[GeneratedContract]:
    """Contracts of one application the caller may see (the customer's data scope; documents
    need customers.view). Others' contracts are simply not listed."""
    from loandesk.customers.selectors import NESTED_SCOPE

    require_perm(actor, "customers.view")
    spec = ScopeSpec(
        owner=f"document__{NESTED_SCOPE.owner}", department=f"document__{NESTED_SCOPE.department}"
    )
    qs = GeneratedContract.objects.filter(record_id=record_id, document__deleted_at__isnull=True)
    return scoped(qs, actor, spec).select_related("template", "document").order_by("-id")


# --- the flow's automated step --------------------------------------------------------------


def run_generate_contract(ctx: AutomatedContext) -> dict[str, Any]:
    """The `generate_contract` automated action: params {"template": code} (default
    loan_contract); the approved amount / term / annual_rate / product come from the instance
    data, everything else from the record."""
    from loandesk.forms.models import Record

    template_code = ctx.params.get("template", DEFAULT_TEMPLATE)
    if not isinstance(template_code, str) or not _CODE.match(template_code):
        raise AutomatedStepFailed("contracts.bad_params")
    if ctx.record_id is None:
        raise AutomatedStepFailed("contracts.no_record")
    record = (
        Record.objects.select_related("customer", "version__form").filter(pk=ctx.record_id).first()
    )
    if record is None:
        raise AutomatedStepFailed("contracts.no_record")
    actor = User.objects.filter(pk=ctx.actor_id).first()
    if actor is None:
        raise AutomatedStepFailed("contracts.no_actor")
    terms = {
        key: ctx.data[key]
        for key in ("amount", "term", "term_months", "annual_rate", "product")
        if key in ctx.data and ctx.data[key] not in (None, "")
    }
    try:
        contract, _ = generate_contract(
            actor=actor,
            record=record,
            template_code=template_code,
            instance_id=ctx.instance_id,
            step_id=ctx.step_id,
            terms=terms,
        )
    except ValidationFailed as exc:
        fields = exc.details.get("fields", {})
        if exc.code in ("contracts.no_customer", "contracts.customer_inactive") or (
            "customer" in fields
        ):
            code = "contracts.customer_inactive" if record.customer else "contracts.no_customer"
            raise AutomatedStepFailed(code) from None
        if "product" in fields:
            raise AutomatedStepFailed(
                "contracts.no_product", {"product": str(terms.get("product", "-"))}
            ) from None
        if "template" in fields:
            raise AutomatedStepFailed(
                "contracts.template_inactive", {"code": template_code}
            ) from None
        if "body" in fields:
            raise AutomatedStepFailed(exc.code, exc.params) from None
        text = ";".join(f"{k}: {v}" for k, v in fields.items())
        raise AutomatedStepFailed("contracts.bad_terms", {"errors": text}) from None
    except NotFound:
        raise AutomatedStepFailed("contracts.template_not_found", {"code": template_code}) from None
    except LoanDeskError as exc:
        raise AutomatedStepFailed(exc.code, exc.params) from None
    return {
        "document_id": contract.document_id,
        "contract_no": contract.contract_no,
        "file_name": contract.document.original_name,
        "template": contract.template.code,
        "sha256": contract.sha256,
    }


# --- demo ----------------------------------------------------------------------------------

DEMO_TEMPLATE_NAME = "个人借款合同"
# Paragraphs of the demo template (joined with blank lines; "\n" inside is a line break).
DEMO_PARAGRAPHS: tuple[str, ...] = (
    (
        "贷款人(甲方):{{lender.name}}\n借款人(乙方):{{customer"
        ".name}}\n借款人证件号码:{{customer.id_number}}"
    ),
    (
        "甲、乙双方根据《中华人民共和国民法典》等法律法规,遵循平等、自愿、公平、诚实信用的原"
        "则,经协商一致,就乙方向甲方借款事宜订立本合同,以资共同遵守。"
    ),
    "# 第一条 借款金额与用途",
    (
        "乙方向甲方借款人民币(大写){{amount_capital}}(小写 {{amou"
        "nt}}),贷款产品为{{product.name}}。乙方承诺借款仅用于合法用途("
        "{{form.purpose}}),不得用于购房、证券投资、股本权益性投资及国家法律"
        "法规禁止的其他用途。"
    ),
    "# 第二条 借款期限",
    (
        "借款期限共 {{term}} 期,自甲方放款之日起计算,首期还款日为 {{first"
        "_due_date}},最后一期还款日为 {{maturity_date}}。实际放"
        "款日与本合同签订日不一致的,以甲方放款凭证记载的日期为准,还款日相应顺延。"
    ),
    "# 第三条 借款利率与年化利率",
    (
        "借款年利率为 {{annual_rate}}(单利),按实际占用天数或按期计收利息。"
        "按照中国人民银行关于明示贷款年化利率的要求,本合同贷款的年化利率(APR,按内部收益"
        "率法计算,包含乙方应支付的全部利息及费用)为 {{apr}}。利息总额为 {{tot"
        "al_interest}},本息合计 {{total_payment}}。"
    ),
    "# 第四条 还款方式与还款计划",
    (
        "还款方式为{{repayment_method}},每期应还金额为 {{monthl"
        "y_payment}}(以下还款计划表为准)。乙方应于每期还款日前将当期应还款项存入"
        "指定还款账户,由甲方按期扣收。"
    ),
    "{{schedule_table}}",
    "# 第五条 逾期与罚息",
    (
        "乙方未按期足额还款的,给予 {{grace_days}} 天宽限期;宽限期届满仍未归"
        "还的,自逾期之日起就逾期本金按年利率 {{penalty_rate}} 计收罚息,对"
        "未按时支付的利息不计收复利。甲方有权通过电话、短信、上门等合法方式催收,并依法报送征"
        "信信息。"
    ),
    "# 第六条 提前还款",
    (
        "乙方可以提前归还全部或部分借款,应提前五个工作日向甲方提出申请。提前还款的,已还部分"
        "的利息按实际借款天数计算,提前还款手续费按所选贷款产品的约定执行,剩余借款的还款计划"
        "由甲方重新计算并告知乙方。"
    ),
    "# 第七条 双方的权利和义务",
    (
        "乙方应如实提供身份、收入等资料,保证其真实、合法、有效;乙方联系方式、工作单位、住址"
        "发生变更的,应于变更之日起五日内书面通知甲方。甲方应按约定发放贷款,依法保护乙方的个"
        "人信息,不得违规收取费用。"
    ),
    "# 第八条 争议解决",
    (
        "本合同履行过程中发生争议的,双方应协商解决;协商不成的,任何一方均可向甲方所在地有管"
        "辖权的人民法院提起诉讼。"
    ),
    "# 第九条 其他",
    (
        "本合同自双方签字(盖章)之日起生效,至乙方还清全部借款本息及费用之日终止。本合同一式"
        "两份,甲乙双方各执一份,具有同等法律效力。合同编号:{{contract_no}},"
        "签订日期:{{date}}。"
    ),
    "{{signatures}}",
)
DEMO_TEMPLATE_BODY = "\n\n".join(DEMO_PARAGRAPHS) + "\n"


def seed_demo_templates(context: Mapping[str, Any]) -> int:
    """Idempotent: the demo template is created once (matched by code), never overwritten."""
    if ContractTemplate.objects.filter(code=DEFAULT_TEMPLATE).exists():
        return 0
    parse_template(DEMO_TEMPLATE_BODY)
    users = context.get("users") or {}
    admin = users.get("admin") if isinstance(users, Mapping) else None
    ContractTemplate.objects.create(
        code=DEFAULT_TEMPLATE,
        name=DEMO_TEMPLATE_NAME,
        body=DEMO_TEMPLATE_BODY,
        updated_by=admin,
    )
    return 1
