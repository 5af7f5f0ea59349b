"""Rules API shapes. The rule body is checked in depth by services.clean_rule (which knows the
record types, fields and actions); here only its outline."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field


class ActionIn(Schema):
    action: str = Field(min_length=1, max_length=60)
    params: dict[str, Any] = Field(default_factory=dict)


class RuleIn(Schema):
    name: str = Field(max_length=100)
    description: str = Field("", max_length=500)
    enabled: bool = False
    record_type: str = Field("", max_length=30)
    form_code: str = Field("", max_length=50)
    trigger_type: str = Field(max_length=10)
    trigger: dict[str, Any] = Field(default_factory=dict)
    condition: dict[str, Any] | bool | None = None
    actions: list[ActionIn] = Field(max_length=20)


class EnabledIn(Schema):
    enabled: bool


class TestIn(Schema):
    rule: RuleIn
    record_id: int | None = Field(None, ge=1, le=2**62)


class FiringBrief(Schema):
    id: int
    status: str
    created_at: datetime


class RuleOut(Schema):
    id: int
    code: str | None
    name: str
    description: str
    enabled: bool
    record_type: str
    form_code: str
    trigger_type: str
    trigger: dict[str, Any]
    condition: Any
    actions: list[dict[str, Any]]
    watermark: datetime | None
    run_as: dict[str, Any] | None
    updated_at: datetime
    unknown_actions: list[str]
    labels: dict[str, str]
    counts: dict[str, int]
    last_firing: FiringBrief | None


class FiringOut(Schema):
    id: int
    rule_id: int
    rule_name: str
    key: str
    record_type: str
    record_id: int | None
    record_label: str
    trigger_type: str
    occurrence: str
    occurred_at: datetime
    status: str
    results: list[dict[str, Any]]
    error: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int


class FiringPage(Schema):
    items: list[FiringOut]
    count: int
    page: int
    page_size: int


class ParamOut(Schema):
    key: str
    label: str
    label_en: str
    type: str
    required: bool
    options: list[dict[str, str]]
    default: Any


class ActionOut(Schema):
    name: str
    label: str
    label_en: str
    params: list[ParamOut]
    record_types: list[str]


class FieldOut(Schema):
    key: str
    label: str
    label_en: str
    type: str
    options: list[dict[str, str]]
    settable: bool
    date_trigger: bool


class TopicOut(Schema):
    topic: str
    label: str
    label_en: str


class RecordTypeOut(Schema):
    key: str
    label: str
    label_en: str
    needs_form: bool
    topics: list[TopicOut]
    forms: list[dict[str, str]]


class RecordOption(Schema):
    id: int
    label: str


class TestOut(Schema):
    record: RecordOption | None
    values: dict[str, Any]
    condition: dict[str, Any]
    trigger: dict[str, Any]
    actions: list[dict[str, Any]]
    error: str
    would_fire: bool
