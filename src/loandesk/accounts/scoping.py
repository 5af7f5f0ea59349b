"""Data scope: the one mechanism that limits every query to what the caller may see.

A role's scope is self / department / department_tree / all; a user with several roles gets the
broadest. Each scoped model names how it reaches an owner and a department through a ScopeSpec,
and selectors call `scoped()` or `get_scoped()` — never a bare `.objects.get(pk=...)`.
Records outside the scope are reported as 404 so their ids are not confirmed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Expression, Model, Q, QuerySet
from django.db.models.lookups import Exact, In

from loandesk.accounts.models import SCOPE_RANK, DataScope, Department, User
from loandesk.core.errors import NotFound, PermissionDenied

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ScopeSpec:
    """Lookups from the scoped model to its owning user and its department."""

    owner: str | None = "owner"
    department: str | None = "department"


def effective_scope(user: User) -> str:
    if user.is_superuser:
        return DataScope.ALL
    cached = getattr(user, "_ld_scope", None)
    if cached is not None:
        return str(cached)
    scopes = [role.data_scope for role in user.roles.all()]
    scope = max(scopes, key=lambda s: SCOPE_RANK[DataScope(s)], default=DataScope.SELF)
    user._ld_scope = scope  # type: ignore[attr-defined]
    return str(scope)


def user_permissions(user: User) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    cached = getattr(user, "_ld_perms", None)
    if cached is None:
        from loandesk.accounts.permissions import CATALOG

        if user.is_superuser:
            cached = set(CATALOG)
        else:
            cached = {code for role in user.roles.all() for code in role.permissions}
        user._ld_perms = cached  # type: ignore[attr-defined]
    return set(cached)


def has_perm(user: User, code: str) -> bool:
    return user.is_superuser or code in user_permissions(user)


def require_perm(user: User, code: str) -> None:
    if not has_perm(user, code):
        raise PermissionDenied(details={"permission": code})


def scope_q(user: User, spec: ScopeSpec, *, column: Callable[[str], Expression] | None = None) -> Q:
    """The rows of `spec`'s model that `user` may see.

    `column`, when given, maps a lookup of `spec` ("owner", "department") to an expression of
    that column (e.g. one no index can serve), and a department or tree scope is then stated on
    those expressions: equalities, and the tree as an IN over its department ids instead of a
    join on the path. A scope of the user's own rows only stays a plain equality."""
    scope = effective_scope(user)
    if scope == DataScope.ALL:
        return Q()
    own = Q(**{spec.owner: user.pk}) if spec.owner else Q(pk__in=[])
    if scope == DataScope.SELF or spec.department is None or user.department_id is None:
        return own
    if column is not None and spec.owner:
        own = Q(Exact(column(spec.owner), user.pk))
    if scope == DataScope.DEPARTMENT:
        if column is None:
            return own | Q(**{spec.department: user.department_id})
        return own | Q(Exact(column(spec.department), user.department_id))
    path = user.department.path if user.department else ""
    if column is None:
        return own | Q(**{f"{spec.department}__path__startswith": path})
    return own | Q(In(column(spec.department), subtree_ids(path)))


def subtree_ids(path: str) -> list[int]:
    """The ids of the department at `path` and of every department below it."""
    return list(Department.objects.filter(path__startswith=path).values_list("pk", flat=True))


def scoped(queryset: QuerySet[M], user: User, spec: ScopeSpec) -> QuerySet[M]:
    return queryset.filter(scope_q(user, spec))


def get_scoped(queryset: QuerySet[M], user: User, spec: ScopeSpec, pk: Any) -> M:
    found = scoped(queryset, user, spec).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found
