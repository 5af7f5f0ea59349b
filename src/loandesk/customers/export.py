"""Excel export of the customers a caller can see (the list's filters), PII masked unless the
caller holds customers.view_pii, every text cell neutralised against formula injection."""

import tempfile
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.http import HttpRequest
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from loandesk.accounts.models import User
from loandesk.accounts.scoping import has_perm, require_perm
from loandesk.core import audit
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import EN, current_language, message
from loandesk.customers.messages import choice_label, field_label
from loandesk.customers.models import Customer
from loandesk.customers.profile import masked_pii
from loandesk.customers.selectors import search_customers

MAX_EXPORT_ROWS = 100_000
COLUMNS = (
    "id",
    "kind",
    "name",
    "id_number",
    "phone",
    "gender",
    "birth_date",
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
    "department",
    "tags",
    "status",
    "last_follow_up_at",
    "next_follow_up_at",
    "created_at",
    "updated_at",
    "remark",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a leading quote;
    characters XML cannot carry are dropped."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _row(c: Customer, unmasked: bool) -> list[Any]:
    def pii(name: str) -> str:
        value = getattr(c, name) or ""
        return value if unmasked else masked_pii(name, value)

    values: dict[str, Any] = {
        "id": c.pk,
        "kind": choice_label("kind", c.kind),
        "name": c.name,
        "id_number": pii("id_number"),
        "phone": pii("phone"),
        "gender": choice_label("gender", c.gender),
        "birth_date": c.birth_date.isoformat() if c.birth_date else "",
        "uscc": c.uscc or "",
        "monthly_income": (
            Decimal(c.monthly_income) / 100 if c.monthly_income is not None else None
        ),
        "marital_status": choice_label("marital_status", c.marital_status),
        "education": choice_label("education", c.education),
        "credit_level": choice_label("credit_level", c.credit_level),
        "source_channel": choice_label("source_channel", c.source_channel) or c.source_channel,
        "owner": str(c.owner),
        "department": c.department.name if c.department else "",
        "tags": "、".join(t.name for t in c.tags.all()),
        "status": choice_label("status", c.status),
        "last_follow_up_at": _when(c.last_follow_up_at),
        "next_follow_up_at": _when(c.next_follow_up_at),
        "created_at": _when(c.created_at),
        "updated_at": _when(c.updated_at),
    }
    return [neutralise(values[k] if k in values else getattr(c, k)) for k in COLUMNS]


def export_customers(
    *, actor: User, filters: dict[str, Any], request: HttpRequest | None = None
) -> tuple[IO[bytes], int]:
    """(.xlsx in a temporary file, row count). Refuses more than MAX_EXPORT_ROWS rows."""
    require_perm(actor, "customers.export")
    qs = search_customers(actor=actor, **filters)
    count = qs.count()
    if count > MAX_EXPORT_ROWS:
        params = {"max": MAX_EXPORT_ROWS}
        raise ValidationFailed(
            {"filters": message("customers.export_too_large", params)},
            code="customers.export_too_large",
            params=params,
        )
    unmasked = has_perm(actor, "customers.view_pii")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Customers" if current_language() == EN else "客户")
    sheet.append([neutralise(field_label(k) if k != "id" else "ID") for k in COLUMNS])
    rows = (
        qs.select_related("owner", "department").prefetch_related("tags").iterator(chunk_size=2000)
    )
    for customer in rows:
        sheet.append(_row(customer, unmasked))
    out = tempfile.TemporaryFile()  # noqa: SIM115  (handed to the streaming response)
    workbook.save(out)
    out.seek(0)
    audit.record(
        action="pii.export" if unmasked else "customers.export",
        actor=actor,
        target_type="customers.customer",
        target_label=f"{count} customers",
        extra={
            "count": count,
            "unmasked": unmasked,
            "filters": {k: v for k, v in filters.items() if v not in (None, "")},
        },
        request=request,
    )
    return out, count
