"""The collections API: data scope (a collector sees only own cases), permissions, the
workbench order, the audited phone reveal, the manager's views, teams, and bad input."""

from datetime import timedelta
from typing import Any

import pytest

from loandesk.core.models import AuditEntry
from loandesk.customers.models import TimelineEvent
from loandesk.lending.models import Loan
from loandesk.postloan import collections
from loandesk.postloan.models import (
    CollectionAction,
    CollectionCase,
    CollectionTeam,
    PromiseToPay,
)
from tests.factories import ApiClient
from tests.postloan.collections_fixtures import OVERDUE_ON, collector, overdue_loans, team

pytestmark = pytest.mark.django_db
API = "/api/v1/postloan/collections"
TODAY = OVERDUE_ON + timedelta(days=1)


@pytest.fixture
def world(lending: dict[str, Any], client_for: Any) -> dict[str, Any]:
    """Two 北京 loans (officer1's customer) and one 上海 loan (officer2's); the first 北京 case
    is the demo collector's, the second another collector's, the 上海 one the demo collector's."""
    CollectionTeam.objects.all().delete()
    bj1, bj2, sh = overdue_loans(lending, customers=["c1", "c1", "c2"])
    zhou = lending["users"]["collector"]
    other = collector("collector2")
    mine, _ = collections.open_case(loan=bj1, team=team("A", [zhou]))
    theirs, _ = collections.open_case(loan=bj2, team=team("B", [other], order=20))
    shanghai, _ = collections.open_case(loan=sh, team=CollectionTeam.objects.get(name="A"))
    return {
        **lending,
        "zhou": zhou,
        "other": other,
        "mine": mine,
        "theirs": theirs,
        "shanghai": shanghai,
        "loans": [bj1, bj2, sh],
        "collector": client_for("collector"),
        "manager": client_for("manager"),
    }


def test_a_collector_sees_only_own_cases_and_others_are_404(world: dict[str, Any]) -> None:
    api: ApiClient = world["collector"]
    res = api.get(f"{API}/cases")
    assert res.status_code == 200
    ids = {c["id"] for c in res.json()["items"]}
    assert ids == {world["mine"].pk, world["shanghai"].pk}
    theirs = world["theirs"].pk
    assert api.get(f"{API}/cases/{theirs}").status_code == 404
    assert (
        api.post(f"{API}/cases/{theirs}/actions", {"kind": "call", "result": "other"}).status_code
        == 404
    )
    assert (
        api.post(f"{API}/cases/{theirs}/promises", {"date": str(TODAY), "amount": "1"}).status_code
        == 404
    )
    assert api.post(f"{API}/cases/{theirs}/reveal-phone", {}).status_code == 404
    assert api.get(f"{API}/cases/999999").status_code == 404
    assert not CollectionAction.objects.filter(case_id=theirs).exclude(event="opened").exists()


def test_a_manager_sees_the_departments_cases(world: dict[str, Any]) -> None:
    api = world["manager"]
    ids = {c["id"] for c in api.get(f"{API}/cases").json()["items"]}
    # 李经理 heads 北京分公司 (department_tree): both 北京 cases, not the 上海 one.
    assert ids == {world["mine"].pk, world["theirs"].pk}
    assert api.get(f"{API}/cases/{world['shanghai'].pk}").status_code == 404
    gm_ids = {c["id"] for c in client_as(world, "gm").get(f"{API}/cases").json()["items"]}
    assert gm_ids == {world["mine"].pk, world["theirs"].pk, world["shanghai"].pk}


def client_as(world: dict[str, Any], username: str) -> ApiClient:
    from django.conf import settings

    client = ApiClient()
    client.login_as(username, settings.LOANDESK_DEMO_PASSWORD)
    return client


