"""API shapes of the notify app (docs/api-notify.md)."""

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field


class MessageOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None
    unread: bool

    @staticmethod
    def resolve_unread(obj: object) -> bool:
        return getattr(obj, "read_at", None) is None


class MessagePage(Schema):
    items: list[MessageOut]
    next: str | None


class UnreadCount(Schema):
    unread: int


class ReadAllOut(Schema):
    updated: int
    unread: int


# --- 通知渠道 --------------------------------------------------------------------------------

Setting = str | int | bool | None


class ChannelOut(Schema):
    id: int
    kind: str
    code: str
    name: str
    provider: str
    settings: dict[str, Setting]
    secrets: dict[str, bool]
    enabled: bool
    updated_at: datetime


class ProviderFields(Schema):
    provider: str
    settings: list[str]
    secrets: list[str]


class ChannelList(Schema):
    items: list[ChannelOut]
    providers: dict[str, list[ProviderFields]]


class ChannelIn(Schema):
    kind: str | None = Field(None, max_length=12)
    code: str | None = Field(None, max_length=50)
    name: str | None = Field(None, max_length=100)
    provider: str | None = Field(None, max_length=20)
    settings: dict[str, Setting] | None = Field(None, max_length=20)
    # Write-only: empty or missing keeps the stored value.
    secrets: dict[str, str | None] | None = Field(None, max_length=10)
    enabled: bool | None = None


class TestIn(Schema):
    to: str = Field("", max_length=254)
    text: str = Field("", max_length=500)


class TemplateOut(Schema):
    id: int
    code: str
    channel: str
    category: str
    name: str
    subject: str
    body: str
    variables: list[str]
    provider_template_id: str
    sign_name: str
    enabled: bool
    updated_at: datetime


class TemplateIn(Schema):
    code: str | None = Field(None, max_length=60)
    channel: str | None = Field(None, max_length=12)
    category: str | None = Field(None, max_length=15)
    name: str | None = Field(None, max_length=100)
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=2000)
    variables: list[str] | None = Field(None, max_length=30)
    provider_template_id: str | None = Field(None, max_length=60)
    sign_name: str | None = Field(None, max_length=30)
    enabled: bool | None = None


class SettingsOut(Schema):
    quiet_enabled: bool
    quiet_start: str
    quiet_end: str
    quiet_timezone: str
    quiet_categories: list[str]
    caps: dict[str, int]
    max_attempts: int
    webhook_secret_set: bool


class SettingsIn(Schema):
    quiet_enabled: bool | None = None
    quiet_start: str | None = Field(None, max_length=5)
    quiet_end: str | None = Field(None, max_length=5)
    quiet_timezone: str | None = Field(None, max_length=50)
    quiet_categories: list[str] | None = Field(None, max_length=3)
    caps: dict[str, int] | None = Field(None, max_length=30)
    max_attempts: int | None = None
    webhook_secret: str | None = Field(None, max_length=200)


class DeliveryOut(Schema):
    id: int
    dedupe_key: str
    channel: str
    provider: str
    category: str
    template_code: str
    customer_id: int | None
    address_masked: str
    subject: str
    body: str
    source: str
    status: str
    reason: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    provider_ref: str
    created_at: datetime
    sent_at: datetime | None


class DeliveryFilter(Schema):
    status: Literal["pending", "deferred", "sent", "suppressed", "dead"] | None = None
    channel: Literal["inapp", "sms", "email", "dingtalk", "wecom", "webhook"] | None = None


class DeliveryCounts(Schema):
    pending: int
    deferred: int
    sent: int
    suppressed: int
    dead: int


class OptOutIn(Schema):
    customer_id: int = Field(..., ge=1, le=2**62)
    channel: str = Field(..., max_length=12)
    reason: str = Field("", max_length=200)


class OptOutOut(Schema):
    id: int
    customer_id: int
    channel: str
    reason: str
    created_at: datetime


class OptOutQuery(Schema):
    customer_id: int = Field(..., ge=1, le=2**62)


class TemplateFilter(Schema):
    channel: Literal["inapp", "sms", "email", "dingtalk", "wecom", "webhook"] | None = None
