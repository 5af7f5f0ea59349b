"""Notify writes: in-app messages from the flows app's outbox events and the inbox's read
marks; outgoing messages (`send`, re-exported from deliveries) and the 通知渠道 admin writes.

Handlers (handlers.py) call `from_flow_event`; a message is rendered once, in the recipient's
language, and keyed by (user, "event:<id>") so a redelivered event never adds a second one.
"""

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.crypto import decrypt
from loandesk.core.errors import Conflict, NotFound, ValidationFailed
from loandesk.core.i18n import message, normalize_language
from loandesk.core.models import OutboxEvent
from loandesk.notify import deliveries, rendering
from loandesk.notify.channels.smtp import SECURITY
from loandesk.notify.deliveries import Recipient, send
from loandesk.notify.models import (
    Category,
    Channel,
    ChannelKind,
    Delivery,
    Notification,
    NotifySettings,
    OptOut,
    Template,
)
from loandesk.notify.permissions import MANAGE_CHANNELS

__all__ = ["Recipient", "send"]

Kind = Notification.Kind
FINISHED_RESULTS = ("approved", "rejected", "cancelled")


def _name(user_id: Any) -> str:
    if not str(user_id or "").isdigit():
        return ""
    user = User.objects.filter(pk=int(user_id)).only("full_name", "username").first()
    return str(user) if user is not None else ""


def _user_ids(values: Iterable[Any]) -> list[int]:
    out: list[int] = []
    for v in values:
        if str(v).isdigit() and int(v) not in out:
            out.append(int(v))
    return out


