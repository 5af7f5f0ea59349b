"""Bank-statement import (银行流水导入): upload → column mapping → dry run → post.

1. `upload_statement` reads a CSV (UTF-8 or GBK/GB18030, any common delimiter) or an Excel
   .xlsx file, recognised by its content, not its name. It finds the header row (banks put a
   few title lines above it), suggests a column mapping from common Chinese bank headings and
   keeps the rows encrypted (payer account numbers are personal data).
2. `dry_run` applies a mapping and classifies every row: **matched** (a contract number in the
   memo/摘要, else the payer account found among the customers' bank cards through the blind
   index, with exactly one open loan), **ambiguous** (the payer has several open loans),
   **unmatched**, **duplicate** (the bank serial was posted before, or repeats in the file),
   **skipped** (outgoing payments) and **invalid** (unreadable date or amount). Only loans in
   the caller's data scope are considered.
3. `post_statement` posts the matched rows and the rows the user resolved by choosing a loan,
   each through `lending.repayments.post_repayment` with the idempotency key
   ``stmt:{bank serial}`` (or ``stmt:{keyed hash of the row}`` without a serial). Rows are
   posted one by one, each in its own savepoint, and the report says per row what happened:
   a bank file's payments are independent, so one refused row (a loan closed meanwhile) must
   not hold back the others, and posting again never posts a row twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from loandesk.accounting.models import BankStatement, StatementLine
from loandesk.accounting.permissions import IMPORT_STATEMENTS
from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.crypto import blind_index, mask_bank_card
from loandesk.core.errors import Conflict, LoanDeskError, NotFound, ValidationFailed
from loandesk.core.i18n import message
from loandesk.core.money import MAX_YUAN, fen_to_yuan

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_UNCOMPRESSED = 60 * 1024 * 1024
HEADER_SCAN_ROWS = 20
OPEN_LOAN = ("active", "overdue")

FIELDS: tuple[str, ...] = (
    "date",
    "amount",
    "credit",
    "debit",
    "direction",
    "payer_name",
    "payer_account",
    "memo",
    "serial",
)

# Headings used by the big banks' statement exports (ICBC, CCB, ABC, BOC, CMB, BOCOM …).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "交易日期",
        "记账日期",
        "入账日期",
        "交易时间",
        "发生日期",
        "会计日期",
        "交易日",
        "日期",
        "transactiondate",
        "date",
    ),
    "credit": (
        "贷方发生额",
        "贷方金额",
        "收入金额",
        "存入金额",
        "转入金额",
        "收款金额",
        "贷方",
        "收入",
        "credit",
    ),
    "debit": ("借方发生额", "借方金额", "支出金额", "转出金额", "借方", "支出", "debit"),
    "amount": ("交易金额", "发生额", "金额", "amount"),
    "direction": ("借贷标志", "借贷方向", "收支标志", "交易方向", "收/支", "借/贷", "收支"),
    "payer_name": (
        "对方户名",
        "对方账户名称",
        "对方账户名",
        "对方名称",
        "对方单位",
        "付款人名称",
        "付款人户名",
        "付款人",
        "收/付方名称",
        "payer",
    ),
    "payer_account": (
        "对方账号",
        "对方账户",
        "对方卡号",
        "付款人账号",
        "付款账号",
        "收/付方账号",
        "payeraccount",
        "account",
    ),
    "memo": (
        "摘要",
        "附言",
        "交易附言",
        "用途",
        "交易用途",
        "交易摘要",
        "备注",
        "memo",
        "remark",
    ),
    "serial": (
        "流水号",
        "交易流水号",
        "银行流水号",
        "业务流水号",
        "交易流水",
        "交易参考号",
        "交易序号",
        "serial",
        "reference",
    ),
}
_NOISE = re.compile(r"[\s\u3000:：]|[（(].*?[)）]|\[.*?\]")
_OUT_WORDS = ("借", "支", "出", "d", "dr", "debit", "-")
_CONTRACT_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9_/-]{5,39}")
_SERIAL_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,59}$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


def _normal(header: str) -> str:
    return _NOISE.sub("", header).lower()


def suggest_field(header: str) -> str | None:
    norm = _normal(header)
    if not norm:
        return None
    for name, words in SYNONYMS.items():
        if norm in words:
            return name
    for name, words in SYNONYMS.items():
        if any(len(w) >= 3 and w in norm for w in words):
            return name
    return None


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for header in headers:
        name = suggest_field(header)
        if name and name not in mapping:
            mapping[name] = header
    return mapping


# --- reading files ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        # The shortest repr of the binary value: 1234.5 → "1234.5", never 1234.49999…
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def _file_invalid() -> ValidationFailed:
    return ValidationFailed.field("file", "accounting.file_invalid")


def _xlsx_rows(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNCOMPRESSED:
                raise _file_invalid()
            if "xl/workbook.xml" not in archive.namelist():
                raise _file_invalid()
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValidationFailed:
        raise
    except Exception:  # a damaged archive or not a workbook at all
        raise _file_invalid() from None
    try:
        ws = wb.worksheets[0]
        rows: list[list[str]] = []
        for raw in ws.iter_rows(values_only=True):
            rows.append([_text(v) for v in raw])
            if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
                raise ValidationFailed.field("file", "accounting.too_many_rows", max=MAX_ROWS)
        return rows
    finally:
        wb.close()


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_invalid()


def _csv_rows(data: bytes) -> list[list[str]]:
    if b"\x00" in data[:4096]:
        raise _file_invalid()
    text = _decode(data)
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls:
        raise _file_invalid()
    sample = text[:8192]
    delimiter = max(",\t;|", key=sample.count)
    if sample.count(delimiter) == 0:
        raise _file_invalid()
    rows = []
    for raw in csv.reader(io.StringIO(text), delimiter=delimiter):
        rows.append([cell.strip().lstrip("'\t") for cell in raw])
        if len(rows) > MAX_ROWS + HEADER_SCAN_ROWS:
            raise ValidationFailed.field("file", "accounting.too_many_rows", max=MAX_ROWS)
    return rows


def read_rows(data: bytes) -> tuple[str, list[list[str]]]:
    """(kind, rows as text cells); the kind comes from the content, not the file name."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx", _xlsx_rows(data)
    if data.startswith((b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8")):
        raise _file_invalid()  # legacy .xls, PDF, images
    return "csv", _csv_rows(data)


def find_header(rows: list[list[str]]) -> tuple[int, list[str]]:
    """The first row (of the top 20) naming a date column and an amount column."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        found = {suggest_field(cell) for cell in row if cell}
        if "date" in found and found & {"amount", "credit"}:
            return index, _unique(row)
    raise ValidationFailed.field("file", "accounting.no_header")


def _unique(headers: list[str]) -> list[str]:
    out: list[str] = []
    for i, h in enumerate(headers):
        name = h.strip() or f"列{i + 1}"
        base, n = name, 2
        while name in out:
            name, n = f"{base}({n})", n + 1
        out.append(name)
    return out


def upload_statement(*, actor: User, fh: IO[bytes], original_name: str) -> BankStatement:
    require_perm(actor, IMPORT_STATEMENTS)
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    if size > MAX_BYTES:
        max_mb = MAX_BYTES // (1024 * 1024)
        raise ValidationFailed(
            {"file": message("accounting.file_too_large", {"max_mb": max_mb})},
            code="accounting.file_too_large",
            params={"max_mb": max_mb},
        )
    data = fh.read()
    if not data.strip():
        raise ValidationFailed.field("file", "accounting.file_empty")
    kind, rows = read_rows(data)
    header_index, headers = find_header(rows)
    body = [r for r in rows[header_index + 1 :] if any(c for c in r)]
    if not body:
        raise ValidationFailed.field("file", "accounting.file_empty")
    if len(body) > MAX_ROWS:
        raise ValidationFailed.field("file", "accounting.too_many_rows", max=MAX_ROWS)
    width = len(headers)
    body = [(r + [""] * width)[:width] for r in body]
    statement = BankStatement.objects.create(
        created_by=actor,
        original_name=(original_name or "statement")[:200],
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        file_kind=kind,
        header_row=header_index + 1,
        headers=headers,
        rows=json.dumps(body, ensure_ascii=False),
        row_count=len(body),
        suggested_mapping=suggest_mapping(headers),
    )
    audit.record(
        action="accounting.statement_uploaded",
        actor=actor,
        target=statement,
        extra={"rows": len(body), "sha256": statement.sha256, "kind": kind},
    )
    return statement


def get_statement(*, actor: User, statement_id: int, lock: bool = False) -> BankStatement:
    """Statements are the uploader's working files: other importers see them too (finance
    works as a team), nobody without the permission does."""
    require_perm(actor, IMPORT_STATEMENTS)
    qs = BankStatement.objects.all()
    if lock:
        qs = qs.select_for_update()
    statement = qs.filter(pk=statement_id).first()
    if statement is None:
        raise NotFound()
    return statement


# --- parsing values ---------------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    value = text.strip()
    if not value:
        return None
    candidates = [value, value[:10], value.split(" ")[0]]
    for candidate in candidates:
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    if re.fullmatch(r"\d{5}(\.\d+)?", value):  # an Excel serial number that lost its format
        serial = int(Decimal(value))
        if 20000 < serial < 80000:
            return date.fromordinal(date(1899, 12, 30).toordinal() + serial)
    return None


def parse_amount(text: str) -> int | None:
    """Signed fen, or None when unreadable (more than two decimals included)."""
    value = re.sub(r"[\s,，¥￥元]|RMB|CNY", "", text.strip(), flags=re.IGNORECASE)
    if not value:
        return 0
    negative = value.startswith("(") and value.endswith(")")
    value = value.strip("()")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if (
        not amount.is_finite()
        or abs(amount) > MAX_YUAN
        or amount != amount.quantize(Decimal("0.01"))
    ):
        return None
    fen = int(amount * 100)
    return -fen if negative else fen


def _clean_mapping(statement: BankStatement, mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, Mapping):
        raise ValidationFailed({"mapping": message("field.type", {"expected": "object"})})
    out: dict[str, str] = {}
    for name, column in mapping.items():
        if name not in FIELDS:
            raise ValidationFailed.field("mapping", "accounting.mapping_unknown_field", field=name)
        if column in (None, ""):
            continue
        if not isinstance(column, str) or column not in statement.headers:
            raise ValidationFailed.field(
                f"mapping.{name}", "accounting.mapping_unknown_column", column=str(column)[:50]
            )
        out[name] = column
    if "date" not in out:
        raise ValidationFailed.field("mapping.date", "accounting.mapping_required", field="date")
    if "amount" not in out and "credit" not in out:
        raise ValidationFailed.field(
            "mapping.amount", "accounting.mapping_required", field="amount"
        )
    return out


def _row_key(cells: Mapping[str, str]) -> str:
    serial = cells.get("serial", "").strip()
    if serial and _SERIAL_OK.match(serial):
        return f"stmt:{serial}"
    canonical = json.dumps(
        [cells.get(k, "") for k in ("date", "amount", "credit", "payer_account", "memo", "serial")],
        ensure_ascii=False,
    )
    return f"stmt:{blind_index(canonical, purpose='accounting.statement_row')}"


# --- dry run ----------------------------------------------------------------------------------


def _open_loans(actor: User) -> Any:
    from loandesk.lending.loans import visible_loans

    return visible_loans(actor).filter(status__in=OPEN_LOAN)


def _match(actor: User, line: StatementLine, account_digits: str) -> None:
    from loandesk.customers.models import BankCard
    from loandesk.customers.profile import bank_card_index
    from loandesk.lending.loans import visible_loans

    tokens = set(_CONTRACT_TOKEN.findall(line.memo.upper()))
    if tokens:
        found = list(visible_loans(actor).filter(contract_no__in=tokens))
        if len(found) == 1:
            loan = found[0]
            if loan.status in OPEN_LOAN:
                line.status, line.loan, line.matched_by = "matched", loan, "contract_no"
            else:
                line.status, line.loan, line.reason = "unmatched", loan, "loan_not_open"
            return
        if len(found) > 1:
            line.status, line.reason = "ambiguous", "several_loans"
            line.candidates = [loan.pk for loan in found]
            return
    if 8 <= len(account_digits) <= 30:
        customers = BankCard.objects.filter(
            number_bidx=bank_card_index(account_digits)
        ).values_list("customer_id", flat=True)
        loans = list(_open_loans(actor).filter(customer_id__in=list(customers)).order_by("id"))
        if len(loans) == 1:
            line.status, line.loan, line.matched_by = "matched", loans[0], "payer_account"
            return
        if len(loans) > 1:
            line.status, line.reason = "ambiguous", "several_loans"
            line.candidates = [loan.pk for loan in loans]
            return
    line.status = "unmatched"
    line.reason = (
        "contract_not_found" if tokens and any(t.startswith("HT") for t in tokens) else ("no_match")
    )


def _inflow(cells: Mapping[str, str], mapping: Mapping[str, str]) -> tuple[int | None, bool]:
    """(amount fen, is outgoing)."""
    if "credit" in mapping:
        credit = parse_amount(cells.get("credit", ""))
        if credit is None:
            return None, False
        if credit > 0:
            return credit, False
        if credit == 0 and "amount" not in mapping:
            return 0, True
    amount = parse_amount(cells.get("amount", ""))
    if amount is None:
        return None, False
    direction = cells.get("direction", "").strip().lower()
    if direction and direction.startswith(_OUT_WORDS):
        return amount, True
    return abs(amount), amount <= 0


@transaction.atomic
def dry_run(*, actor: User, statement_id: int, mapping: Any) -> dict[str, Any]:
    statement = get_statement(actor=actor, statement_id=statement_id, lock=True)
    if statement.status == BankStatement.Status.POSTED:
        raise Conflict("accounting.statement_not_checked")
    clean = _clean_mapping(statement, mapping)
    index = {h: i for i, h in enumerate(statement.headers)}
    rows: list[list[str]] = json.loads(statement.rows)
    posted_keys = set(
        StatementLine.objects.filter(status=StatementLine.Status.POSTED)
        .exclude(statement=statement)
        .values_list("idempotency_key", flat=True)
    )
    seen: set[str] = set()
    lines: list[StatementLine] = []
    for i, row in enumerate(rows):
        cells = {name: row[index[col]] for name, col in clean.items()}
        account = re.sub(r"\D", "", cells.get("payer_account", ""))
        line = StatementLine(
            statement=statement,
            row_no=statement.header_row + 1 + i,
            payer_name=cells.get("payer_name", "")[:100],
            payer_account_masked=mask_bank_card(account) if account else "",
            payer_account_bidx=(
                blind_index(account, purpose="accounting.payer_account") if account else ""
            ),
            memo=cells.get("memo", "")[:200],
            serial=cells.get("serial", "")[:64],
            idempotency_key=_row_key(cells),
        )
        line.value_date = parse_date(cells.get("date", ""))
        amount, outgoing = _inflow(cells, clean)
        line.amount_fen = amount
        if line.value_date is None:
            line.status, line.reason = "invalid", "bad_date"
        elif amount is None:
            line.status, line.reason = "invalid", "bad_amount"
        elif outgoing or amount == 0:
            line.status, line.reason = "skipped", "outflow"
        elif line.idempotency_key in posted_keys:
            line.status, line.reason = "duplicate", "serial_imported"
        elif line.idempotency_key in seen:
            line.status, line.reason = "duplicate", "serial_repeated"
        else:
            _match(actor, line, account)
        if line.status not in ("invalid", "skipped"):
            seen.add(line.idempotency_key)
        lines.append(line)
    StatementLine.objects.filter(statement=statement).delete()
    StatementLine.objects.bulk_create(lines)
    statement.mapping = clean
    statement.status = BankStatement.Status.CHECKED
    statement.report = _counts(lines)
    statement.save(update_fields=["mapping", "status", "report", "updated_at"])
    return statement_out(statement)


def _counts(lines: Iterable[StatementLine]) -> dict[str, Any]:
    counts: dict[str, int] = {s: 0 for s in StatementLine.Status.values}
    amounts: dict[str, int] = {s: 0 for s in StatementLine.Status.values}
    for line in lines:
        counts[line.status] += 1
        amounts[line.status] += line.amount_fen or 0
    return {"counts": counts, "amounts_fen": amounts}


# --- posting ----------------------------------------------------------------------------------


def _resolutions(value: Any) -> dict[int, int]:
    if value is None:
        return {}
    if not isinstance(value, list) or len(value) > MAX_ROWS:
        raise ValidationFailed({"resolutions": message("field.type", {"expected": "array"})})
    out: dict[int, int] = {}
    for item in value:
        line_id = item.get("line_id") if isinstance(item, Mapping) else None
        loan_id = item.get("loan_id") if isinstance(item, Mapping) else None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (line_id, loan_id)):
            raise ValidationFailed(
                {"resolutions": message("field.type", {"expected": "{line_id, loan_id}"})}
            )
        out[int(line_id)] = int(loan_id)  # type: ignore[arg-type]
    return out


def _repayment_service() -> Any:
    try:
        from loandesk.lending.repayments import post_repayment
    except ImportError:  # pragma: no cover - the lending app ships it
        raise LoanDeskError("accounting.repayments_unavailable", status=503) from None
    return post_repayment


def post_statement(*, actor: User, statement_id: int, resolutions: Any = None) -> dict[str, Any]:
    """Post matched and hand-resolved rows one by one; the statement's report says per row
    what happened. Re-posting is safe: every row's idempotency key was spent at most once."""
    require_perm(actor, IMPORT_STATEMENTS)
    chosen = _resolutions(resolutions)
    with transaction.atomic():
        statement = get_statement(actor=actor, statement_id=statement_id, lock=True)
        if statement.status == BankStatement.Status.UPLOADED:
            raise Conflict("accounting.statement_not_checked")
        lines = {line.pk: line for line in statement.lines.all()}
        for line_id, loan_id in chosen.items():
            line = lines.get(line_id)
            if line is None or line.status not in ("ambiguous", "unmatched", "failed"):
                raise ValidationFailed.field(
                    "resolutions",
                    "accounting.line_not_resolvable",
                    row=line.row_no if line else line_id,
                )
            loan = _open_loans(actor).filter(pk=loan_id).first()
            if loan is None or (line.status == "ambiguous" and loan_id not in line.candidates):
                raise ValidationFailed.field(
                    "resolutions", "accounting.line_not_resolvable", row=line.row_no
                )
            line.loan = loan
            line.matched_by = "manual"
            line.status = "matched"
            line.save(update_fields=["loan", "matched_by", "status"])
    post_repayment = _repayment_service()
    todo = (
        StatementLine.objects.filter(statement_id=statement_id, status="matched")
        .select_related("loan")
        .order_by("row_no")
    )
    for line in todo:
        try:
            with transaction.atomic():
                repayment = post_repayment(
                    actor=actor,
                    loan_id=line.loan_id,
                    amount_fen=line.amount_fen,
                    value_date=line.value_date,
                    channel="bank_transfer",
                    # From the row itself: a re-import of the same row is the same request.
                    reference=(line.serial or line.memo)[:100],
                    idempotency_key=line.idempotency_key,
                    source="bank_statement",
                )
                line.status = StatementLine.Status.POSTED
                line.repayment_id = repayment.pk
                line.reason = "replayed" if getattr(repayment, "replayed", False) else ""
                line.error = ""
                line.posted_at = timezone.now()
                line.save(update_fields=["status", "repayment_id", "reason", "error", "posted_at"])
        except LoanDeskError as exc:
            fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
            detail = "; ".join(str(v) for v in fields.values()) if fields else exc.message
            StatementLine.objects.filter(pk=line.pk).update(
                status=StatementLine.Status.FAILED, error=detail[:300]
            )
    with transaction.atomic():
        statement = get_statement(actor=actor, statement_id=statement_id, lock=True)
        statement.status = BankStatement.Status.POSTED
        statement.report = _counts(statement.lines.all())
        statement.save(update_fields=["status", "report", "updated_at"])
        audit.record(
            action="accounting.statement_posted",
            actor=actor,
            target=statement,
            extra={"counts": statement.report["counts"]},
        )
    return statement_out(statement)


# --- output -----------------------------------------------------------------------------------


def line_out(line: StatementLine, loans: Mapping[int, Any]) -> dict[str, Any]:
    def loan_ref(loan_id: int | None) -> dict[str, Any] | None:
        loan = loans.get(loan_id) if loan_id else None
        if loan is None:
            return None
        return {
            "id": loan.pk,
            "contract_no": loan.contract_no,
            "customer_name": loan.customer.name,
            "status": loan.status,
            "outstanding_principal": str(fen_to_yuan(loan.outstanding_principal_fen)),
        }

    return {
        "id": line.pk,
        "row_no": line.row_no,
        "value_date": line.value_date,
        "amount": str(fen_to_yuan(line.amount_fen)) if line.amount_fen is not None else None,
        "payer_name": line.payer_name,
        "payer_account": line.payer_account_masked,
        "memo": line.memo,
        "serial": line.serial,
        "status": line.status,
        "reason": line.reason,
        "reason_text": message(f"accounting.reason.{line.reason}")
        if line.reason and line.reason != "replayed"
        else "",
        "matched_by": line.matched_by,
        "loan": loan_ref(line.loan_id),
        "candidates": [c for c in (loan_ref(i) for i in line.candidates) if c],
        "repayment_id": line.repayment_id,
        "error": line.error,
    }


def statement_out(statement: BankStatement) -> dict[str, Any]:
    from loandesk.lending.models import Loan

    lines = list(statement.lines.order_by("row_no"))
    ids = {line.loan_id for line in lines if line.loan_id}
    ids |= {c for line in lines for c in line.candidates}
    loans = {loan.pk: loan for loan in Loan.objects.filter(pk__in=ids).select_related("customer")}
    report = statement.report or {}
    return {
        "id": statement.pk,
        "original_name": statement.original_name,
        "file_kind": statement.file_kind,
        "status": statement.status,
        "header_row": statement.header_row,
        "headers": statement.headers,
        "row_count": statement.row_count,
        "fields": list(FIELDS),
        "suggested_mapping": statement.suggested_mapping,
        "mapping": statement.mapping,
        "samples": _samples(statement),
        "counts": report.get("counts", {}),
        "amounts": {k: str(fen_to_yuan(v)) for k, v in report.get("amounts_fen", {}).items()},
        "lines": [line_out(line, loans) for line in lines],
        "created_at": statement.created_at,
    }


def _samples(statement: BankStatement) -> list[list[str]]:
    """The first rows for the mapping screen, account-like numbers masked."""
    rows: list[list[str]] = json.loads(statement.rows)[:3]
    return [
        [mask_bank_card(c) if re.fullmatch(r"\d{12,30}", c) else c[:40] for c in row]
        for row in rows
    ]
