"""Post-loan API shapes."""

from datetime import date, datetime
from datetime import date as Day  # fields named `date` shadow the type
from decimal import Decimal
from typing import Literal

from django.conf import settings
from ninja import Schema
from pydantic import Field


class StepOut(Schema):
    step: str
    status: str
    partitions: int
    done: int
    failed: int
    rows: int
    started_at: datetime | None
    finished_at: datetime | None


class RunOut(Schema):
    id: int
    business_date: date
    status: str
    trigger: str
    workers: int
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str
    steps: list[StepOut]


class CobOut(Schema):
    business_date: date
    next_date: date
    running: bool
    runs: list[RunOut]


class RunIn(Schema):
    until: date | None = None
    workers: int = Field(default=1, ge=1, le=settings.LOANDESK_COB_MAX_WORKERS)


class BucketIO(Schema):
    code: str = Field(min_length=1, max_length=8)
    min_dpd: int = Field(ge=0, le=100_000)
    max_dpd: int | None = Field(default=None, ge=0, le=100_000)


class ThresholdIO(Schema):
    classification: str = Field(max_length=20)
    min_dpd: int = Field(ge=0, le=100_000)


class SettingsOut(Schema):
    buckets: list[BucketIO]
    thresholds: list[ThresholdIO]


class BucketsIn(Schema):
    buckets: list[BucketIO] = Field(max_length=20)


class ThresholdsIn(Schema):
    thresholds: list[ThresholdIO] = Field(max_length=10)


class OwedLine(Schema):
    seq: int
    due_date: date
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str


class OwedOut(Schema):
    on: date
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str
    installments: list[OwedLine]
    current_period: OwedLine | None = None


# --- collections (催收) -----------------------------------------------------------------------


class UserRefOut(Schema):
    id: int
    username: str
    full_name: str


class CaseCustomerOut(Schema):
    id: int
    name: str
    phone: str  # masked


class TeamRefOut(Schema):
    id: int
    name: str


class CaseOut(Schema):
    id: int
    status: str
    close_reason: str
    loan_id: int
    contract_no: str
    customer: CaseCustomerOut
    collector: UserRefOut | None
    team: TeamRefOut | None
    bucket: str
    dpd: int
    opened_bucket: str
    opened_dpd: int
    overdue: str
    owed_today: str
    priority: int
    promise_date: date | None
    promise_due: bool
    last_result: str
    last_action_at: datetime | None
    next_action_at: datetime | None
    opened_at: datetime
    closed_at: datetime | None


class CasePage(Schema):
    items: list[CaseOut]
    count: int
    page: int
    page_size: int


class ActionOut(Schema):
    id: int
    case_id: int
    kind: str
    result: str
    event: str
    text: str
    note: str
    at: datetime
    by: UserRefOut | None


class PromiseOut(Schema):
    id: int
    date: Day
    amount: str
    paid: str
    status: str
    created_on: Day
    decided_on: Day | None
    note: str


class CaseLoanOut(Schema):
    id: int
    contract_no: str
    product: str
    principal: str
    outstanding_principal: str
    status: str
    days_past_due: int
    bucket: str
    overdue_since: date | None
    maturity_date: date
    periods: int


class CaseDetailOut(CaseOut):
    loan: CaseLoanOut
    owed: OwedOut
    actions: list[ActionOut]
    promises: list[PromiseOut]
    can_manage: bool
    can_work: bool


class CaseFilter(Schema):
    view: Literal["today", "all"] = "all"
    status: Literal["open", "promised", "closed"] | None = None
    bucket: str | None = Field(default=None, max_length=8)
    collector_id: int | None = Field(default=None, ge=0, le=2**62)  # 0: unassigned
    team_id: int | None = Field(default=None, ge=1, le=2**62)
    result: str | None = Field(default=None, max_length=20)
    q: str | None = Field(default=None, max_length=100)


class CaseOpenIn(Schema):
    loan_id: int = Field(ge=1, le=2**62)
    team_id: int | None = Field(default=None, ge=1, le=2**62)
    assign_to: Literal["team", "owner"] = "team"


class ActionIn(Schema):
    kind: Literal["call", "sms", "visit", "letter"]
    result: Literal["promised", "no_answer", "refused", "lost_contact", "paid", "other"]
    note: str = Field(default="", max_length=1000)
    next_action_at: datetime | None = None


class PromiseIn(Schema):
    date: Day
    amount: Decimal = Field(gt=0, le=Decimal("100000000000"), decimal_places=2)
    note: str = Field(default="", max_length=200)


class ReassignIn(Schema):
    collector_id: int = Field(ge=1, le=2**62)
    team_id: int | None = Field(default=None, ge=1, le=2**62)
    note: str = Field(default="", max_length=1000)


class EscalateIn(Schema):
    team_id: int | None = Field(default=None, ge=1, le=2**62)
    note: str = Field(default="", max_length=1000)


class CloseIn(Schema):
    note: str = Field(min_length=1, max_length=1000)


class RevealOut(Schema):
    field: str
    value: str


class SummaryRow(Schema):
    key: str
    label: str
    cases: int
    amount: str


class SummaryOut(Schema):
    business_date: date
    cases: int
    amount: str
    promises_due: int
    by_bucket: list[SummaryRow]
    by_collector: list[SummaryRow]
    by_result: list[SummaryRow]


class CustomerCasesOut(Schema):
    cases: list[CaseOut]
    actions: list[ActionOut]


class TeamOut(Schema):
    id: int
    name: str
    kind: str
    strategy: str
    buckets: list[str]
    members: list[UserRefOut]
    fixed_user: UserRefOut | None
    escalation_order: int
    active: bool
    open_cases: int


class TeamIn(Schema):
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["in_house", "legal", "outsourced"] = "in_house"
    strategy: Literal["round_robin", "owner", "fixed"] = "round_robin"
    buckets: list[str] = Field(default_factory=list, max_length=20)
    member_ids: list[int] = Field(default_factory=list, max_length=200)
    fixed_user_id: int | None = Field(default=None, ge=1, le=2**62)
    escalation_order: int = Field(default=0, ge=0, le=999)
    active: bool = True


class CollectionsMetaOut(Schema):
    business_date: Day
    buckets: list[str]
    max_promise_days: int
