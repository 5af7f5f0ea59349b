"""Excel import — the way lenders migrate their customer lists.

1. `upload_import`: the .xlsx is checked (size, zip structure) and stored encrypted (it holds ID
   and phone numbers in the clear); the header row and a few sample rows are read and each
   column gets a suggested target field from its Chinese or English header (姓名, 身份证号, …).
2. `dry_run`: every row is cleaned exactly as the API would (same validators), duplicates are
   found within the file and against existing customers (blind indexes, in bulk), and a report
   says which rows fail and why, which duplicate, and how many would be created.
3. `commit_import`: starts a background task (tasks.commit_import_task) that re-checks the
   prepared rows against fresh data and writes them — all or nothing — in batches of bulk
   inserts (customers, tags, bank cards, timeline, audit, outbox), reporting progress the
   phone polls. With skip_bad_rows the valid rows are imported and the bad ones left out.
   Duplicates are never created. See "The commit runs in the background" below.

Speed: no per-row queries; values are validated in Python and written with bulk_create.
"""

import base64
import gc
import hashlib
import io
import json
import logging
import re
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.http import HttpRequest
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.accounts.phones import normalize_mobile
from loandesk.accounts.phones import phone_index as user_phone_index
from loandesk.accounts.scoping import has_perm, require_perm
from loandesk.core import audit, outbox
from loandesk.core.crypto import decrypt, encrypt
from loandesk.core.errors import Conflict, LoanDeskError, ValidationFailed
from loandesk.core.i18n import message
from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.customers import bulk, files, identity
from loandesk.customers.messages import CHOICES, field_label
from loandesk.customers.models import (
    BankCard,
    Customer,
    CustomerImport,
    CustomerNameGram,
    Tag,
    TimelineEvent,
)
from loandesk.customers.profile import (
    INDIVIDUAL,
    Errors,
    bank_card_index,
    check_required,
    clean_fields,
    fingerprint,
    masked_pii,
    region_from_names,
)
from loandesk.customers.services import user_in_scope
from loandesk.customers.xlsx import XlsxError, XlsxReader, column_letter

logger = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 200_000
MAX_REPORT_ROWS = 1000
HEADER_SEARCH_ROWS = 10
SAMPLE_ROWS = 3
QUERY_CHUNK = 500

IMPORT_FIELDS = (
    "name",
    "kind",
    "id_number",
    "phone",
    "bank_card",
    "bank_name",
    "uscc",
    "legal_representative",
    "industry",
    "province_name",
    "city_name",
    "district_name",
    "address",
    "employer",
    "monthly_income",
    "marital_status",
    "education",
    "credit_level",
    "source_channel",
    "owner",
    "tags",
    "remark",
)

# Normalised header → field. Headers are compared without spaces, brackets' content, "*" marks.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "姓名",
        "客户姓名",
        "客户名称",
        "名称",
        "企业名称",
        "公司名称",
        "借款人",
        "借款人姓名",
        "name",
        "customername",
    ),
    "kind": ("客户类型", "类型", "客户类别", "kind", "type", "customertype"),
    "id_number": (
        "身份证号",
        "身份证号码",
        "身份证",
        "证件号码",
        "证件号",
        "idnumber",
        "idcard",
        "idno",
    ),
    "phone": (
        "手机号",
        "手机号码",
        "手机",
        "联系电话",
        "电话",
        "移动电话",
        "联系方式",
        "mobile",
        "phone",
        "mobilephone",
    ),
    "bank_card": (
        "银行卡号",
        "银行卡",
        "卡号",
        "收款账号",
        "银行账号",
        "还款账号",
        "bankcard",
        "cardnumber",
    ),
    "bank_name": ("开户行", "开户银行", "银行名称", "所属银行", "bank", "bankname"),
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc", "creditcode"),
    "legal_representative": ("法定代表人", "法人", "法人代表", "legalrepresentative"),
    "industry": ("行业", "所属行业", "industry"),
    "province_name": ("省", "省份", "所在省份", "province"),
    "city_name": ("市", "城市", "所在城市", "地市", "city"),
    "district_name": ("区县", "区", "县", "所在区县", "district"),
    "address": ("地址", "详细地址", "住址", "居住地址", "家庭住址", "联系地址", "address"),
    "employer": ("工作单位", "单位", "单位名称", "工作单位名称", "employer", "company"),
    "monthly_income": ("月收入", "月收入元", "收入", "monthlyincome", "income"),
    "marital_status": ("婚姻状况", "婚姻", "婚否", "maritalstatus", "marital"),
    "education": ("学历", "文化程度", "最高学历", "education"),
    "credit_level": ("信用等级", "客户等级", "等级", "评级", "creditlevel", "level"),
    "source_channel": (
        "来源",
        "来源渠道",
        "客户来源",
        "渠道",
        "source",
        "sourcechannel",
        "channel",
    ),
    "owner": (
        "客户经理",
        "归属客户经理",
        "负责人",
        "经办人",
        "业务员",
        "所属客户经理",
        "owner",
        "loanofficer",
    ),
    "tags": ("标签", "客户标签", "tags", "tag"),
    "remark": ("备注", "说明", "remark", "remarks", "note", "notes"),
}
_HEADER_NOISE = re.compile(r"[\s*＊:：]|[（(][^）)]*[）)]")
_TAG_SPLIT = re.compile(r"[,，;；、|/\s]+")
_SYNONYM_INDEX = {
    _HEADER_NOISE.sub("", s).lower(): f for f, names in SYNONYMS.items() for s in names
}


