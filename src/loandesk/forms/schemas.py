"""API input and output shapes of the form engine."""

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

CODE_PATTERN = r"^[a-z][a-z0-9_]{0,49}$"


class UserRef(Schema):
    id: int
    username: str
    full_name: str


class FormIn(Schema):
    code: str = Field(min_length=1, max_length=50, pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["profile", "application", "generic"] = "generic"
    description: str = Field("", max_length=500)


class FormPatchIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: Literal["profile", "application", "generic"] | None = None
    description: str | None = Field(None, max_length=500)
    is_active: bool | None = None


class FormOut(Schema):
    id: int
    code: str
    name: str
    description: str
    kind: str
    is_active: bool
    version: int | None
    published_at: datetime | None
    has_draft: bool
    updated_at: datetime


class FormDetailOut(FormOut):
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    modes: dict[str, str]


class ProblemOut(Schema):
    key: str
    path: str
    code: str
    message: str
    position: int | None = None


class DraftIn(Schema):
    schema_: dict[str, Any] = Field(alias="schema")


class ValidateIn(Schema):
    schema_: dict[str, Any] | None = Field(None, alias="schema")


class DraftOut(Schema):
    number: int
    schema_: dict[str, Any] = Field(alias="schema")
    updated_at: datetime
    problems: list[ProblemOut]


class ValidateOut(Schema):
    ok: bool
    problems: list[ProblemOut]


class VersionOut(Schema):
    number: int
    published_at: datetime | None
    published_by: UserRef | None
    field_count: int


class VersionDetailOut(VersionOut):
    schema_: dict[str, Any] = Field(alias="schema")


class FormulaCheckIn(Schema):
    text: str = Field(max_length=2000)
    fields: list[str] = Field(default_factory=list, max_length=500)
    subtables: dict[str, list[str]] = Field(default_factory=dict)


class FormulaErrorOut(Schema):
    code: str
    message: str
    position: int | None


class FormulaCheckOut(Schema):
    ok: bool
    references: list[str]
    error: FormulaErrorOut | None = None


class DataIn(Schema):
    data: dict[str, Any]


class EvaluateOut(Schema):
    version: int
    values: dict[str, Any]
    visible: dict[str, bool]
    errors: dict[str, str]


class RecordOut(Schema):
    id: int
    form: str
    version: int
    serial_no: str
    data: dict[str, Any]
    display: dict[str, str]
    modes: dict[str, str]
    owner: UserRef | None
    department_id: int | None
    created_via: str
    created_at: datetime
    updated_at: datetime


class ColumnOut(Schema):
    key: str
    label: str
    type: str
    sortable: bool
    filter_ops: list[str]


class RecordRowOut(Schema):
    id: int
    serial_no: str
    version: int
    owner: UserRef | None
    created_via: str
    created_at: datetime
    updated_at: datetime
    values: dict[str, Any]
    display: dict[str, str]


class RecordPageOut(Schema):
    columns: list[ColumnOut]
    items: list[RecordRowOut]
    count: int
    page: int
    page_size: int


class RecordListParams(Schema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)
    sort: str = Field("-created_at", max_length=60)


class RevealIn(Schema):
    field: str = Field(min_length=1, max_length=120)


class RevealOut(Schema):
    field: str
    value: str


class HistoryOut(Schema):
    at: datetime
    actor_username: str
    action: str
    changes: dict[str, Any]


class LinkIn(Schema):
    expires_at: datetime | None = None
    max_submissions: int | None = Field(None, ge=1, le=1_000_000)
    sms_verification: bool = False


class LinkOut(Schema):
    id: int
    token: str
    url: str
    qr_png: str | None = None
    form: str
    form_name: str
    created_by: UserRef | None
    created_at: datetime
    expires_at: datetime | None
    max_submissions: int | None
    submissions: int
    sms_verification: bool
    active: bool
    status: str


class UploadOut(Schema):
    id: str
    name: str
    content_type: str
    size: int
    kind: str
    url: str | None


class PublicFormInfo(Schema):
    name: str
    description: str


class PublicFormOut(Schema):
    form: PublicFormInfo
    version: int
    schema_: dict[str, Any] = Field(alias="schema")
    sms_verification: bool
    expires_at: datetime | None
    shared_by: str


class SmsIn(Schema):
    phone: str = Field(min_length=1, max_length=32)


class SmsOut(Schema):
    sent: bool
    phone: str
    expires_in: int
    resend_after: int


class PublicSubmitIn(Schema):
    data: dict[str, Any]
    sms_code: str | None = Field(None, max_length=12)
    website: str = Field("", max_length=200)  # honeypot: people never see it, bots fill it


class PublicSubmitOut(Schema):
    status_token: str
    serial_no: str


class PublicFlowStep(Schema):
    label: str
    status: str
    text: str


class PublicFlowStatus(Schema):
    """The approval's progress in plain words (no names, no comments) for the borrower."""

    status: str
    summary: str
    steps: list[PublicFlowStep]


class PublicStatusOut(Schema):
    """Unverified: form_name, verified=false, verification, phone_hint — nothing else. Verified
    (the grant cookie): also the serial number, status and the flow's progress."""

    form_name: str
    verified: bool
    verification: str  # "sms" | "unavailable" (no phone on the record: ask the loan officer)
    phone_hint: str | None = None  # 138****5678, the phone the code goes to
    serial_no: str | None = None
    submitted_at: datetime | None = None
    status: str | None = None
    status_label: str | None = None
    flow: PublicFlowStatus | None = None
    grant_expires_in: int | None = None


class StatusVerifyIn(Schema):
    code: str = Field("", max_length=12)
