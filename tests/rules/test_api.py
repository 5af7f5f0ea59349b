"""The rules API: designing, the catalogue, test-against-record, the firing log, bad input and
permissions."""

from typing import Any

import pytest
from django.conf import settings

from loandesk.customers.models import Customer
from loandesk.rules.models import Rule, RuleFiring
from tests.factories import PASSWORD, ApiClient, make_role, make_user
from tests.rules.conftest import deliver, publish

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "逾期首日改信用等级",
    "record_type": "loan",
    "trigger_type": "event",
    "trigger": {"kind": "event", "topic": "loan.became_overdue"},
    "condition": {">": [{"var": "principal"}, 1000]},
    "actions": [
        {
            "action": "update_fields",
            "params": {"target": "customer", "fields": {"credit_level": "watch"}},
        }
    ],
}


@pytest.fixture
def admin(ctx: dict[str, Any], client_for: Any) -> ApiClient:
    return client_for("admin")  # type: ignore[no-any-return]


def test_crud_and_catalogue(admin: ApiClient, ctx: dict[str, Any]) -> None:
    r = admin.post("rules", GOOD)
    assert r.status_code == 201, r.content
    rule = r.json()
    assert rule["enabled"] is False and rule["unknown_actions"] == []
    assert rule["run_as"]["id"] == ctx["admin"].pk
    r = admin.put(f"rules/{rule['id']}", {**GOOD, "name": "改名"})
    assert r.status_code == 200 and r.json()["name"] == "改名"
    r = admin.post(f"rules/{rule['id']}/enabled", {"enabled": True})
    assert r.json()["enabled"] is True and r.json()["watermark"]
    listed = admin.get("rules").json()
    assert [x["name"] for x in listed] == ["改名"]
    assert listed[0]["counts"] == {"done": 0, "failed": 0} and listed[0]["last_firing"] is None

    actions = {a["name"]: a for a in admin.get("rules/actions").json()}
    assert {"update_fields", "create_record", "assign", "start_flow"} <= set(actions)
    assert actions["assign"]["params"][0]["type"] == "user"
    types = {t["key"]: t for t in admin.get("rules/record-types").json()}
    assert {"customer", "application", "loan", "installment"} <= set(types)
    assert "loan.became_overdue" in {t["topic"] for t in types["loan"]["topics"]}
    assert types["application"]["needs_form"] and types["application"]["forms"]
    fields = {f["key"]: f for f in admin.get("rules/fields", {"record_type": "customer"}).json()}
    assert fields["credit_level"]["settable"] and fields["credit_level"]["type"] == "select"
    assert ("watch", "关注") in {
        (o["value"], o["label"]) for o in fields["credit_level"]["options"]
    }
    inst = {f["key"]: f for f in admin.get("rules/fields", {"record_type": "installment"}).json()}
    assert inst["due_date"]["date_trigger"] is True
    app_fields = admin.get(
        "rules/fields", {"record_type": "application", "form": "loan_application"}
    ).json()
    assert app_fields and all(f["type"] != "id_number" for f in app_fields)

    assert admin.delete(f"rules/{rule['id']}").status_code == 204
    assert admin.get(f"rules/{rule['id']}").status_code == 404


def test_unknown_action_still_saves(admin: ApiClient) -> None:
    body = {**GOOD, "actions": [{"action": "future_action", "params": {"x": 1}}]}
    r = admin.post("rules", body)
    assert r.status_code == 201
    assert r.json()["unknown_actions"] == ["future_action"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"record_type": "spaceships"}, "record_type"),
        ({"trigger_type": "sometimes"}, "trigger_type"),
        ({"trigger": {"kind": "field_changed", "field": "ghost"}}, "trigger"),
        ({"trigger_type": "cron", "trigger": {"cron": "61 * * * *"}}, "trigger"),
        ({"trigger_type": "cron", "trigger": {"cron": "0 0 30 2 *"}}, "trigger"),
        (
            {"trigger_type": "date", "trigger": {"field": "status", "days": 1, "at": "09:00"}},
            "trigger",
        ),
        ({"condition": {"==": [{"var": "ghost"}, 1]}}, "condition"),
        ({"condition": {"eval": ["rm -rf"]}}, "condition"),
        ({"condition": {"==": [1]}}, "condition"),
        ({"actions": []}, "actions"),
        (
            {"actions": [{"action": "update_fields", "params": {"fields": {"name": "x"}}}]},
            "actions.0.fields",
        ),
        (
            {
                "actions": [
                    {
                        "action": "update_fields",
                        "params": {"target": "customer", "fields": {"name": "x"}},
                    }
                ]
            },
            "actions.0.fields",
        ),
        ({"actions": [{"action": "update_fields", "params": {"bogus": 1}}]}, "actions.0"),
        ({"actions": [{"action": "assign", "params": {"user": 999999}}]}, "actions.0"),
        (
            {
                "record_type": "customer",
                "trigger": {"kind": "created"},
                "condition": None,
                "actions": [{"action": "assign", "params": {"user": 999999}}],
            },
            "actions.0.user",
        ),
        ({"actions": [{"action": "start_flow", "params": {}}]}, "actions.0"),
        ({"record_type": "application", "form_code": "no_such_form"}, "form_code"),
    ],
)
def test_bad_rules_are_422_and_write_nothing(
    admin: ApiClient, change: dict[str, Any], field: str
) -> None:
    r = admin.post("rules", {**GOOD, **change})
    assert r.status_code == 422, r.content
    assert field in r.json()["details"]["fields"], r.json()
    assert not Rule.objects.exists()


def test_wrong_shapes_and_languages(admin: ApiClient, ctx: dict[str, Any]) -> None:
    assert admin.post("rules", "{not json").status_code == 400
    assert admin.post("rules", {**GOOD, "actions": "update_fields"}).status_code == 422
    assert admin.post("rules", {**GOOD, "name": "x" * 101}).status_code == 422
    assert admin.post("rules", {**GOOD, "trigger": "cron"}).status_code == 422
    huge = {"and": [{"==": [{"var": "status"}, "x" * 100]}] * 400}
    assert admin.post("rules", {**GOOD, "condition": huge}).status_code == 422
    en = ApiClient(language="en-US")
    en.login_as("admin", settings.LOANDESK_DEMO_PASSWORD)
    r = en.post("rules", {**GOOD, "trigger_type": "cron", "trigger": {"cron": "* * *"}})
    assert "Invalid cron expression" in r.json()["details"]["fields"]["trigger"]
    r = admin.post("rules", {**GOOD, "trigger_type": "cron", "trigger": {"cron": "* * *"}})
    assert "Cron 表达式无效" in r.json()["details"]["fields"]["trigger"]
    assert admin.get("rules/fields", {"record_type": "nope"}).status_code == 422
    assert admin.get("rules/99999").status_code == 404
    assert admin.put("rules/99999", GOOD).status_code == 404


def test_permissions(ctx: dict[str, Any], client_for: Any, anon: ApiClient) -> None:
    officer = client_for("officer1")
    for call in (
        lambda c: c.get("rules"),
        lambda c: c.post("rules", GOOD),
        lambda c: c.get("rules/actions"),
        lambda c: c.get("rules/firings"),
        lambda c: c.post("rules/test", {"rule": GOOD, "record_id": ctx["loan"].pk}),
    ):
        assert call(officer).status_code == 403
        assert call(anon).status_code == 401


def test_test_against_record_writes_nothing(admin: ApiClient, ctx: dict[str, Any]) -> None:
    loan = ctx["loan"]
    before = Customer.objects.get(pk=loan.customer_id).credit_level
    r = admin.post("rules/test", {"rule": GOOD, "record_id": loan.pk})
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["record"]["id"] == loan.pk and loan.contract_no in out["record"]["label"]
    assert out["values"]["principal"] == "100000.00"
    assert out["condition"] == {"result": True, "error": ""}
    assert out["actions"][0]["ok"] is True
    assert out["actions"][0]["result"]["would_set"] == {"credit_level": [before, "watch"]}
    assert out["would_fire"] is True
    assert Customer.objects.get(pk=loan.customer_id).credit_level == before
    assert not RuleFiring.objects.exists() and not Rule.objects.exists()

    falsy = {**GOOD, "condition": {">": [{"var": "principal"}, 10**9]}}
    out = admin.post("rules/test", {"rule": falsy, "record_id": loan.pk}).json()
    assert out["condition"]["result"] is False and out["would_fire"] is False

    missing = {**GOOD, "actions": [{"action": "future_action", "params": {}}]}
    out = admin.post("rules/test", {"rule": missing, "record_id": loan.pk}).json()
    assert out["actions"][0]["ok"] is False and "future_action" in out["error"]

    date_rule = {
        **GOOD,
        "record_type": "installment",
        "trigger_type": "date",
        "trigger": {"field": "due_date", "days": -3, "at": "09:00"},
        "condition": None,
        "actions": [{"action": "update_fields",
                     "params": {"target": "customer", "fields": {"remark": "x"}}}],
    }  # fmt: skip
    first = loan.installments.get(seq=1)
    out = admin.post("rules/test", {"rule": date_rule, "record_id": first.pk}).json()
    assert out["trigger"]["occurrence"].startswith("2026-02-07T09:00")

    cron = {**GOOD, "trigger_type": "cron", "trigger": {"cron": "0 9 * * 1"}}
    out = admin.post("rules/test", {"rule": cron, "record_id": loan.pk}).json()
    assert len(out["trigger"]["next"]) == 3

    assert admin.post("rules/test", {"rule": GOOD, "record_id": 10**9}).status_code == 404
    assert admin.post("rules/test", {"rule": GOOD}).status_code == 422
    assert admin.post("rules/test", {"rule": GOOD, "record_id": "abc"}).status_code == 422


def test_test_against_record_respects_data_scope(ctx: dict[str, Any], lending: Any) -> None:
    """A designer whose data scope is their own records cannot test against others' records."""
    role = make_role(data_scope="self", permissions=["rules.design"])
    designer = make_user(roles=[role])
    client = ApiClient()
    client.login_as(designer.username, PASSWORD)
    loan = ctx["loan"]  # owned by officer1
    assert client.post("rules/test", {"rule": GOOD, "record_id": loan.pk}).status_code == 404
    assert client.get("rules/records", {"record_type": "loan"}).json() == []
    admin = ApiClient()
    admin.login_as("admin", settings.LOANDESK_DEMO_PASSWORD)
    found = admin.get("rules/records", {"record_type": "loan", "q": loan.contract_no}).json()
    assert [x["id"] for x in found] == [loan.pk]


def test_firing_log_and_retry(admin: ApiClient, ctx: dict[str, Any]) -> None:
    body = {**GOOD, "enabled": True, "condition": None,
            "actions": [*GOOD["actions"], {"action": "future_action", "params": {}}]}  # fmt: skip
    rule = admin.post("rules", body).json()
    loan = ctx["loan"]
    publish("loan.became_overdue", {"loan_id": loan.pk}, "lending.loan", loan.pk)
    deliver()
    page = admin.get("rules/firings", {"status": "failed"}).json()
    assert page["count"] == 1
    f = page["items"][0]
    assert f["rule_id"] == rule["id"] and f["record_label"].startswith(loan.contract_no)
    assert "future_action" in f["error"]
    assert admin.get("rules/firings", {"status": "done"}).json()["count"] == 0
    assert admin.get("rules/firings", {"rule": rule["id"]}).json()["count"] == 1
    assert admin.get("rules/firings", {"record_type": "customer"}).json()["count"] == 0
    assert admin.get("rules/firings", {"status": "weird"}).status_code == 422
    listed = admin.get("rules").json()[0]
    assert listed["counts"] == {"done": 0, "failed": 1}
    assert listed["last_firing"]["status"] == "failed"
    r = admin.post(f"rules/firings/{f['id']}/retry")
    assert r.status_code == 200 and r.json()["status"] == "failed" and r.json()["attempts"] == 2
    assert admin.post("rules/firings/999999/retry").status_code == 404
    RuleFiring.objects.filter(pk=f["id"]).update(status="done")
    assert admin.post(f"rules/firings/{f['id']}/retry").status_code == 409