def _normal_header(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


def suggest_field(header: str) -> str | None:
    return _SYNONYM_INDEX.get(_normal_header(header))


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


# --- upload ---------------------------------------------------------------------------------


def _read_stored(imp: CustomerImport) -> bytes:
    with default_storage.open(imp.file.name, "rb") as fh:
        token = fh.read().decode()
    return base64.b64decode(decrypt(token))


def _open(data: bytes) -> XlsxReader:
    try:
        return XlsxReader(io.BytesIO(data))
    except XlsxError as exc:
        raise ValidationFailed.field("file", "customers.import_file_invalid") from exc


def _find_header(rows: Iterator[tuple[int, list[Any]]]) -> tuple[int, list[Any], list[list[Any]]]:
    """The header is the first row (of the first 10) with two or more filled cells, so a title
    row above the table (客户信息导入模板) is skipped; a one-column sheet uses its first row.
    Returns (row number, header values, the first sample data rows)."""
    head: list[tuple[int, list[Any]]] = []
    for number, values in rows:
        if any(cell_text(v) for v in values):
            head.append((number, values))
        if len(head) >= HEADER_SEARCH_ROWS + SAMPLE_ROWS:
            break
    if not head:
        raise ValidationFailed.field("file", "customers.import_empty")
    candidates = head[:HEADER_SEARCH_ROWS]
    index = next(
        (
            i
            for i, (_, values) in enumerate(candidates)
            if sum(1 for v in values if cell_text(v)) >= 2
        ),
        0,
    )
    number, values = head[index]
    return number, values, [row for _, row in head[index + 1 : index + 1 + SAMPLE_ROWS]]


def _unique_headers(raw: list[Any]) -> list[str]:
    headers: list[str] = []
    seen: dict[str, int] = {}
    for index, value in enumerate(raw):
        text = cell_text(value)[:100] or f"({column_letter(index)})"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        headers.append(text)
    return headers


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        suggested = suggest_field(header)
        if suggested and suggested not in used:
            mapping[header] = suggested
            used.add(suggested)
    return mapping


def upload_import(*, actor: User, fh: IO[bytes], original_name: str) -> CustomerImport:
    require_perm(actor, "customers.import")
    fh.seek(0, io.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    limit_mb = MAX_IMPORT_BYTES // (1024 * 1024)
    if size > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            {"file": message("customers.import_file_too_large", {"max_mb": limit_mb})},
            code="customers.import_file_too_large",
            params={"max_mb": limit_mb},
        )
    data = fh.read()
    if not data.startswith(b"PK\x03\x04"):
        raise ValidationFailed.field("file", "customers.import_file_invalid")
    reader = _open(data)
    try:
        header_row, raw_headers, samples = _find_header(reader.rows())
    finally:
        reader.close()
    headers = _unique_headers(raw_headers)
    stored = default_storage.save(
        files.random_name("imports", "bin"),
        ContentFile(encrypt(base64.b64encode(data).decode()).encode()),
    )
    return CustomerImport.objects.create(
        created_by=actor,
        department_id=actor.department_id,
        file=stored,
        original_name=files.safe_original_name(original_name),
        size=size,
        sha256=hashlib.sha256(data).hexdigest(),
        sheet_name=reader.sheet_name[:100],
        headers=headers,
        samples=[
            [_masked_sample(h, cell_text(v)) for h, v in zip(headers, row, strict=False)]
            for row in samples
        ],
        suggested_mapping=suggest_mapping(headers),
        report={"header_row": header_row},
    )


def _masked_sample(header: str, text: str) -> str:
    """Sample values shown in the mapping screen: identifiers masked."""
    field_name = suggest_field(header)
    if field_name in ("id_number", "phone", "bank_card") and text:
        return masked_pii(field_name, text)
    return text[:50]


def import_out(imp: CustomerImport) -> dict[str, Any]:
    return {
        "id": imp.pk,
        "status": imp.status,
        "original_name": imp.original_name,
        "size": imp.size,
        "sheet_name": imp.sheet_name,
        "header_row": imp.report.get("header_row", 1),
        "columns": [
            {
                "header": header,
                "letter": column_letter(index),
                "suggested_field": imp.suggested_mapping.get(header),
                "samples": [row[index] if index < len(row) else "" for row in imp.samples],
            }
            for index, header in enumerate(imp.headers)
        ],
        "suggested_mapping": imp.suggested_mapping,
        "mapping": imp.mapping,
        "skip_bad_rows": imp.skip_bad_rows,
        "fields": [
            {"key": key, "label": field_label(key), "required": key == "name"}
            for key in IMPORT_FIELDS
        ],
        "report": report_out(imp.report) if imp.status != CustomerImport.Status.UPLOADED else None,
        "created_count": imp.created_count,
        "created_at": imp.created_at,
        "committed_at": imp.committed_at,
        "progress": {"rows_done": imp.rows_done, "rows_total": imp.rows_total},
        "failure": (
            {"code": imp.failure_code, "message": message(imp.failure_code, imp.failure_params)}
            if imp.status == CustomerImport.Status.FAILED and imp.failure_code
            else None
        ),
    }


# --- analysis -------------------------------------------------------------------------------


@dataclass
class Prepared:
    row: int
    name: str
    kind: str
    fields: dict[str, Any]
    owner: User
    tag_names: list[str]
    card: tuple[str, str] | None


@dataclass
class Analysis:
    total: int = 0
    prepared: list[Prepared] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    error_rows: int = 0
    duplicate_rows: int = 0
    new_tags: set[str] = field(default_factory=set)

    def report(self, header_row: int) -> dict[str, Any]:
        return {
            "header_row": header_row,
            "total_rows": self.total,
            "create_rows": len(self.prepared),
            "error_rows": self.error_rows,
            "duplicate_rows": self.duplicate_rows,
            "new_tags": sorted(self.new_tags),
            "rows": self.problems[:MAX_REPORT_ROWS],
            "rows_truncated": len(self.problems) > MAX_REPORT_ROWS,
        }


def _choice_maps() -> dict[str, dict[str, str]]:
    maps: dict[str, dict[str, str]] = {}
    for group in ("kind", "marital_status", "education", "credit_level", "source_channel"):
        lookup: dict[str, str] = {}
        for value, (zh, en) in CHOICES[group].items():
            for text in (value, zh, en):
                lookup[text.lower()] = value
        maps[group] = lookup
    maps["kind"].update({"个人客户": "individual", "企业客户": "enterprise", "公司": "enterprise"})
    maps["credit_level"].update({f"{g}{s}".lower(): g for g in "ABC" for s in ("级", "类", "等")})
    maps["education"].update(
        {"高中": "senior_high", "中专": "senior_high", "大学本科": "bachelor", "研究生": "master"}
    )
    maps["marital_status"].update({"是": "married", "否": "single"})
    return maps


class _Owners:
    """Resolves 客户经理 cells (username, full name or mobile) once per distinct value."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.cache: dict[str, User | None] = {}

    def get(self, text: str) -> User | None:
        if text not in self.cache:
            self.cache[text] = self._lookup(text)
        return self.cache[text]

    def _lookup(self, text: str) -> User | None:
        users = User.objects.select_related("department").filter(is_active=True)
        found = users.filter(username=text).first()
        if found is None:
            by_name = list(users.filter(full_name=text)[:2])
            found = by_name[0] if len(by_name) == 1 else None
        if found is None:
            mobile = normalize_mobile(text)
            if mobile:
                found = users.filter(phone_bidx=user_phone_index(mobile)).first()
        if found is None or not user_in_scope(self.actor, found):
            return None
        return found


def _error(row: int, name: str, errors: Errors) -> dict[str, Any]:
    return {
        "row": row,
        "status": "error",
        "name": name,
        "errors": {f: [code, params] for f, (code, params) in errors.items.items()},
    }


def _rows(imp: CustomerImport) -> Iterator[tuple[int, list[Any]]]:
    reader = _open(_read_stored(imp))
    header_row = int(imp.report.get("header_row", 1))
    try:
        for number, values in reader.rows():
            if number > header_row:
                yield number, values
    finally:
        reader.close()


def analyse(*, actor: User, imp: CustomerImport, mapping: Mapping[str, str]) -> Analysis:
    columns = [(field_name, imp.headers.index(header)) for header, field_name in mapping.items()]
    choice_maps = _choice_maps()
    owners = _Owners(actor)
    tags = {t.name: t for t in Tag.objects.all()}
    may_create_tags = has_perm(actor, "customers.manage_tags")
    result = Analysis()
    seen: dict[tuple[str, str], int] = {}
    profile_keys = [
        f
        for f, _ in columns
        if f
        not in (
            "kind",
            "bank_card",
            "bank_name",
            "owner",
            "tags",
            "marital_status",
            "education",
            "credit_level",
            "source_channel",
        )
    ]
    for number, raw in _rows(imp):
        values = {f: cell_text(raw[i]) if i < len(raw) else "" for f, i in columns}
        if not any(values.values()):
            continue
        result.total += 1
        if result.total > MAX_IMPORT_ROWS:
            raise ValidationFailed.field(
                "file", "customers.import_too_many_rows", max=MAX_IMPORT_ROWS
            )
        errors = Errors()
        name = values.get("name", "")[:100]
        kind = INDIVIDUAL
        if values.get("kind"):
            kind = choice_maps["kind"].get(values["kind"].lower(), "")
            if not kind:
                errors.add("kind", "customers.import_choice", value=values["kind"][:30])
                kind = INDIVIDUAL
        profile: dict[str, Any] = {k: values[k] for k in profile_keys}
        for group in ("marital_status", "education", "credit_level", "source_channel"):
            text = values.get(group, "")
            if text:
                choice = choice_maps[group].get(text.lower())
                if choice is None:
                    errors.add(group, "customers.import_choice", value=text[:30])
                else:
                    profile[group] = choice
        cleaned = clean_fields(profile, kind=kind, errors=errors)
        if cleaned.get("province_name") or cleaned.get("city_name") or cleaned.get("district_name"):
            region_from_names(cleaned)
        check_required(cleaned, kind, errors)
        owner = actor
        if values.get("owner"):
            found = owners.get(values["owner"])
            if found is None:
                errors.add("owner", "customers.import_owner_unknown", value=values["owner"][:50])
            else:
                owner = found
        tag_names = [t for t in _TAG_SPLIT.split(values.get("tags", "")) if t][:20]
        for tag_name in tag_names:
            if tag_name not in tags:
                if may_create_tags and len(tag_name) <= 30:
                    result.new_tags.add(tag_name)
                else:
                    errors.add("tags", "customers.tag_invalid", value=tag_name[:30])
        card = None
        if values.get("bank_card"):
            try:
                card = (
                    identity.clean_bank_card(values["bank_card"]),
                    values.get("bank_name", "")[:50],
                )
            except identity.IdentityError as exc:
                errors.add("bank_card", exc.code)
        if errors:
            result.error_rows += 1
            result.problems.append(_error(number, name, errors))
            continue
        keys = []
        if cleaned.get("id_number_bidx"):
            keys.append(("id_number", cleaned["id_number_bidx"]))
        if cleaned.get("uscc"):
            keys.append(("uscc", cleaned["uscc"]))
        if cleaned.get("phone_bidx"):
            keys.append(("phone", f"{kind}:{cleaned['phone_bidx']}"))
        first = next(((f, seen[(f, k)]) for f, k in keys if (f, k) in seen), None)
        if first is not None:
            result.duplicate_rows += 1
            result.problems.append(
                {
                    "row": number,
                    "status": "duplicate",
                    "name": name,
                    "field": first[0],
                    "duplicate_of": {"row": first[1]},
                }
            )
            continue
        for f, k in keys:
            seen[(f, k)] = number
        result.prepared.append(
            Prepared(number, cleaned["name"], kind, cleaned, owner, tag_names, card)
        )
    _against_existing(result)
    result.problems.sort(key=lambda p: p["row"])
    return result


@contextmanager
def _bulk_work() -> Iterator[None]:
    """Hundreds of thousands of short-lived objects: the cyclic GC would rescan the growing
    heap over and over (~30% of an import); pause it for the duration (nothing here is
    cyclic garbage). On SQLite, a larger page cache for this connection keeps the random
    blind-index B-tree inserts in memory."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -131072")  # 128 MB, this connection only
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), QUERY_CHUNK):
        yield items[start : start + QUERY_CHUNK]


