"""Test data factories and an API client that behaves like the phone app."""

import itertools
import json
from typing import Any

from django.test import Client

from loandesk.accounts.models import Department, Role, User
from loandesk.accounts.phones import phone_index

_seq = itertools.count(1)
PASSWORD = "Factory-Pass-2026"


def make_department(name: str | None = None, parent: Department | None = None) -> Department:
    dept = Department.objects.create(name=name or f"部门{next(_seq)}", parent=parent)
    dept.path = f"{parent.path if parent else '/'}{dept.pk}/"
    dept.save(update_fields=["path"])
    return dept


def make_role(
    code: str | None = None, *, data_scope: str = "self", permissions: list[str] | None = None
) -> Role:
    n = next(_seq)
    return Role.objects.create(
        code=code or f"role{n}",
        name=f"角色{n}",
        data_scope=data_scope,
        permissions=permissions or [],
    )


def make_user(
    username: str | None = None,
    *,
    department: Department | None = None,
    roles: list[Role] | None = None,
    password: str = PASSWORD,
    phone: str = "",
    **fields: Any,
) -> User:
    user = User(
        username=username or f"user{next(_seq)}",
        full_name=fields.pop("full_name", "测试用户"),
        department=department,
        phone=phone,
        phone_bidx=phone_index(phone) if phone else None,
        **fields,
    )
    user.set_password(password)
    user.save()
    if roles:
        user.roles.set(roles)
    return user


class ApiClient:
    """JSON client with CSRF handling, like the SPA: cookie session + X-CSRFToken on writes."""

    def __init__(self, *, language: str = "zh-CN", remote_addr: str = "127.0.0.1") -> None:
        self.client = Client(enforce_csrf_checks=True, REMOTE_ADDR=remote_addr)
        self.language = language
        self.token: str | None = None

    def _headers(self, method: str) -> dict[str, str]:
        headers = {"HTTP_ACCEPT_LANGUAGE": self.language}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        elif method not in ("get", "head"):
            if "csrftoken" not in self.client.cookies:
                self.client.get("/api/v1/auth/csrf")
            headers["HTTP_X_CSRFTOKEN"] = self.client.cookies["csrftoken"].value
        return headers

    def request(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        headers = self._headers(method) | extra
        call = getattr(self.client, method)
        if method in ("get", "head"):
            return call(url, body or {}, **headers)
        data = body if isinstance(body, str | bytes) else json.dumps(body or {})
        return call(url, data, content_type="application/json", **headers)

    def get(self, path: str, params: Any = None, **extra: Any) -> Any:
        return self.request("get", path, params, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.request("post", path, body, **extra)

    def patch(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.request("patch", path, body, **extra)

    def put(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.request("put", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.request("delete", path, None, **extra)

    def login_as(self, username: str, password: str, otp_code: str | None = None) -> Any:
        body: dict[str, Any] = {"username": username, "password": password}
        if otp_code:
            body["otp_code"] = otp_code
        response = self.post("auth/login", body)
        assert response.status_code == 200, response.content
        return response
