from django.contrib.auth.models import AbstractUser
from django.db import models

from loandesk.core.crypto import EncryptedTextField


class DataScope(models.TextChoices):
    SELF = "self", "本人"
    DEPARTMENT = "department", "本部门"
    DEPARTMENT_TREE = "department_tree", "本部门及下级"
    ALL = "all", "全部"


SCOPE_RANK = {
    DataScope.SELF: 0,
    DataScope.DEPARTMENT: 1,
    DataScope.DEPARTMENT_TREE: 2,
    DataScope.ALL: 3,
}


class Department(models.Model):
    """A node of the organisation tree; `path` ("/1/4/9/") makes subtree queries one LIKE."""

    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    head = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    sort = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    data_scope = models.CharField(max_length=20, choices=DataScope.choices, default=DataScope.SELF)
    permissions = models.JSONField(default=list, blank=True)
    is_system = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    full_name = models.CharField(max_length=100, blank=True)
    phone = EncryptedTextField(blank=True, default="")
    phone_bidx = models.CharField(max_length=40, null=True, blank=True, unique=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users")
    language = models.CharField(
        max_length=10, choices=[("zh-CN", "简体中文"), ("en-US", "English")], default="zh-CN"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.full_name or self.username


class ApiToken(models.Model):
    """A named integration token; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
