"""Finance back office tables: chart of accounts, posting map, journal (vouchers), bank
statements and write-off (核销) requests. Money is integer fen."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from loandesk.core.crypto import EncryptedTextField


class Account(models.Model):
    """A ledger account (会计科目) of the chart; codes follow the 企业会计准则 numbering."""

    class Type(models.TextChoices):
        ASSET = "asset", "资产"
        LIABILITY = "liability", "负债"
        EQUITY = "equity", "所有者权益"
        INCOME = "income", "收入"
        EXPENSE = "expense", "费用"

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    name_en = models.CharField(max_length=100, blank=True, default="")
    type = models.CharField(max_length=10, choices=Type.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PostingRule(models.Model):
    """The posting map: one event component (e.g. repayment.interest) → debit and credit
    accounts. Admin-editable; applies to entries booked after the change."""

    component = models.CharField(max_length=40, unique=True)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["component"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")), name="posting_rule_two_accounts"
            )
        ]

    def __str__(self) -> str:
        return self.component


class VoucherCounter(models.Model):
    """Voucher numbers per accounting period (YYYY-MM), handed out under a row lock."""

    period = models.CharField(max_length=7, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.period} {self.last}"


class JournalEntry(models.Model):
    """One voucher (记账凭证). `source_event_id` is UNIQUE: an outbox event books once, however
    often it is delivered. The totals are stored and checked equal by the database."""

    date = models.DateField(help_text="business / value date of the event")
    period = models.CharField(max_length=7)
    voucher_word = models.CharField(max_length=4, default="记")
    voucher_no = models.PositiveIntegerField()
    source_event_id = models.UUIDField(null=True, blank=True, unique=True)
    source_topic = models.CharField(max_length=100, blank=True, default="")
    description = models.CharField(max_length=200)
    loan = models.ForeignKey(
        "lending.Loan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contract_no = models.CharField(max_length=40, blank=True, default="")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    total_debit_fen = models.BigIntegerField()
    total_credit_fen = models.BigIntegerField()
    # Amounts kept off the books (e.g. written-off interest and penalty, 表外登记).
    memo = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period", "voucher_no"]
        constraints = [
            models.UniqueConstraint(fields=["period", "voucher_no"], name="journal_voucher_once"),
            models.CheckConstraint(
                condition=Q(total_debit_fen=F("total_credit_fen")) & Q(total_debit_fen__gt=0),
                name="journal_entry_balanced",
            ),
        ]
        indexes = [models.Index(fields=["period", "voucher_no"], name="journal_period")]

    def __str__(self) -> str:
        return f"{self.period} {self.voucher_word}-{self.voucher_no}"


class JournalLine(models.Model):
    """One line (分录) of a voucher: exactly one of debit / credit is positive."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    debit_fen = models.BigIntegerField(default=0)
    credit_fen = models.BigIntegerField(default=0)
    description = models.CharField(max_length=200, blank=True, default="")
    # Auxiliary accounting (辅助核算): customer and loan.
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    loan = models.ForeignKey(
        "lending.Loan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["entry", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "line_no"], name="journal_line_once"),
            models.CheckConstraint(
                condition=(Q(debit_fen__gt=0) & Q(credit_fen=0))
                | (Q(debit_fen=0) & Q(credit_fen__gt=0)),
                name="journal_line_one_side",
            ),
        ]
        indexes = [models.Index(fields=["account", "entry"], name="journal_line_account")]

    def __str__(self) -> str:
        return f"{self.entry_id}#{self.line_no}"


class BankStatement(models.Model):
    """An uploaded bank statement file; its rows are kept encrypted (payer accounts are PII)
    until the finance user maps the columns and runs the dry run."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传"
        CHECKED = "checked", "已预检"
        POSTED = "posted", "已入账"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    original_name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file_kind = models.CharField(max_length=10)  # csv | xlsx
    header_row = models.PositiveIntegerField(default=1)
    headers = models.JSONField(default=list)
    rows = EncryptedTextField(help_text="JSON list of the data rows as text cells")
    row_count = models.PositiveIntegerField(default=0)
    suggested_mapping = models.JSONField(default=dict)
    mapping = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.original_name


class StatementLine(models.Model):
    """One inflow row of a statement after mapping, with how the dry run matched it."""

    class Status(models.TextChoices):
        MATCHED = "matched", "已匹配"
        UNMATCHED = "unmatched", "未匹配"
        AMBIGUOUS = "ambiguous", "多笔贷款"
        DUPLICATE = "duplicate", "重复"
        INVALID = "invalid", "无法识别"
        SKIPPED = "skipped", "非收款"
        POSTED = "posted", "已入账"
        FAILED = "failed", "入账失败"

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    row_no = models.PositiveIntegerField()
    value_date = models.DateField(null=True, blank=True)
    amount_fen = models.BigIntegerField(null=True, blank=True)
    payer_name = models.CharField(max_length=100, blank=True, default="")
    payer_account_masked = models.CharField(max_length=40, blank=True, default="")
    payer_account_bidx = models.CharField(max_length=40, blank=True, default="")
    memo = models.CharField(max_length=200, blank=True, default="")
    serial = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=60, blank=True, default="")
    matched_by = models.CharField(max_length=20, blank=True, default="")
    loan = models.ForeignKey(
        "lending.Loan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    candidates = models.JSONField(default=list, blank=True)
    repayment_id = models.BigIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["statement", "row_no"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "row_no"], name="statement_row_once")
        ]
        indexes = [models.Index(fields=["idempotency_key"], name="statement_line_key")]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.row_no}"


class WriteOffRequest(models.Model):
    """A request to write a loan off (核销), approved through the 核销审批 flow. The amounts are
    a snapshot taken when it was requested; the final step books what is owed then."""

    class Status(models.TextChoices):
        PENDING = "pending", "审批中"
        WRITTEN_OFF = "written_off", "已核销"
        CLOSED = "closed", "已结束"

    loan = models.ForeignKey("lending.Loan", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    principal_fen = models.BigIntegerField(help_text="outstanding principal (all periods)")
    interest_fen = models.BigIntegerField(help_text="unpaid interest due")
    fee_fen = models.BigIntegerField()
    penalty_fen = models.BigIntegerField()
    owed_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    record = models.OneToOneField(
        "forms.Record", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instance = models.ForeignKey(
        "flows.FlowInstance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    written_off_at = models.DateTimeField(null=True, blank=True)
    # What the final step booked (may differ from the snapshot: penalty keeps accruing).
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(principal_fen__gte=0)
                & Q(interest_fen__gte=0)
                & Q(fee_fen__gte=0)
                & Q(penalty_fen__gte=0),
                name="write_off_amounts_not_negative",
            ),
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status="written_off"),
                name="write_off_once_per_loan",
            ),
        ]

    def __str__(self) -> str:
        return f"write-off {self.loan_id}"
