from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import ConfigDict, Field

# Money and rates travel as decimal strings; numbers are accepted too and parsed as Decimal.
DecimalIn = Decimal | str


class ScheduleParams(Schema):
    principal: DecimalIn
    annual_rate: DecimalIn
    periods: int | str
    start: date | None = None
    first_due: date | None = None
    interest_period: str | None = Field(None, max_length=20)
    day_count: str | None = Field(None, max_length=20)
    installment_multiple: DecimalIn | None = None
    frequency: str | None = Field(None, max_length=20)
    grace_periods: int | None = None
    interest_grace_periods: int | None = None
    holiday_shift: bool | None = None
    due_day: int | None = None
    upfront_fee: DecimalIn | None = None
    period_fee: DecimalIn | None = None
    period_fee_kind: str | None = Field(None, max_length=20)
    cap_line: str | None = Field(None, pattern=r"^(judicial|24|36)$")


class ScheduleIn(ScheduleParams):
    method: str = Field("equal_installment", max_length=30)


class PayoffIn(ScheduleIn):
    as_of: date
    prepayment_fee_percent: DecimalIn | None = None


class RowOut(Schema):
    seq: int
    due_date: str
    days: int
    opening_balance: str
    principal: str
    interest: str
    fee: str
    total: str
    balance: str


class TotalsOut(Schema):
    principal: str
    interest: str
    fee: str
    total: str


class WarningOut(Schema):
    code: str
    message: str


class CapOut(Schema):
    line: str
    rate: str
    exceeded: bool
    message: str


class ScheduleOut(Schema):
    installment: str
    rows: list[RowOut]
    totals: TotalsOut
    apr: str
    monthly_rate: str
    effective_annual_rate: str
    warnings: list[WarningOut]
    cap: CapOut


class MethodSummaryOut(Schema):
    method: str
    installment: str
    first_total: str
    last_total: str
    total_interest: str
    total: str
    apr: str


class CompareOut(Schema):
    methods: list[MethodSummaryOut]


class PayoffOut(Schema):
    as_of: str
    principal: str
    interest: str
    fee: str
    penalty: str
    prepayment_fee: str
    total: str


class CalendarDayIn(Schema):
    date: date
    name: str = Field("", max_length=50)


class CalendarYearIn(Schema):
    holidays: list[CalendarDayIn] = Field(default_factory=list, max_length=200)
    workdays: list[CalendarDayIn] = Field(default_factory=list, max_length=100)


class CalendarDayOut(Schema):
    date: str
    name: str


class CalendarYearOut(Schema):
    year: int
    source: str
    holidays: list[CalendarDayOut]
    workdays: list[CalendarDayOut]


# --- products --------------------------------------------------------------------------------


class ProductIn(Schema):
    """Create (every required field) or update (any subset). Amounts in yuan, rates in percent,
    as decimal strings; the service validates and names every bad field at once."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(None, max_length=40)
    name: str | None = Field(None, max_length=100)
    method: str | None = Field(None, max_length=30)
    frequency: str | None = Field(None, max_length=20)
    interest_period: str | None = Field(None, max_length=10)
    day_count: str | None = Field(None, max_length=10)
    min_amount: DecimalIn | None = None
    max_amount: DecimalIn | None = None
    min_periods: int | None = None
    max_periods: int | None = None
    min_rate: DecimalIn | None = None
    max_rate: DecimalIn | None = None
    installment_multiple: DecimalIn | None = None
    holiday_shift: bool | None = None
    penalty_rate_multiplier: DecimalIn | None = None
    grace_days: int | None = None
    compound_penalty: bool | None = None
    allocation_order: list[str] | None = Field(None, max_length=10)
    allocation_strategy: str | None = Field(None, max_length=20)
    overpayment: str | None = Field(None, max_length=10)
    upfront_fee_percent: DecimalIn | None = None
    period_fee_kind: str | None = Field(None, max_length=10)
    period_fee: DecimalIn | None = None
    prepayment_fee_percent: DecimalIn | None = None
    cap_line: str | None = Field(None, max_length=10)
    cap_policy: str | None = Field(None, max_length=10)
    active: bool | None = None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    method: str
    frequency: str
    interest_period: str
    day_count: str
    min_amount: str
    max_amount: str
    min_periods: int
    max_periods: int
    min_rate: str
    max_rate: str
    installment_multiple: str
    holiday_shift: bool
    penalty_rate_multiplier: str
    grace_days: int
    compound_penalty: bool
    allocation_order: list[str]
    allocation_strategy: str
    overpayment: str
    upfront_fee_percent: str
    period_fee_kind: str
    period_fee: str
    prepayment_fee_percent: str
    cap_line: str
    cap_policy: str
    cap_rate: str
    active: bool
    updated_at: datetime


class ProductFilter(Schema):
    active: bool | None = None


class QuoteIn(Schema):
    amount: DecimalIn | None = None
    periods: int | str | None = None
    annual_rate: DecimalIn | None = None
    start: date | None = None
    first_due: date | None = None


class ProductCapOut(CapOut):
    policy: str


class QuoteOut(Schema):
    installment: str
    rows: list[RowOut]
    totals: TotalsOut
    apr: str
    monthly_rate: str
    effective_annual_rate: str
    warnings: list[WarningOut]
    cap: ProductCapOut
    upfront_fee: str
    net_amount: str
    start: str


# --- disbursements and loans -----------------------------------------------------------------


class DisbursementIn(Schema):
    """The idempotency key may come in the `Idempotency-Key` header instead."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int
    product_id: int
    amount: DecimalIn | None = None
    periods: int | str | None = None
    annual_rate: DecimalIn | None = None
    start: date | None = None
    first_due: date | None = None
    account_name: str = Field("", max_length=100)
    account_number: str = Field("", max_length=40)
    bank_name: str = Field("", max_length=100)
    idempotency_key: str | None = Field(None, max_length=100)
    source_record_id: int | None = None


