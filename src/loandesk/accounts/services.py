"""Account use cases: login, sessions, second factor, tokens, and managing the organisation.

Every function takes the acting user and enforces permission and data scope itself, so the API
layer stays thin and no caller can skip a check.
"""

import base64
import io
import secrets
import time
from typing import Any

import qrcode
from axes.exceptions import AxesBackendPermissionDenied
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from loandesk.accounts.auth import hash_token
from loandesk.accounts.middleware import LAST_SEEN, LOGIN_AT
from loandesk.accounts.models import SCOPE_RANK, ApiToken, DataScope, Department, Role, User
from loandesk.accounts.permissions import CATALOG
from loandesk.accounts.phones import normalize_mobile, phone_index
from loandesk.accounts.scoping import effective_scope, require_perm, user_permissions
from loandesk.core import audit
from loandesk.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from loandesk.core.i18n import message

USER_AUDIT_FIELDS = ["username", "full_name", "email", "department", "is_active", "roles"]
MAX_TOKENS_PER_USER = 50


# --- login and sessions -------------------------------------------------------------------


def login(*, request: HttpRequest, username: str, password: str, otp_code: str | None) -> User:
    username = username.strip()
    credentials = {"username": username}
    try:
        user = authenticate(request, username=username, password=password)
    except AxesBackendPermissionDenied as exc:
        audit.record(action="auth.locked_out", actor_username=username, request=request)
        raise RateLimited("auth.locked_out") from exc
    if getattr(request, "axes_locked_out", False):
        audit.record(action="auth.locked_out", actor_username=username, request=request)
        raise RateLimited("auth.locked_out")
    if user is None:
        audit.record(action="auth.login_failed", actor_username=username, request=request)
        raise NotAuthenticated("auth.invalid_credentials")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        if not otp_code:
            raise NotAuthenticated("auth.otp_required")
        if not device.verify_token(otp_code.strip()):
            # A wrong second factor counts towards the lockout like a wrong password.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            audit.record(
                action="auth.login_failed",
                actor=user,
                request=request,
                extra={"reason": "otp_invalid"},
            )
            raise NotAuthenticated("auth.otp_invalid")
    django_login(request, user, backend="loandesk.accounts.backends.UsernameOrPhoneBackend")
    if device is not None:
        otp_login(request, device)
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[LAST_SEEN] = now
    audit.record(action="auth.login_success", actor=user, target=user, request=request)
    return user


def logout(*, request: HttpRequest) -> None:
    user = request.user
    if user.is_authenticated:
        audit.record(action="auth.logout", actor=user, request=request)
    django_logout(request)


def _check_password_strength(password: str, user: User | None, field: str) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            {field: message("auth.password_weak", {"reason": " ".join(exc.messages)})}
        ) from exc


def change_password(
    *, request: HttpRequest, actor: User, current_password: str, new_password: str
) -> None:
    if not actor.check_password(current_password):
        raise ValidationFailed.field("current_password", "auth.wrong_password")
    _check_password_strength(new_password, actor, "new_password")
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    # Other sessions carry the old password hash and stop validating; keep this one.
    if getattr(request, "auth_method", "session") == "session":
        update_session_auth_hash(request, actor)
    audit.record(action="auth.password_changed", actor=actor, target=actor, request=request)


def update_me(
    *, actor: User, language: str | None, full_name: str | None, email: str | None
) -> User:
    before = audit.snapshot(actor, ["language", "full_name", "email"])
    if language is not None:
        actor.language = language
    if full_name is not None:
        actor.full_name = full_name.strip()
    if email is not None:
        actor.email = _clean_email(email)
    actor.save(update_fields=["language", "full_name", "email"])
    audit.record_change(
        actor=actor,
        instance=actor,
        before=before,
        after=audit.snapshot(actor, ["language", "full_name", "email"]),
    )
    return actor


# --- two-factor (TOTP) --------------------------------------------------------------------


