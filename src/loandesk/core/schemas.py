from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class HealthOut(Schema):
    status: str
    database: str
    version: str
    business_date: str


class BusinessDateOut(Schema):
    business_date: date
    today: date


class BusinessDateIn(Schema):
    date: date


class ActorOut(Schema):
    id: int
    username: str
    full_name: str


class AuditEntryOut(Schema):
    id: int
    at: datetime
    actor: ActorOut | None
    actor_username: str
    action: str
    action_label: str
    target_type: str
    target_id: str
    target_label: str
    ip: str | None
    changes: dict[str, Any]
    extra: dict[str, Any]


class AuditFilter(Schema):
    actor_id: int | None = None
    action: str | None = Field(None, max_length=64)
    target_type: str | None = Field(None, max_length=64)
    target_id: str | None = Field(None, max_length=64)
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = Field(None, max_length=100)


class OutboxEventOut(Schema):
    id: str
    topic: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None


class OutboxFilter(Schema):
    status: str | None = Field(None, pattern=r"^(pending|done|dead)$")