class LoanFilter(Schema):
    status: str | None = Field(None, pattern=r"^(active|overdue|closed|written_off)$")
    customer_id: int | None = None
    product_id: int | None = None
    q: str | None = Field(None, max_length=40)


class RefOut(Schema):
    id: int
    name: str


class ProductRefOut(RefOut):
    code: str


class UserRefOut(Schema):
    id: int
    username: str
    full_name: str


class NextDueOut(Schema):
    seq: int | None = None
    due_date: date
    amount: str


class LoanListItem(Schema):
    id: int
    contract_no: str
    status: str
    customer: RefOut
    product: ProductRefOut
    owner: UserRefOut | None
    principal: str
    annual_rate: str
    apr: str
    periods: int
    method: str
    start_date: date
    maturity_date: date
    outstanding_principal: str
    days_past_due: int
    bucket: str
    disbursed_at: datetime
    next_due: NextDueOut | None


class InstallmentOut(Schema):
    seq: int
    due_date: date
    days: int
    opening_principal: str
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str
    paid: str
    outstanding: str
    status: str


class LoanTotalsOut(Schema):
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str
    paid: str
    outstanding: str


class DisbursementOut(Schema):
    id: int
    amount: str
    upfront_fee: str
    net_amount: str
    value_date: date
    account_name: str
    account_number: str  # masked
    bank_name: str
    created_by: UserRefOut | None
    created_at: datetime


class LoanOut(LoanListItem):
    department: RefOut | None
    frequency: str
    first_due_date: date
    cap_rate: str
    cap_exceeded: bool
    penalty_rate: str
    grace_days: int
    classification: str
    overdue_since: date | None
    installments: list[InstallmentOut]
    totals: LoanTotalsOut
    disbursement: DisbursementOut | None
    created_by: UserRefOut | None


# --- repayments (还款登记 / 红冲 / 提前还款) ----------------------------------------------------


class RepaymentIn(Schema):
    """Amount in yuan as a string ("1234.56"); the value date defaults to the business date."""

    model_config = ConfigDict(extra="forbid")

    amount: DecimalIn | None = None
    value_date: date | None = None
    channel: str = Field("", max_length=20)
    reference: str = Field("", max_length=200)
    idempotency_key: str | None = Field(None, max_length=100, description="or the header")


class PrepaymentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    full: bool
    principal: DecimalIn | None = None
    mode: str | None = Field(None, max_length=20)
    amount: DecimalIn | None = Field(None, description="the quoted total the user confirmed")
    value_date: date | None = None
    channel: str = Field("", max_length=20)
    reference: str = Field("", max_length=200)
    idempotency_key: str | None = Field(None, max_length=100, description="or the header")


class ReverseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=1000)


class AllocationOut(Schema):
    seq: int
    due_date: date
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str


class RepaymentOut(Schema):
    id: int
    loan_id: int
    contract_no: str
    customer: RefOut
    kind: str
    prepayment_mode: str
    amount: str
    value_date: date
    channel: str
    reference: str
    source: str
    principal: str
    interest: str
    fee: str
    penalty: str
    credit: str
    status: str
    created_by: UserRefOut | None
    created_at: datetime
    reversed_by: UserRefOut | None
    reversed_at: datetime | None
    reversed_on: date | None
    reversal_reason: str
    replayed: bool
    allocations: list[AllocationOut] | None


class LoanRepaymentsOut(Schema):
    items: list[RepaymentOut]
    credit: str


class RepaymentFilter(Schema):
    loan_id: int | None = None
    customer_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    channel: str | None = Field(
        None, pattern=r"^(bank_transfer|cash|wechat|alipay|deduction|other)$"
    )
    kind: str | None = Field(None, pattern=r"^(repayment|partial_prepayment|full_prepayment)$")
    q: str | None = Field(None, max_length=40)
    reversed: bool | None = None


class PayoffQuoteParams(Schema):
    as_of: date | None = Field(None, alias="date")
    principal: DecimalIn | None = None
    mode: str | None = Field(None, max_length=20)


class DueOut(Schema):
    principal: str
    interest: str
    fee: str
    penalty: str
    total: str


class PayoffPartOut(Schema):
    principal: str
    interest: str
    fee: str
    prepayment_fee: str
    total: str
    prepaid_principal: str


class PartialRowOut(Schema):
    seq: int
    due_date: date
    principal: str
    interest: str
    fee: str
    total: str


class PartialPartOut(Schema):
    mode: str
    principal: str
    interest: str
    prepayment_fee: str
    total: str
    schedule: list[PartialRowOut]


class PayoffQuoteOut(Schema):
    as_of: date
    loan_id: int
    contract_no: str
    due: DueOut
    payoff: PayoffPartOut | None
    partial: PartialPartOut | None
    modes: list[str]
    prepayment_fee_percent: str
    max_partial_principal: str | None = None