def test_permissions(world: dict[str, Any], anon: ApiClient) -> None:
    assert anon.get(f"{API}/cases").status_code == 401
    officer = client_as(world, "officer1")
    assert officer.get(f"{API}/cases").status_code == 403
    assert officer.get(f"{API}/summary").status_code == 403
    api = world["collector"]
    case = world["mine"].pk
    manager_only: list[tuple[str, str, Any]] = [
        ("get", f"{API}/summary", None),
        ("get", f"{API}/collectors", None),
        ("post", f"{API}/teams", {"name": "X"}),
        ("put", f"{API}/teams/{world['mine'].team_id}", {"name": "X"}),
        ("post", f"{API}/cases", {"loan_id": world["loans"][0].pk}),
        ("post", f"{API}/cases/{case}/reassign", {"collector_id": world["other"].pk}),
        ("post", f"{API}/cases/{case}/escalate", {}),
        ("post", f"{API}/cases/{case}/close", {"note": "x"}),
    ]
    for method, path, body in manager_only:
        res = api.get(path) if method == "get" else getattr(api, method)(path, body)
        assert res.status_code == 403, path
        assert res.json()["message"] == "没有权限执行此操作"
    assert api.get(f"{API}/teams").status_code == 200


def test_the_workbench_puts_a_due_promise_first(world: dict[str, Any]) -> None:
    api = world["collector"]
    shanghai = world["shanghai"]
    CollectionCase.objects.filter(pk=world["mine"].pk).update(priority=9_999)
    order = [c["id"] for c in api.get(f"{API}/cases", {"view": "today"}).json()["items"]]
    assert order == [world["mine"].pk, shanghai.pk]
    res = api.post(f"{API}/cases/{shanghai.pk}/promises", {"date": str(TODAY), "amount": "100.50"})
    assert res.status_code == 201, res.json()
    assert res.json()["amount"] == "100.50" and res.json()["status"] == "pending"
    items = api.get(f"{API}/cases", {"view": "today"}).json()["items"]
    assert [c["id"] for c in items] == [shanghai.pk, world["mine"].pk]
    first = items[0]
    assert first["promise_due"] is True and first["status"] == "promised"
    assert first["customer"]["phone"].count("*") == 4  # masked
    assert first["contract_no"] == world["loans"][2].contract_no
    assert first["bucket"] == "M1" and first["dpd"] == 4
    assert float(first["owed_today"]) >= float(first["overdue"]) > 0


def test_case_detail_log_and_promise(world: dict[str, Any]) -> None:
    api = world["collector"]
    case = world["mine"]
    res = api.post(
        f"{API}/cases/{case.pk}/actions",
        {"kind": "call", "result": "promised", "note": "客户说周五还"},
    )
    assert res.status_code == 201, res.json()
    assert res.json()["by"]["username"] == "collector"
    res = api.post(
        f"{API}/cases/{case.pk}/promises", {"date": str(TODAY + timedelta(days=4)), "amount": "800"}
    )
    assert res.status_code == 201
    detail = api.get(f"{API}/cases/{case.pk}").json()
    assert detail["status"] == "promised" and detail["can_work"] and not detail["can_manage"]
    assert detail["loan"]["contract_no"] == world["loans"][0].contract_no
    assert detail["owed"]["on"] == str(TODAY) and detail["owed"]["installments"]
    assert [a["event"] or a["result"] for a in detail["actions"]] == [
        "promise_made",
        "promised",
        "opened",
    ]
    assert detail["actions"][0]["text"] == f"承诺 {TODAY + timedelta(days=4)} 前还款 800.00 元"
    assert detail["promises"][0]["amount"] == "800.00"
    en = client_as(world, "collector")
    en.language = "en-US"
    text = en.get(f"{API}/cases/{case.pk}").json()["actions"][0]["text"]
    assert text == f"Promised to pay 800.00 yuan by {TODAY + timedelta(days=4)}"


