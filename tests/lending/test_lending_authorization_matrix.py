"""Authorization matrix for the product and loan endpoints: every endpoint × every demo role.

As in tests/customers: `allowed` get 2xx, `hidden` hold the permission but the target loan is
outside their data scope (404, never 403), everyone else gets 403; anonymous callers get 401.
The target loan belongs to officer1's demo customer (北京一组).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from loandesk.lending import loans
from tests.lending.conftest import disburse_body, new_key, service_kwargs

# The role × endpoint decisions are made in Python: the SQLite pass runs the matrix; on
# PostgreSQL the sweep calls every endpoint in and out of scope (tests/conftest.py).
ENGINE_INDEPENDENT = pytest.mark.decided_in_python

ROLES = ["admin", "gm", "manager", "risk", "finance", "officer1", "officer2", "collector"]
EVERYONE = set(ROLES)
VIEW_LOANS = EVERYONE
SEES_TARGET = {"admin", "gm", "manager", "risk", "finance", "officer1"}

Ctx = dict[str, Any]


@dataclass
class Case:
    name: str
    method: str
    path: Callable[[Ctx], str]
    body: Callable[[Ctx], Any] | None
    allowed: set[str]
    hidden: set[str] = field(default_factory=set)


def _product_body(ctx: Ctx) -> dict[str, Any]:
    return {
        "code": "matrix",
        "name": "矩阵产品",
        "method": "equal_installment",
        "min_amount": "1000",
        "max_amount": "10000",
        "min_periods": 1,
        "max_periods": 12,
        "min_rate": "1",
        "max_rate": "10",
    }


def _disburse_body(ctx: Ctx) -> dict[str, Any]:
    return disburse_body(ctx["c1"], ctx["products"]["consumer"], idempotency_key=new_key())


CASES = [
    Case("list products", "get", lambda c: "lending/products", None, EVERYONE),
    Case(
        "get product",
        "get",
        lambda c: f"lending/products/{c['products']['consumer'].pk}",
        None,
        EVERYONE,
    ),
    Case("create product", "post", lambda c: "lending/products", _product_body, {"admin"}),
    Case(
        "patch product",
        "patch",
        lambda c: f"lending/products/{c['products']['consumer'].pk}",
        lambda c: {"name": "个人消费贷(新)"},
        {"admin"},
    ),
    Case(
        "quote",
        "post",
        lambda c: f"lending/products/{c['products']['consumer'].pk}/quote",
        lambda c: {"amount": "100000", "periods": 12, "annual_rate": "12"},
        EVERYONE,
    ),
    Case(
        "disburse", "post", lambda c: "lending/disbursements", _disburse_body, {"admin", "finance"}
    ),
    Case("list loans", "get", lambda c: "lending/loans", None, VIEW_LOANS),
    Case(
        "get loan",
        "get",
        lambda c: f"lending/loans/{c['target'].pk}",
        None,
        SEES_TARGET,
        hidden=VIEW_LOANS - SEES_TARGET,
    ),
]


@pytest.fixture
def ctx(lending: Ctx) -> Ctx:
    body = disburse_body(lending["c1"], lending["products"]["consumer"])
    target = loans.disburse(actor=lending["users"]["finance"], **service_kwargs(body))
    return {**lending, "target": target}


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("role", ROLES)
def test_matrix(case: Case, role: str, ctx: Ctx, client_for: Any) -> None:
    client = client_for(role)
    body = case.body(ctx) if case.body else None
    response = client.request(case.method, case.path(ctx), body)
    if role in case.allowed:
        assert 200 <= response.status_code < 300, (role, case.name, response.content)
    elif role in case.hidden:
        assert response.status_code == 404, (role, case.name, response.content)
        assert response.json()["code"] == "not_found"
    else:
        assert response.status_code == 403, (role, case.name, response.content)
        assert response.json()["code"] == "permission_denied"


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_anonymous_is_401(case: Case, ctx: Ctx, anon: Any) -> None:
    body = case.body(ctx) if case.body else None
    response = anon.request(case.method, case.path(ctx), body)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.not_authenticated"


def test_a_role_without_view_loans_is_refused(ctx: Ctx, client_for: Any) -> None:
    from loandesk.accounts.models import Role

    role = Role.objects.get(code="collector")
    role.permissions = [p for p in role.permissions if p != "lending.view_loans"]
    role.save(update_fields=["permissions"])
    client = client_for("collector")
    assert client.get("lending/loans").status_code == 403
    assert client.get(f"lending/loans/{ctx['target'].pk}").status_code == 403
