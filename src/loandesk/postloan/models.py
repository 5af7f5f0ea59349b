"""Close of business (COB) runs and steps, delinquency settings and portfolio snapshots."""

from django.conf import settings
from django.db import models


class DelinquencyBucket(models.Model):
    """A delinquency bucket: loans with min_dpd <= days past due <= max_dpd (None: open end)."""

    code = models.CharField(max_length=8, unique=True)
    min_dpd = models.PositiveIntegerField(unique=True)
    max_dpd = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["min_dpd"]

    def __str__(self) -> str:
        return self.code


class ClassificationThreshold(models.Model):
    """Five-category classification (五级分类): a loan is in `classification` from `min_dpd`."""

    classification = models.CharField(max_length=20, unique=True)
    min_dpd = models.PositiveIntegerField()

    class Meta:
        ordering = ["min_dpd"]

    def __str__(self) -> str:
        return f"{self.classification}>={self.min_dpd}"


class CobRun(models.Model):
    """One business date's close of business; resumable through its CobStepRun rows."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    business_date = models.DateField(unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=20, default="cli")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    workers = models.PositiveSmallIntegerField(default=1)
    # The bucket/threshold settings the run started with: every partition and every retry of
    # the date uses the same rules even if an admin edits them meanwhile.
    config = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-business_date"]
        indexes = [models.Index(fields=["status", "business_date"], name="cobrun_status_date")]

    def __str__(self) -> str:
        return f"COB {self.business_date} {self.status}"


class CobStepRun(models.Model):
    """One step over one loan-id partition (lo_id..hi_id, hi None = open end).

    Done is written in the same transaction as the step's changes: a crash rolls both back."""

    class Status(models.TextChoices):
        PENDING = "pending", "待运行"
        RUNNING = "running", "运行中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    run = models.ForeignKey(CobRun, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20)
    order = models.PositiveSmallIntegerField()
    partition = models.PositiveSmallIntegerField()
    lo_id = models.BigIntegerField()
    hi_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rows = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["run", "partition", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step", "partition"], name="cobstep_once_per_partition"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.step}#{self.partition}"


class CobEventKey(models.Model):
    """The dedupe key (topic, loan, business date) of every event COB published."""

    topic = models.CharField(max_length=60)
    loan_id = models.BigIntegerField()
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "topic", "loan_id"], name="cob_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.loan_id} {self.business_date}"


class PenaltyPosting(models.Model):
    """How far an installment's penalty interest has been posted into Installment.penalty_fen.

    Penalty is computed on demand (docs/adr/0006): it is only written at month end (COB) or
    when something changes its base (a repayment), and accrues from `through` afterwards."""

    installment = models.OneToOneField(
        "lending.Installment", on_delete=models.CASCADE, related_name="penalty_posting"
    )
    through = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.installment_id} → {self.through}"