def _against_existing(result: Analysis) -> None:
    """Rows whose ID number, USCC or mobile already belongs to a customer (bulk lookups)."""
    wanted: dict[str, dict[str, list[Prepared]]] = {"id_number": {}, "uscc": {}, "phone": {}}
    for p in result.prepared:
        if p.fields.get("id_number_bidx"):
            wanted["id_number"].setdefault(p.fields["id_number_bidx"], []).append(p)
        if p.fields.get("uscc"):
            wanted["uscc"].setdefault(p.fields["uscc"], []).append(p)
        if p.fields.get("phone_bidx"):
            wanted["phone"].setdefault(f"{p.kind}:{p.fields['phone_bidx']}", []).append(p)
    hits: dict[int, tuple[str, int]] = {}
    lookups = (
        ("id_number", "id_number_bidx", None),
        ("uscc", "uscc", None),
        ("phone", "phone_bidx", True),
    )
    for field_name, column, with_kind in lookups:
        keys = list(wanted[field_name])
        raw_keys = [k.split(":", 1)[1] for k in keys] if with_kind else keys
        for chunk in _chunks(sorted(set(raw_keys))):
            rows = Customer.objects.filter(**{f"{column}__in": chunk}).values_list(
                column, "kind", "pk", "merged_into"
            )
            for value, kind, pk, merged_into in rows:
                key = f"{kind}:{value}" if with_kind else value
                for p in wanted[field_name].get(key, []):
                    hits.setdefault(p.row, (field_name, merged_into or pk))
    if not hits:
        return
    keep: list[Prepared] = []
    for p in result.prepared:
        if p.row in hits:
            field_name, customer_id = hits[p.row]
            result.duplicate_rows += 1
            result.problems.append(
                {
                    "row": p.row,
                    "status": "duplicate",
                    "name": p.name,
                    "field": field_name,
                    "duplicate_of": {"customer_id": customer_id},
                }
            )
        else:
            keep.append(p)
    result.prepared = keep


