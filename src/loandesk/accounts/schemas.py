from datetime import datetime

from ninja import Schema
from pydantic import Field


class LoginIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    otp_code: str | None = Field(None, max_length=12)


class DepartmentRef(Schema):
    id: int
    name: str
    path: str


class RoleRef(Schema):
    id: int
    code: str
    name: str


class UserRef(Schema):
    id: int
    username: str
    full_name: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    phone: str
    email: str
    department: DepartmentRef | None
    roles: list[RoleRef]
    permissions: list[str]
    is_superuser: bool
    otp_enabled: bool
    otp_required: bool
    language: str
    business_date: str


class MePatch(Schema):
    language: str | None = Field(None, pattern=r"^(zh-CN|en-US)$")
    full_name: str | None = Field(None, min_length=1, max_length=100)
    email: str | None = Field(None, max_length=254)


class PasswordChangeIn(Schema):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class CsrfOut(Schema):
    csrf_token: str


class OtpSetupOut(Schema):
    secret: str
    otpauth_url: str
    qr_png: str


class OtpCodeIn(Schema):
    code: str = Field(min_length=6, max_length=8)


class OtpDisableIn(Schema):
    password: str = Field(max_length=256)


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class TokenCreatedOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    token: str


class UserOut(Schema):
    id: int
    username: str
    full_name: str
    phone: str
    email: str
    department: DepartmentRef | None
    roles: list[RoleRef]
    is_active: bool
    last_login: datetime | None


class UserFilter(Schema):
    q: str | None = Field(None, max_length=100)
    department_id: int | None = None
    role_id: int | None = None
    is_active: bool | None = None


class UserCreateIn(Schema):
    username: str = Field(min_length=2, max_length=150)
    full_name: str = Field(min_length=1, max_length=100)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    department_id: int
    role_ids: list[int] = Field(default_factory=list, max_length=50)
    password: str = Field(max_length=256)


class UserPatchIn(Schema):
    full_name: str | None = Field(None, min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    department_id: int | None = None
    role_ids: list[int] | None = Field(None, max_length=50)
    is_active: bool | None = None
    password: str | None = Field(None, max_length=256)


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None
    head: UserRef | None
    path: str
    user_count: int


class DepartmentIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None
    head_id: int | None = None


class DepartmentPatchIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    parent_id: int | None = None
    head_id: int | None = None


class RoleOut(Schema):
    id: int
    code: str
    name: str
    data_scope: str
    permissions: list[str]
    user_count: int


class RoleIn(Schema):
    code: str = Field(min_length=2, max_length=50, pattern=r"^[a-z][a-z0-9_-]*$")
    name: str = Field(min_length=1, max_length=100)
    data_scope: str = Field("self", pattern=r"^(self|department|department_tree|all)$")
    permissions: list[str] = Field(default_factory=list, max_length=500)


class RolePatchIn(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    data_scope: str | None = Field(None, pattern=r"^(self|department|department_tree|all)$")
    permissions: list[str] | None = Field(None, max_length=500)


class PermissionOut(Schema):
    code: str
    name: str
    group: str
