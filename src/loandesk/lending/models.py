from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from loandesk.core.crypto import EncryptedTextField


class CalendarYear(models.Model):
    """A year whose holiday schedule is known (seeded from chinese-calendar or entered by an
    admin once the State Council publishes it). Years without a row fall back to weekends."""

    year = models.PositiveSmallIntegerField(unique=True)
    source = models.CharField(
        max_length=20, choices=[("chinese_calendar", "chinese-calendar"), ("admin", "admin")]
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A day that breaks the weekday rule: a holiday on a weekday or a make-up workday (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "节假日"
        WORKDAY = "workday", "调休上班"

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"


# --- products, loans, installments, disbursements ---------------------------------------------
#
# Money is integer fen; rates are percent per year (Decimal). A loan copies every term it was
# priced with (`terms`, plus the columns COB filters on), so editing a product never changes a
# loan already on the books.


def default_allocation_order() -> list[str]:
    return ["penalty", "fee", "interest", "principal"]


class Product(models.Model):
    """A loan product: which schedule the loan math builds, and the limits and fees around it."""

    class Method(models.TextChoices):
        EQUAL_INSTALLMENT = "equal_installment", "等额本息"
        EQUAL_PRINCIPAL = "equal_principal", "等额本金"
        INTEREST_ONLY = "interest_only", "先息后本"
        BULLET = "bullet", "一次性还本付息"
        FLAT = "flat", "等本等息"

    class Frequency(models.TextChoices):
        MONTHLY = "monthly", "每月"
        QUARTERLY = "quarterly", "每季度"
        BIWEEKLY = "biweekly", "每两周"
        WEEKLY = "weekly", "每周"
        DAILY = "daily", "按日"

    class InterestPeriod(models.TextChoices):
        PERIOD = "period", "按期"
        DAILY = "daily", "按日"

    class DayCount(models.TextChoices):
        ACT_365 = "act/365", "实际/365"
        ACT_360 = "act/360", "实际/360"
        ACT_ACT = "act/act", "实际/实际"
        THIRTY_360 = "30/360", "30/360"

    class Strategy(models.TextChoices):
        INSTALLMENT_FIRST = "installment_first", "逐期冲销"
        COMPONENT_FIRST = "component_first", "按科目冲销"

    class Overpayment(models.TextChoices):
        CREDIT = "credit", "预还后续期次"
        PREPAY = "prepay", "提前还本"

    class FeeKind(models.TextChoices):
        FIXED = "fixed", "固定金额"
        PERCENT = "percent", "本金百分比"

    class CapLine(models.TextChoices):
        JUDICIAL = "judicial", "4 倍 LPR"
        RATE_24 = "24", "24%"
        RATE_36 = "36", "36%"

    class CapPolicy(models.TextChoices):
        REFUSE = "refuse", "超限拒绝"
        FLAG = "flag", "超限提示"

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    method = models.CharField(max_length=30, choices=Method.choices)
    frequency = models.CharField(max_length=20, choices=Frequency.choices, default="monthly")
    interest_period = models.CharField(
        max_length=10, choices=InterestPeriod.choices, default="period"
    )
    day_count = models.CharField(max_length=10, choices=DayCount.choices, default="act/365")
    min_amount_fen = models.BigIntegerField()
    max_amount_fen = models.BigIntegerField()
    min_periods = models.PositiveSmallIntegerField()
    max_periods = models.PositiveSmallIntegerField()
    min_rate = models.DecimalField(max_digits=7, decimal_places=4)
    max_rate = models.DecimalField(max_digits=7, decimal_places=4)
    installment_multiple_fen = models.PositiveIntegerField(default=1)
    holiday_shift = models.BooleanField(default=False)
    penalty_rate_multiplier = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1.50")
    )
    grace_days = models.PositiveSmallIntegerField(default=3)
    compound_penalty = models.BooleanField(default=False)
    allocation_order = models.JSONField(default=default_allocation_order)
    allocation_strategy = models.CharField(
        max_length=20, choices=Strategy.choices, default="installment_first"
    )
    overpayment = models.CharField(max_length=10, choices=Overpayment.choices, default="credit")
    upfront_fee_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    period_fee_kind = models.CharField(max_length=10, choices=FeeKind.choices, default="fixed")
    period_fee_fen = models.BigIntegerField(default=0)
    period_fee_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    prepayment_fee_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal(0))
    cap_line = models.CharField(max_length=10, choices=CapLine.choices, default="judicial")
    cap_policy = models.CharField(max_length=10, choices=CapPolicy.choices, default="refuse")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_amount_fen__gt=0)
                & models.Q(max_amount_fen__gte=models.F("min_amount_fen"))
                & models.Q(min_periods__gte=1)
                & models.Q(max_periods__gte=models.F("min_periods"))
                & models.Q(min_rate__gte=0)
                & models.Q(max_rate__gte=models.F("min_rate")),
                name="product_ranges_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ContractCounter(models.Model):
    """The last contract number handed out per business day (HT + yyyymmdd + 0001…).

    Incremented with an UPDATE inside the disbursing transaction: the row lock serialises
    concurrent disbursements on PostgreSQL (SQLite serialises writers anyway), and a rolled
    back disbursement gives its number back.
    """

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day} {self.last}"