def report_out(report: Mapping[str, Any]) -> dict[str, Any]:
    """The stored report with its messages rendered in the caller's language."""
    rows = []
    for item in report.get("rows", []):
        row = {
            "row": item["row"],
            "status": item["status"],
            "name": item.get("name", ""),
            "errors": {},
            "duplicate_of": item.get("duplicate_of"),
        }
        for field_name, (code, params) in item.get("errors", {}).items():
            row["errors"][field_name] = f"{field_label(field_name)}: {message(code, params)}"
        if item["status"] == "duplicate":
            dup = item["duplicate_of"]
            label = field_label(item["field"])
            row["errors"][item["field"]] = (
                message("customers.import_duplicate_row", {"row": dup["row"], "field": label})
                if "row" in dup
                else message(
                    "customers.import_duplicate_customer",
                    {"customer_id": dup["customer_id"], "field": label},
                )
            )
        rows.append(row)
    return {
        "total_rows": report.get("total_rows", 0),
        "create_rows": report.get("create_rows", 0),
        "error_rows": report.get("error_rows", 0),
        "duplicate_rows": report.get("duplicate_rows", 0),
        "new_tags": report.get("new_tags", []),
        "rows": rows,
        "rows_truncated": report.get("rows_truncated", False),
        "committed": report.get("committed", False),
        "created_count": report.get("created_count", 0),
    }


