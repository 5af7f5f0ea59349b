"""Notifications: in-app messages now; SMS, e-mail and robot channels come with issue #6."""

from django.conf import settings
from django.db import models
from django.db.models import Q


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
