from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

DecimalIn = Decimal | str


class ScorecardIn(Schema):
    code: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=1000)
    definition: dict[str, Any] | None = None
    is_active: bool | None = None
    # The version the editor loaded (updates only): a mismatch answers 409.
    version: int | None = None


class ScorecardOut(Schema):
    code: str
    name: str
    description: str
    definition: dict[str, Any]
    is_active: bool
    version: int
    rule_count: int
    updated_at: datetime
    updated_by: str | None


class FactorOut(Schema):
    code: str
    label: str
    label_en: str
    kind: str
    unit: str
    choices: list[str]


class PreviewIn(Schema):
    customer_id: int | None = None
    amount: DecimalIn | None = None
    term_months: DecimalIn | None = None
    annual_rate: DecimalIn | None = None
    monthly_payment: DecimalIn | None = None
    monthly_income: DecimalIn | None = None
    household_income: DecimalIn | None = None
    age: DecimalIn | None = None
    birth_date: date | None = None
    credit_level: str | None = Field(None, max_length=20)
    blacklisted: bool | None = None
    applications_30d: DecimalIn | None = None
    existing_loans_outstanding: DecimalIn | None = None
    # Preview unsaved edits: score with this definition instead of the stored one.
    definition: dict[str, Any] | None = None


class ReasonOut(Schema):
    code: str
    label: str
    points: int
    detail: str


class ResultOut(Schema):
    scorecard: str
    version: int
    score: int
    grade: str
    decision: str
    decision_label: str
    reasons: list[ReasonOut]
    factors: dict[str, Any]
    evaluated_at: str


class ResultRowOut(Schema):
    id: int
    scorecard: str
    scorecard_name: str
    version: int
    score: int
    grade: str
    decision: str
    record_id: int | None
    instance_id: int | None
    step_id: str
    result: dict[str, Any]
    created_at: datetime


class ResultFilter(Schema):
    customer_id: int
