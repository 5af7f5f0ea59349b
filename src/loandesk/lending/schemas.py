from datetime import date
from decimal import Decimal

from ninja import Schema
from pydantic import Field

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
