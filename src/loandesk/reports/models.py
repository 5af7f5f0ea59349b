"""Dashboards (charts laid out on a grid, shared with roles), admin-defined metrics over form
key fields, and channel costs (for acquisition cost)."""

from django.conf import settings
from django.db import models


class Dashboard(models.Model):
    """A dashboard: its charts live in `widgets` (a list validated by services.clean_widgets):
    {id, title, chart, query: {metrics, dimension, series, filters, period, compare},
    x, y, w, h} on a 12-column grid (stacked on a phone)."""

    code = models.SlugField(max_length=50, blank=True, default="")
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    widgets = models.JSONField(default=list, blank=True)
    refresh_seconds = models.PositiveIntegerField(default=0)
    shared_with = models.ManyToManyField("accounts.Role", blank=True, related_name="+")
    is_system = models.BooleanField(default=False)
    sort = models.PositiveIntegerField(default=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~models.Q(code=""), name="reports_dashboard_code"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CustomMetric(models.Model):
    """An admin-defined metric over a form's records: count / sum / avg / distinct of a key
    field (ADR 0003 slot column), with filters on key fields."""

    class Aggregation(models.TextChoices):
        COUNT = "count", "计数"
        SUM = "sum", "求和"
        AVG = "avg", "平均"
        DISTINCT = "distinct", "去重计数"

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    label_en = models.CharField(max_length=100, blank=True, default="")
    form = models.ForeignKey("forms.FormDefinition", on_delete=models.CASCADE, related_name="+")
    aggregation = models.CharField(max_length=10, choices=Aggregation.choices)
    field = models.CharField(max_length=64, blank=True, default="")
    filters = models.JSONField(default=list, blank=True)
    unit = models.CharField(max_length=10, default="count")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key


class ChannelCost(models.Model):
    """What a customer channel cost in a month (entered by admins): acquisition cost =
    cost / new customers of the channel."""

    channel = models.CharField(max_length=30)
    month = models.DateField(help_text="the first day of the month")
    cost_fen = models.BigIntegerField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "month"], name="reports_channel_month"),
            models.CheckConstraint(condition=models.Q(cost_fen__gte=0), name="reports_cost_ge0"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.month:%Y-%m}"