def clean_mapping(imp: CustomerImport, mapping: Mapping[str, Any]) -> dict[str, str]:
    errors = Errors()
    out: dict[str, str] = {}
    used: dict[str, str] = {}
    for header, target in mapping.items():
        if not target:
            continue
        key = f"mapping.{header}"[:200]
        if header not in imp.headers:
            errors.add(key, "customers.import_unknown_column", value=str(header)[:100])
        elif target not in IMPORT_FIELDS:
            errors.add(key, "customers.import_unknown_field", value=str(target)[:50])
        elif target in used:
            errors.add(key, "customers.import_field_twice", value=field_label(str(target)))
        else:
            used[target] = header
            out[header] = str(target)
    if "name" not in used and not errors:
        errors.add("mapping", "customers.import_name_required")
    errors.raise_if_any()
    return out


def _ensure_open(imp: CustomerImport) -> None:
    if imp.status in (CustomerImport.Status.COMMITTED, CustomerImport.Status.COMMITTING):
        raise Conflict("customers.import_state")


def dry_run(
    *, actor: User, imp: CustomerImport, mapping: Mapping[str, Any], skip_bad_rows: bool
) -> dict[str, Any]:
    require_perm(actor, "customers.import")
    _ensure_open(imp)
    clean = clean_mapping(imp, mapping)
    with _bulk_work():
        result = analyse(actor=actor, imp=imp, mapping=clean)
        _save_prepared(imp, result)
    imp.mapping = clean
    imp.skip_bad_rows = skip_bad_rows
    imp.status = CustomerImport.Status.CHECKED
    imp.report = result.report(int(imp.report.get("header_row", 1)))
    imp.save(update_fields=["mapping", "skip_bad_rows", "status", "report", "prepared_file"])
    return report_out(imp.report)


# The dry run's cleaned rows are kept (encrypted: they hold PII) so the commit imports exactly
# what was previewed without parsing and validating the sheet again; the commit re-checks only
# what may have changed since: duplicates, owners, tags.


def _save_prepared(imp: CustomerImport, result: Analysis) -> None:
    rows = [
        [
            p.row,
            p.name,
            p.kind,
            {k: v.isoformat() if isinstance(v, date) else v for k, v in p.fields.items()},
            p.owner.pk,
            p.tag_names,
            list(p.card) if p.card else None,
        ]
        for p in result.prepared
    ]
    packed = zlib.compress(json.dumps(rows, ensure_ascii=False).encode(), 1)
    token = encrypt(base64.b64encode(packed).decode())
    old = imp.prepared_file.name if imp.prepared_file else ""
    imp.prepared_file.name = default_storage.save(
        files.random_name("imports", "bin"), ContentFile(token.encode())
    )
    if old:
        default_storage.delete(old)