def notify_users(
    *,
    user_ids: Iterable[int],
    kind: str,
    title_code: str,
    body_code: str,
    params: Mapping[str, Any],
    link: str = "",
    event: OutboxEvent | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Create one message per active user, each in that user's language; returns how many were
    created (existing keys are skipped, so calling twice for one event adds nothing)."""
    key = dedupe_key or (f"event:{event.pk}" if event is not None else "")
    if not key:
        raise ValueError("a dedupe key or an event is required")
    users = list(User.objects.filter(pk__in=list(user_ids), is_active=True))
    if not users:
        return 0
    at = timezone.now()
    rows = []
    for user in users:
        lang = normalize_language(user.language)
        rows.append(
            Notification(
                user=user,
                kind=kind,
                title=message(title_code, params, lang)[:200],
                body=message(body_code, params, lang)[:1000],
                link=link[:300],
                params=dict(params),
                event_id=event.pk if event is not None else None,
                dedupe_key=key[:100],
                created_at=at,
            )
        )
    existing = set(
        Notification.objects.filter(
            user__in=[u.pk for u in users], dedupe_key=key[:100]
        ).values_list("user_id", flat=True)
    )
    fresh = [r for r in rows if r.user_id not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def _task_row(instance_id: Any, task_id: Any) -> Any:
    from loandesk.flows.models import FlowTask

    if not instance_id or not task_id:
        return None
    return (
        FlowTask.objects.filter(instance_id=instance_id, engine_task_id=str(task_id))
        .order_by("-id")
        .first()
    )


def from_task_assigned(event: OutboxEvent) -> int:
    """flows.task_assigned → 待办 for the assignee (升级 when the task came from an escalation)."""
    p = event.payload
    task = _task_row(p.get("instance_id"), p.get("task_id"))
    escalated = task is not None and task.kind == "escalation"
    params = {
        "title": p.get("title") or "",
        "initiator": _name(p.get("initiator_id")),
        "node": task.node_name if task is not None else p.get("node_id") or "",
        "instance_id": p.get("instance_id"),
    }
    kind = Kind.ESCALATION if escalated else Kind.TASK
    return notify_users(
        user_ids=_user_ids([p.get("user_id")]),
        kind=kind,
        title_code=f"notify.{kind}.title",
        body_code=f"notify.{kind}.body",
        params=params,
        link=_link(p),
        event=event,
    )


def _link(payload: Mapping[str, Any]) -> str:
    instance_id = payload.get("instance_id")
    return f"/approvals/{instance_id}" if str(instance_id or "").isdigit() else ""


def from_flow_notify(event: OutboxEvent) -> int:
    """flows.notify (reminder, urge, returned, finished, cc, escalation_failed, automated_failed,
    no_assignee) → one message per recipient; unknown kinds are ignored."""
    p = event.payload
    kind = str(p.get("kind") or "")
    extra = p.get("params") if isinstance(p.get("params"), dict) else {}
    params: dict[str, Any] = {
        "title": p.get("title") or "",
        "initiator": _name(p.get("initiator_id")),
        "instance_id": p.get("instance_id"),
        "message": str(extra.get("message") or "")[:300],
    }
    title_code, body_code = f"notify.{kind}.title", f"notify.{kind}.body"
    if kind == "reminder":
        task = _task_row(p.get("instance_id"), p.get("task_id"))
        if task is not None and task.due_at is not None:
            params["due"] = timezone.localtime(task.due_at).strftime("%m-%d %H:%M")
        else:
            body_code = "notify.reminder.body_nodue"
    elif kind == "finished":
        result = str(extra.get("result") or "")
        params["result"] = result
        label = result if result in FINISHED_RESULTS else "other"
        title_code = f"notify.finished.{label}.title"
    elif kind not in (
        Kind.URGE,
        Kind.RETURNED,
        Kind.CC,
        Kind.ESCALATION_FAILED,
        Kind.AUTOMATED_FAILED,
        Kind.NO_ASSIGNEE,
    ):
        return 0
    return notify_users(
        user_ids=_user_ids(p.get("user_ids") or []),
        kind=kind,
        title_code=title_code,
        body_code=body_code,
        params=params,
        link=_link(p),
        event=event,
    )


def from_flow_message(event: OutboxEvent) -> int:
    """flows.message (the send_message automated step) → the step's text as a message."""
    from loandesk.flows.models import FlowInstance

    p = event.payload
    title = (
        FlowInstance.objects.filter(pk=p.get("instance_id") or 0)
        .values_list("title", flat=True)
        .first()
    )
    params = {
        "title": title or "",
        "text": str(p.get("text") or "")[:1000],
        "instance_id": p.get("instance_id"),
    }
    return notify_users(
        user_ids=_user_ids(p.get("user_ids") or []),
        kind=Kind.MESSAGE,
        title_code="notify.message.title",
        body_code="notify.message.body",
        params=params,
        link=_link(p),
        event=event,
    )


# --- the inbox -------------------------------------------------------------------------------


@transaction.atomic
def mark_read(*, actor: User, message_id: int) -> Notification:
    """Mark one of the caller's messages read (idempotent); others' ids are 404."""
    if not 0 < message_id < 2**62:
        raise NotFound()
    row = Notification.objects.select_for_update().filter(pk=message_id, user=actor).first()
    if row is None:
        raise NotFound()
    if row.read_at is None:
        row.read_at = timezone.now()
        row.save(update_fields=["read_at"])
    return row


@transaction.atomic
def mark_all_read(*, actor: User) -> int:
    """Mark every unread message of the caller read; returns how many changed."""
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- outbox topics delivered as messages ----------------------------------------------------

_CODE = re.compile(r"(?<!\d)(\d{4,8})(?!\d)")
_MINUTES = re.compile(r"(\d{1,3})\s*分钟")


def from_sms_event(event: OutboxEvent) -> Delivery | None:
    """notify.sms (public-form and status-page codes) → an SMS through the configured provider.

    The payload carries the encrypted number and the ready text; real providers send approved
    templates, so the `verification_code` template is used when the code can be read from it."""
    p = event.payload
    encrypted = p.get("phone_encrypted")
    if not isinstance(encrypted, str) or not encrypted:
        return None
    phone = decrypt(encrypted)
    text = str(p.get("text") or "")
    params = p.get("params") if isinstance(p.get("params"), dict) else {}
    code = params.get("code") or (m.group(1) if (m := _CODE.search(text)) else None)
    minutes = params.get("minutes") or (m.group(1) if (m := _MINUTES.search(text)) else None)
    template = Template.objects.filter(
        code="verification_code", channel=ChannelKind.SMS, enabled=True
    ).first()
    use_template = template is not None and code is not None and minutes is not None
    return send(
        channel=ChannelKind.SMS,
        to=Recipient(phone=phone),
        category=Category.TRANSACTIONAL,
        dedupe_key=f"outbox:{event.pk}",
        template_code="verification_code" if use_template else None,
        context={"code": code, "minutes": minutes} if use_template else None,
        # The outbox provider records the very text the form published.
        body="" if use_template else text,
        source=f"outbox:{event.topic}",
    )


def from_webhook_event(event: OutboxEvent) -> Delivery:
    """flows.webhook → a signed POST of {"event", "instance_id", "step_id", "payload"}."""
    p = event.payload
    body = json.dumps(
        {
            "event": "flows.webhook",
            "id": str(event.pk),
            "instance_id": p.get("instance_id"),
            "step_id": p.get("step_id"),
            "payload": p.get("payload") or {},
        },
        ensure_ascii=False,
        default=str,
    )
    return send(
        channel=ChannelKind.WEBHOOK,
        to=Recipient(url=str(p.get("url") or "")),
        category=Category.TRANSACTIONAL,
        dedupe_key=f"outbox:{event.pk}",
        body=body,
        source=f"outbox:{event.topic}",
    )


# --- 通知渠道: channel configuration ---------------------------------------------------------

PROVIDERS: dict[str, tuple[str, ...]] = {
    ChannelKind.SMS: ("outbox", "aliyun", "tencent"),
    ChannelKind.EMAIL: ("smtp",),
    ChannelKind.DINGTALK: ("dingtalk",),
    ChannelKind.WECOM: ("wecom",),
    ChannelKind.WEBHOOK: ("webhook",),
}
# provider → (plain settings, secret settings)
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "outbox": ((), ()),
    "aliyun": (
        ("access_key_id", "sign_name", "region", "endpoint", "timeout"),
        ("access_key_secret",),
    ),
    "tencent": (
        ("secret_id", "sdk_app_id", "sign_name", "region", "endpoint", "timeout"),
        ("secret_key",),
    ),
    "smtp": (
        ("host", "port", "security", "username", "sender", "sender_name", "timeout"),
        ("password",),
    ),
    "dingtalk": (("timeout",), ("webhook", "secret")),
    "wecom": (("timeout",), ("webhook",)),
    "webhook": (("url", "timeout"), ("secret",)),
}
_SLUG = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def _clean_settings(provider: str, values: Mapping[str, Any]) -> dict[str, Any]:
    plain, _ = FIELDS[provider]
    unknown = sorted(set(values) - set(plain))
    if unknown:
        raise ValidationFailed(
            {"settings": message("notify.bad_setting", {"names": ", ".join(unknown)})}
        )
    out: dict[str, Any] = {}
    for key, raw in values.items():
        value = "" if raw is None else str(raw).strip()
        if len(value) > 500:
            raise ValidationFailed.field(f"settings.{key}", "notify.setting_too_long")
        if value == "":
            continue
        if key in ("port", "timeout"):
            limit = 65535 if key == "port" else 60
            if not value.isdigit() or not 1 <= int(value) <= limit:
                raise ValidationFailed({f"settings.{key}": f"1–{limit}"})
            out[key] = int(value)
        elif key == "security" and value not in SECURITY:
            raise ValidationFailed({f"settings.{key}": " / ".join(SECURITY)})
        elif key in ("url", "endpoint") and not value.startswith(("http://", "https://")):
            raise ValidationFailed.field(f"settings.{key}", "notify.bad_url")
        else:
            out[key] = value
    return out