class Subscription(models.Model):
    """A scheduled e-mail of a dashboard's KPI numbers to users and/or roles, daily (weekday
    None) or weekly, at a local time of day (settings.TIME_ZONE). Each recipient gets the numbers
    of their own data scope; `last_sent_on` lets the periodic job skip what is done today."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="subscriptions")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    roles = models.ManyToManyField("accounts.Role", blank=True, related_name="+")
    send_at = models.TimeField()
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)  # 0 = Monday
    enabled = models.BooleanField(default=True)
    last_sent_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.dashboard_id}@{self.send_at}"


class PortfolioFact(models.Model):
    """The live book (loans active or overdue), pre-aggregated for the stock metrics.

    Rows are signed deltas written by database triggers on lending_loan (migration 0004): every
    insert, update or delete of a loan that changes what it contributes writes -1 / -outstanding
    under its old key and +1 / +outstanding under its new key, in the same transaction as the
    write (ORM saves, bulk writes, COB's set-based SQL and COPY alike). The sum of the rows of a
    key is therefore exactly the live loans of that key; `compact()` in reports.facts folds the
    rows into one per key (COB runs it). Nothing reads a single row: only SUMs. See ADR 0012.
    """

    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    product = models.ForeignKey(
        "lending.Product",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    bucket = models.CharField(max_length=8)
    classification = models.CharField(max_length=20)
    # 0: current; 1: 1–30 days past due; 2: 31–90; 3: more than 90 (PAR30 = ≥ 2, PAR90 = 3).
    dpd_class = models.SmallIntegerField()
    loans = models.IntegerField()  # signed
    outstanding_fen = models.BigIntegerField()  # signed

    class Meta:
        indexes = [models.Index(fields=["owner"], name="portfoliofact_owner")]

    def __str__(self) -> str:
        return f"{self.bucket}/{self.classification}/{self.dpd_class}: {self.loans}"


class DailyFact(models.Model):
    """Day-by-day flows, pre-aggregated for the period metrics: customers created
    (source "customer", local date of created_at), loans disbursed ("disbursement", by value
    date), installments falling due ("due", by due date; `ok` = paid off on or before it),
    application-form records ("applied", local date of created_at) and approvals decided
    ("decided", local date of finished_at; `ok` = approved); the "_m" sources hold the same by
    month.

    Signed delta rows written by database triggers on customers_customer, lending_loan,
    lending_installment (migration 0005), forms_record, forms_formdefinition and
    flows_flowinstance (migration 0007) in the same transaction as the write; folded by
    reports.facts.compact(). Only SUMs are read. See ADR 0012."""

    source = models.CharField(max_length=12)
    day = models.DateField()
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    product = models.ForeignKey(
        "lending.Product",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    channel = models.CharField(max_length=30, default="")
    region = models.CharField(max_length=12, default="")
    n = models.IntegerField()  # signed: customers, loans or installments
    amount_fen = models.BigIntegerField(default=0)  # signed: principal disbursed
    ok = models.IntegerField(default=0)  # signed: installments paid on time
    # NULL on the triggers' delta rows, true on the rows compact() wrote: compaction refolds
    # only the (source, day) groups that have deltas, not two years of days every night.
    # Nullable so that adding it is an ALTER TABLE ADD COLUMN on SQLite, not a table rebuild.
    folded = models.BooleanField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["source", "day"], name="dailyfact_source_day"),
            models.Index(
                fields=["source", "day"],
                condition=models.Q(folded__isnull=True),
                name="dailyfact_unfolded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.day}: {self.n}"


class MonthEndFact(models.Model):
    """Loans by their state at a closed month end, for the vintage and roll-rate analyses
    (reports.month_end, ADR 0013): per (month end, disbursement month, department, owner,
    product, state at the previous month end, state at this one) the number of loans.

    Written once per month end when it is closed (COB's snapshot step on the last day of a
    month, or the first analysis that needs a month end nobody took), from the installments as
    they stand then, and keyed by the loan's department and owner at that moment: the analyses
    show the book as it was reported at each month end. `previous` is '' for a loan disbursed
    after the previous month end. Only SUMs are read."""

    month_end = models.DateField()
    # The first day of the disbursement month; NULL on the roll-rate rows: the same month end's
    # loans whose previous state is a bucket, summed over the cohorts (what the roll rate reads,
    # a fraction of the rows).
    cohort = models.DateField(null=True)
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    product = models.ForeignKey(
        "lending.Product",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    previous = models.CharField(max_length=16)
    state = models.CharField(max_length=16)
    loans = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["month_end", "cohort"], name="monthendfact_end_cohort"),
            models.Index(fields=["cohort", "month_end"], name="monthendfact_cohort_end"),
            models.Index(fields=["owner"], name="monthendfact_owner"),
        ]

    def __str__(self) -> str:
        cohort = f"{self.cohort:%Y-%m}" if self.cohort else "all"
        return f"{self.month_end} {cohort} {self.previous}→{self.state}: {self.loans}"


class MonthEndClose(models.Model):
    """A month end whose MonthEndFact rows are written, and the delinquency buckets they were
    computed with (a change of buckets makes the analyses take the month end again, as does
    `stale`)."""

    month_end = models.DateField(unique=True)
    buckets = models.CharField(max_length=500)  # "M0:0,M1:1,…" as reports.month_end writes it
    loans = models.IntegerField()  # loans on book at the month end (the facts' total)
    taken_at = models.DateTimeField()
    seconds = models.FloatField()  # how long the take took (month ends taken together share it)
    # Set by database triggers (migration 0008) when a write changes what a closed month end
    # counted: a loan or installment added or removed, a repayment or due date moved, a
    # write-off, all dated on or before it. The next analysis that needs it takes it again.
    stale = models.BooleanField(default=False)
    # Bumped by the same triggers (and when the business date moves back over it): a take that
    # finds it changed while it computed throws its rows away and computes again.
    version = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.month_end} ({self.loans} loans)"
