"""Authorization matrix for the accounts API: every demo role × every endpoint.

This is the template later apps copy: list each endpoint with a request that would succeed and
the set of roles allowed to make it; the test asserts 2xx for those and 403/401 for the rest.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

# The role × endpoint decisions are made in Python: the SQLite pass runs the matrix; on
# PostgreSQL the sweep calls every endpoint in and out of scope (tests/conftest.py).
ENGINE_INDEPENDENT = pytest.mark.decided_in_python

ROLES = ["admin", "gm", "manager", "risk", "finance", "officer1", "officer2", "collector"]
EVERYONE = set(ROLES)


@dataclass
class Case:
    name: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], Any] | None
    allowed: set[str]


def _new_user_body(demo: dict[str, Any]) -> dict[str, Any]:
    return {
        "username": "matrix_new",
        "full_name": "矩阵测试",
        "department_id": demo["departments"]["北京一组"].pk,
        "role_ids": [],
        "password": "Matrix-Pass-2026",
    }


CASES = [
    Case("me", "get", lambda d: "auth/me", None, EVERYONE),
    Case("tokens", "get", lambda d: "auth/tokens", None, EVERYONE),
    Case(
        "list users",
        "get",
        lambda d: "accounts/users",
        None,
        {"admin", "gm", "manager", "risk", "finance"},
    ),
    Case(
        "get user",
        "get",
        lambda d: f"accounts/users/{d['users']['officer1'].pk}",
        None,
        {"admin", "gm", "manager", "risk", "finance"},
    ),
    Case("create user", "post", lambda d: "accounts/users", _new_user_body, {"admin"}),
    Case(
        "patch user",
        "patch",
        lambda d: f"accounts/users/{d['users']['officer1'].pk}",
        lambda d: {"full_name": "王小明2"},
        {"admin"},
    ),
    Case("list departments", "get", lambda d: "accounts/departments", None, EVERYONE),
    Case(
        "create department",
        "post",
        lambda d: "accounts/departments",
        lambda d: {"name": "北京三组", "parent_id": d["departments"]["北京分公司"].pk},
        {"admin"},
    ),
    Case(
        "patch department",
        "patch",
        lambda d: f"accounts/departments/{d['departments']['北京二组'].pk}",
        lambda d: {"name": "北京二组(新)"},
        {"admin"},
    ),
    Case("list roles", "get", lambda d: "accounts/roles", None, {"admin"}),
    Case(
        "create role",
        "post",
        lambda d: "accounts/roles",
        lambda d: {
            "code": "auditor",
            "name": "审计",
            "data_scope": "all",
            "permissions": ["audit.view"],
        },
        {"admin"},
    ),
    Case("permissions", "get", lambda d: "accounts/permissions", None, EVERYONE),
    Case("audit log", "get", lambda d: "audit/entries", None, {"admin", "gm"}),
    Case("business date", "get", lambda d: "business-date", None, EVERYONE),
    Case(
        "set business date",
        "put",
        lambda d: "business-date",
        lambda d: {"date": "2030-01-02"},
        {"admin"},
    ),
    Case("outbox", "get", lambda d: "outbox/events", None, {"admin"}),
    Case(
        "calculator",
        "post",
        lambda d: "calculator/schedule",
        lambda d: {"principal": "1000", "annual_rate": "6", "periods": 3},
        EVERYONE,
    ),
    Case("holiday calendar", "get", lambda d: "lending/calendar/years", None, EVERYONE),
    Case(
        "edit holiday calendar",
        "put",
        lambda d: "lending/calendar/years/2031",
        lambda d: {"holidays": [{"date": "2031-01-01", "name": "元旦"}], "workdays": []},
        {"admin"},
    ),
]


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("role", ROLES)
def test_matrix(case: Case, role: str, demo: dict[str, Any], client_for: Any) -> None:
    client = client_for(role)
    body = case.body(demo) if case.body else None
    response = client.request(case.method, case.path(demo), body)
    if role in case.allowed:
        assert 200 <= response.status_code < 300, (role, case.name, response.content)
    else:
        assert response.status_code == 403, (role, case.name, response.content)
        assert response.json()["code"] == "permission_denied"


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_anonymous_is_401(case: Case, demo: dict[str, Any], anon: Any) -> None:
    body = case.body(demo) if case.body else None
    response = anon.request(case.method, case.path(demo), body)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.not_authenticated"
