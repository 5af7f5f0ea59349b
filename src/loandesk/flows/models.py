"""Flow definitions, versions, instances, tasks, timers and history (the engine's rows).

The instance's `state` JSON is the engine's truth (`InstanceState.to_json()`); the other tables
are projections kept in step with it inside the same transaction, so inboxes, timers and
analytics are plain indexed queries.
"""

from django.conf import settings
from django.db import models


class FlowDefinition(models.Model):
    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True, default="")
    form = models.ForeignKey(
        "forms.FormDefinition", on_delete=models.PROTECT, related_name="flow_definitions"
    )
    draft = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class FlowVersion(models.Model):
    """A published definition; never changes. Running instances keep theirs."""

    definition = models.ForeignKey(
        FlowDefinition, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField()
    definition_json = models.JSONField(default=dict)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["definition_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "version"], name="flows_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.definition_id} v{self.version}"


class FlowInstance(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "审批中"
        RETURNED = "returned", "已退回"
        ERROR = "error", "异常"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "已拒绝"
        WITHDRAWN = "withdrawn", "已撤回"
        CANCELLED = "cancelled", "已取消"

    # No indexes of their own: flows_inst_version and flows_inst_mine lead with them.
    version = models.ForeignKey(
        FlowVersion, on_delete=models.PROTECT, related_name="instances", db_index=False
    )
    record = models.ForeignKey(
        "forms.Record", on_delete=models.PROTECT, related_name="flow_instances"
    )
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, db_index=True)
    state = models.JSONField(default=dict)
    # The engine's state version: optimistic concurrency for clients (expected_version).
    state_version = models.PositiveIntegerField(default=0)
    current_node_id = models.CharField(max_length=64, blank=True, default="")
    current_node_name = models.CharField(max_length=100, blank=True, default="")
    amount_fen = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["initiator", "status", "-started_at"], name="flows_inst_mine"),
            models.Index(fields=["version", "started_at"], name="flows_inst_version"),
            # The approval-time reports (a month of decisions among a million instances): an
            # index-only range scan instead of a scan of every instance (the trailing columns
            # are what those reports read; key columns, as SQLite has no INCLUDE). None of
            # them changes on a transition's state save, which stays a HOT update.
            models.Index(
                fields=["finished_at", "started_at", "initiator", "department"],
                condition=models.Q(status__in=["approved", "rejected"], finished_at__isnull=False),
                name="flows_inst_decided",
            ),
        ]
        constraints = [
            # One live instance per record (a withdrawn/rejected one may be followed by another).
            models.UniqueConstraint(
                fields=["record"],
                condition=models.Q(status__in=["running", "returned", "error"]),
                name="flows_one_live_instance",
            )
        ]

    def __str__(self) -> str:
        return self.title


class FlowTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        APPROVED = "approved", "已同意"
        REJECTED = "rejected", "已拒绝"
        RETURNED = "returned", "已退回"
        TRANSFERRED = "transferred", "已转交"
        DELEGATED = "delegated", "已加签"
        ESCALATED = "escalated", "已升级"
        CANCELLED = "cancelled", "已取消"

    # No index of their own: (instance, engine_task_id) and the inbox index lead with them.
    instance = models.ForeignKey(
        FlowInstance, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    engine_task_id = models.CharField(max_length=160)
    node_id = models.CharField(max_length=64)
    node_name = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=12)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=20, blank=True, default="")
    urged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "engine_task_id"], name="flows_task_unique")
        ]
        indexes = [
            models.Index(fields=["user", "status", "due_at"], name="flows_task_inbox"),
            models.Index(fields=["user", "status", "-closed_at"], name="flows_task_done"),
        ]

    def __str__(self) -> str:
        return f"{self.instance_id}:{self.engine_task_id}"


class FlowTimer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待触发"
        FIRED = "fired", "已触发"
        CANCELLED = "cancelled", "已取消"

    # Indexed by the (instance, timer_id) unique constraint.
    instance = models.ForeignKey(
        FlowInstance, on_delete=models.CASCADE, related_name="timers", db_index=False
    )
    timer_id = models.CharField(max_length=180)
    kind = models.CharField(max_length=10)
    engine_task_id = models.CharField(max_length=160)
    fire_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "timer_id"], name="flows_timer_unique")
        ]
        indexes = [models.Index(fields=["status", "fire_at"], name="flows_timer_due")]

    def __str__(self) -> str:
        return f"{self.instance_id}:{self.timer_id}"


class FlowHistory(models.Model):
    # Indexed by the (instance, seq) unique constraint.
    instance = models.ForeignKey(
        FlowInstance, on_delete=models.CASCADE, related_name="history", db_index=False
    )
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30)
    node_id = models.CharField(max_length=64, blank=True, default="")
    # Which visit of the node and which (re)submission round: the timeline groups acts by
    # (node, visit). The rows are the only copy of the history (ADR 0015).
    visit = models.PositiveIntegerField(null=True, blank=True)
    round = models.PositiveIntegerField(default=1, db_default=1)
    engine_task_id = models.CharField(max_length=160, blank=True, default="")
    comment = models.TextField(blank=True, default="")
    attachments = models.JSONField(default=list, blank=True)
    signature = models.TextField(blank=True, default="")
    target = models.CharField(max_length=64, blank=True, default="")
    duration_seconds = models.BigIntegerField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["instance_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["instance", "seq"], name="flows_history_unique")
        ]
        indexes = [models.Index(fields=["action", "at"], name="flows_history_action")]

    def __str__(self) -> str:
        return f"{self.instance_id}#{self.seq} {self.action}"


class FlowCc(models.Model):
    instance = models.ForeignKey(FlowInstance, on_delete=models.CASCADE, related_name="ccs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="flows_cc_inbox")]

    def __str__(self) -> str:
        return f"{self.instance_id} → {self.user_id}"


class FlowStepRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待执行"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"
        CANCELLED = "cancelled", "已取消"

    # No index of its own: the (instance, step_id) unique constraint leads with it.
    instance = models.ForeignKey(
        FlowInstance, on_delete=models.CASCADE, related_name="step_runs", db_index=False
    )
    step_id = models.CharField(max_length=80)
    node_id = models.CharField(max_length=64)
    action = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "step_id"], name="flows_step_unique")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="flows_step_pending")]

    def __str__(self) -> str:
        return f"{self.instance_id}:{self.step_id}"