def otp_setup(*, actor: User) -> dict[str, str]:
    """Start enrolment: a fresh unconfirmed device whose secret the user scans."""
    if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        raise Conflict("auth.otp_already_enabled")
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=actor, name="default", confirmed=False)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    url = str(device.config_url)
    buffer = io.BytesIO()
    qrcode.make(url, box_size=6, border=2).save(buffer)
    return {
        "secret": secret,
        "otpauth_url": url,
        "qr_png": "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
    }


def otp_confirm(*, request: HttpRequest, actor: User, code: str) -> User:
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).first()
    if device is None:
        raise Conflict("auth.otp_not_enabled")
    if not device.verify_token(code.strip()):
        raise ValidationFailed.field("code", "auth.otp_invalid")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    if getattr(request, "auth_method", "") == "session":
        otp_login(request, device)
    audit.record(action="auth.otp_enabled", actor=actor, target=actor, request=request)
    return actor


def otp_disable(*, request: HttpRequest, actor: User, password: str) -> User:
    if not actor.check_password(password):
        raise ValidationFailed.field("password", "auth.wrong_password")
    deleted, _ = TOTPDevice.objects.filter(user=actor).delete()
    if not deleted:
        raise Conflict("auth.otp_not_enabled")
    audit.record(action="auth.otp_disabled", actor=actor, target=actor, request=request)
    return actor


# --- API tokens ---------------------------------------------------------------------------


def create_token(*, actor: User, name: str) -> tuple[ApiToken, str]:
    if actor.api_tokens.filter(revoked_at__isnull=True).count() >= MAX_TOKENS_PER_USER:
        raise Conflict("accounts.token_limit")
    raw = "ld_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor, name=name.strip(), prefix=raw[:8], key_hash=hash_token(raw)
    )
    audit.record(action="auth.token_created", actor=actor, target=token)
    return token, raw