def _merge_secrets(channel: Channel, provider: str, values: Mapping[str, Any]) -> list[str]:
    """Set the given secrets (empty = keep the stored one); returns the names changed."""
    _, secret_keys = FIELDS[provider]
    unknown = sorted(set(values) - set(secret_keys))
    if unknown:
        raise ValidationFailed(
            {"secrets": message("notify.bad_setting", {"names": ", ".join(unknown)})}
        )
    current = {k: v for k, v in deliveries.secrets_of(channel).items() if k in secret_keys}
    changed = []
    for key, raw in values.items():
        value = "" if raw is None else str(raw).strip()
        if len(value) > 500:
            raise ValidationFailed.field(f"secrets.{key}", "notify.setting_too_long")
        if value and value != current.get(key):
            current[key] = value
            changed.append(key)
    channel.secrets = json.dumps(current) if current else ""
    return changed


def _snapshot(channel: Channel) -> dict[str, Any]:
    return {
        "kind": channel.kind,
        "code": channel.code,
        "name": channel.name,
        "provider": channel.provider,
        "settings": dict(channel.settings),
        "enabled": channel.enabled,
    }


def ensure_channels() -> None:
    for kind in deliveries.SINGLETONS:
        deliveries.singleton(kind)


@transaction.atomic
def create_channel(*, actor: User, data: Mapping[str, Any]) -> Channel:
    """A new robot or webhook endpoint (SMS and e-mail exist once, edited in place)."""
    require_perm(actor, MANAGE_CHANNELS)
    kind = str(data.get("kind") or "")
    if kind not in (ChannelKind.DINGTALK, ChannelKind.WECOM, ChannelKind.WEBHOOK):
        raise ValidationFailed.field("kind", "notify.builtin_channel")
    code = str(data.get("code") or "").strip()
    if not _SLUG.match(code):
        raise ValidationFailed.field("code", "notify.bad_code")
    if Channel.objects.filter(code=code).exists():
        raise ValidationFailed.field("code", "notify.code_taken")
    channel = Channel(kind=kind, code=code, provider=kind)
    _apply(channel, data, creating=True)
    audit.record(
        action="notify.channel.create",
        actor=actor,
        target=channel,
        target_label=channel.name,
        changes={"after": _snapshot(channel)},
    )
    return channel


