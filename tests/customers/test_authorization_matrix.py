"""Authorization matrix for the customers API: every endpoint × every demo role.

Like tests/accounts/test_authorization_matrix.py, but each endpoint names the permission(s) it
needs and the record it touches, and the expected answer is derived from the role's actual
permissions and data scope (other apps grant demo roles customer permissions too, e.g. finance
gets customers.view from lending): no permission → 403; permission but the record outside the
role's scope → 404 (never 403, which would confirm the id); otherwise 2xx. The target is one of
officer1's demo customers (北京一组); the import belongs to officer1. A second test pins the
expectations for the roles whose grants this app defines.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from openpyxl import Workbook

from loandesk.accounts.models import User
from loandesk.accounts.scoping import has_perm, scoped
from loandesk.customers import imports, services
from loandesk.customers.models import Customer, CustomerImport
from loandesk.customers.selectors import CUSTOMER_SCOPE, IMPORT_SCOPE
from tests.customers.conftest import customer_body, new_card, png_bytes, upload
from tests.factories import make_user

# The role × endpoint decisions are made in Python: the SQLite pass runs the matrix; on
# PostgreSQL the sweep calls every endpoint in and out of scope (tests/conftest.py).
ENGINE_INDEPENDENT = pytest.mark.decided_in_python

# The demo users, plus "nobody": a 北京一组 user without any role (403 on every endpoint but meta).
ROLES = ["admin", "gm", "manager", "risk", "finance", "officer1", "officer2", "collector", "nobody"]
VIEW = ("customers.view",)
UPDATE = ("customers.view", "customers.update")

Ctx = dict[str, Any]


@dataclass
class Case:
    name: str
    method: str
    path: Callable[[Ctx], str]
    body: Callable[[Ctx], Any] | None
    perms: tuple[str, ...]  # all needed
    target: str | None = None  # "customer" | "import": a record that must be in scope
    setup: Callable[[Ctx], None] | None = None
    upload: Callable[[Ctx], tuple[str, bytes, dict[str, str]]] | None = None


def _xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "手机号"])
    ws.append(["矩阵客户", "13912345678"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _with_document(ctx: Ctx) -> None:
    ctx["document"] = services.upload_document(
        actor=ctx["users"]["admin"],
        customer=ctx["target"],
        kind="photo",
        fh=io.BytesIO(png_bytes()),
        original_name="p.png",
    )


def _with_card(ctx: Ctx) -> None:
    ctx["card"] = services.add_bank_card(
        actor=ctx["users"]["admin"], customer=ctx["target"], number=new_card()
    )


def _with_import(ctx: Ctx) -> None:
    ctx["import"] = imports.upload_import(
        actor=ctx["users"]["officer1"], fh=io.BytesIO(_xlsx()), original_name="m.xlsx"
    )


def _with_checked_import(ctx: Ctx) -> None:
    _with_import(ctx)
    imports.dry_run(
        actor=ctx["users"]["officer1"],
        imp=ctx["import"],
        mapping={"姓名": "name", "手机号": "phone"},
        skip_bad_rows=False,
    )


def _archived(ctx: Ctx) -> None:
    services.archive_customer(actor=ctx["users"]["admin"], customer=ctx["target"])


def _cid(ctx: Ctx) -> str:
    return f"customers/{ctx['target'].pk}"


CASES = [
    Case("list", "get", lambda c: "customers", None, VIEW),
    Case("meta", "get", lambda c: "customers/meta", None, ()),
    Case("create", "post", lambda c: "customers", lambda c: customer_body(), ("customers.create",)),
    Case("get", "get", _cid, None, VIEW, "customer"),
    Case("patch", "patch", _cid, lambda c: {"remark": "矩阵"}, UPDATE, "customer"),
    Case("archive", "delete", _cid, None, ("customers.view", "customers.delete"), "customer"),
    Case(
        "restore",
        "post",
        lambda c: f"{_cid(c)}/restore",
        None,
        ("customers.view", "customers.delete"),
        "customer",
        setup=_archived,
    ),
    Case(
        "reveal",
        "post",
        lambda c: f"{_cid(c)}/reveal",
        # id_number: a customer's owner may reveal the phone without view_pii (test_pii.py).
        lambda c: {"field": "id_number"},
        ("customers.view", "customers.view_pii"),
        "customer",
    ),
    Case(
        "merge",
        "post",
        lambda c: f"{_cid(c)}/merge",
        lambda c: {"duplicate_id": c["other"].pk},
        ("customers.view", "customers.merge"),
        "customer",
    ),
    Case("timeline", "get", lambda c: f"{_cid(c)}/timeline", None, VIEW, "customer"),
    Case("follow-ups", "get", lambda c: f"{_cid(c)}/follow-ups", None, VIEW, "customer"),
    Case(
        "create follow-up",
        "post",
        lambda c: f"{_cid(c)}/follow-ups",
        lambda c: {"kind": "call", "content": "电话沟通"},
        UPDATE,
        "customer",
    ),
    Case("to-do", "get", lambda c: "customers/follow-ups/todo", None, VIEW),
    Case("documents", "get", lambda c: f"{_cid(c)}/documents", None, VIEW, "customer"),
    Case(
        "upload document",
        "upload",
        lambda c: f"{_cid(c)}/documents",
        None,
        UPDATE,
        "customer",
        upload=lambda c: ("a.png", png_bytes(), {"kind": "photo"}),
    ),
    Case(
        "download document",
        "get",
        lambda c: f"{_cid(c)}/documents/{c['document'].pk}/file",
        None,
        VIEW,
        "customer",
        setup=_with_document,
    ),
    Case(
        "delete document",
        "delete",
        lambda c: f"{_cid(c)}/documents/{c['document'].pk}",
        None,
        UPDATE,
        "customer",
        setup=_with_document,
    ),
    Case(
        "add bank card",
        "post",
        lambda c: f"{_cid(c)}/bank-cards",
        lambda c: {"number": new_card(), "bank_name": "工商银行"},
        UPDATE,
        "customer",
    ),
    Case(
        "remove bank card",
        "delete",
        lambda c: f"{_cid(c)}/bank-cards/{c['card'].pk}",
        None,
        UPDATE,
        "customer",
        setup=_with_card,
    ),
    Case("tags", "get", lambda c: "customers/tags", None, VIEW),
    Case(
        "create tag",
        "post",
        lambda c: "customers/tags",
        lambda c: {"name": "矩阵标签", "color": "#123456"},
        ("customers.manage_tags",),
    ),
    Case("export", "get", lambda c: "customers/export", None, ("customers.export",)),
    Case(
        "upload import",
        "upload",
        lambda c: "customers/imports",
        None,
        ("customers.import",),
        upload=lambda c: ("客户.xlsx", _xlsx(), {}),
    ),
    Case(
        "get import",
        "get",
        lambda c: f"customers/imports/{c['import'].pk}",
        None,
        ("customers.import",),
        "import",
        setup=_with_import,
    ),
    Case(
        "dry-run import",
        "post",
        lambda c: f"customers/imports/{c['import'].pk}/dry-run",
        lambda c: {"mapping": {"姓名": "name", "手机号": "phone"}},
        ("customers.import",),
        "import",
        setup=_with_import,
    ),
    Case(
        "commit import",
        "post",
        lambda c: f"customers/imports/{c['import'].pk}/commit",
        None,
        ("customers.import", "customers.create"),
        "import",
        setup=_with_checked_import,
    ),
]


def expected(case: Case, user: User, ctx: Ctx) -> int:
    """403 without the permission(s); 404 when the record is outside the scope; else 200."""
    if not all(has_perm(user, p) for p in case.perms):
        return 403
    if case.target == "customer":
        visible = scoped(Customer.objects.filter(pk=ctx["target"].pk), user, CUSTOMER_SCOPE)
        return 200 if visible.exists() else 404
    if case.target == "import":
        imports_seen = scoped(CustomerImport.objects.all(), user, IMPORT_SCOPE)
        return 200 if imports_seen.filter(pk=ctx["import"].pk).exists() else 404
    return 200


@pytest.fixture
def demo(db: None, demo: dict[str, Any]) -> dict[str, Any]:
    # `db` named here too: pytest's list of a test's fixtures stops at this override, and
    # pytest-django creates the test database only for tests whose list names it.
    make_user(
        "nobody",
        department=demo["departments"]["北京一组"],
        password=settings.LOANDESK_DEMO_PASSWORD,
    )
    return demo


def _context(demo: dict[str, Any]) -> Ctx:
    officer1 = demo["users"]["officer1"]
    mine = Customer.objects.filter(owner=officer1, kind="individual").order_by("id")
    return {**demo, "target": mine[0], "other": mine[1]}


def _call(client: Any, case: Case, ctx: Ctx) -> Any:
    if case.upload is not None:
        name, content, fields = case.upload(ctx)
        return upload(client, case.path(ctx), name, content, **fields)
    body = case.body(ctx) if case.body else None
    return client.request(case.method, case.path(ctx), body)


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("role", ROLES)
def test_matrix(case: Case, role: str, demo: dict[str, Any], client_for: Any) -> None:
    ctx = _context(demo)
    if case.setup:
        case.setup(ctx)
    want = expected(case, User.objects.get(username=role), ctx)
    response = _call(client_for(role), case, ctx)
    if want == 200:
        assert 200 <= response.status_code < 300, (role, case.name, response.content)
    elif want == 404:
        assert response.status_code == 404, (role, case.name, response.content)
        assert response.json()["code"] == "not_found"
    else:
        assert response.status_code == 403, (role, case.name, response.content)
        assert response.json()["code"] == "permission_denied"


# What this app grants the demo roles, endpoint by endpoint (admin holds everything):
PINNED = {
    "officer1": {"list", "meta", "create", "get", "patch", "timeline", "follow-ups",
                 "create follow-up", "to-do", "documents", "upload document",
                 "download document", "delete document", "add bank card", "remove bank card",
                 "tags", "upload import", "get import", "dry-run import", "commit import"},
    "manager": {"list", "meta", "create", "get", "patch", "reveal", "timeline", "follow-ups",
                "create follow-up", "to-do", "documents", "upload document", "download document",
                "delete document", "add bank card", "remove bank card", "tags", "create tag",
                "export"},
    "risk": {"list", "meta", "get", "reveal", "timeline", "follow-ups", "to-do", "documents",
             "download document", "tags"},
    "gm": {"list", "meta", "get", "timeline", "follow-ups", "to-do", "documents",
           "download document", "tags", "export"},
}  # fmt: skip


@pytest.mark.parametrize("role", sorted(PINNED))
def test_demo_role_expectations(role: str, demo: dict[str, Any]) -> None:
    """The demo grants of this app (permissions.DEMO_ROLE_GRANTS) open at least these."""
    user = User.objects.get(username=role)
    target = _context(demo)["target"]
    visible = scoped(Customer.objects.filter(pk=target.pk), user, CUSTOMER_SCOPE).exists()
    allowed = {
        case.name
        for case in CASES
        if all(has_perm(user, p) for p in case.perms) and (case.target != "customer" or visible)
    }
    assert PINNED[role] <= allowed, sorted(PINNED[role] - allowed)


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_anonymous_is_401(case: Case, demo: dict[str, Any], anon: Any) -> None:
    ctx = _context(demo)
    if case.setup:
        case.setup(ctx)
    response = _call(anon, case, ctx)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.not_authenticated"


def test_every_route_is_in_the_matrix() -> None:
    from loandesk.customers.api import customers_router

    routes = {
        (method.lower(), path)
        for path, view in customers_router.path_operations.items()
        for op in view.operations
        for method in op.methods
    }
    assert len(routes) == len(CASES), sorted(routes)


def test_openapi_documents_every_customers_route(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = {p for p in response.json()["paths"] if p.startswith("/api/v1/customers")}
    assert len(paths) == 20
