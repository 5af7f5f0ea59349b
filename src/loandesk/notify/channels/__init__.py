"""Channel adapters (no Django): SMS providers, SMTP, group robots and signed webhooks.

Every adapter has `send(OutgoingMessage) -> SendResult` and raises `DeliveryError` (with
`retryable`) on failure; `build` turns a provider name and its settings into an adapter.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from loandesk.notify.channels.aliyun import AliyunSms
from loandesk.notify.channels.base import Attachment, DeliveryError, OutgoingMessage, SendResult
from loandesk.notify.channels.robots import DingTalkRobot, WeComRobot
from loandesk.notify.channels.smtp import SmtpMailer
from loandesk.notify.channels.tencent import TencentSms
from loandesk.notify.channels.webhook import Webhook

__all__ = ["Adapter", "Attachment", "DeliveryError", "OutgoingMessage", "SendResult", "build"]


class Adapter(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...


class OutboxSms:
    """The default SMS provider: sends nothing; the delivery row (body included) is the record
    admins read on the 通知渠道 page, next to the outbox events."""

    name = "outbox"

    def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult(detail="recorded")


def _s(values: Mapping[str, Any], key: str, default: str = "") -> str:
    value = values.get(key)
    return default if value is None else str(value)


def build(provider: str, settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> Adapter:
    """An adapter for `provider` from its plain settings and decrypted secrets."""
    timeout = float(settings.get("timeout") or 10)
    if provider == "outbox":
        return OutboxSms()
    if provider == "aliyun":
        return AliyunSms(
            access_key_id=_s(settings, "access_key_id"),
            access_key_secret=_s(secrets, "access_key_secret"),
            region=_s(settings, "region", "cn-hangzhou"),
            endpoint=_s(settings, "endpoint") or "https://dysmsapi.aliyuncs.com/",
            timeout=timeout,
        )
    if provider == "tencent":
        return TencentSms(
            secret_id=_s(settings, "secret_id"),
            secret_key=_s(secrets, "secret_key"),
            sdk_app_id=_s(settings, "sdk_app_id"),
            region=_s(settings, "region", "ap-guangzhou"),
            endpoint=_s(settings, "endpoint") or "https://sms.tencentcloudapi.com/",
            timeout=timeout,
        )
    if provider == "smtp":
        return SmtpMailer(
            host=_s(settings, "host"),
            port=int(settings.get("port") or 587),
            sender=_s(settings, "sender"),
            sender_name=_s(settings, "sender_name"),
            username=_s(settings, "username"),
            password=_s(secrets, "password"),
            security=_s(settings, "security", "starttls"),
            timeout=timeout,
        )
    if provider == "dingtalk":
        return DingTalkRobot(
            webhook=_s(secrets, "webhook"), secret=_s(secrets, "secret"), timeout=timeout
        )
    if provider == "wecom":
        return WeComRobot(webhook=_s(secrets, "webhook"), timeout=timeout)
    if provider == "webhook":
        return Webhook(url=_s(settings, "url"), secret=_s(secrets, "secret"), timeout=timeout)
    raise DeliveryError(f"unknown provider {provider!r}", retryable=False)