class Loan(models.Model):
    """A disbursed loan; its schedule lives in Installment rows."""

    class Status(models.TextChoices):
        ACTIVE = "active", "还款中"
        OVERDUE = "overdue", "逾期"
        CLOSED = "closed", "已结清"
        WRITTEN_OFF = "written_off", "已核销"

    class Classification(models.TextChoices):
        NORMAL = "normal", "正常"
        SPECIAL_MENTION = "special_mention", "关注"
        SUBSTANDARD = "substandard", "次级"
        DOUBTFUL = "doubtful", "可疑"
        LOSS = "loss", "损失"

    contract_no = models.CharField(max_length=40, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="loans", db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="loans")
    # Owner and department are the customer's at disbursement: they drive the data scope.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_loans",
        db_index=False,
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="loans",
        db_index=False,
    )
    principal_fen = models.BigIntegerField()
    annual_rate = models.DecimalField(max_digits=7, decimal_places=4)
    periods = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=30, choices=Product.Method.choices)
    frequency = models.CharField(max_length=20, choices=Product.Frequency.choices)
    start_date = models.DateField()
    first_due_date = models.DateField()
    maturity_date = models.DateField()
    apr = models.DecimalField(max_digits=14, decimal_places=2, help_text="disclosed APR, percent")
    cap_rate = models.DecimalField(max_digits=7, decimal_places=2)
    cap_exceeded = models.BooleanField(default=False)
    # Overdue terms copied from the product (COB computes penalties from these).
    penalty_rate = models.DecimalField(max_digits=9, decimal_places=4)
    grace_days = models.PositiveSmallIntegerField()
    terms = models.JSONField(
        default=dict, help_text="every product setting the loan was priced with"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    outstanding_principal_fen = models.BigIntegerField()
    # Maintained by COB.
    overdue_since = models.DateField(null=True, blank=True)
    days_past_due = models.PositiveIntegerField(default=0)
    bucket = models.CharField(max_length=8, default="M0")
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.NORMAL
    )
    source_record_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    disbursed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer", "-id"], name="loan_customer"),
            models.Index(fields=["owner", "status", "-id"], name="loan_owner_status"),
            models.Index(fields=["department", "status", "-id"], name="loan_dept_status"),
            models.Index(fields=["status", "overdue_since"], name="loan_status_overdue"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(principal_fen__gt=0)
                & models.Q(outstanding_principal_fen__gte=0)
                & models.Q(outstanding_principal_fen__lte=models.F("principal_fen"))
                & models.Q(periods__gte=1),
                name="loan_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.contract_no


class Installment(models.Model):
    """One scheduled repayment. Paid amounts grow as repayments are allocated (never past due)."""

    class Status(models.TextChoices):
        PENDING = "pending", "未到期"
        DUE = "due", "待还"
        OVERDUE = "overdue", "逾期"
        PAID = "paid", "已还清"

    # No index of its own: the (loan, seq) unique constraint's index serves every lookup by
    # loan, and one index fewer is one write fewer for each of COB's status updates.
    loan = models.ForeignKey(
        Loan, on_delete=models.CASCADE, related_name="installments", db_index=False
    )
    seq = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    days = models.PositiveIntegerField()  # a 600-quarter bullet spans ~55,000 days
    opening_principal_fen = models.BigIntegerField()
    principal_fen = models.BigIntegerField()
    interest_fen = models.BigIntegerField()
    fee_fen = models.BigIntegerField(default=0)
    penalty_fen = models.BigIntegerField(default=0)
    paid_principal_fen = models.BigIntegerField(default=0)
    paid_interest_fen = models.BigIntegerField(default=0)
    paid_fee_fen = models.BigIntegerField(default=0)
    paid_penalty_fen = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    paid_off_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["loan", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "seq"], name="installment_loan_seq"),
            models.CheckConstraint(
                condition=models.Q(principal_fen__gte=0)
                & models.Q(interest_fen__gte=0)
                & models.Q(fee_fen__gte=0)
                & models.Q(penalty_fen__gte=0),
                name="installment_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(paid_principal_fen__gte=0)
                & models.Q(paid_interest_fen__gte=0)
                & models.Q(paid_fee_fen__gte=0)
                & models.Q(paid_penalty_fen__gte=0)
                & models.Q(paid_principal_fen__lte=models.F("principal_fen"))
                & models.Q(paid_interest_fen__lte=models.F("interest_fen"))
                & models.Q(paid_fee_fen__lte=models.F("fee_fen"))
                & models.Q(paid_penalty_fen__lte=models.F("penalty_fen")),
                name="installment_not_overpaid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="installment_status_due"),
            # COB's loans step: the oldest overdue installment of each delinquent loan, and
            # the set of loans with one, read from this small index alone.
            models.Index(
                fields=["loan", "due_date"],
                name="installment_overdue_by_loan",
                condition=models.Q(status="overdue"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}#{self.seq}"

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen + self.penalty_fen

    @property
    def paid_fen(self) -> int:
        return (
            self.paid_principal_fen
            + self.paid_interest_fen
            + self.paid_fee_fen
            + self.paid_penalty_fen
        )


class Disbursement(models.Model):
    """Money out of the door, once per loan. The unique idempotency key makes a repeated click or
    a retried request return the first loan; `request_hash` (a keyed hash of the terms) tells a
    replay from a different request that reuses the key."""

    loan = models.OneToOneField(Loan, on_delete=models.PROTECT, related_name="disbursement")
    idempotency_key = models.CharField(max_length=100, unique=True)
    request_hash = models.CharField(max_length=64)
    amount_fen = models.BigIntegerField()
    upfront_fee_fen = models.BigIntegerField(default=0)
    net_amount_fen = models.BigIntegerField()
    value_date = models.DateField()
    account_name = models.CharField(max_length=100)
    account_number = EncryptedTextField()
    bank_name = models.CharField(max_length=100, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_fen__gt=0)
                & models.Q(upfront_fee_fen__gte=0)
                & models.Q(net_amount_fen=models.F("amount_fen") - models.F("upfront_fee_fen")),
                name="disbursement_net_is_amount_less_fee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.amount_fen}"


# --- contracts ---------------------------------------------------------------------------------


class ContractTemplate(models.Model):
    """An admin-edited loan contract: paragraphs, `# ` headings and `{{placeholders}}` (see
    lending.contracts). `version` grows with every change; a generated contract records the
    version it was rendered from."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class GeneratedContract(models.Model):
    """A contract PDF rendered for an application and stored as a customer document.

    At most one per flow step: (instance_id, step_id) is unique when set, so a re-run automated
    step finds the first contract instead of numbering and storing a second one."""

    template = models.ForeignKey(
        ContractTemplate, on_delete=models.PROTECT, related_name="generated"
    )
    template_version = models.PositiveIntegerField()
    record = models.ForeignKey(
        "forms.Record",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    # The customer is the document's (a merge moves documents to the surviving customer).
    document = models.OneToOneField(
        "customers.Document", on_delete=models.PROTECT, related_name="generated_contract"
    )
    contract_no = models.CharField(max_length=40, unique=True)
    instance_id = models.BigIntegerField(null=True, blank=True)
    step_id = models.CharField(max_length=100, blank=True, default="")
    amount_fen = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_id", "step_id"],
                condition=models.Q(instance_id__isnull=False),
                name="contract_once_per_flow_step",
            ),
        ]
        indexes = [models.Index(fields=["record", "-id"], name="contract_record")]

    def __str__(self) -> str:
        return self.contract_no


# --- repayments --------------------------------------------------------------------------------
#
# A repayment is money received for a loan on a value date. Its split over the installments is
# not a fact of its own but a function of every non-reversed repayment of the loan in
# (value_date, id) order (see lending.repayments): a reversal or a back-dated posting replays
# the chain, and the stored split of each later repayment is updated to match.


class Repayment(models.Model):
    """Money received for a loan; allocations + credit always add up to `amount_fen`."""

    class Channel(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", "银行转账"
        CASH = "cash", "现金"
        WECHAT = "wechat", "微信"
        ALIPAY = "alipay", "支付宝"
        DEDUCTION = "deduction", "代扣"
        OTHER = "other", "其他"

    class Kind(models.TextChoices):
        REPAYMENT = "repayment", "还款"
        PARTIAL_PREPAYMENT = "partial_prepayment", "部分提前还款"
        FULL_PREPAYMENT = "full_prepayment", "提前结清"

    class Status(models.TextChoices):
        POSTED = "posted", "已入账"
        REVERSED = "reversed", "已红冲"

    # No index of its own: repayment_loan_chain (loan, value_date, id) leads with it.
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="repayments", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.REPAYMENT)
    # keep_term / keep_installment for a partial prepayment, else empty.
    prepayment_mode = models.CharField(max_length=20, blank=True, default="")
    # Principal asked to be prepaid (partial prepayment); the replay keeps it when it can.
    prepay_principal_fen = models.BigIntegerField(default=0)
    amount_fen = models.BigIntegerField()
    value_date = models.DateField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    reference = models.CharField(max_length=100, blank=True, default="")
    source = models.CharField(max_length=30, default="manual")
    # The current split (sum of the allocation rows, per component) and the unallocated credit.
    principal_fen = models.BigIntegerField(default=0)
    interest_fen = models.BigIntegerField(default=0)
    fee_fen = models.BigIntegerField(default=0)
    penalty_fen = models.BigIntegerField(default=0)
    credit_fen = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.POSTED)
    # Looked up whole only: PostgreSQL's LIKE twin of its index is dropped (lending 0010).
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    request_hash = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_on = models.DateField(null=True, blank=True, help_text="business date of the 红冲")
    reversal_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-value_date", "-id"]
        indexes = [
            models.Index(fields=["loan", "value_date", "id"], name="repayment_loan_chain"),
            models.Index(fields=["value_date", "id"], name="repayment_value_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_fen__gt=0)
                & models.Q(credit_fen__gte=0)
                & models.Q(
                    amount_fen=models.F("principal_fen")
                    + models.F("interest_fen")
                    + models.F("fee_fen")
                    + models.F("penalty_fen")
                    + models.F("credit_fen")
                ),
                name="repayment_split_is_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.value_date} {self.amount_fen}"


class RepaymentAllocation(models.Model):
    """What one repayment paid on one installment (by seq: a prepayment rewrites rows)."""

    # No index of its own: the (repayment, seq) unique constraint leads with it.
    repayment = models.ForeignKey(
        Repayment, on_delete=models.CASCADE, related_name="allocations", db_index=False
    )
    seq = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    principal_fen = models.BigIntegerField(default=0)
    interest_fen = models.BigIntegerField(default=0)
    fee_fen = models.BigIntegerField(default=0)
    penalty_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["repayment", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["repayment", "seq"], name="allocation_once_per_seq"),
            models.CheckConstraint(
                condition=models.Q(principal_fen__gte=0)
                & models.Q(interest_fen__gte=0)
                & models.Q(fee_fen__gte=0)
                & models.Q(penalty_fen__gte=0),
                name="allocation_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repayment_id}#{self.seq}"

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen + self.penalty_fen


class ScheduleBaseline(models.Model):
    """A loan's installment amounts as disbursed, saved before a prepayment first rewrites them,
    so a replay (红冲 of anything before the prepayment) can start from the original schedule."""

    loan = models.OneToOneField(Loan, on_delete=models.CASCADE, related_name="schedule_baseline")
    rows = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.loan_id)
