"""Form engine tables: definitions, immutable versions, records with key-field columns, public
links, SMS codes, serial counters, uploads and the rate-limit counters of public endpoints."""

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from loandesk.accounts.models import Department

# Key-field columns per kind (see docs/adr/0003-form-record-index.md and schema.INDEX_SLOTS).
TEXT_SLOTS = [f"k_t{i}" for i in range(1, 9)]
NUMBER_SLOTS = [f"k_n{i}" for i in range(1, 7)]
DATE_SLOTS = [f"k_d{i}" for i in range(1, 5)]
SLOTS = {"text": TEXT_SLOTS, "number": NUMBER_SLOTS, "date": DATE_SLOTS}
ALL_SLOTS = TEXT_SLOTS + NUMBER_SLOTS + DATE_SLOTS


class FormKind(models.TextChoices):
    PROFILE = "profile", "客户档案"
    APPLICATION = "application", "申请"
    GENERIC = "generic", "通用"


class FormDefinition(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=20, choices=FormKind.choices, default=FormKind.GENERIC)
    current_version = models.ForeignKey(
        "FormVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # {field_key: "k_t1" | "k_n2" | …}: which record column holds each key field. Assigned at
    # publish; stable across versions so old records stay filterable.
    index_slots = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class FormVersion(models.Model):
    """A schema. The draft (published_at is null) is edited; a published version never changes."""

    form = models.ForeignKey(FormDefinition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    schema = models.JSONField(default=dict)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["form_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="forms_version_number"),
            models.UniqueConstraint(
                fields=["form"],
                condition=models.Q(published_at__isnull=True),
                name="forms_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "_stored_published", False):
            raise PermissionError("a published form version is immutable")
        super().save(*args, **kwargs)
        self._stored_published = self.published_at is not None

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> "FormVersion":
        instance = super().from_db(db, field_names, values)
        instance._stored_published = instance.published_at is not None
        return instance


class CreatedVia(models.TextChoices):
    APP = "app", "应用"
    PUBLIC_LINK = "public_link", "公开链接"


class PublicLink(models.Model):
    token = models.CharField(max_length=64, unique=True)
    form = models.ForeignKey(FormDefinition, on_delete=models.CASCADE, related_name="links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_submissions = models.PositiveIntegerField(null=True, blank=True)
    submissions = models.PositiveIntegerField(default=0)
    sms_verification = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["form", "created_by"])]

    def __str__(self) -> str:
        return f"{self.form_id}:{self.token[:6]}…"


class Record(models.Model):
    form = models.ForeignKey(FormDefinition, on_delete=models.PROTECT, related_name="records")
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="records")
    data = models.JSONField(default=dict)  # PII values inside are AES-GCM ciphertext
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The customer the record is about (the form's customer relation field), for the 360° view.
    # No index of its own: forms_rec_customer (customer, -created_at) leads with it.
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="form_records",
        db_index=False,
    )
    serial_no = models.CharField(max_length=64, blank=True, default="")
    created_via = models.CharField(max_length=20, choices=CreatedVia.choices, default="app")
    link = models.ForeignKey(
        PublicLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    status_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Key-field columns: generic, filled from the fields the admin marks as key (indexed).
    # NULL (not "") means empty, so the "empty" filter and sorting treat every kind alike.
    k_t1 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_t2 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_t3 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_t4 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_t5 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_t6 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_t7 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_t8 = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    k_n1 = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    k_n2 = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    k_n3 = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    k_n4 = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    k_n5 = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    k_n6 = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    k_d1 = models.DateField(null=True, blank=True)
    k_d2 = models.DateField(null=True, blank=True)
    k_d3 = models.DateField(null=True, blank=True)
    k_d4 = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["form", "-created_at", "-id"], name="forms_rec_form_created"),
            models.Index(fields=["form", "owner", "-created_at"], name="forms_rec_form_owner"),
            models.Index(fields=["form", "department"], name="forms_rec_form_dept"),
            models.Index(fields=["customer", "-created_at"], name="forms_rec_customer"),
            models.Index(fields=["form", "serial_no"], name="forms_rec_form_serial"),
            models.Index(fields=["form", "-updated_at"], name="forms_rec_form_updated"),
            *[models.Index(fields=["form", slot], name=f"forms_rec_{slot}") for slot in ALL_SLOTS],
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "serial_no"],
                condition=~models.Q(serial_no=""),
                name="forms_record_serial_unique",
            )
        ]

    def __str__(self) -> str:
        return self.serial_no or f"#{self.pk}"


class SerialCounter(models.Model):
    """The last number handed out per form and period (the pattern's date part)."""

    form = models.ForeignKey(FormDefinition, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=64)
    value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "period"], name="forms_serial_period")
        ]

    def __str__(self) -> str:
        return f"{self.form_id}:{self.period}={self.value}"


class Upload(models.Model):
    """A file uploaded for an image/attachment/signature field; attached when a record stores it."""

    class Kind(models.TextChoices):
        IMAGE = "image"
        FILE = "file"
        SIGNATURE = "signature"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(upload_to="forms/%Y/%m/", max_length=255)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    link = models.ForeignKey(
        PublicLink, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    record = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["record", "created_at"]),
            models.Index(fields=["created_at"]),
        ]

    def __str__(self) -> str:
        return self.name


class SmsCode(models.Model):
    link = models.ForeignKey(PublicLink, on_delete=models.CASCADE, related_name="+")
    phone_bidx = models.CharField(max_length=40)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["link", "phone_bidx", "-created_at"])]

    def __str__(self) -> str:
        return f"sms {self.link_id} {self.created_at:%Y-%m-%d %H:%M}"


class RateCounter(models.Model):
    """Hits per (scope, key, window): shared by every web process, unlike a local cache."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)  # a keyed hash, never the raw address or phone
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "window_start"], name="forms_rate_window"
            )
        ]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key[:8]} {self.count}"
