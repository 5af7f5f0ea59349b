"""Outgoing deliveries: `send` writes one row in the caller's transaction (deduplicated by key,
with opt-out, caps and quiet hours applied), and the worker (`process_due`) sends due rows at
least once, with retries, backoff and dead letters.

Crash safety: a worker claims a row by setting `lease_until` in a single UPDATE; it calls the
provider outside any transaction and then records the result. If it dies in between, the lease
expires and another worker sends it again — at least once; `reference` (the dedupe key) goes
to providers that accept one, so a receiver can drop the repeat.
"""

import json
import logging
import os
import secrets as pysecrets
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from loandesk.accounts.phones import normalize_mobile
from loandesk.core.crypto import mask_phone
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import message
from loandesk.notify import channels, policy, rendering
from loandesk.notify.models import (
    Category,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryAttachment,
    NotifySettings,
    OptOut,
    Template,
)

logger = logging.getLogger(__name__)

Status = Delivery.Status
LEASE = timedelta(minutes=2)  # the default of settings.LOANDESK_NOTIFY_LEASE_SECONDS
# E-mail extras: an HTML alternative and files, stored with the delivery row.
MAX_HTML_CHARS = 200_000
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # all files of one message together
ACTIVE = (Status.PENDING, Status.DEFERRED)
# Kinds with exactly one configured row, found by code.
SINGLETONS = {
    ChannelKind.SMS: ("sms", "outbox", "短信"),
    ChannelKind.EMAIL: ("email", "smtp", "邮件"),
}


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to; set the one field the channel needs:

    - sms: `phone` (or `user_id`: the user's phone); email: `email` (or `user_id`);
    - inapp: `user_id`; dingtalk / wecom: `endpoint` (a configured robot's code; empty = the
      first enabled one); webhook: `endpoint`, or an ad-hoc `url` (+ `secret`, default the
      settings' webhook secret)."""

    phone: str = ""
    email: str = ""
    user_id: int | None = None
    endpoint: str = ""
    url: str = ""
    secret: str = ""

    @classmethod
    def of(cls, value: "Recipient | Mapping[str, Any]") -> "Recipient":
        if isinstance(value, Recipient):
            return value
        if isinstance(value, Mapping):
            known = {k: value[k] for k in cls.__dataclass_fields__ if k in value}
            return cls(**known)
        raise ValidationFailed.field("to", "notify.no_recipient")


def notify_settings() -> NotifySettings:
    row, _ = NotifySettings.objects.get_or_create(pk=1)
    if not row.webhook_secret:
        # Every installation signs webhooks with its own random secret until an admin sets one.
        row.webhook_secret = pysecrets.token_urlsafe(32)
        row.save(update_fields=["webhook_secret"])
    return row


def singleton(kind: str) -> Channel:
    code, provider, name = SINGLETONS[ChannelKind(kind)]
    row, _ = Channel.objects.get_or_create(
        code=code, defaults={"kind": kind, "provider": provider, "name": name}
    )
    return row


def secrets_of(channel: Channel) -> dict[str, Any]:
    if not channel.secrets:
        return {}
    try:
        data = json.loads(channel.secrets)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _mask_email(value: str) -> str:
    name, _, domain = value.partition("@")
    return f"{name[:1]}***@{domain}"


def _user(user_id: Any) -> Any:
    from loandesk.accounts.models import User

    if not str(user_id or "").isdigit():
        return None
    return User.objects.filter(pk=int(user_id), is_active=True).first()


def _resolve(channel: str, to: Recipient) -> dict[str, Any]:
    """Address fields of the delivery row for `to` over `channel`; 422 when unusable."""
    out: dict[str, Any] = {"address": "", "address_masked": "", "user": None, "endpoint": None}
    user = _user(to.user_id) if to.user_id is not None else None
    if to.user_id is not None and user is None:
        raise ValidationFailed.field("to", "notify.no_recipient")
    out["user"] = user
    if channel == ChannelKind.INAPP:
        if user is None:
            raise ValidationFailed.field("to", "notify.no_recipient")
        out["address_masked"] = str(user)
    elif channel == ChannelKind.SMS:
        mobile = normalize_mobile(to.phone or (user.phone if user is not None else "") or "")
        if mobile is None:
            raise ValidationFailed.field("to", "notify.bad_phone")
        out["address"], out["address_masked"] = mobile, mask_phone(mobile)
    elif channel == ChannelKind.EMAIL:
        email = (to.email or (user.email if user is not None else "") or "").strip()
        if "@" not in email or len(email) > 254 or any(c in email for c in " \r\n<>,;"):
            raise ValidationFailed.field("to", "notify.bad_email")
        out["address"], out["address_masked"] = email, _mask_email(email)
    elif channel == ChannelKind.WEBHOOK and to.url and not to.endpoint:
        if not to.url.startswith(("http://", "https://")) or len(to.url) > 1000:
            raise ValidationFailed.field("to", "notify.bad_url")
        out["address"] = to.url
        out["address_masked"] = to.url.split("?", 1)[0][:200]
    else:  # robots and configured webhooks
        qs = Channel.objects.filter(kind=channel, enabled=True)
        endpoint = (qs.filter(code=to.endpoint) if to.endpoint else qs.order_by("id")).first()
        if endpoint is None:
            raise ValidationFailed({"to": message("notify.no_endpoint", {"code": to.endpoint})})
        out["endpoint"] = endpoint
        out["address_masked"] = endpoint.name
    return out


def _template_error(field: str, exc: rendering.TemplateError) -> ValidationFailed:
    return ValidationFailed(
        {field: message(f"notify.template.{exc.code}", {"names": ", ".join(exc.names)})}
    )


def _policy(
    *, channel: str, category: str, customer_id: int | None, cfg: NotifySettings, now: datetime
) -> tuple[str, str, datetime | None]:
    """(status, reason, next_attempt_at) for a new customer-facing message."""
    if customer_id is None or category == Category.TRANSACTIONAL:
        return Status.PENDING, "", None
    if OptOut.objects.filter(customer_id=customer_id, channel=channel).exists():
        return Status.SUPPRESSED, "opt_out", None
    zone = ZoneInfo(cfg.quiet_timezone)
    cap = (cfg.caps or {}).get(f"{channel}.{category}")
    if isinstance(cap, int):
        start, end = policy.local_day_bounds(now, zone)
        used = Delivery.objects.filter(
            customer_id=customer_id,
            channel=channel,
            category=category,
            created_at__gte=start,
            created_at__lt=end,
            status__in=(Status.PENDING, Status.DEFERRED, Status.SENT),
        ).count()
        if used >= cap:
            return Status.SUPPRESSED, "cap", None
    until = quiet_until(cfg, category, now)
    if until is not None:
        return Status.DEFERRED, "quiet_hours", until
    return Status.PENDING, "", None


def quiet_until(cfg: NotifySettings, category: str, now: datetime) -> datetime | None:
    if not cfg.quiet_enabled or category not in (cfg.quiet_categories or []):
        return None
    return policy.quiet_until(now, cfg.quiet_start, cfg.quiet_end, ZoneInfo(cfg.quiet_timezone))


def send(
    *,
    channel: str,
    to: Recipient | Mapping[str, Any],
    category: str,
    dedupe_key: str,
    template_code: str | None = None,
    context: Mapping[str, Any] | None = None,
    customer_id: int | None = None,
    subject: str = "",
    body: str = "",
    source: str = "",
    actor: Any = None,
    now: datetime | None = None,
    html: str = "",
    attachments: Sequence[channels.Attachment] = (),
) -> Delivery:
    """Queue one message; returns its Delivery (the existing one when the key was used).

    Call it inside your own transaction: the row commits (or rolls back) with your change and
    the worker is nudged on commit. In-app messages are written at once. `customer_id` marks a
    customer-facing message: opt-out, caps and quiet hours apply unless transactional.
    E-mail may carry `html` (an alternative of `body`, which stays required) and `attachments`,
    stored with the row so a retry sends the same message."""
    if channel not in ChannelKind.values:
        raise ValidationFailed.field("channel", "notify.bad_channel")
    _check_extras(channel, html, attachments)
    if category not in Category.values:
        raise ValidationFailed.field("category", "notify.bad_category")
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValidationFailed.field("dedupe_key", "notify.bad_dedupe_key")
    existing = Delivery.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    at = now or timezone.now()
    ctx = dict(context or {})
    template = None
    params: dict[str, str] = {}
    if template_code:
        template = Template.objects.filter(
            code=template_code, channel=channel, enabled=True
        ).first()
        if template is None:
            raise ValidationFailed(
                {"template": message("notify.template_missing", {"code": template_code})}
            )
        if category != template.category:
            raise ValidationFailed(
                {"category": message("notify.template_category", {"category": template.category})}
            )
        try:
            subject = rendering.render(template.subject, ctx)
            body = rendering.render(template.body, ctx)
        except rendering.TemplateError as exc:
            raise _template_error("context", exc) from None
        params = {name: str(ctx[name]) for name in template.variables if ctx.get(name) is not None}
    elif not body:
        raise ValidationFailed.field("body", "notify.body_required")
    recipient = Recipient.of(to)
    where = _resolve(channel, recipient)
    cfg = notify_settings()
    status, reason, next_at = _policy(
        channel=channel, category=category, customer_id=customer_id, cfg=cfg, now=at
    )
    provider = ""
    if channel in SINGLETONS:
        provider = singleton(channel).provider
    elif where["endpoint"] is not None:
        provider = where["endpoint"].provider
    elif channel == ChannelKind.WEBHOOK:
        provider = "webhook"
    row = Delivery(
        dedupe_key=dedupe_key,
        channel=channel,
        endpoint=where["endpoint"],
        provider=provider or channel,
        category=category,
        template=template,
        template_code=template.code if template is not None else "",
        customer_id=customer_id,
        user=where["user"],
        address=where["address"],
        address_masked=where["address_masked"][:200],
        secret=recipient.secret if channel == ChannelKind.WEBHOOK else "",
        subject=subject[:200],
        body=body[:4000],
        html=html,
        params=params,
        source=source[:100],
        status=status,
        reason=reason,
        next_attempt_at=next_at,
        created_at=at,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            row.save()
            DeliveryAttachment.objects.bulk_create(
                DeliveryAttachment(
                    delivery=row,
                    filename=a.filename,
                    content_type=a.content_type,
                    content=a.content,
                    size=len(a.content),
                )
                for a in attachments
            )
    except IntegrityError:  # a concurrent send with the same key won
        return Delivery.objects.get(dedupe_key=dedupe_key)
    if row.status == Status.PENDING:
        if channel == ChannelKind.INAPP:
            _deliver_inapp(row, at)
        else:
            transaction.on_commit(_nudge)
    return row


def _check_extras(channel: str, html: str, attachments: Sequence[channels.Attachment]) -> None:
    if not html and not attachments:
        return
    if channel != ChannelKind.EMAIL:
        raise ValidationFailed.field("html", "notify.email_only")
    if len(html) > MAX_HTML_CHARS:
        raise ValidationFailed.field("html", "notify.html_too_long", max=MAX_HTML_CHARS)
    if len(attachments) > MAX_ATTACHMENTS or (
        sum(len(a.content) for a in attachments) > MAX_ATTACHMENT_BYTES
    ):
        raise ValidationFailed.field(
            "attachments",
            "notify.attachments_too_large",
            count=MAX_ATTACHMENTS,
            mb=MAX_ATTACHMENT_BYTES // (1024 * 1024),
        )
    for item in attachments:
        name, kind = item.filename, item.content_type
        if (
            not name
            or len(name) > 150
            or any(c in name for c in '\r\n/\\"')
            or kind.count("/") != 1
            or len(kind) > 100
            or any(c.isspace() for c in kind)
        ):
            raise ValidationFailed.field("attachments", "notify.bad_attachment")


def _deliver_inapp(row: Delivery, at: datetime) -> None:
    from loandesk.notify.models import Notification

    Notification.objects.get_or_create(
        user_id=row.user_id,
        dedupe_key=row.dedupe_key[:100],
        defaults={
            "kind": Notification.Kind.MESSAGE,
            "title": (row.subject or row.body)[:200],
            "body": row.body[:1000],
            "created_at": at,
            "params": {"delivery": row.pk},
        },
    )
    Delivery.objects.filter(pk=row.pk).update(status=Status.SENT, sent_at=at, attempts=1)
    row.status, row.sent_at, row.attempts = Status.SENT, at, 1


def _nudge() -> None:
    from loandesk.notify.tasks import deliver_due

    try:
        deliver_due.enqueue()
    except Exception:  # the scheduler's sweep sends it anyway
        logger.exception("could not enqueue notify delivery")


# --- the worker ------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def due_q(now: datetime) -> Q:
    return (
        Q(status__in=ACTIVE)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(lease_until__isnull=True) | Q(lease_until__lte=now))
    )


def lease() -> timedelta:
    return timedelta(
        seconds=int(getattr(settings, "LOANDESK_NOTIFY_LEASE_SECONDS", LEASE.total_seconds()))
    )


def claim(delivery_id: int, *, now: datetime, worker: str) -> bool:
    """Take the row for the lease; False when it is not due or another worker holds it."""
    return (
        Delivery.objects.filter(due_q(now), pk=delivery_id).update(
            lease_until=now + lease(), claimed_by=worker[:100]
        )
        == 1
    )


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def outgoing(row: Delivery) -> tuple[channels.Adapter, channels.OutgoingMessage]:
    """The adapter and message for a delivery, from the current channel settings."""
    template = row.template
    if row.channel in SINGLETONS:
        config = singleton(row.channel)
        adapter = channels.build(config.provider, config.settings, secrets_of(config))
        sign_name = str(config.settings.get("sign_name") or "")
    elif row.endpoint is not None:
        config = row.endpoint
        adapter = channels.build(config.provider, config.settings, secrets_of(config))
        sign_name = ""
    elif row.channel == ChannelKind.WEBHOOK:
        secret = row.secret or notify_settings().webhook_secret
        adapter = channels.build("webhook", {"url": row.address}, {"secret": secret})
        sign_name = ""
    else:
        raise channels.DeliveryError("the delivery has no endpoint", retryable=False)
    msg = channels.OutgoingMessage(
        to=row.address,
        body=row.body,
        subject=row.subject,
        template_id=template.provider_template_id if template is not None else "",
        sign_name=(template.sign_name if template is not None else "") or sign_name,
        params=dict(row.params),
        variables=tuple(template.variables) if template is not None else (),
        reference=row.dedupe_key,
        html=row.html if row.channel == ChannelKind.EMAIL else "",
        attachments=tuple(
            channels.Attachment(a.filename, a.content_type, bytes(a.content))
            for a in row.attachments.all()
        )
        if row.channel == ChannelKind.EMAIL
        else (),
    )
    return adapter, msg


def deliver(delivery_id: int, *, now: datetime | None = None, worker: str = "") -> str:
    """Send one due delivery; returns its status afterwards ("skipped" when not claimed)."""
    at = now or timezone.now()
    who = worker or worker_name()
    if not claim(delivery_id, now=at, worker=who):
        return "skipped"
    row = Delivery.objects.select_related("template", "endpoint").get(pk=delivery_id)
    cfg = notify_settings()
    if row.customer_id is not None:
        until = quiet_until(cfg, row.category, at)
        if until is not None:  # e.g. a retry that fell into the night
            Delivery.objects.filter(pk=row.pk).update(
                status=Status.DEFERRED,
                next_attempt_at=until,
                lease_until=None,
                reason="quiet_hours",
            )
            return Status.DEFERRED
    attempts = row.attempts + 1
    try:
        adapter, msg = outgoing(row)
        result = adapter.send(msg)
    except channels.DeliveryError as exc:
        return _failed(row, attempts, str(exc), exc.retryable, cfg, at)
    except Exception as exc:  # a bug or an unexpected answer: retry like a network error
        logger.exception("delivery %s failed", row.pk)
        return _failed(row, attempts, repr(exc), True, cfg, at)
    Delivery.objects.filter(pk=row.pk).update(
        status=Status.SENT,
        attempts=attempts,
        sent_at=at,
        provider_ref=result.provider_ref[:200],
        last_error="",
        lease_until=None,
        next_attempt_at=None,
        reason="",
    )
    return Status.SENT


def _failed(
    row: Delivery, attempts: int, error: str, retryable: bool, cfg: NotifySettings, at: datetime
) -> str:
    dead = not retryable or attempts >= cfg.max_attempts
    Delivery.objects.filter(pk=row.pk).update(
        status=Status.DEAD if dead else Status.PENDING,
        attempts=attempts,
        last_error=error[:2000],
        lease_until=None,
        next_attempt_at=None if dead else at + backoff(attempts),
        reason="",
    )
    return Status.DEAD if dead else Status.PENDING


def process_due(*, now: datetime | None = None, limit: int = 100, worker: str = "") -> int:
    """Send every due delivery (oldest first, up to `limit`); returns how many were tried."""
    at = now or timezone.now()
    ids = list(
        Delivery.objects.filter(due_q(at))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        if deliver(pk, now=now, worker=worker) != "skipped":
            done += 1
    return done


def retry_dead(delivery_id: int) -> int:
    """Another round of attempts for a dead letter; returns rows changed (0 or 1)."""
    changed = Delivery.objects.filter(pk=delivery_id, status=Status.DEAD).update(
        status=Status.PENDING, attempts=0, next_attempt_at=None, lease_until=None, last_error=""
    )
    if changed:
        transaction.on_commit(_nudge)
    return changed