def test_bad_input_is_4xx_in_the_users_language_and_writes_nothing(world: dict[str, Any]) -> None:
    api = world["collector"]
    case = world["mine"].pk
    before = (CollectionAction.objects.count(), PromiseToPay.objects.count())
    bad_actions: list[Any] = [
        {},
        {"kind": "call"},
        {"kind": "fax", "result": "other"},
        {"kind": "call", "result": "maybe"},
        {"kind": "call", "result": "other", "note": "x" * 1001},
        {"kind": "call", "result": "other", "next_action_at": "2020-01-01T00:00:00Z"},
        {"kind": "call", "result": "other", "next_action_at": "tomorrow"},
        {"kind": 1, "result": ["other"]},
    ]
    for body in bad_actions:
        res = api.post(f"{API}/cases/{case}/actions", body)
        assert res.status_code == 422, (body, res.json())
        assert res.json()["code"] == "validation_error" and res.json()["message"]
    bad_promises: list[Any] = [
        {},
        {"date": str(TODAY)},
        {"date": str(TODAY), "amount": "-1"},
        {"date": str(TODAY), "amount": "0"},
        {"date": str(TODAY), "amount": "1.001"},
        {"date": str(TODAY), "amount": "1" + "0" * 30},
        {"date": str(TODAY), "amount": "abc"},
        {"date": str(TODAY), "amount": "9999999"},
        {"date": "2026-13-01", "amount": "1"},
        {"date": str(TODAY - timedelta(days=1)), "amount": "1"},
        {"date": str(TODAY + timedelta(days=400)), "amount": "1"},
    ]
    for body in bad_promises:
        res = api.post(f"{API}/cases/{case}/promises", body)
        assert res.status_code == 422, (body, res.json())
    res = api.post(
        f"{API}/cases/{case}/promises", {"date": str(TODAY - timedelta(days=1)), "amount": "1"}
    )
    assert "营业日" in res.json()["details"]["fields"]["date"]
    assert (
        api.post(f"{API}/cases/abc/actions", {"kind": "call", "result": "other"}).status_code == 422
    )
    assert (CollectionAction.objects.count(), PromiseToPay.objects.count()) == before
    en = client_as(world, "collector")
    en.language = "en-US"
    res = en.post(f"{API}/cases/{case}/promises", {"date": str(TODAY), "amount": "9999999"})
    assert res.status_code == 422
    assert "outstanding" in res.json()["details"]["fields"]["amount"]


def test_reveal_phone_is_audited_like_the_customers_reveal(world: dict[str, Any]) -> None:
    api = world["collector"]
    case = world["mine"]
    res = api.post(f"{API}/cases/{case.pk}/reveal-phone", {})
    assert res.status_code == 200
    assert res.json() == {"field": "phone", "value": case.customer.phone}
    entry = AuditEntry.objects.get(action="pii.reveal")
    assert entry.actor == world["zhou"] and entry.extra["collection_case_id"] == case.pk
    assert TimelineEvent.objects.filter(customer=case.customer, kind="reveal").count() == 1


def test_manager_summary_reassign_escalate_close(world: dict[str, Any]) -> None:
    api = world["manager"]
    summary = api.get(f"{API}/summary").json()
    assert summary["cases"] == 2
    assert [(r["key"], r["cases"]) for r in summary["by_bucket"]] == [("M1", 2)]
    assert {r["label"] for r in summary["by_collector"]} == {"周催收", "collector2"}
    mine = world["mine"].pk
    res = api.post(f"{API}/cases/{mine}/reassign", {"collector_id": world["other"].pk})
    assert res.status_code == 200, res.json()
    assert res.json()["collector"]["id"] == world["other"].pk
    assert res.json()["actions"][0]["event"] == "reassigned"
    # Same collector again / a user who cannot collect / unknown user: 422.
    for body in (
        {"collector_id": world["other"].pk},
        {"collector_id": world["users"]["officer1"].pk},
        {"collector_id": 10**9},
    ):
        assert api.post(f"{API}/cases/{mine}/reassign", body).status_code == 422, body
    assert world["collector"].get(f"{API}/cases/{mine}").status_code == 404  # not theirs now
    res = api.post(f"{API}/cases/{mine}/escalate", {})
    assert res.status_code == 200 and res.json()["team"]["name"] == "B"
    assert api.post(f"{API}/cases/{mine}/escalate", {}).status_code == 409
    assert api.post(f"{API}/cases/{mine}/close", {"note": ""}).status_code == 422
    res = api.post(f"{API}/cases/{mine}/close", {"note": "线下结清"})
    assert res.status_code == 200 and res.json()["status"] == "closed"
    assert res.json()["close_reason"] == "manual"
    assert api.post(f"{API}/cases/{mine}/close", {"note": "again"}).status_code == 409
    closed = api.get(f"{API}/cases", {"status": "closed"}).json()["items"]
    assert [c["id"] for c in closed] == [mine]