def revoke_token(*, actor: User, token_id: int) -> None:
    token = ApiToken.objects.filter(user=actor, pk=token_id, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound()
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(action="auth.token_revoked", actor=actor, target=token)


# --- users --------------------------------------------------------------------------------


def _clean_email(email: str) -> str:
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError as exc:
            raise ValidationFailed.field("email", "accounts.email_invalid") from exc
    return email


def _clean_phone(phone: str) -> tuple[str, str | None]:
    phone = phone.strip()
    if not phone:
        return "", None
    mobile = normalize_mobile(phone)
    if mobile is None:
        raise ValidationFailed.field("phone", "accounts.phone_invalid")
    return mobile, phone_index(mobile)


def department_in_scope(actor: User, department: Department) -> bool:
    scope = effective_scope(actor)
    if scope == DataScope.ALL:
        return True
    own = actor.department
    if own is None:
        return False
    if scope == DataScope.DEPARTMENT_TREE:
        return department.path.startswith(own.path)
    return department.pk == own.pk


def _department_for(actor: User, department_id: int, field: str = "department_id") -> Department:
    department = Department.objects.filter(pk=department_id).first()
    if department is None or not department_in_scope(actor, department):
        raise ValidationFailed.field(field, "not_found")
    return department


def _roles_for(actor: User, role_ids: list[int]) -> list[Role]:
    """Roles the actor may grant: never more permission or a wider scope than they hold."""
    roles = list(Role.objects.filter(pk__in=set(role_ids)))
    if len(roles) != len(set(role_ids)):
        raise ValidationFailed.field("role_ids", "not_found")
    if not actor.is_superuser:
        mine = user_permissions(actor)
        rank = SCOPE_RANK[DataScope(effective_scope(actor))]
        for role in roles:
            if not set(role.permissions) <= mine or SCOPE_RANK[DataScope(role.data_scope)] > rank:
                raise PermissionDenied(details={"role": role.code})
    return roles


@transaction.atomic
def create_user(
    *,
    actor: User,
    username: str,
    full_name: str,
    phone: str,
    email: str,
    department_id: int,
    role_ids: list[int],
    password: str,
    request: HttpRequest | None = None,
) -> User:
    require_perm(actor, "accounts.manage_users")
    username = username.strip()
    try:
        UnicodeUsernameValidator()(username)
    except DjangoValidationError as exc:
        raise ValidationFailed.field("username", "accounts.username_invalid") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed.field("username", "accounts.username_taken")
    department = _department_for(actor, department_id)
    roles = _roles_for(actor, role_ids)
    mobile, bidx = _clean_phone(phone)
    if bidx and User.objects.filter(phone_bidx=bidx).exists():
        raise ValidationFailed.field("phone", "accounts.phone_taken")
    user = User(
        username=username,
        full_name=full_name.strip(),
        phone=mobile,
        phone_bidx=bidx,
        email=_clean_email(email),
        department=department,
    )
    _check_password_strength(password, user, "password")
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationFailed.field("username", "accounts.username_taken") from exc
    user.roles.set(roles)
    audit.record_change(
        actor=actor,
        instance=user,
        before=None,
        after=audit.snapshot(user, USER_AUDIT_FIELDS[:-1]) | {"roles": [r.pk for r in roles]},
        request=request,
    )
    return user


@transaction.atomic
def update_user(
    *, actor: User, user: User, changes: dict[str, Any], request: HttpRequest | None = None
) -> User:
    """`user` must come from a scoped selector; `changes` holds only the fields sent."""
    require_perm(actor, "accounts.manage_users")
    before = audit.snapshot(user, USER_AUDIT_FIELDS[:-1]) | {
        "roles": sorted(user.roles.values_list("pk", flat=True))
    }
    if "full_name" in changes and changes["full_name"] is not None:
        user.full_name = changes["full_name"].strip()
    if "email" in changes and changes["email"] is not None:
        user.email = _clean_email(changes["email"])
    if "phone" in changes and changes["phone"] is not None:
        mobile, bidx = _clean_phone(changes["phone"])
        if bidx and User.objects.filter(phone_bidx=bidx).exclude(pk=user.pk).exists():
            raise ValidationFailed.field("phone", "accounts.phone_taken")
        user.phone, user.phone_bidx = mobile, bidx
    if changes.get("department_id") is not None:
        user.department = _department_for(actor, changes["department_id"])
    if changes.get("is_active") is not None:
        if user.pk == actor.pk and not changes["is_active"]:
            raise ValidationFailed.field("is_active", "accounts.cannot_deactivate_self")
        user.is_active = changes["is_active"]
    if changes.get("password"):
        _check_password_strength(changes["password"], user, "password")
        user.set_password(changes["password"])
    user.save()
    if changes.get("role_ids") is not None:
        user.roles.set(_roles_for(actor, changes["role_ids"]))
    after = audit.snapshot(user, USER_AUDIT_FIELDS[:-1]) | {
        "roles": sorted(user.roles.values_list("pk", flat=True))
    }
    entry = audit.record_change(
        actor=actor, instance=user, before=before, after=after, request=request
    )
    if changes.get("password") and entry is None:
        audit.record(action="accounts.password_reset", actor=actor, target=user, request=request)
    return user


# --- departments --------------------------------------------------------------------------


def _set_path(department: Department) -> None:
    parent_path = department.parent.path if department.parent else "/"
    department.path = f"{parent_path}{department.pk}/"


@transaction.atomic
def create_department(
    *, actor: User, name: str, parent_id: int | None, head_id: int | None
) -> Department:
    require_perm(actor, "accounts.manage_departments")
    parent = _department_for(actor, parent_id, "parent_id") if parent_id else None
    if parent is None and not actor.is_superuser and effective_scope(actor) != DataScope.ALL:
        raise PermissionDenied()
    head = _user_in_scope(actor, head_id) if head_id else None
    name = name.strip()
    if Department.objects.filter(parent=parent, name=name).exists():
        raise ValidationFailed.field("name", "accounts.department_name_taken")
    department = Department.objects.create(name=name, parent=parent, head=head)
    _set_path(department)
    department.save(update_fields=["path"])
    audit.record_change(
        actor=actor,
        instance=department,
        before=None,
        after=audit.snapshot(department, ["name", "parent", "head"]),
    )
    return department


def _user_in_scope(actor: User, user_id: int) -> User:
    from loandesk.accounts.scoping import scoped
    from loandesk.accounts.selectors import USER_SCOPE

    user = scoped(User.objects.all(), actor, USER_SCOPE).filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed.field("head_id", "not_found")
    return user


@transaction.atomic
def update_department(
    *, actor: User, department: Department, changes: dict[str, Any]
) -> Department:
    require_perm(actor, "accounts.manage_departments")
    before = audit.snapshot(department, ["name", "parent", "head"])
    if changes.get("name") is not None:
        name = changes["name"].strip()
        clash = Department.objects.filter(parent=department.parent, name=name)
        if clash.exclude(pk=department.pk).exists():
            raise ValidationFailed.field("name", "accounts.department_name_taken")
        department.name = name
    if "head_id" in changes:
        head_id = changes["head_id"]
        department.head = _user_in_scope(actor, head_id) if head_id else None
    old_path = department.path
    if changes.get("parent_id") is not None and changes["parent_id"] != department.parent_id:
        parent = _department_for(actor, changes["parent_id"], "parent_id")
        if parent.path.startswith(old_path):
            raise ValidationFailed.field("parent_id", "accounts.department_cycle")
        department.parent = parent
        _set_path(department)
    department.save()
    if department.path != old_path:
        for child in Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk):
            child.path = department.path + child.path[len(old_path) :]
            child.save(update_fields=["path"])
    audit.record_change(
        actor=actor,
        instance=department,
        before=before,
        after=audit.snapshot(department, ["name", "parent", "head"]),
    )
    return department