def _apply(channel: Channel, data: Mapping[str, Any], *, creating: bool) -> list[str]:
    provider = str(data.get("provider") or channel.provider)
    if provider not in PROVIDERS.get(channel.kind, ()):
        raise ValidationFailed.field("provider", "notify.bad_provider")
    name = str(data.get("name") if data.get("name") is not None else channel.name).strip()
    if not name or len(name) > 100:
        raise ValidationFailed.field("name", "notify.required")
    settings_in = data.get("settings")
    secrets_in = data.get("secrets")
    if settings_in is not None and not isinstance(settings_in, Mapping):
        raise ValidationFailed.field("settings", "notify.required")
    if secrets_in is not None and not isinstance(secrets_in, Mapping):
        raise ValidationFailed.field("secrets", "notify.required")
    if provider != channel.provider and not creating:
        channel.secrets = ""  # another provider's keys are no use and should not linger
    channel.provider = provider
    channel.name = name
    if settings_in is not None:
        channel.settings = _clean_settings(provider, settings_in)
    elif provider not in ("outbox",):
        channel.settings = _clean_settings(
            provider, {k: v for k, v in channel.settings.items() if k in FIELDS[provider][0]}
        )
    changed = _merge_secrets(channel, provider, secrets_in or {})
    if data.get("enabled") is not None:
        channel.enabled = bool(data["enabled"])
    if channel.kind == ChannelKind.WEBHOOK and not channel.settings.get("url"):
        raise ValidationFailed.field("settings.url", "notify.bad_url")
    channel.save()
    return changed