def _load_prepared(actor: User, imp: CustomerImport) -> Analysis:
    report = imp.report
    result = Analysis(
        total=int(report.get("total_rows", 0)),
        problems=list(report.get("rows", [])),
        error_rows=int(report.get("error_rows", 0)),
        duplicate_rows=int(report.get("duplicate_rows", 0)),
        new_tags=set(report.get("new_tags", [])),
    )
    with default_storage.open(imp.prepared_file.name, "rb") as fh:
        rows = json.loads(zlib.decompress(base64.b64decode(decrypt(fh.read().decode()))))
    owners = {
        u.pk: u
        for u in User.objects.select_related("department").filter(
            pk__in={row[4] for row in rows}, is_active=True
        )
    }
    owners = {pk: u for pk, u in owners.items() if user_in_scope(actor, u)}
    tags = set(Tag.objects.values_list("name", flat=True))
    may_create_tags = has_perm(actor, "customers.manage_tags")
    result.new_tags = {t for t in result.new_tags if t not in tags} if may_create_tags else set()
    for number, name, kind, fields, owner_id, tag_names, card in rows:
        errors = Errors()
        owner = owners.get(owner_id)
        if owner is None:
            errors.add("owner", "customers.owner_invalid")
        missing = [t for t in tag_names if t not in tags and t not in result.new_tags]
        if missing:
            errors.add("tags", "customers.tag_invalid", value=missing[0])
        if errors or owner is None:
            result.error_rows += 1
            result.problems.append(_error(number, name, errors))
            continue
        if fields.get("birth_date"):
            fields["birth_date"] = date.fromisoformat(fields["birth_date"])
        result.prepared.append(
            Prepared(number, name, kind, fields, owner, tag_names, tuple(card) if card else None)
        )
    _against_existing(result)  # customers created since the dry run
    result.problems.sort(key=lambda p: p["row"])
    return result


# --- commit ---------------------------------------------------------------------------------


class ImportHasErrors(LoanDeskError):
    status = 422
    code = "customers.import_has_errors"


# The commit runs in the background (tasks.commit_import_task) in batches of COMMIT_BATCH rows,
# reporting rows_done / rows_total for the phone to poll. All or nothing:
# - every check runs before the first write (the dry run validated each row; the commit
#   re-checks owners, tags and duplicates against current data and, when that finds bad rows
#   and the user did not choose to skip them, fails without writing anything);
# - PostgreSQL: all batches run in one transaction (MVCC: nobody waits on it; progress is
#   written through a second connection), so any failure leaves nothing behind;
# - SQLite: each batch is its own short transaction, so other users' writes are not locked
#   out for the whole import (one transaction of 100,000 rows held the write lock ~13 s);
#   the customers' events (outbox) are written last, with the status change, and a failure
#   before that deletes the rows this import wrote (their ids are kept on the import).
# A worker that dies is noticed by the watchdog (no heartbeat for STALE_AFTER): the import is
# marked failed with the reason and its partial rows removed. Committing again is safe either
# way: rows whose ID number / mobile / USCC now exist are reported as duplicates, never created.
COMMIT_BATCH = 1000
STALE_AFTER = timedelta(minutes=5)
_COMMITTABLE = (CustomerImport.Status.CHECKED, CustomerImport.Status.FAILED)


def commit_import(
    *, actor: User, imp: CustomerImport, request: HttpRequest | None = None
) -> CustomerImport:
    """Starts the background commit of what the last dry run prepared."""
    from loandesk.customers.tasks import commit_import_task

    require_perm(actor, "customers.import")
    require_perm(actor, "customers.create")
    _ensure_open(imp)
    if imp.status not in _COMMITTABLE or not imp.prepared_file:
        raise Conflict("customers.import_not_checked")
    errors = int(imp.report.get("error_rows", 0))
    if errors and not imp.skip_bad_rows:
        report = report_out(imp.report)
        raise ImportHasErrors(
            params={"count": errors}, details={"error_rows": errors, "rows": report["rows"][:50]}
        )
    # One UPDATE claims the import (two taps → one commit); the task is enqueued after it, so
    # an immediate backend does not run the commit inside this request's transaction either.
    claimed = CustomerImport.objects.filter(pk=imp.pk, status__in=_COMMITTABLE).update(
        status=CustomerImport.Status.COMMITTING,
        rows_total=int(imp.report.get("create_rows", 0)),
        rows_done=0,
        commit_started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        failure_code="",
        failure_params={},
    )
    if not claimed:
        raise Conflict("customers.import_state")
    commit_import_task.enqueue(imp.pk, actor.pk, audit.client_ip(request))
    imp.refresh_from_db()
    return imp


class _Progress:
    """rows_done / heartbeat, visible to the phone while the commit's transaction is open:
    through a second connection on PostgreSQL, in each batch's transaction on SQLite."""

    def __init__(self, imp: CustomerImport) -> None:
        self.imp = imp
        self.other = (
            connections.create_connection(DEFAULT_DB_ALIAS)
            if connection.vendor == "postgresql" and connection.in_atomic_block
            else None
        )

    def update(self, done: int) -> None:
        now = timezone.now()
        if self.other is None:
            CustomerImport.objects.filter(pk=self.imp.pk).update(rows_done=done, heartbeat_at=now)
            return
        table = CustomerImport._meta.db_table
        with self.other.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, heartbeat_at = %s WHERE id = %s",  # noqa: S608
                [done, now, self.imp.pk],
            )

    def close(self) -> None:
        if self.other is not None:
            self.other.close()


