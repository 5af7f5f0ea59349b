"""Customer center tables: customers (360° profile), tags, bank cards, follow-ups, documents,
the timeline, and Excel imports.

PII (resident ID number, mobile phone, bank card number) is stored AES-GCM encrypted; each has a
keyed-hash column (blind index) for exact search and dedupe. Derived search columns (pinyin,
gender, birth date) are written by the service layer, never by `save()`.

Indexes (chosen for 1,000,000 customers on SQLite and PostgreSQL; see docs/api-customers.md):
- list pages: (owner, status, updated_at, id), (department, status, updated_at, id) and
  (status, updated_at, id) serve "my customers", "my department" and "all", newest first;
- pinyin/initials prefix: btree on each column (range scan on SQLite, `varchar_pattern_ops` so
  LIKE 'x%' uses it on PostgreSQL whatever the database collation);
- exact PII search and dedupe: unique blind-index columns (NULL when empty);
- to-do: (owner, next_follow_up_at);
- Chinese text inside names: CustomerNameGram, every one- and two-character piece of each
  name, kept in sync by database triggers (migration 0003), so 张 / 张伟 / 小明 are index
  lookups instead of a scan of a million names.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from loandesk.core.crypto import EncryptedTextField


class Tag(models.Model):
    name = models.CharField(max_length=30, unique=True)
    color = models.CharField(max_length=7, default="#1989fa")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "个人"
        ENTERPRISE = "enterprise", "企业"

    class Status(models.TextChoices):
        ACTIVE = "active", "正常"
        ARCHIVED = "archived", "已归档"
        MERGED = "merged", "已合并"

    class CreditLevel(models.TextChoices):
        NONE = "", "未评级"
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        WATCH = "watch", "关注"
        BLACKLIST = "blacklist", "黑名单"

    class Gender(models.TextChoices):
        NONE = "", "未知"
        MALE = "male", "男"
        FEMALE = "female", "女"

    class Marital(models.TextChoices):
        NONE = "", "未填写"
        SINGLE = "single", "未婚"
        MARRIED = "married", "已婚"
        DIVORCED = "divorced", "离异"
        WIDOWED = "widowed", "丧偶"

    class Education(models.TextChoices):
        NONE = "", "未填写"
        PRIMARY = "primary", "小学及以下"
        JUNIOR = "junior_high", "初中"
        SENIOR = "senior_high", "高中/中专"
        COLLEGE = "college", "大专"
        BACHELOR = "bachelor", "本科"
        MASTER = "master", "硕士"
        DOCTOR = "doctor", "博士"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INDIVIDUAL)
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    # individuals — PII encrypted, blind index for exact search / dedupe
    id_number = EncryptedTextField(blank=True, default="")
    # Looked up whole only: PostgreSQL's LIKE twin of its index is dropped (customers 0007).
    id_number_bidx = models.CharField(max_length=40, null=True, blank=True, unique=True)
    phone = EncryptedTextField(blank=True, default="")
    # Unique per kind: an enterprise may give its legal representative's mobile number.
    phone_bidx = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    gender = models.CharField(max_length=6, choices=Gender.choices, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)

    # enterprises
    uscc = models.CharField(max_length=18, null=True, blank=True, unique=True)
    legal_representative = models.CharField(max_length=50, blank=True, default="")
    industry = models.CharField(max_length=50, blank=True, default="")

    # region and address
    province_code = models.CharField(max_length=6, blank=True, default="")
    province_name = models.CharField(max_length=30, blank=True, default="")
    city_code = models.CharField(max_length=6, blank=True, default="")
    city_name = models.CharField(max_length=30, blank=True, default="")
    district_code = models.CharField(max_length=6, blank=True, default="")
    district_name = models.CharField(max_length=30, blank=True, default="")
    address = models.CharField(max_length=200, blank=True, default="")

    # profile
    employer = models.CharField(max_length=100, blank=True, default="")
    monthly_income = models.BigIntegerField(null=True, blank=True, help_text="fen")
    marital_status = models.CharField(
        max_length=10, choices=Marital.choices, blank=True, default=""
    )
    education = models.CharField(max_length=12, choices=Education.choices, blank=True, default="")
    credit_level = models.CharField(
        max_length=10, choices=CreditLevel.choices, blank=True, default=""
    )
    source_channel = models.CharField(max_length=30, blank=True, default="")
    remark = models.TextField(blank=True, default="")
    custom = models.JSONField(default=dict, blank=True)

    # ownership and data scope
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="customers_owned",
        db_index=False,  # led by the (owner, status, updated_at) index
    )
    department = models.ForeignKey(
        "accounts.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,  # led by the (department, status, updated_at) index
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")

    # search
    name_pinyin = models.CharField(max_length=200, blank=True, default="")
    name_initials = models.CharField(max_length=60, blank=True, default="")

    # follow-up summary (denormalised for the list and the to-do list)
    last_follow_up_at = models.DateTimeField(null=True, blank=True)
    next_follow_up_at = models.DateTimeField(null=True, blank=True)

    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_duplicates"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(
                fields=["owner", "status", "-updated_at", "-id"], name="cust_owner_status_upd"
            ),
            models.Index(
                fields=["department", "status", "-updated_at", "-id"], name="cust_dept_status_upd"
            ),
            models.Index(fields=["status", "-updated_at", "-id"], name="cust_status_upd"),
            # The credit-level lists (黑名单, A-level…): counted and paged from the index alone.
            models.Index(
                fields=["credit_level", "status", "-updated_at", "-id"], name="cust_credit_upd"
            ),
            models.Index(
                fields=["name_pinyin"], name="cust_pinyin", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["name_initials"], name="cust_initials", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["owner", "next_follow_up_at"], name="cust_owner_next_fu"),
            # Narrow covering index: a name search that must look inside names scans this
            # instead of the wide table rows (and serves name prefixes).
            models.Index(fields=["name"], name="cust_name"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["phone_bidx", "kind"], name="customer_phone_once"),
        ]

    def __str__(self) -> str:
        return self.name


class BankCard(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="bank_cards")
    number = EncryptedTextField()
    number_bidx = models.CharField(max_length=40, db_index=True)
    bank_name = models.CharField(max_length=50, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "number_bidx"], name="bank_card_once_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} ****{self.number[-4:]}"


class Document(models.Model):
    class Kind(models.TextChoices):
        ID_FRONT = "id_front", "身份证人像面"
        ID_BACK = "id_back", "身份证国徽面"
        INCOME_PROOF = "income_proof", "收入证明"
        BANK_STATEMENT = "bank_statement", "银行流水"
        CONTRACT = "contract", "合同"
        PHOTO = "photo", "照片"
        OTHER = "other", "其他"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    file = models.FileField(max_length=255)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveBigIntegerField()
    # Looked up whole only: PostgreSQL's LIKE twin of its index is dropped (customers 0007).
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="doc_customer_created")]

    def __str__(self) -> str:
        return self.original_name


class FollowUp(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "电话"
        VISIT = "visit", "上门拜访"
        WECHAT = "wechat", "微信"
        NOTE = "note", "备注"

    # No index of its own: fu_customer_created (customer, -created_at, -id) leads with it.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="follow_ups", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    content = models.TextField()
    photos = models.ManyToManyField(Document, blank=True, related_name="follow_ups")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    location_address = models.CharField(max_length=200, blank=True, default="")
    next_follow_up_at = models.DateTimeField(null=True, blank=True)
    # A planned next follow-up is open until someone records the next follow-up on the customer.
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="fu_customer_created"),
            models.Index(
                fields=["author", "next_follow_up_at"],
                name="fu_author_open_next",
                condition=Q(closed_at__isnull=True, next_follow_up_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d}"


class TimelineEvent(models.Model):
    """One line of the customer's history; `summary_code` + `params` render in the reader's
    language. Other apps add events through `services.add_timeline_event`."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary_code = models.CharField(max_length=80)
    params = models.JSONField(default=dict, blank=True)
    ref_type = models.CharField(max_length=50, blank=True, default="")
    ref_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at", "-id"], name="timeline_customer_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class CustomerImport(models.Model):
    """An uploaded spreadsheet and what became of it: uploaded → checked → committed."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "已上传"
        CHECKED = "checked", "已预检"
        COMMITTING = "committing", "导入中"
        COMMITTED = "committed", "已导入"
        FAILED = "failed", "导入失败"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(max_length=255)
    original_name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    sheet_name = models.CharField(max_length=100, blank=True, default="")
    headers = models.JSONField(default=list)
    samples = models.JSONField(default=list)
    suggested_mapping = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    mapping = models.JSONField(default=dict, blank=True)
    skip_bad_rows = models.BooleanField(default=False)
    report = models.JSONField(default=dict, blank=True)
    # The dry run's cleaned rows, encrypted (they hold PII), consumed by the commit.
    prepared_file = models.FileField(max_length=255, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    committed_at = models.DateTimeField(null=True, blank=True)
    # The background commit (tasks.commit_import_task): progress the phone polls, a heartbeat
    # so a dead worker is noticed, and the reason when it failed.
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    commit_started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=80, blank=True, default="")
    failure_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_creator")]

    def __str__(self) -> str:
        return self.original_name


class CustomerNameGram(models.Model):
    """Every one- and two-character piece of a customer's name (ASCII letters lowercased), for
    "Chinese text anywhere in the name": 张 → all customers whose name holds 张, 小明 → those
    holding 小明. Written only by database triggers on customers_customer (migration 0003), so
    every write path — services, imports, bulk COPY, other apps — keeps it in sync.

    Why not pg_trgm / FTS5 trigram: most searches of Chinese names are one or two characters
    (a surname, a given name), which trigram indexes cannot serve (they fall back to a scan).
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    gram = models.CharField(max_length=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gram", "customer"], name="name_gram_once"),
        ]

    def __str__(self) -> str:
        return self.gram