@transaction.atomic
def update_channel(*, actor: User, channel_id: int, data: Mapping[str, Any]) -> Channel:
    require_perm(actor, MANAGE_CHANNELS)
    channel = Channel.objects.select_for_update().filter(pk=channel_id).first()
    if channel is None:
        raise NotFound()
    before = _snapshot(channel)
    changed = _apply(channel, data, creating=False)
    audit.record(
        action="notify.channel.update",
        actor=actor,
        target=channel,
        target_label=channel.name,
        changes={"before": before, "after": _snapshot(channel)},
        extra={"secrets_changed": changed},  # names only, never values
    )
    return channel


@transaction.atomic
def delete_channel(*, actor: User, channel_id: int) -> None:
    require_perm(actor, MANAGE_CHANNELS)
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise NotFound()
    if channel.kind in deliveries.SINGLETONS:
        raise Conflict("notify.builtin_channel")
    audit.record(
        action="notify.channel.delete",
        actor=actor,
        target=channel,
        target_label=channel.name,
        changes={"before": _snapshot(channel)},
    )
    channel.delete()


def test_send(*, actor: User, channel_id: int, to: str, text: str) -> Delivery:
    """Send one message through a channel now (the admin's "发送测试"); returns the delivery
    with the outcome (sent, or pending/dead with the provider's error)."""
    require_perm(actor, MANAGE_CHANNELS)
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise NotFound()
    body = (text or "").strip() or "LoanDesk 测试消息 / test message"
    if len(body) > 500:
        raise ValidationFailed.field("text", "notify.setting_too_long")
    recipient: Recipient
    if channel.kind == ChannelKind.SMS:
        recipient = Recipient(phone=to)
    elif channel.kind == ChannelKind.EMAIL:
        recipient = Recipient(email=to)
    else:
        recipient = Recipient(endpoint=channel.code)
    with transaction.atomic():
        row = send(
            channel=channel.kind,
            to=recipient,
            category=Category.TRANSACTIONAL,
            dedupe_key=f"test:{uuid.uuid4().hex}",
            subject="" if channel.kind == ChannelKind.SMS else "LoanDesk 测试 / test",
            body=body,
            source="test",
            actor=actor,
        )
        audit.record(
            action="notify.channel.test",
            actor=actor,
            target=channel,
            target_label=channel.name,
            extra={"delivery": row.pk, "to": row.address_masked},
        )
    deliveries.deliver(row.pk)
    row.refresh_from_db()
    return row


# --- templates -------------------------------------------------------------------------------


def _clean_template(data: Mapping[str, Any], current: Template | None) -> dict[str, Any]:
    def get(key: str, default: Any = "") -> Any:
        if key in data and data[key] is not None:
            return data[key]
        return getattr(current, key) if current is not None else default

    out: dict[str, Any] = {
        "code": str(get("code")).strip(),
        "channel": str(get("channel")),
        "category": str(get("category")),
        "name": str(get("name")).strip(),
        "subject": str(get("subject")),
        "body": str(get("body")),
        "provider_template_id": str(get("provider_template_id")).strip(),
        "sign_name": str(get("sign_name")).strip(),
        "enabled": bool(get("enabled", True)),
    }
    variables = get("variables", [])
    errors: dict[str, str] = {}
    if not re.match(r"^[A-Za-z0-9_-]{1,60}$", out["code"]):
        errors["code"] = message("notify.bad_code")
    if out["channel"] not in ChannelKind.values:
        errors["channel"] = message("notify.bad_channel")
    if out["category"] not in Category.values:
        errors["category"] = message("notify.bad_category")
    if not out["name"] or len(out["name"]) > 100:
        errors["name"] = message("notify.required")
    if not out["body"].strip() or len(out["body"]) > 2000:
        errors["body"] = message("notify.required")
    if len(out["subject"]) > 200:
        errors["subject"] = message("notify.setting_too_long")
    if len(out["provider_template_id"]) > 60 or len(out["sign_name"]) > 30:
        errors["provider_template_id"] = message("notify.setting_too_long")
    if (
        not isinstance(variables, list)
        or len(variables) > 30
        or not all(isinstance(v, str) for v in variables)
    ):
        errors["variables"] = message("notify.template.bad_variable_name", {"names": "?"})
        variables = []
    variables = list(dict.fromkeys(v.strip() for v in variables))
    if not errors:
        try:
            rendering.check([out["subject"], out["body"]], variables)
        except rendering.TemplateError as exc:
            field = "variables" if exc.code == "bad_variable_name" else "body"
            errors[field] = message(f"notify.template.{exc.code}", {"names": ", ".join(exc.names)})
    if errors:
        raise ValidationFailed(errors)
    out["variables"] = variables
    return out