class PortfolioSnapshot(models.Model):
    """The portfolio on a business date by department × product × bucket (for reports)."""

    date = models.DateField()
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    product = models.ForeignKey(
        "lending.Product", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    bucket = models.CharField(max_length=8)
    loan_count = models.PositiveIntegerField()
    outstanding_principal_fen = models.BigIntegerField()
    overdue_principal_fen = models.BigIntegerField()

    class Meta:
        ordering = ["date", "department", "product", "bucket"]
        indexes = [models.Index(fields=["date", "bucket"], name="snapshot_date_bucket")]

    def __str__(self) -> str:
        return f"{self.date} {self.department_id}/{self.product_id}/{self.bucket}"


# --- collections (催收) -----------------------------------------------------------------------


class CollectionTeam(models.Model):
    """A collection team: who works which delinquency buckets, and how cases are handed out.

    Bucket routing picks the active team serving a loan's bucket with the lowest
    `escalation_order`; escalation moves a case to a team later in that order."""

    class Kind(models.TextChoices):
        IN_HOUSE = "in_house", "内催"
        LEGAL = "legal", "法务"
        OUTSOURCED = "outsourced", "委外"

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "轮流分配"
        OWNER = "owner", "分给客户经理"
        FIXED = "fixed", "指定催收员"

    name = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.IN_HOUSE)
    buckets = models.JSONField(default=list, blank=True)  # bucket codes served, e.g. ["M1"]
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="collection_teams", blank=True
    )
    strategy = models.CharField(
        max_length=12, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    fixed_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_order = models.PositiveSmallIntegerField(default=0)
    # Round robin: how many cases the team has handed out; the next goes to
    # active_members[cursor % len]. Incremented under the team's row lock.
    rr_cursor = models.BigIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["escalation_order", "id"]

    def __str__(self) -> str:
        return self.name


OPEN_CASE_STATUSES = ("open", "promised")


class CollectionCase(models.Model):
    """One collection case of an overdue loan; at most one open (open / promised) per loan."""

    class Status(models.TextChoices):
        OPEN = "open", "催收中"
        PROMISED = "promised", "已承诺"
        CLOSED = "closed", "已结案"

    class CloseReason(models.TextChoices):
        PAID = "paid", "已还清"
        WRITTEN_OFF = "written_off", "已核销"
        MANUAL = "manual", "手工结案"

    loan = models.ForeignKey(
        "lending.Loan", on_delete=models.PROTECT, related_name="collection_cases"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="collection_cases"
    )
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="collection_cases",
    )
    team = models.ForeignKey(
        CollectionTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    # The loan's department: a manager's data scope reaches the cases of their department(s).
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    opened_bucket = models.CharField(max_length=8)
    opened_dpd = models.PositiveIntegerField(default=0)
    bucket = models.CharField(max_length=8)
    dpd = models.PositiveIntegerField(default=0)
    overdue_fen = models.BigIntegerField(default=0)
    priority = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    close_reason = models.CharField(
        max_length=12, choices=CloseReason.choices, blank=True, default=""
    )
    source = models.CharField(max_length=20, default="manual")  # manual / rule / demo
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    next_action_at = models.DateTimeField(null=True, blank=True)
    last_action_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=20, blank=True, default="")
    # The pending promise's date (denormalised so the workbench sorts by it in SQL).
    promise_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=models.Q(status__in=OPEN_CASE_STATUSES),
                name="collectioncase_one_open_per_loan",
            ),
            models.CheckConstraint(
                condition=models.Q(overdue_fen__gte=0), name="collectioncase_overdue_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["collector", "status", "-priority"], name="case_collector_status"),
            models.Index(fields=["status", "loan"], name="case_status_loan"),
            models.Index(fields=["department", "status"], name="case_dept_status"),
        ]

    def __str__(self) -> str:
        return f"case {self.pk} loan {self.loan_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES


class CollectionAction(models.Model):
    """One thing done on a case: a call, SMS, visit or letter with its result, or a system
    entry (opened, assigned, escalated, promise decided, closed) so the history stays whole."""

    class Kind(models.TextChoices):
        CALL = "call", "电话"
        SMS = "sms", "短信"
        VISIT = "visit", "上门"
        LETTER = "letter", "信函"
        SYSTEM = "system", "系统"

    class Result(models.TextChoices):
        PROMISED = "promised", "承诺还款"
        NO_ANSWER = "no_answer", "无人接听"
        REFUSED = "refused", "拒绝"
        LOST_CONTACT = "lost_contact", "失联"
        PAID = "paid", "已还款"
        OTHER = "other", "其他"

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    result = models.CharField(max_length=20, choices=Result.choices, blank=True, default="")
    # System entries: what happened (opened / assigned / escalated / reassigned / promise_kept /
    # promise_broken / closed) with its parameters, rendered in the user's language.
    event = models.CharField(max_length=30, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, default="")
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["case", "-at"], name="caseaction_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.result or self.event}"


class PromiseToPay(models.Model):
    """A promise to pay `amount_fen` by `date`. COB decides it the day after the date: kept if
    the loan's paid total grew by at least the amount since the promise was made."""

    class Status(models.TextChoices):
        PENDING = "pending", "待兑现"
        KEPT = "kept", "已兑现"
        BROKEN = "broken", "已违约"

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="promises")
    loan_id = models.BigIntegerField()  # denormalised: COB partitions by loan id
    date = models.DateField()
    amount_fen = models.BigIntegerField()
    # Everything paid on the loan (all installments, all components) when the promise was made.
    paid_before_fen = models.BigIntegerField()
    paid_fen = models.BigIntegerField(default=0)  # what was paid towards it, set when decided
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_on = models.DateField()  # business date
    decided_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="pending"),
                name="promise_one_pending_per_case",
            ),
            models.CheckConstraint(condition=models.Q(amount_fen__gt=0), name="promise_amount_pos"),
        ]
        indexes = [models.Index(fields=["status", "date"], name="promise_status_date")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.date} {self.amount_fen}"