def test_manager_opens_a_case_once(world: dict[str, Any]) -> None:
    api = world["manager"]
    loan = world["loans"][0]
    CollectionCase.objects.filter(loan=loan).update(status="closed", close_reason="manual")
    res = api.post(f"{API}/cases", {"loan_id": loan.pk, "assign_to": "owner"})
    assert res.status_code == 201, res.json()
    assert res.json()["collector"]["username"] == "officer1"
    again = api.post(f"{API}/cases", {"loan_id": loan.pk})
    assert again.status_code == 200 and again.json()["id"] == res.json()["id"]
    assert api.post(f"{API}/cases", {"loan_id": world["loans"][2].pk}).status_code == 404  # 上海
    assert api.post(f"{API}/cases", {"loan_id": 10**9}).status_code == 404
    assert api.post(f"{API}/cases", {"loan_id": "x"}).status_code == 422
    assert api.post(f"{API}/cases", {"loan_id": loan.pk, "assign_to": "boss"}).status_code == 422
    assert api.post(f"{API}/cases", {"loan_id": loan.pk, "team_id": 10**9}).status_code == 422
    Loan.objects.filter(pk=world["loans"][1].pk).update(status="closed")
    CollectionCase.objects.filter(loan=world["loans"][1]).update(status="closed")
    res = api.post(f"{API}/cases", {"loan_id": world["loans"][1].pk})
    assert res.status_code == 409 and res.json()["code"] == "postloan.collections.loan_not_live"


def test_teams_admin(world: dict[str, Any]) -> None:
    api = world["manager"]
    zhou, other = world["zhou"], world["other"]
    body = {
        "name": "委外一组",
        "kind": "outsourced",
        "strategy": "round_robin",
        "buckets": ["M3", "M2", "M2"],
        "member_ids": [zhou.pk, other.pk],
        "escalation_order": 40,
    }
    res = api.post(f"{API}/teams", body)
    assert res.status_code == 201, res.json()
    created = res.json()
    assert created["buckets"] == ["M2", "M3"] and len(created["members"]) == 2
    assert api.post(f"{API}/teams", body).status_code == 422  # name taken
    bad: list[dict[str, Any]] = [
        {**body, "name": "a", "buckets": ["M9"]},
        {**body, "name": "b", "member_ids": [10**9]},
        {**body, "name": "c", "member_ids": [world["users"]["officer1"].pk]},
        {**body, "name": "d", "strategy": "fixed"},
        {**body, "name": "e", "kind": "robots"},
        {**body, "name": "", "escalation_order": -1},
        {**body, "name": "f", "escalation_order": "first"},
        {**body, "name": "g" * 61},
    ]
    for b in bad:
        assert api.post(f"{API}/teams", b).status_code == 422, b
    res = api.put(
        f"{API}/teams/{created['id']}",
        {**body, "strategy": "fixed", "fixed_user_id": zhou.pk, "active": False},
    )
    assert res.status_code == 200 and res.json()["fixed_user"]["id"] == zhou.pk
    assert res.json()["active"] is False
    assert api.put(f"{API}/teams/999999", body).status_code == 404
    names = [t["name"] for t in api.get(f"{API}/teams").json()]
    assert "委外一组" in names
    collectors = {u["username"] for u in api.get(f"{API}/collectors").json()}
    assert {"collector", "collector2", "manager"} <= collectors and "officer1" not in collectors
    assert AuditEntry.objects.filter(target_type="postloan.collectionteam").count() == 2


def test_customer_360_panel(world: dict[str, Any], client_for: Any) -> None:
    officer = client_for("officer1")
    customer = world["mine"].customer_id
    res = officer.get(f"{API}/customers/{customer}")
    assert res.status_code == 200
    assert {c["id"] for c in res.json()["cases"]} == {world["mine"].pk, world["theirs"].pk}
    assert {a["event"] for a in res.json()["actions"]} == {"opened"}
    assert client_for("officer2").get(f"{API}/customers/{customer}").status_code == 404