@transaction.atomic
def create_template(*, actor: User, data: Mapping[str, Any]) -> Template:
    require_perm(actor, MANAGE_CHANNELS)
    clean = _clean_template(data, None)
    if Template.objects.filter(code=clean["code"], channel=clean["channel"]).exists():
        raise ValidationFailed.field("code", "notify.code_taken")
    row = Template.objects.create(**clean)
    audit.record(
        action="notify.template.create",
        actor=actor,
        target=row,
        target_label=row.name,
        changes={"after": clean},
    )
    return row


@transaction.atomic
def update_template(*, actor: User, template_id: int, data: Mapping[str, Any]) -> Template:
    require_perm(actor, MANAGE_CHANNELS)
    row = Template.objects.select_for_update().filter(pk=template_id).first()
    if row is None:
        raise NotFound()
    before = {k: getattr(row, k) for k in _clean_template({}, row)}
    clean = _clean_template(data, row)
    taken = Template.objects.filter(code=clean["code"], channel=clean["channel"]).exclude(pk=row.pk)
    if taken.exists():
        raise ValidationFailed.field("code", "notify.code_taken")
    for key, value in clean.items():
        setattr(row, key, value)
    row.save()
    audit.record(
        action="notify.template.update",
        actor=actor,
        target=row,
        target_label=row.name,
        changes={k: [before[k], clean[k]] for k in clean if before[k] != clean[k]},
    )
    return row


# --- settings, dead letters, opt-outs --------------------------------------------------------


def _time(field: str, value: Any) -> time:
    m = re.match(r"^([01]\d|2[0-3]):([0-5]\d)$", str(value or ""))
    if m is None:
        raise ValidationFailed.field(field, "notify.bad_time")
    return time(int(m.group(1)), int(m.group(2)))


