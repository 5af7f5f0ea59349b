"""Thin HTTP layer for accounts: parse, call a service or selector, return a schema."""

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Query, Router, Status

from loandesk.accounts import selectors, services
from loandesk.accounts.auth import auth_endpoint_auth, enforce_csrf
from loandesk.accounts.schemas import (
    CsrfOut,
    DepartmentIn,
    DepartmentOut,
    DepartmentPatchIn,
    LoginIn,
    MeOut,
    MePatch,
    OtpCodeIn,
    OtpDisableIn,
    OtpSetupOut,
    PasswordChangeIn,
    PermissionOut,
    RoleIn,
    RoleOut,
    RolePatchIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserCreateIn,
    UserFilter,
    UserOut,
    UserPatchIn,
)
from loandesk.core.pagination import Page, PageParams, paginate

auth_router = Router(tags=["auth"], auth=auth_endpoint_auth)
accounts_router = Router(tags=["accounts"])


def _actor(request: HttpRequest) -> Any:
    return request.user


@auth_router.get("/csrf", response=CsrfOut, auth=None)
def csrf(request: HttpRequest) -> dict[str, str]:
    return {"csrf_token": get_token(request)}


@auth_router.post("/login", response=MeOut, auth=None)
def login(request: HttpRequest, payload: LoginIn) -> dict[str, Any]:
    enforce_csrf(request)
    user = services.login(
        request=request,
        username=payload.username,
        password=payload.password,
        otp_code=payload.otp_code,
    )
    return selectors.me(user)


@auth_router.post("/logout", response={204: None}, auth=None)
def logout(request: HttpRequest) -> Status[None]:
    if request.user.is_authenticated:
        enforce_csrf(request)
    services.logout(request=request)
    return Status(204, None)


@auth_router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, Any]:
    return selectors.me(_actor(request))


@auth_router.patch("/me", response=MeOut)
def patch_me(request: HttpRequest, payload: MePatch) -> dict[str, Any]:
    user = services.update_me(
        actor=_actor(request),
        language=payload.language,
        full_name=payload.full_name,
        email=payload.email,
    )
    return selectors.me(user)


@auth_router.post("/password", response={204: None})
def change_password(request: HttpRequest, payload: PasswordChangeIn) -> Status[None]:
    services.change_password(
        request=request,
        actor=_actor(request),
        current_password=payload.current_password,
        new_password=payload.new_password,
    )
    return Status(204, None)


@auth_router.post("/otp/setup", response=OtpSetupOut)
def otp_setup(request: HttpRequest) -> dict[str, str]:
    return services.otp_setup(actor=_actor(request))


@auth_router.post("/otp/confirm", response=MeOut)
def otp_confirm(request: HttpRequest, payload: OtpCodeIn) -> dict[str, Any]:
    user = services.otp_confirm(request=request, actor=_actor(request), code=payload.code)
    return selectors.me(user)


@auth_router.post("/otp/disable", response=MeOut)
def otp_disable(request: HttpRequest, payload: OtpDisableIn) -> dict[str, Any]:
    user = services.otp_disable(request=request, actor=_actor(request), password=payload.password)
    return selectors.me(user)


@auth_router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.tokens(actor=_actor(request))


@auth_router.post("/tokens", response={201: TokenCreatedOut})
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    token, raw = services.create_token(actor=_actor(request), name=payload.name)
    return Status(
        201,
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "token": raw,
        },
    )


@auth_router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    services.revoke_token(actor=_actor(request), token_id=token_id)
    return Status(204, None)


# --- organisation -------------------------------------------------------------------------


@accounts_router.get("/users", response=Page[UserOut])
def list_users(
    request: HttpRequest, filters: Query[UserFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = selectors.users_visible(actor=_actor(request), **filters.dict())
    result = paginate(qs, page)
    result["items"] = selectors.user_rows(result["items"])
    return result


@accounts_router.post("/users", response={201: UserOut})
def create_user(request: HttpRequest, payload: UserCreateIn) -> Status[dict[str, Any]]:
    user = services.create_user(actor=_actor(request), request=request, **payload.dict())
    return Status(
        201, selectors.user_rows([selectors.user_for(actor=_actor(request), user_id=user.pk)])[0]
    )


@accounts_router.get("/users/{user_id}", response=UserOut)
def get_user(request: HttpRequest, user_id: int) -> dict[str, Any]:
    return selectors.user_rows([selectors.user_for(actor=_actor(request), user_id=user_id)])[0]


@accounts_router.patch("/users/{user_id}", response=UserOut)
def patch_user(request: HttpRequest, user_id: int, payload: UserPatchIn) -> dict[str, Any]:
    actor = _actor(request)
    user = selectors.user_for(actor=actor, user_id=user_id)
    services.update_user(
        actor=actor, user=user, changes=payload.dict(exclude_unset=True), request=request
    )
    return selectors.user_rows([selectors.user_for(actor=actor, user_id=user_id)])[0]


@accounts_router.get("/departments", response=list[DepartmentOut])
def list_departments(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.departments(actor=_actor(request))


def _department_out(actor: Any, department_id: int) -> dict[str, Any]:
    return next(d for d in selectors.departments(actor=actor) if d["id"] == department_id)


@accounts_router.post("/departments", response={201: DepartmentOut})
def create_department(request: HttpRequest, payload: DepartmentIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    department = services.create_department(actor=actor, **payload.dict())
    return Status(201, _department_out(actor, department.pk))


@accounts_router.patch("/departments/{department_id}", response=DepartmentOut)
def patch_department(
    request: HttpRequest, department_id: int, payload: DepartmentPatchIn
) -> dict[str, Any]:
    actor = _actor(request)
    department = selectors.department_for(actor=actor, department_id=department_id)
    services.update_department(
        actor=actor, department=department, changes=payload.dict(exclude_unset=True)
    )
    return _department_out(actor, department_id)


@accounts_router.delete("/departments/{department_id}", response={204: None})
def delete_department(request: HttpRequest, department_id: int) -> Status[None]:
    actor = _actor(request)
    department = selectors.department_for(actor=actor, department_id=department_id)
    services.delete_department(actor=actor, department=department)
    return Status(204, None)


@accounts_router.get("/roles", response=list[RoleOut])
def list_roles(request: HttpRequest) -> Any:
    return selectors.roles(actor=_actor(request))


@accounts_router.post("/roles", response={201: RoleOut})
def create_role(request: HttpRequest, payload: RoleIn) -> Status[Any]:
    actor = _actor(request)
    role = services.create_role(actor=actor, **payload.dict())
    return Status(201, selectors.role_for(actor=actor, role_id=role.pk))


@accounts_router.patch("/roles/{role_id}", response=RoleOut)
def patch_role(request: HttpRequest, role_id: int, payload: RolePatchIn) -> Any:
    actor = _actor(request)
    role = selectors.role_for(actor=actor, role_id=role_id)
    services.update_role(actor=actor, role=role, changes=payload.dict(exclude_unset=True))
    return selectors.role_for(actor=actor, role_id=role_id)


@accounts_router.get("/permissions", response=list[PermissionOut])
def list_permissions(request: HttpRequest) -> list[dict[str, str]]:
    return selectors.permission_catalog()
