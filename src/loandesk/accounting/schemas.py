"""Accounting API shapes. Amounts are decimal strings of yuan ("1234.56")."""

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class AccountOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    type: str
    parent_code: str | None
    active: bool


class AccountIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=200)
    name_en: str = Field("", max_length=200)
    type: str = Field(max_length=20)
    parent_code: str | None = Field(None, max_length=40)


class AccountPatch(Schema):
    name: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    active: bool | None = None


class PostingRuleOut(Schema):
    component: str
    label: str
    debit: AccountOut | None
    credit: AccountOut | None


class PostingRuleIn(Schema):
    debit_code: str = Field(max_length=40)
    credit_code: str = Field(max_length=40)


class LineOut(Schema):
    line_no: int
    account_code: str
    account_name: str
    debit: str
    credit: str


class CustomerRef(Schema):
    id: int
    name: str


class EntryOut(Schema):
    id: int
    date: date
    period: str
    voucher: str
    voucher_no: int
    topic: str
    description: str
    contract_no: str
    loan_id: int | None
    customer: CustomerRef | None
    total_debit: str
    total_credit: str
    balanced: bool
    off_books: dict[str, str]
    lines: list[LineOut]


class JournalFilter(Schema):
    period: str = Field(max_length=7)


class JournalSummary(Schema):
    period: str
    entries: int
    total_debit: str
    total_credit: str
    balanced: bool


class ExportFilter(Schema):
    period: str = Field(max_length=7)
    layout: str = Field(max_length=10)


class LoanRef(Schema):
    id: int
    contract_no: str
    customer_name: str
    status: str
    outstanding_principal: str


class StatementLineOut(Schema):
    id: int
    row_no: int
    value_date: date | None
    amount: str | None
    payer_name: str
    payer_account: str
    memo: str
    serial: str
    status: str
    reason: str
    reason_text: str
    matched_by: str
    loan: LoanRef | None
    candidates: list[LoanRef]
    repayment_id: int | None
    error: str


class StatementOut(Schema):
    id: int
    original_name: str
    file_kind: str
    status: str
    header_row: int
    headers: list[str]
    row_count: int
    fields: list[str]
    suggested_mapping: dict[str, str]
    mapping: dict[str, str]
    samples: list[list[str]]
    counts: dict[str, int]
    amounts: dict[str, str]
    lines: list[StatementLineOut]
    created_at: datetime


class DryRunIn(Schema):
    mapping: dict[str, Any]


class Resolution(Schema):
    line_id: int
    loan_id: int


class PostIn(Schema):
    resolutions: list[Resolution] = Field(default_factory=list, max_length=5000)


class WriteOffLoan(Schema):
    id: int
    contract_no: str
    status: str
    customer_name: str
    days_past_due: int
    bucket: str
    classification: str


class InstanceRef(Schema):
    id: int
    status: str
    current_node_name: str


class UserRef(Schema):
    id: int
    full_name: str


class WriteOffOut(Schema):
    id: int
    loan_id: int
    contract_no: str
    customer_name: str
    reason: str
    owed_on: date
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str
    status: str
    instance: InstanceRef | None
    requested_by: UserRef
    created_at: datetime
    written_off_at: datetime | None


class WriteOffPreview(Schema):
    loan: WriteOffLoan
    on: date
    principal: str
    due_principal: str
    interest: str
    fee: str
    penalty: str
    total: str
    can_request: bool
    pending: bool
    latest: WriteOffOut | None


class WriteOffIn(Schema):
    loan_id: int
    reason: str = Field(max_length=2000)
