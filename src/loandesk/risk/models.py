"""Risk scorecards (configurable rules with points and reasons) and their results."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Scorecard(models.Model):
    """A configurable scorecard; `definition` is validated by risk.scoring.compile_definition.
    `version` goes up by one on every change, and each result records the version it used."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True, default="")
    definition = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class ScoreResult(models.Model):
    """One evaluation. A flow step's result is stored once per (instance_id, step_id), so a
    re-run of the step returns the first result instead of scoring again."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="results")
    version = models.PositiveIntegerField()
    record = models.ForeignKey(
        "forms.Record", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="risk_results",
        db_index=False,  # led by the (customer, created_at) index
    )
    instance_id = models.BigIntegerField(null=True, blank=True)
    step_id = models.CharField(max_length=100, blank=True, default="")
    score = models.IntegerField()
    grade = models.CharField(max_length=10)
    decision = models.CharField(max_length=10)
    result = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="risk_result_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_id", "step_id"],
                condition=Q(instance_id__isnull=False),
                name="risk_result_once_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scorecard_id} {self.score} {self.grade}"
