"""Customer-center API shapes. Inputs forbid unknown keys (a typo is a 422 naming the key)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

Kind = Literal["individual", "enterprise"]
PiiField = Literal["id_number", "phone", "bank_card"]
FollowUpKind = Literal["call", "visit", "wechat", "note"]
DocumentKind = Literal[
    "id_front", "id_back", "income_proof", "bank_statement", "contract", "photo", "other"
]
Money = str | int | float  # yuan; floats are refused by the service with a clear message


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


# --- references -----------------------------------------------------------------------------


class UserRef(Schema):
    id: int
    username: str
    full_name: str


class DepartmentRef(Schema):
    id: int
    name: str


class TagRef(Schema):
    id: int
    name: str
    color: str


class CustomerRef(Schema):
    id: int
    name: str


# --- customers ------------------------------------------------------------------------------


class BankCardIn(StrictIn):
    number: str = Field(max_length=40)
    bank_name: str = Field("", max_length=50)


class _ProfileIn(StrictIn):
    id_number: str | None = Field(None, max_length=40)
    phone: str | None = Field(None, max_length=32)
    uscc: str | None = Field(None, max_length=40)
    legal_representative: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=200)
    province_code: str | None = Field(None, max_length=12)
    province_name: str | None = Field(None, max_length=60)
    city_code: str | None = Field(None, max_length=12)
    city_name: str | None = Field(None, max_length=60)
    district_code: str | None = Field(None, max_length=12)
    district_name: str | None = Field(None, max_length=60)
    address: str | None = Field(None, max_length=400)
    employer: str | None = Field(None, max_length=200)
    monthly_income: Money | None = None
    marital_status: str | None = Field(None, max_length=20)
    education: str | None = Field(None, max_length=20)
    credit_level: str | None = Field(None, max_length=20)
    source_channel: str | None = Field(None, max_length=30)
    remark: str | None = Field(None, max_length=2000)
    owner_id: int | None = None
    custom: dict[str, Any] | None = None


class CustomerIn(_ProfileIn):
    kind: Kind = "individual"
    name: str = Field(max_length=200)
    tag_ids: list[int] = Field(default_factory=list, max_length=30)
    bank_cards: list[BankCardIn] = Field(default_factory=list, max_length=10)
    on_duplicate: Literal["error", "link"] = "error"


class CustomerPatch(_ProfileIn):
    name: str | None = Field(None, max_length=200)
    tag_ids: list[int] | None = Field(None, max_length=30)


class CustomerFilter(Schema):
    q: str | None = Field(None, max_length=100)
    tag: int | None = None
    owner_id: int | None = None
    credit_level: str | None = Field(None, max_length=20)
    kind: Kind | None = None
    mine: bool | None = None
    department_id: int | None = None
    status: Literal["active", "archived", "merged", "all"] = "active"


class CustomerListItem(Schema):
    id: int
    kind: str
    name: str
    status: str
    phone: str
    id_number: str
    uscc: str
    gender: str
    age: int | None
    credit_level: str
    source_channel: str
    owner: UserRef
    department: DepartmentRef | None
    tags: list[TagRef]
    last_follow_up_at: datetime | None
    next_follow_up_at: datetime | None
    created_at: datetime
    updated_at: datetime
    pii_masked: bool


class CustomerPage(Schema):
    items: list[CustomerListItem]
    # None: a broad text search, not counted. count_capped: more than `count` (1,000) match.
    count: int | None
    count_capped: bool
    page: int
    page_size: int


class BankCardOut(Schema):
    id: int
    number: str
    bank_name: str
    created_at: datetime


class TabCounts(Schema):
    follow_ups: int
    documents: int
    applications: int
    loans: int
    repayments: int
    collections: int


class CustomerOut(CustomerListItem):
    birth_date: date | None
    legal_representative: str
    industry: str
    province_code: str
    province_name: str
    city_code: str
    city_name: str
    district_code: str
    district_name: str
    address: str
    employer: str
    monthly_income: str | None
    marital_status: str
    education: str
    remark: str
    custom: dict[str, Any]
    bank_cards: list[BankCardOut]
    merged_into: CustomerRef | None
    created_by: UserRef | None
    counts: TabCounts


class RevealIn(StrictIn):
    field: PiiField
    bank_card_id: int | None = None


class RevealOut(Schema):
    field: str
    value: str


class MergeIn(StrictIn):
    duplicate_id: int


# --- tags -----------------------------------------------------------------------------------


class TagIn(StrictIn):
    name: str = Field(max_length=100)
    color: str = Field("#1989fa", max_length=7)


class TagOut(TagRef):
    customer_count: int = 0


# --- follow-ups -----------------------------------------------------------------------------


class FollowUpIn(StrictIn):
    kind: FollowUpKind
    content: str = Field(max_length=5000)
    photo_ids: list[int] = Field(default_factory=list, max_length=20)
    latitude: Decimal | None = Field(None, ge=-90, le=90, max_digits=9, decimal_places=6)
    longitude: Decimal | None = Field(None, ge=-180, le=180, max_digits=9, decimal_places=6)
    location_address: str = Field("", max_length=200)
    next_follow_up_at: datetime | None = None


class PhotoOut(Schema):
    id: int
    original_name: str
    content_type: str
    url: str


class FollowUpOut(Schema):
    id: int
    customer_id: int
    author: UserRef
    kind: str
    content: str
    photos: list[PhotoOut]
    latitude: str | None
    longitude: str | None
    location_address: str
    next_follow_up_at: datetime | None
    closed_at: datetime | None
    created_at: datetime


class TodoFilter(Schema):
    within_days: int = Field(7, ge=0, le=365)


class TodoItem(Schema):
    follow_up_id: int
    customer: CustomerRef
    author: UserRef
    kind: str
    content: str
    next_follow_up_at: datetime
    overdue: bool


class TodoPage(Schema):
    items: list[TodoItem]
    # Exact up to 99; above it 100 with count_capped (the card shows "99+").
    count: int
    count_capped: bool
    page: int
    page_size: int


# --- documents and timeline -----------------------------------------------------------------


class DocumentOut(Schema):
    id: int
    customer_id: int
    kind: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: UserRef | None
    created_at: datetime
    url: str


class DocumentFilter(Schema):
    kind: DocumentKind | None = None


class TimelineOut(Schema):
    id: int
    at: datetime
    kind: str
    actor: UserRef | None
    summary: str
    ref_type: str
    ref_id: str


# --- imports --------------------------------------------------------------------------------


class ImportColumn(Schema):
    header: str
    letter: str
    suggested_field: str | None
    samples: list[str]


class ImportField(Schema):
    key: str
    label: str
    required: bool


class ImportRow(Schema):
    row: int
    status: Literal["error", "duplicate"]
    name: str
    errors: dict[str, str]
    duplicate_of: dict[str, int] | None


class ImportReport(Schema):
    total_rows: int
    create_rows: int
    error_rows: int
    duplicate_rows: int
    new_tags: list[str]
    rows: list[ImportRow]
    rows_truncated: bool
    committed: bool
    created_count: int


class ImportProgress(Schema):
    rows_done: int
    rows_total: int


class ImportFailure(Schema):
    code: str
    message: str


class ImportOut(Schema):
    id: int
    status: str
    original_name: str
    size: int
    sheet_name: str
    header_row: int
    columns: list[ImportColumn]
    suggested_mapping: dict[str, str]
    mapping: dict[str, str]
    skip_bad_rows: bool
    fields: list[ImportField]
    report: ImportReport | None
    created_count: int
    created_at: datetime
    committed_at: datetime | None
    progress: ImportProgress
    failure: ImportFailure | None


class DryRunIn(StrictIn):
    mapping: dict[str, str | None] = Field(max_length=200)
    skip_bad_rows: bool = False


# --- choices --------------------------------------------------------------------------------


class ChoiceOut(Schema):
    value: str
    label: str
