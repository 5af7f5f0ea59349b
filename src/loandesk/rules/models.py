"""Rules and their firings (docs/adr/0007-rule-engine.md)."""

from django.conf import settings
from django.db import models


class Rule(models.Model):
    """Trigger + JSON-logic condition + ordered actions, designed by an admin.

    `watermark` is how far scheduled triggers (date-relative, cron) have been scanned: the next
    scan covers (watermark, now], so a scheduler that was down catches up what it missed."""

    class TriggerType(models.TextChoices):
        EVENT = "event", "记录事件"
        DATE = "date", "日期相对"
        CRON = "cron", "定时"

    code = models.SlugField(max_length=50, null=True, blank=True, unique=True)  # shipped rules
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True, default="")
    enabled = models.BooleanField(default=False)
    record_type = models.CharField(max_length=30, blank=True, default="")
    form_code = models.CharField(max_length=50, blank=True, default="")  # applications only
    trigger_type = models.CharField(max_length=10, choices=TriggerType.choices)
    trigger = models.JSONField(default=dict)
    condition = models.JSONField(null=True, blank=True)
    actions = models.JSONField(default=list)
    watermark = models.DateTimeField(null=True, blank=True)
    # Actions run with this user's authority (services check permissions and data scope).
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["enabled", "trigger_type", "record_type"], name="rule_enabled")
        ]

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """One firing of a rule for a record and an occurrence; `key` makes it happen once."""

    class Status(models.TextChoices):
        RUNNING = "running", "执行中"
        DONE = "done", "成功"
        FAILED = "failed", "失败"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="firings")
    key = models.CharField(max_length=200, unique=True)
    record_type = models.CharField(max_length=30, blank=True, default="")
    record_id = models.BigIntegerField(null=True, blank=True)
    record_label = models.CharField(max_length=200, blank=True, default="")
    trigger_type = models.CharField(max_length=10)
    occurrence = models.CharField(max_length=60)  # "ev:<outbox id>" or a UTC minute
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    results = models.JSONField(default=list)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["rule", "-id"], name="firing_rule"),
            models.Index(fields=["status", "-id"], name="firing_status"),
            models.Index(fields=["record_type", "record_id"], name="firing_record"),
        ]

    def __str__(self) -> str:
        return self.key
