"""Account reads, each scoped by the caller's permissions and data scope."""

from typing import Any

from django.db.models import Count, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from loandesk.accounts.models import ApiToken, Department, Role, User
from loandesk.accounts.permissions import CATALOG
from loandesk.accounts.scoping import (
    ScopeSpec,
    get_scoped,
    has_perm,
    require_perm,
    scoped,
    user_permissions,
)
from loandesk.core.errors import PermissionDenied
from loandesk.core.services import get_business_date

USER_SCOPE = ScopeSpec(owner="id", department="department")


def me(user: User) -> dict[str, Any]:
    from loandesk.accounts.auth import otp_setup_missing
    from loandesk.core.crypto import mask_phone

    dept = user.department
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name or user.username,
        "phone": mask_phone(user.phone) if user.phone else "",
        "email": user.email,
        "department": department_ref(dept) if dept else None,
        "roles": list(user.roles.all()),
        "permissions": sorted(user_permissions(user)),
        "is_superuser": user.is_superuser,
        "otp_enabled": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "otp_required": otp_setup_missing(user),
        "language": user.language,
        "business_date": get_business_date().isoformat(),
    }


def department_names() -> dict[int, str]:
    return dict(Department.objects.values_list("pk", "name"))


def path_label(department: Department, names: dict[int, str] | None = None) -> str:
    names = names or department_names()
    ids = [int(part) for part in department.path.strip("/").split("/") if part]
    return " / ".join(names.get(i, "?") for i in ids)


def department_ref(department: Department, names: dict[int, str] | None = None) -> dict[str, Any]:
    return {"id": department.pk, "name": department.name, "path": path_label(department, names)}


def user_rows(users: list[User]) -> list[dict[str, Any]]:
    from loandesk.core.crypto import mask_phone

    names = department_names()
    return [
        {
            "id": u.pk,
            "username": u.username,
            "full_name": u.full_name,
            "phone": mask_phone(u.phone) if u.phone else "",
            "email": u.email,
            "department": department_ref(u.department, names) if u.department else None,
            "roles": list(u.roles.all()),
            "is_active": u.is_active,
            "last_login": u.last_login,
        }
        for u in users
    ]


def _require_user_reader(actor: User) -> None:
    if not (has_perm(actor, "accounts.view_users") or has_perm(actor, "accounts.manage_users")):
        raise PermissionDenied(details={"permission": "accounts.view_users"})


def users_visible(
    *,
    actor: User,
    q: str | None = None,
    department_id: int | None = None,
    role_id: int | None = None,
    is_active: bool | None = None,
) -> QuerySet[User]:
    _require_user_reader(actor)
    qs = scoped(User.objects.all(), actor, USER_SCOPE)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    if department_id:
        qs = qs.filter(department_id=department_id)
    if role_id:
        qs = qs.filter(roles__id=role_id)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs.select_related("department").prefetch_related("roles").order_by("id").distinct()


def user_for(*, actor: User, user_id: int) -> User:
    _require_user_reader(actor)
    qs = User.objects.select_related("department").prefetch_related("roles")
    return get_scoped(qs, actor, USER_SCOPE, user_id)


def departments(*, actor: User) -> list[dict[str, Any]]:
    """The organisation tree is visible to every signed-in user: pickers need it."""
    rows = list(
        Department.objects.select_related("head")
        .annotate(user_count=Count("users"))
        .order_by("path")
    )
    names = {d.pk: d.name for d in rows}
    return [
        {
            "id": d.pk,
            "name": d.name,
            "parent_id": d.parent_id,
            "head": d.head,
            "path": path_label(d, names),
            "user_count": d.user_count,
        }
        for d in rows
    ]


def department_for(*, actor: User, department_id: int) -> Department:
    from loandesk.accounts.services import department_in_scope
    from loandesk.core.errors import NotFound

    require_perm(actor, "accounts.manage_departments")
    department = Department.objects.filter(pk=department_id).first()
    if department is None or not department_in_scope(actor, department):
        raise NotFound()
    return department


def roles(*, actor: User) -> QuerySet[Role]:
    if not (has_perm(actor, "accounts.manage_roles") or has_perm(actor, "accounts.manage_users")):
        raise PermissionDenied(details={"permission": "accounts.manage_roles"})
    return Role.objects.annotate(user_count=Count("users")).order_by("id")


def role_for(*, actor: User, role_id: int) -> Role:
    from loandesk.core.errors import NotFound

    require_perm(actor, "accounts.manage_roles")
    role = Role.objects.filter(pk=role_id).annotate(user_count=Count("users")).first()
    if role is None:
        raise NotFound()
    return role


def permission_catalog() -> list[dict[str, str]]:
    return [{"code": p.code, "name": p.name(), "group": p.group()} for p in CATALOG.values()]


def tokens(*, actor: User) -> list[dict[str, Any]]:
    return [
        {
            "id": t.pk,
            "name": t.name,
            "prefix": t.prefix,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "revoked": t.revoked_at is not None,
        }
        for t in ApiToken.objects.filter(user=actor)
    ]