@transaction.atomic
def update_settings(*, actor: User, data: Mapping[str, Any]) -> NotifySettings:
    require_perm(actor, MANAGE_CHANNELS)
    row = deliveries.notify_settings()
    row = NotifySettings.objects.select_for_update().get(pk=row.pk)
    before = {
        "quiet_enabled": row.quiet_enabled,
        "quiet_start": row.quiet_start.strftime("%H:%M"),
        "quiet_end": row.quiet_end.strftime("%H:%M"),
        "quiet_timezone": row.quiet_timezone,
        "quiet_categories": row.quiet_categories,
        "caps": row.caps,
        "max_attempts": row.max_attempts,
    }
    if "quiet_enabled" in data and data["quiet_enabled"] is not None:
        row.quiet_enabled = bool(data["quiet_enabled"])
    if data.get("quiet_start") is not None:
        row.quiet_start = _time("quiet_start", data["quiet_start"])
    if data.get("quiet_end") is not None:
        row.quiet_end = _time("quiet_end", data["quiet_end"])
    if data.get("quiet_timezone") is not None:
        zone = str(data["quiet_timezone"])
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed.field("quiet_timezone", "notify.bad_timezone") from None
        row.quiet_timezone = zone
    if data.get("quiet_categories") is not None:
        cats = data["quiet_categories"]
        if not isinstance(cats, list) or any(c not in Category.values for c in cats):
            raise ValidationFailed.field("quiet_categories", "notify.bad_category")
        row.quiet_categories = sorted(set(cats))
    if data.get("caps") is not None:
        caps = data["caps"]
        valid = isinstance(caps, Mapping) and all(
            isinstance(k, str)
            and k.partition(".")[0] in ChannelKind.values
            and k.partition(".")[2] in Category.values
            and isinstance(v, int)
            and not isinstance(v, bool)
            and 0 <= v <= 1000
            for k, v in caps.items()
        )
        if not valid:
            raise ValidationFailed.field("caps", "notify.bad_caps")
        row.caps = dict(sorted(caps.items()))
    if data.get("max_attempts") is not None:
        n = data["max_attempts"]
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 20:
            raise ValidationFailed({"max_attempts": "1–20"})
        row.max_attempts = n
    secret = data.get("webhook_secret")
    if isinstance(secret, str) and secret.strip():
        if len(secret) > 200:
            raise ValidationFailed.field("webhook_secret", "notify.setting_too_long")
        row.webhook_secret = secret.strip()
    row.save()
    after = {
        "quiet_enabled": row.quiet_enabled,
        "quiet_start": row.quiet_start.strftime("%H:%M"),
        "quiet_end": row.quiet_end.strftime("%H:%M"),
        "quiet_timezone": row.quiet_timezone,
        "quiet_categories": row.quiet_categories,
        "caps": row.caps,
        "max_attempts": row.max_attempts,
    }
    audit.record(
        action="notify.settings.update",
        actor=actor,
        target_type="notify.notifysettings",
        target_id=1,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
        extra={"webhook_secret_changed": bool(isinstance(secret, str) and secret.strip())},
    )
    return row


@transaction.atomic
def retry_delivery(*, actor: User, delivery_id: int) -> Delivery:
    require_perm(actor, MANAGE_CHANNELS)
    row = Delivery.objects.filter(pk=delivery_id).first()
    if row is None:
        raise NotFound()
    if not deliveries.retry_dead(row.pk):
        raise Conflict("notify.not_dead")
    audit.record(
        action="notify.delivery.retry", actor=actor, target=row, target_label=row.dedupe_key[:200]
    )
    row.refresh_from_db()
    return row


@transaction.atomic
def add_opt_out(*, actor: User, customer_id: int, channel: str, reason: str = "") -> OptOut:
    """Record that a customer refuses a channel (officers with edit rights on the customer)."""
    from loandesk.customers.selectors import customer_for

    customer = customer_for(actor, customer_id, perm="customers.update")
    if channel not in ChannelKind.values or channel == ChannelKind.INAPP:
        raise ValidationFailed.field("channel", "notify.bad_channel")
    if OptOut.objects.filter(customer=customer, channel=channel).exists():
        raise Conflict("notify.opt_out_exists")
    row = OptOut.objects.create(
        customer=customer, channel=channel, reason=(reason or "")[:200], created_by=actor
    )
    audit.record(
        action="notify.opt_out.add",
        actor=actor,
        target=customer,
        target_label=customer.name,
        extra={"channel": channel},
    )
    return row


@transaction.atomic
def remove_opt_out(*, actor: User, opt_out_id: int) -> None:
    from loandesk.customers.selectors import customer_for

    row = OptOut.objects.filter(pk=opt_out_id).first()
    if row is None:
        raise NotFound()
    customer = customer_for(actor, row.customer_id, perm="customers.update")
    audit.record(
        action="notify.opt_out.remove",
        actor=actor,
        target=customer,
        target_label=customer.name,
        extra={"channel": row.channel},
    )
    row.delete()