@transaction.atomic
def delete_department(*, actor: User, department: Department) -> None:
    require_perm(actor, "accounts.manage_departments")
    if department.children.exists() or department.users.exists():
        raise Conflict("accounts.department_not_empty")
    before = audit.snapshot(department, ["name", "parent", "head"])
    audit.record_change(actor=actor, instance=department, before=before, after=None)
    department.delete()


# --- roles --------------------------------------------------------------------------------


def _clean_permissions(codes: list[str]) -> list[str]:
    for code in codes:
        if code not in CATALOG:
            raise ValidationFailed.field("permissions", "accounts.unknown_permission", code=code)
    return sorted(set(codes))


def _check_grantable(actor: User, permissions: list[str], data_scope: str) -> None:
    if actor.is_superuser:
        return
    if not set(permissions) <= user_permissions(actor):
        raise PermissionDenied()
    if SCOPE_RANK[DataScope(data_scope)] > SCOPE_RANK[DataScope(effective_scope(actor))]:
        raise PermissionDenied()


@transaction.atomic
def create_role(
    *, actor: User, code: str, name: str, data_scope: str, permissions: list[str]
) -> Role:
    require_perm(actor, "accounts.manage_roles")
    permissions = _clean_permissions(permissions)
    _check_grantable(actor, permissions, data_scope)
    if Role.objects.filter(code=code).exists():
        raise ValidationFailed.field("code", "accounts.role_code_taken")
    role = Role.objects.create(
        code=code, name=name.strip(), data_scope=data_scope, permissions=permissions
    )
    audit.record_change(
        actor=actor,
        instance=role,
        before=None,
        after=audit.snapshot(role, ["code", "name", "data_scope", "permissions"]),
    )
    return role


@transaction.atomic
def update_role(*, actor: User, role: Role, changes: dict[str, Any]) -> Role:
    require_perm(actor, "accounts.manage_roles")
    before = audit.snapshot(role, ["code", "name", "data_scope", "permissions"])
    if changes.get("name") is not None:
        role.name = changes["name"].strip()
    if changes.get("data_scope") is not None:
        role.data_scope = changes["data_scope"]
    if changes.get("permissions") is not None:
        role.permissions = _clean_permissions(changes["permissions"])
    _check_grantable(actor, role.permissions, role.data_scope)
    role.save()
    audit.record_change(
        actor=actor,
        instance=role,
        before=before,
        after=audit.snapshot(role, ["code", "name", "data_scope", "permissions"]),
    )
    return role