def run_commit(*, import_id: int, actor_id: int, ip: str | None = None) -> None:
    """The background commit (see above). Never raises for expected failures: the import ends
    committed, or failed with a reason the phone shows."""
    imp = CustomerImport.objects.filter(pk=import_id).first()
    actor = User.objects.filter(pk=actor_id, is_active=True).first()
    if imp is None or imp.status != CustomerImport.Status.COMMITTING:
        return  # already finished, failed by the watchdog, or deleted
    if actor is None:
        _fail(imp, "customers.import_failed_actor")
        return
    started = time.perf_counter()
    try:
        with _bulk_work():
            result = _load_prepared(actor, imp)
        header_row = int(imp.report.get("header_row", 1))
        if result.error_rows and not imp.skip_bad_rows:
            imp.report = result.report(header_row)
            _fail(imp, "customers.import_has_errors", count=result.error_rows)
            return
        analysed = time.perf_counter()
        CustomerImport.objects.filter(pk=imp.pk).update(rows_total=len(result.prepared))
        if connection.vendor == "postgresql":
            with _bulk_work(), transaction.atomic():
                created = _write(actor=actor, imp=imp, result=result, ip=ip)
        else:
            created = _write(actor=actor, imp=imp, result=result, ip=ip)
    except IntegrityError:
        # Someone created one of these customers meanwhile; nothing of this import remains.
        logger.info("customer import %s: conflict, rolled back", import_id)
        _undo(imp)
        _fail(imp, "customers.import_failed_conflict")
        return
    except Exception:
        logger.exception("customer import %s failed", import_id)
        _undo(imp)
        _fail(imp, "customers.import_failed_error")
        return
    logger.info(
        "customer import %s committed: %s created, analysed in %.1f s, written in %.1f s",
        imp.pk,
        created,
        analysed - started,
        time.perf_counter() - analysed,
    )
    # The spreadsheet holds PII in the clear (encrypted at rest here); it is not needed any more.
    default_storage.delete(imp.file.name)
    default_storage.delete(imp.prepared_file.name)


def _fail(imp: CustomerImport, code: str, **params: Any) -> None:
    imp.status = CustomerImport.Status.FAILED
    imp.failure_code = code
    imp.failure_params = params
    imp.heartbeat_at = timezone.now()
    imp.save(update_fields=["status", "failure_code", "failure_params", "heartbeat_at", "report"])


def _undo(imp: CustomerImport) -> None:
    """Deletes what a failed SQLite commit wrote (PostgreSQL's transaction left nothing)."""
    if connection.vendor == "postgresql":
        return
    imp.refresh_from_db(fields=["report"])
    ranges = imp.report.get("written_ids", [])
    ids = [i for first, last in ranges for i in range(first, last + 1)]
    for start in range(0, len(ids), QUERY_CHUNK):
        chunk = ids[start : start + QUERY_CHUNK]
        with transaction.atomic():
            AuditEntry.objects.filter(
                action="record.create",
                target_type="customers.customer",
                target_id__in=[str(i) for i in chunk],
            ).delete()
            TimelineEvent.objects.filter(customer_id__in=chunk).delete()
            BankCard.objects.filter(customer_id__in=chunk).delete()
            Customer.tags.through.objects.filter(customer_id__in=chunk).delete()
            CustomerNameGram.objects.filter(customer_id__in=chunk).delete()
            Customer.objects.filter(pk__in=chunk).delete()
    imp.report = {k: v for k, v in imp.report.items() if k != "written_ids"}
    imp.save(update_fields=["report"])


def fail_stalled_imports(now: datetime | None = None) -> int:
    """The watchdog: commits whose worker stopped reporting are marked failed (and undone)."""
    limit = (now or timezone.now()) - STALE_AFTER
    stalled = list(
        CustomerImport.objects.filter(
            status=CustomerImport.Status.COMMITTING, heartbeat_at__lt=limit
        )
    )
    for imp in stalled:
        _undo(imp)
        _fail(imp, "customers.import_failed_worker")
    return len(stalled)


def _audit_changes(p: Prepared) -> dict[str, Any]:
    changes: dict[str, Any] = {"kind": [None, p.kind], "owner": [None, p.owner.pk]}
    for key, value in p.fields.items():
        if key.endswith("_bidx") or key in ("name_pinyin", "name_initials", "gender", "birth_date"):
            continue
        if value in ("", None):
            continue
        if key in ("id_number", "phone"):
            value = f"{masked_pii(key, value)} {fingerprint(p.fields.get(f'{key}_bidx'))}"
        changes[key] = [None, value]
    if p.tag_names:
        changes["tags"] = [None, sorted(p.tag_names)]
    return changes


