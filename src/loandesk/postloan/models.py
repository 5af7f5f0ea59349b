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
