"""Rule-engine actions of the notify app: `send_message` and `webhook`.

Registered from NotifyConfig.ready(). The engine runs an action inside the firing's
transaction; `send` writes Delivery rows there, so a rolled-back firing sends nothing and a
re-run firing (same `firing_key`) finds its deliveries by dedupe key instead of sending twice.
With `context.dry_run` nothing is written: the action only says what it would send.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import message
from loandesk.notify import rendering
from loandesk.rules.registry import ActionContext, ParamSpec, register_action

CHANNELS = (
    ("sms", "短信", "SMS"),
    ("inapp", "站内消息", "In-app message"),
    ("email", "邮件", "E-mail"),
    ("dingtalk", "钉钉机器人", "DingTalk robot"),
    ("wecom", "企业微信机器人", "WeCom robot"),
)
RECIPIENTS = (
    ("customer", "客户", "Customer"),
    ("owner", "客户经理", "Customer owner"),
    ("role", "角色", "Role"),
    ("user", "指定用户", "A user"),
)


def dedupe_key(*parts: Any) -> str:
    key = ":".join(str(p) for p in parts)
    if len(key) <= 200:
        return key
    return f"rule:{hashlib.sha256(key.encode()).hexdigest()}"


def _customer(context: ActionContext) -> Any:
    from loandesk.customers.models import Customer

    cid = context.record.get("customer_id")
    if cid is None and context.record_type == "customer":
        cid = context.record_id
    if not str(cid or "").isdigit():
        return None
    return Customer.objects.filter(pk=int(str(cid))).select_related("owner").first()


def _template_context(context: ActionContext, customer: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        k: v for k, v in context.record.items() if isinstance(v, str | int | float | bool)
    }
    ctx.update(
        {
            "rule_name": context.rule_name,
            "record_type": context.record_type,
            "record_id": context.record_id,
        }
    )
    if customer is not None:
        ctx.setdefault("name", customer.name)
        ctx.setdefault("customer_name", customer.name)
    return ctx


def _targets(
    context: ActionContext, params: Mapping[str, Any], channel: str, customer: Any
) -> list[tuple[str, dict[str, Any], int | None]]:
    """[(label, recipient, customer_id)] — customer_id set for customer-facing messages."""
    from loandesk.accounts.models import User

    kind = str(params.get("recipient") or "customer")
    if channel in ("dingtalk", "wecom"):
        return [("robot", {"endpoint": str(params.get("endpoint") or "")}, None)]
    if kind == "customer":
        if customer is None:
            raise ValidationFailed.field("recipient", "notify.rule.no_customer")
        # Decrypted by the customers app's field; only ever stored encrypted in the delivery.
        return [(f"customer:{customer.pk}", {"phone": customer.phone}, customer.pk)]
    if kind == "owner":
        owner_id = context.record.get("owner_id") or (customer.owner_id if customer else None)
        if not str(owner_id or "").isdigit():
            raise ValidationFailed.field("recipient", "notify.no_recipient")
        return [(f"user:{owner_id}", {"user_id": int(str(owner_id))}, None)]
    if kind == "role":
        code = str(params.get("role") or "")
        users = User.objects.filter(roles__code=code, is_active=True).order_by("id").distinct()
        return [(f"user:{u.pk}", {"user_id": u.pk}, None) for u in users]
    if kind == "user":
        user_id = params.get("user")
        if not str(user_id or "").isdigit():
            raise ValidationFailed.field("user", "notify.no_recipient")
        return [(f"user:{user_id}", {"user_id": int(str(user_id))}, None)]
    raise ValidationFailed.field("recipient", "notify.rule.recipient")


@register_action(
    "send_message",
    label_zh="发送消息",
    label_en="Send a message",
    params=(
        ParamSpec(
            "channel", "渠道", "Channel", "choice", required=True, options=CHANNELS, default="sms"
        ),
        ParamSpec("template", "模板", "Template", "template", required=True),
        ParamSpec(
            "recipient",
            "收件人",
            "Recipient",
            "choice",
            required=True,
            options=RECIPIENTS,
            default="customer",
        ),
        ParamSpec("role", "角色", "Role", "role"),
        ParamSpec("user", "用户", "User", "user"),
        ParamSpec("also_sms", "同时短信通知客户经理", "Also text the owner", "bool", default=False),
        ParamSpec("endpoint", "机器人编码", "Robot code", "text"),
    ),
)
def send_message(context: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    from loandesk.notify.deliveries import send
    from loandesk.notify.models import ChannelKind, Template

    channel = str(params.get("channel") or "sms")
    if channel not in ChannelKind.values or channel == "webhook":
        raise ValidationFailed.field("channel", "notify.bad_channel")
    code = str(params.get("template") or "")
    template = Template.objects.filter(code=code, channel=channel, enabled=True).first()
    if template is None:
        raise ValidationFailed({"template": message("notify.template_missing", {"code": code})})
    customer = _customer(context)
    ctx = _template_context(context, customer)
    plan = [(channel, *t) for t in _targets(context, params, channel, customer)]
    if params.get("also_sms") and params.get("recipient") == "owner" and channel != "sms":
        sms = Template.objects.filter(code=code, channel="sms", enabled=True).first()
        if sms is not None:
            plan += [("sms", label, to, None) for _, label, to, _ in plan]
    if context.dry_run:
        try:
            body = rendering.render(template.body, ctx)
        except rendering.TemplateError as exc:
            body = message(f"notify.template.{exc.code}", {"names": ", ".join(exc.names)})
        return {
            "dry_run": True,
            "channel": channel,
            "template": code,
            "category": template.category,
            "recipients": [f"{ch}:{label}" for ch, label, _, _ in plan],
            "body": body,
        }
    sent = []
    for ch, label, to, customer_id in plan:
        row = send(
            channel=ch,
            to=to,
            category=template.category,
            dedupe_key=dedupe_key("rule", context.firing_key, ch, label),
            template_code=code,
            context=ctx,
            customer_id=customer_id,
            source=f"rule:{context.rule_id}",
        )
        sent.append({"delivery": row.pk, "to": row.address_masked, "status": row.status})
    return {"channel": channel, "template": code, "deliveries": sent}


@register_action(
    "webhook",
    label_zh="调用 Webhook",
    label_en="Call a webhook",
    params=(
        ParamSpec("url", "地址", "URL", "text", required=True),
        ParamSpec("secret", "签名密钥", "Signing secret", "text"),
        ParamSpec("body", "请求体模板(JSON)", "Body template (JSON)", "textarea"),
    ),
)
def webhook(context: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    import json

    from loandesk.notify.deliveries import send

    url = str(params.get("url") or "")
    if not url.startswith(("http://", "https://")) or len(url) > 1000:
        raise ValidationFailed.field("url", "notify.bad_url")
    template = str(params.get("body") or "")
    ctx = _template_context(context, None)
    if template.strip():
        try:
            body = rendering.render_json(template, ctx)
        except rendering.TemplateError as exc:
            raise ValidationFailed(
                {"body": message(f"notify.template.{exc.code}", {"names": ", ".join(exc.names)})}
            ) from None
    else:
        body = json.dumps(
            {
                "rule_id": context.rule_id,
                "rule_name": context.rule_name,
                "firing_key": context.firing_key,
                "record_type": context.record_type,
                "record_id": context.record_id,
                "record": dict(context.record),
                "occurred_at": context.occurred_at.isoformat(),
            },
            ensure_ascii=False,
            default=str,
        )
    if context.dry_run:
        return {"dry_run": True, "url": url.split("?", 1)[0], "body": body}
    row = send(
        channel="webhook",
        to={"url": url, "secret": str(params.get("secret") or "")},
        category="transactional",
        dedupe_key=dedupe_key("rule", context.firing_key, "webhook"),
        body=body,
        source=f"rule:{context.rule_id}",
    )
    return {"delivery": row.pk, "status": row.status}
