"""Who may call which form endpoint (every demo role), object-level scope, field permissions."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from loandesk.accounts.models import User
from loandesk.forms import services
from loandesk.forms.models import PublicLink, Record
from tests.factories import ApiClient
from tests.forms.conftest import loan_data

# The role × endpoint decisions are made in Python: the SQLite pass runs the matrix; on
# PostgreSQL the sweep calls every endpoint in and out of scope (tests/conftest.py).
ENGINE_INDEPENDENT = pytest.mark.decided_in_python

ROLES = ["admin", "gm", "manager", "risk", "finance", "officer1", "officer2", "collector"]
EVERYONE = set(ROLES)
FORM_USERS = EVERYONE - {"collector"}
VIEWERS = {"admin", "gm", "manager", "risk", "finance", "officer1", "officer2"}
SUBMITTERS = {"admin", "manager", "risk", "officer1", "officer2"}
LINK_MANAGERS = {"admin", "manager", "officer1", "officer2"}
EXPORTERS = {"admin", "gm", "manager", "risk"}
PII_VIEWERS = {"admin", "gm", "manager", "risk"}
ADMIN = {"admin"}


@dataclass
class Case:
    name: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], Any] | None
    allowed: set[str]
    # roles with the permission but outside the data scope of officer1's record or link: 404
    not_found: set[str] = field(default_factory=set)


def _record(d: dict[str, Any]) -> str:
    return f"forms/loan_application/records/{d['record'].pk}"


def _link(d: dict[str, Any]) -> str:
    return f"forms/links/{d['link'].pk}"


CASES = [
    Case("field types", "get", lambda d: "forms/field-types", None, EVERYONE),
    Case("functions", "get", lambda d: "forms/functions", None, EVERYONE),
    Case(
        "formula check", "post", lambda d: "forms/formula/check", lambda d: {"text": "1+1"}, ADMIN
    ),
    Case("list forms", "get", lambda d: "forms", None, FORM_USERS),
    Case(
        "create form",
        "post",
        lambda d: "forms",
        lambda d: {"code": "matrix_form", "name": "矩阵"},
        ADMIN,
    ),
    Case("get form", "get", lambda d: "forms/loan_application", None, FORM_USERS),
    Case(
        "patch form", "patch", lambda d: "forms/loan_application", lambda d: {"name": "新"}, ADMIN
    ),
    Case(
        "save draft",
        "put",
        lambda d: "forms/customer_profile/draft",
        lambda d: {"schema": {"fields": [{"key": "a", "type": "text", "label": "A"}]}},
        ADMIN,
    ),
    Case(
        "validate draft",
        "post",
        lambda d: "forms/loan_application/draft/validate",
        lambda d: {"schema": {"fields": [{"key": "a", "type": "text", "label": "A"}]}},
        ADMIN,
    ),
    Case("publish", "post", lambda d: "forms/customer_profile/publish", None, ADMIN),
    Case("versions", "get", lambda d: "forms/loan_application/versions", None, ADMIN),
    Case("version", "get", lambda d: "forms/loan_application/versions/1", None, ADMIN),
    Case(
        "evaluate",
        "post",
        lambda d: "forms/loan_application/evaluate",
        lambda d: {"data": {"amount": "1000"}},
        VIEWERS,
    ),
    Case("list records", "get", lambda d: "forms/loan_application/records", None, VIEWERS),
    Case(
        "create record",
        "post",
        lambda d: "forms/customer_profile/records",
        lambda d: {"data": {"housing": "own", "work_years": 3}},
        SUBMITTERS,
    ),
    Case(
        "get record",
        "get",
        _record,
        None,
        {"admin", "gm", "manager", "risk", "finance", "officer1"},
        {"officer2"},
    ),
    Case(
        "patch record",
        "patch",
        _record,
        lambda d: {"data": {"remark": "改"}},
        {"admin", "manager", "risk", "officer1"},
        {"officer2"},
    ),
    Case(
        "history",
        "get",
        lambda d: _record(d) + "/history",
        None,
        {"admin", "gm", "manager", "risk", "finance", "officer1"},
        {"officer2"},
    ),
    Case(
        "reveal",
        "post",
        lambda d: _record(d) + "/reveal",
        lambda d: {"field": "applicant_phone"},
        PII_VIEWERS,
    ),
    Case("export", "get", lambda d: "forms/loan_application/records/export", None, EXPORTERS),
    Case("list links", "get", lambda d: "forms/loan_application/links", None, LINK_MANAGERS),
    Case(
        "create link",
        "post",
        lambda d: "forms/loan_application/links",
        lambda d: {"max_submissions": 10},
        LINK_MANAGERS,
    ),
    Case(
        "link qr",
        "get",
        lambda d: _link(d) + "/qr.png",
        None,
        {"admin", "manager", "officer1"},
        {"officer2"},
    ),
    Case(
        "deactivate link",
        "post",
        lambda d: _link(d) + "/deactivate",
        None,
        {"admin", "manager", "officer1"},
        {"officer2"},
    ),
]


@pytest.fixture
def world(demo: dict[str, Any]) -> dict[str, Any]:
    officer1 = demo["users"]["officer1"]
    record = services.create_record(actor=officer1, form_code="loan_application", data=loan_data())
    link = PublicLink.objects.get(created_by=officer1)
    schema = {"fields": [{"key": "housing", "type": "text", "label": "住房"}]}
    services.save_draft(actor=demo["users"]["admin"], code="customer_profile", schema=schema)
    return {**demo, "record": record, "link": link}


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("role", ROLES)
def test_matrix(case: Case, role: str, world: dict[str, Any], client_for: Any) -> None:
    client = client_for(role)
    body = case.body(world) if case.body else None
    response = client.request(case.method, case.path(world), body)
    if role in case.allowed:
        assert 200 <= response.status_code < 300, (role, case.name, response.content)
    elif role in case.not_found:
        assert response.status_code == 404, (role, case.name, response.content)
        assert response.json()["code"] == "not_found"
    else:
        assert response.status_code == 403, (role, case.name, response.content)
        assert response.json()["code"] == "permission_denied"


@ENGINE_INDEPENDENT
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_anonymous_is_401(case: Case, world: dict[str, Any], anon: ApiClient) -> None:
    body = case.body(world) if case.body else None
    response = anon.request(case.method, case.path(world), body)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.not_authenticated"


def test_records_are_scoped(demo: Any, client_for: Any) -> None:
    users: dict[str, User] = demo["users"]
    own = services.create_record(
        actor=users["officer1"], form_code="loan_application", data=loan_data()
    )
    other = services.create_record(
        actor=users["officer2"], form_code="loan_application", data=loan_data(applicant_name="陈")
    )
    officer1 = client_for("officer1")
    ids = [r["id"] for r in officer1.get("forms/loan_application/records").json()["items"]]
    assert ids == [own.pk]
    assert officer1.get(f"forms/loan_application/records/{other.pk}").status_code == 404
    patched = officer1.patch(
        f"forms/loan_application/records/{other.pk}", {"data": {"remark": "x"}}
    )
    assert patched.status_code == 404
    assert Record.objects.get(pk=other.pk).data.get("remark") is None
    manager = client_for("manager")  # Beijing branch and below: officer1 but not officer2
    assert [r["id"] for r in manager.get("forms/loan_application/records").json()["items"]] == [
        own.pk
    ]
    assert manager.get(f"forms/loan_application/records/{other.pk}").status_code == 404
    assert client_for("gm").get("forms/loan_application/records").json()["count"] == 2
    # a record of another form is not found under this form's path either
    assert officer1.get(f"forms/customer_profile/records/{own.pk}").status_code == 404


def test_field_permissions_per_role(demo: Any, client_for: Any) -> None:
    officer, risk, finance = client_for("officer1"), client_for("risk"), client_for("finance")
    created = officer.post(
        "forms/loan_application/records", {"data": loan_data(risk_opinion="我说没问题")}
    )
    assert created.status_code == 201
    rid = created.json()["id"]
    assert "risk_opinion" not in created.json()["data"]  # read-only for officers: ignored
    assert created.json()["modes"]["risk_opinion"] == "readonly"
    path = f"forms/loan_application/records/{rid}"
    by_risk = risk.patch(path, {"data": {"risk_opinion": "收入偏低,建议降额"}})
    assert by_risk.status_code == 200, by_risk.content
    assert by_risk.json()["data"]["risk_opinion"] == "收入偏低,建议降额"
    # the officer sees it but cannot change it; the value stays
    mine = officer.patch(path, {"data": {"risk_opinion": "改掉", "remark": "补充说明"}})
    assert mine.json()["data"]["risk_opinion"] == "收入偏低,建议降额"
    assert mine.json()["data"]["remark"] == "补充说明"
    # finance has no entry for the field: "*" hides it, from records and from the schema
    seen = finance.get(path).json()
    assert "risk_opinion" not in seen["data"] and seen["modes"]["risk_opinion"] == "hidden"
    schema_keys = [
        f["key"] for f in finance.get("forms/loan_application").json()["schema"]["fields"]
    ]
    assert "risk_opinion" not in schema_keys
    officer_schema = officer.get("forms/loan_application").json()["schema"]["fields"]
    opinion = next(f for f in officer_schema if f["key"] == "risk_opinion")
    assert opinion["readonly"] is True and "permissions" not in opinion
    history = finance.get(path + "/history").json()
    assert all("risk_opinion" not in entry["changes"] for entry in history)
    # the admin (superuser) may edit everything
    admin = client_for("admin").patch(path, {"data": {"risk_opinion": "同意"}})
    assert admin.json()["data"]["risk_opinion"] == "同意"
