"""Post-loan API shapes."""

from datetime import date, datetime

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
    workers: int = Field(default=1, ge=1, le=16)


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