def _write(*, actor: User, imp: CustomerImport, result: Analysis, ip: str | None) -> int:
    """Bulk inserts (see bulk.py) in batches of COMMIT_BATCH: customers, tag links, bank cards,
    one timeline line and one audit entry (record.create, PII masked) per customer; then, with
    the status change, one customer.created event per customer and the import's own audit."""
    now = timezone.now()
    with transaction.atomic():
        for name in sorted(result.new_tags):
            Tag.objects.get_or_create(name=name, defaults={"created_by": actor})
    tags = {t.name: t.pk for t in Tag.objects.all()}
    progress = _Progress(imp)
    header_row = int(imp.report.get("header_row", 1))
    written: list[list[int]] = []
    events: list[dict[str, Any]] = []
    try:
        prepared = result.prepared
        for start in range(0, len(prepared), COMMIT_BATCH):
            batch = prepared[start : start + COMMIT_BATCH]
            with transaction.atomic():
                ids = bulk.reserve_ids(Customer, len(batch))
                rows = _write_batch(actor, imp, batch, ids, tags, now, ip)
                events.extend(rows)
                written.extend(_ranges(ids))
                if connection.vendor == "sqlite":
                    # Which rows to delete should a later batch fail (see run_commit).
                    CustomerImport.objects.filter(pk=imp.pk).update(
                        report={**imp.report, "written_ids": written}
                    )
                progress.update(start + len(batch))
    finally:
        progress.close()
    created = len(events)
    with transaction.atomic():
        bulk.insert(OutboxEvent, events, with_pk=True, now=now)
        entry = audit.record(
            action="customers.import",
            actor=actor,
            target=imp,
            extra={
                "created": created,
                "errors_skipped": result.error_rows,
                "duplicates_skipped": result.duplicate_rows,
                "file_sha256": imp.sha256,
            },
        )
        if ip:  # the request that started the commit is gone; its address was kept
            AuditEntry.objects.filter(pk=entry.pk).update(ip=ip)
        # One event through publish() so the worker is nudged once after commit.
        outbox.publish(
            "customers.import_committed",
            payload={"import_id": imp.pk, "created": created, "actor_id": actor.pk},
            aggregate_type="customers.import",
            aggregate_id=imp.pk,
        )
        imp.status = CustomerImport.Status.COMMITTED
        imp.committed_at = timezone.now()
        imp.created_count = created
        imp.rows_done = created
        imp.heartbeat_at = imp.committed_at
        imp.report = {**result.report(header_row), "committed": True, "created_count": created}
        imp.save(
            update_fields=[
                "status",
                "committed_at",
                "created_count",
                "rows_done",
                "heartbeat_at",
                "report",
            ]
        )
    return created


def _ranges(ids: list[int]) -> list[list[int]]:
    """[[first, last], …] of consecutive ids."""
    out: list[list[int]] = []
    for i in ids:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def _write_batch(
    actor: User,
    imp: CustomerImport,
    prepared: list[Prepared],
    ids: list[int],
    tags: dict[str, int],
    now: datetime,
    ip: str | None,
) -> list[dict[str, Any]]:
    """One batch's rows; returns its customer.created events (written at the end)."""
    customers: list[dict[str, Any]] = []
    for customer_id, p in zip(ids, prepared, strict=True):
        row = dict(p.fields)
        row.update(
            id=customer_id,
            kind=p.kind,
            owner_id=p.owner.pk,
            department_id=p.owner.department_id,
            created_by_id=actor.pk,
            created_at=now,
            updated_at=now,
            source_channel=row.get("source_channel") or "import",
        )
        customers.append(row)
    bulk.insert(Customer, customers, with_pk=True, now=now)
    bulk.insert(
        Customer.tags.through,
        (
            {"customer_id": cid, "tag_id": tags[t]}
            for cid, p in zip(ids, prepared, strict=True)
            for t in dict.fromkeys(p.tag_names)
        ),
    )
    bulk.insert(
        BankCard,
        (
            {
                "customer_id": cid,
                "number": p.card[0],
                "number_bidx": bank_card_index(p.card[0]),
                "bank_name": p.card[1],
                "created_by_id": actor.pk,
                "created_at": now,
            }
            for cid, p in zip(ids, prepared, strict=True)
            if p.card is not None
        ),
    )
    bulk.insert(
        TimelineEvent,
        (
            {
                "customer_id": cid,
                "kind": "created",
                "summary_code": "customers.timeline.created_by_import",
                "params": {"import_id": imp.pk},
                "actor_id": actor.pk,
                "ref_type": "customers.import",
                "ref_id": str(imp.pk),
                "at": now,
            }
            for cid in ids
        ),
    )
    bulk.insert(
        AuditEntry,
        (
            {
                "actor_id": actor.pk,
                "actor_username": actor.get_username(),
                "action": "record.create",
                "target_type": "customers.customer",
                "target_id": str(cid),
                "target_label": p.name[:200],
                "ip": ip,
                "changes": _audit_changes(p),
                "extra": {"import_id": imp.pk, "row": p.row},
            }
            for cid, p in zip(ids, prepared, strict=True)
        ),
        now=now,
    )
    return [
        {
            "topic": "customer.created",
            "payload": {
                "customer_id": row["id"],
                "kind": row["kind"],
                "owner_id": row["owner_id"],
                "department_id": row["department_id"],
                "source_channel": row["source_channel"],
                "import_id": imp.pk,
            },
            "aggregate_type": "customers.customer",
            "aggregate_id": str(row["id"]),
        }
        for row in customers
    ]
