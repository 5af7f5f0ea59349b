"""Notifications: in-app messages, and the outgoing channels (SMS, e-mail, robots, webhooks)
with their templates, settings, opt-outs and the delivery log."""

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q

from loandesk.core.crypto import EncryptedTextField


class Notification(models.Model):
    """One in-app message (消息) for one user, rendered in that user's language when created."""

    class Kind(models.TextChoices):
        TASK = "task", "待办"
        ESCALATION = "escalation", "升级"
        REMINDER = "reminder", "提醒"
        URGE = "urge", "催办"
        RETURNED = "returned", "退回"
        FINISHED = "finished", "办结"
        CC = "cc", "抄送"
        ESCALATION_FAILED = "escalation_failed", "升级失败"
        AUTOMATED_FAILED = "automated_failed", "自动步骤失败"
        NO_ASSIGNEE = "no_assignee", "无审批人"
        MESSAGE = "message", "流程消息"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=1000, blank=True, default="")
    link = models.CharField(max_length=300, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    # The outbox event that produced it; dedupe_key makes a redelivered event a no-op.
    event_id = models.UUIDField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notify_unique_dedupe")
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="notify_user_newest"),
            models.Index(
                fields=["user", "-id"],
                name="notify_user_unread",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class ChannelKind(models.TextChoices):
    INAPP = "inapp", "站内消息"
    SMS = "sms", "短信"
    EMAIL = "email", "邮件"
    DINGTALK = "dingtalk", "钉钉机器人"
    WECOM = "wecom", "企业微信机器人"
    WEBHOOK = "webhook", "Webhook"


class Category(models.TextChoices):
    TRANSACTIONAL = "transactional", "交易通知"
    MARKETING = "marketing", "营销"
    COLLECTION = "collection", "催收"


class Channel(models.Model):
    """A configured way out: the one SMS provider, the one SMTP server, and any number of
    DingTalk/WeCom robots and webhook endpoints. Secrets (keys, passwords, robot tokens) live
    encrypted in `secrets` (a JSON object) and are never returned by the API."""

    kind = models.CharField(max_length=12, choices=ChannelKind.choices)
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=20)
    settings = models.JSONField(default=dict, blank=True)
    secrets = EncryptedTextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.code}"


class Template(models.Model):
    """A message text per channel with `{variable}` placeholders (declared in `variables`)."""

    code = models.SlugField(max_length=60)
    channel = models.CharField(max_length=12, choices=ChannelKind.choices)
    category = models.CharField(max_length=15, choices=Category.choices)
    name = models.CharField(max_length=100)
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(max_length=2000)
    variables = models.JSONField(default=list, blank=True)
    # SMS providers send pre-approved templates: their template id / code and sign name (签名).
    provider_template_id = models.CharField(max_length=60, blank=True, default="")
    sign_name = models.CharField(max_length=30, blank=True, default="")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "channel"], name="notify_template_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.code}"


def default_quiet_categories() -> list[str]:
    return ["collection"]


def default_caps() -> dict[str, int]:
    return {"sms.collection": 3, "sms.marketing": 1, "email.marketing": 1}


class NotifySettings(models.Model):
    """One row: quiet hours, frequency caps, retries and the default webhook signing secret."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    quiet_enabled = models.BooleanField(default=True)
    quiet_start = models.TimeField(default=time(21, 0))
    quiet_end = models.TimeField(default=time(8, 0))
    quiet_timezone = models.CharField(max_length=50, default="Asia/Shanghai")
    quiet_categories = models.JSONField(default=default_quiet_categories, blank=True)
    # "<channel>.<category>" → most messages per customer per local day; missing = no cap.
    caps = models.JSONField(default=default_caps, blank=True)
    max_attempts = models.PositiveSmallIntegerField(default=6)
    webhook_secret = EncryptedTextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "notify settings"


class OptOut(models.Model):
    """A customer said no to a channel: marketing and collection messages there are suppressed
    (transactional ones such as one-time codes still go)."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="notify_opt_outs"
    )
    channel = models.CharField(max_length=12, choices=ChannelKind.choices)
    reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="notify_optout_once")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} ✕ {self.channel}"


class Delivery(models.Model):
    """One message to one recipient over one channel: written in the caller's transaction,
    sent later by a worker, at least once; `dedupe_key` makes a repeated request one row."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        DEFERRED = "deferred", "延后"
        SENT = "sent", "已发送"
        SUPPRESSED = "suppressed", "已拦截"
        DEAD = "dead", "失败"

    dedupe_key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=12, choices=ChannelKind.choices)
    endpoint = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    provider = models.CharField(max_length=20, blank=True, default="")
    category = models.CharField(max_length=15, choices=Category.choices)
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_code = models.CharField(max_length=60, blank=True, default="")
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # led by notify_delivery_cap
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Phone numbers, e-mail addresses and ad-hoc webhook URLs/secrets are stored encrypted.
    address = EncryptedTextField(blank=True, default="")
    address_masked = models.CharField(max_length=200, blank=True, default="")
    secret = EncryptedTextField(blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    # E-mail only: an HTML alternative of `body` (the plain text stays the first part).
    html = models.TextField(blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=40, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim: while it lies in the future nobody else sends; a worker that dies
    # simply lets it expire and the row is due again (at least once).
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    provider_ref = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notify_delivery_due"),
            models.Index(
                fields=["customer", "channel", "category", "created_at"],
                name="notify_delivery_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.dedupe_key} {self.status}"


class DeliveryAttachment(models.Model):
    """A file sent with an e-mail delivery, stored with the row in the sender's transaction so
    every (re)try sends the same bytes."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=150)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename
