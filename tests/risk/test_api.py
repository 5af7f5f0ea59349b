"""Scorecard API: CRUD, validation 422s pointing at the rule/band, preview, results, access."""

import copy
from typing import Any

import pytest

from loandesk.core.models import AuditEntry
from loandesk.risk.demo import DEFAULT_SCORECARD
from loandesk.risk.models import Scorecard, ScoreResult
from tests.risk.conftest import make_customer

SCORECARD_MANAGERS = {"admin", "risk"}
ROLES = ["admin", "gm", "manager", "risk", "finance", "officer1", "officer2", "collector"]


def small_definition(points: int = 10) -> dict[str, Any]:
    return {
        "base_score": 500,
        "rules": [
            {
                "code": "level",
                "label": "信用等级",
                "label_en": "Credit level",
                "factor": "credit_level",
                "bands": [
                    {"values": ["A", "B"], "points": points, "reason": "良好"},
                    {"values": ["C", "watch", "none"], "points": 0, "reason": "一般"},
                    {
                        "values": ["blacklist"],
                        "points": -100,
                        "reason": "黑名单",
                        "force": "reject",
                    },
                ],
            }
        ],
        "grades": [
            {"grade": "A", "min": 505, "decision": "approve"},
            {"grade": "B", "min": None, "decision": "review"},
        ],
    }


def test_list_and_get_the_demo_scorecard(client_for: Any) -> None:
    admin = client_for("admin")
    response = admin.get("risk/scorecards")
    assert response.status_code == 200
    (card,) = response.json()
    assert card["code"] == "default"
    assert card["name"] == "默认个人贷款评分卡"
    assert card["version"] == 1 and card["is_active"] is True
    assert card["rule_count"] == 7
    detail = admin.get("risk/scorecards/default").json()
    assert detail["definition"] == DEFAULT_SCORECARD
    assert admin.get("risk/scorecards/nope").status_code == 404
    factors = admin.get("risk/factors").json()
    assert {f["code"] for f in factors} >= {"age", "debt_to_income", "credit_level", "blacklisted"}


def test_create_update_bumps_version_and_audits(client_for: Any) -> None:
    risk = client_for("risk")
    body = {"code": "quick", "name": "快速评分", "definition": small_definition()}
    response = risk.post("risk/scorecards", body)
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 1
    assert response.json()["updated_by"] == "孙风控"
    again = risk.post("risk/scorecards", body)
    assert again.status_code == 422
    assert again.json()["details"]["fields"] == {"code": "编码已存在"}

    changed = small_definition(points=30)
    response = risk.patch("risk/scorecards/quick", {"definition": changed, "version": 1})
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.json()["definition"]["rules"][0]["bands"][0]["points"] == 30
    # a no-op save keeps the version
    assert risk.patch("risk/scorecards/quick", {"name": "快速评分"}).json()["version"] == 2
    # a stale editor is refused
    stale = risk.patch("risk/scorecards/quick", {"name": "旧", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "risk.version_conflict"
    assert "当前版本 2" in stale.json()["message"]
    # the code cannot change
    renamed = risk.patch("risk/scorecards/quick", {"code": "other"})
    assert renamed.status_code == 422 and "code" in renamed.json()["details"]["fields"]
    off = risk.patch("risk/scorecards/quick", {"is_active": False}).json()
    assert off["is_active"] is False and off["version"] == 3

    card = Scorecard.objects.get(code="quick")
    entries = AuditEntry.objects.filter(target_type="risk.scorecard", target_id=str(card.pk))
    assert sorted(e.action for e in entries) == ["record.create", "record.update", "record.update"]
    assert risk.patch("risk/scorecards/nope", {"name": "x"}).status_code == 404


def test_validation_points_at_the_offending_rule_and_band(client_for: Any) -> None:
    admin = client_for("admin")
    definition = copy.deepcopy(DEFAULT_SCORECARD)
    definition["rules"][1]["bands"][2]["min"] = "55"
    definition["rules"][4]["factor"] = "shoe_size"
    response = admin.patch("risk/scorecards/default", {"definition": definition})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "risk.scorecard_invalid"
    assert body["message"] == "评分卡配置有误"
    assert body["details"]["fields"] == {
        "definition.rules.1.bands.2.min": "与第 2 档之间有空档(下限应为 50)",
        "definition.rules.4.factor": "请选择有效的评分因子",
    }
    # nothing was written
    card = Scorecard.objects.get(code="default")
    assert card.version == 1 and card.definition == DEFAULT_SCORECARD

    english = client_for("admin")
    english.language = "en-US"
    response = english.post(
        "risk/scorecards", {"code": "Bad Code", "name": "", "definition": {"rules": []}}
    )
    assert response.status_code == 422
    fields = response.json()["details"]["fields"]
    assert fields["code"].startswith("Codes start with a lowercase letter")
    assert fields["name"] == "Name is required, at most 100 chars"
    assert fields["definition.rules"] == "Add at least one rule"
    assert fields["definition.base_score"] == "Must be a whole number"
    assert fields["definition.grades"] == "Add at least one grade"


@pytest.mark.parametrize(
    "body",
    [
        {"code": "x1", "name": "x", "definition": "not an object"},
        {"code": "x1", "name": "x", "definition": small_definition(), "is_active": "maybe"},
        "[1, 2",
    ],
)
def test_malformed_bodies_are_4xx(client_for: Any, body: Any) -> None:
    response = client_for("admin").post("risk/scorecards", body)
    assert 400 <= response.status_code < 500
    assert not Scorecard.objects.filter(code="x1").exists()


def test_preview_scores_without_saving(client_for: Any) -> None:
    admin = client_for("admin")
    values = {
        "amount": "100000",
        "term_months": 12,
        "annual_rate": "6",
        "monthly_income": "30000",
        "age": 40,
        "credit_level": "A",
        "applications_30d": 0,
        "existing_loans_outstanding": "0",
    }
    response = admin.post("risk/scorecards/default/preview", values)
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["score"], result["grade"], result["decision"]) == (830, "A", "approve")
    assert result["decision_label"] == "建议通过"
    assert result["reasons"][0]["detail"] == "年龄适中,收入稳定(40 岁)"
    # the blacklist hard rule
    hit = admin.post("risk/scorecards/default/preview", {**values, "blacklisted": True}).json()
    assert hit["decision"] == "reject"
    # an unsaved definition
    unsaved = admin.post(
        "risk/scorecards/default/preview", {**values, "definition": small_definition(99)}
    ).json()
    assert unsaved["score"] == 599
    bad = admin.post("risk/scorecards/default/preview", {**values, "definition": {"base_score": 1}})
    assert bad.status_code == 422 and "definition.rules" in bad.json()["details"]["fields"]
    wrong = admin.post("risk/scorecards/default/preview", {"amount": "abc", "credit_level": "Z"})
    assert wrong.status_code == 422
    assert set(wrong.json()["details"]["fields"]) == {"amount", "credit_level"}
    assert admin.post("risk/scorecards/nope/preview", values).status_code == 404
    assert not ScoreResult.objects.exists()


def test_preview_with_a_customer_in_scope(client_for: Any) -> None:
    customer = make_customer("officer2", credit_level="watch")
    risk = client_for("risk")
    result = risk.post(
        "risk/scorecards/default/preview", {"customer_id": customer.pk, "amount": "50000"}
    ).json()
    assert result["factors"]["credit_level"] == "watch"
    # the customer's income on file: 50000 / (30000 × 12)
    assert result["factors"]["amount_to_annual_income"] == "0.14"
    assert result["factors"]["applications_30d"] == "0"
    assert result["decision"] in ("review", "reject")  # 关注 forces a manual review
    assert risk.post("risk/scorecards/default/preview", {"customer_id": 999999}).status_code == 404


@pytest.mark.parametrize("username", ROLES)
def test_who_may_manage_scorecards(client_for: Any, username: str) -> None:
    client = client_for(username)
    allowed = username in SCORECARD_MANAGERS
    expected = 200 if allowed else 403
    assert client.get("risk/scorecards").status_code == expected
    assert client.get("risk/scorecards/default").status_code == expected
    assert client.get("risk/factors").status_code == expected
    assert client.post("risk/scorecards/default/preview", {"age": 30}).status_code == expected
    patch = client.patch("risk/scorecards/default", {"name": "改名"})
    assert patch.status_code == expected
    create = client.post(
        "risk/scorecards", {"code": f"c_{username}", "name": "x", "definition": small_definition()}
    )
    assert create.status_code == (201 if allowed else 403)
    if not allowed:
        assert create.json()["code"] == "permission_denied"
        assert Scorecard.objects.get(code="default").name == "默认个人贷款评分卡"


def test_anonymous_is_401(demo: Any, anon: Any) -> None:
    for response in (
        anon.get("risk/scorecards"),
        anon.get("risk/scorecards/default"),
        anon.post("risk/scorecards/default/preview", {}),
        anon.get("risk/results", {"customer_id": 1}),
    ):
        assert response.status_code == 401


def test_results_are_scoped_by_customer(client_for: Any) -> None:
    mine = make_customer("officer1")
    theirs = make_customer("officer2", name="李娜")
    card = Scorecard.objects.get(code="default")
    for customer, score in ((mine, 700), (mine, 710), (theirs, 500)):
        ScoreResult.objects.create(
            scorecard=card,
            version=1,
            customer=customer,
            score=score,
            grade="A",
            decision="approve",
            result={"score": score},
        )
    officer1 = client_for("officer1")
    response = officer1.get("risk/results", {"customer_id": mine.pk})
    assert response.status_code == 200
    rows = response.json()
    assert [r["score"] for r in rows] == [710, 700]
    assert rows[0]["scorecard"] == "default" and rows[0]["result"] == {"score": 710}
    assert officer1.get("risk/results", {"customer_id": theirs.pk}).status_code == 404
    assert officer1.get("risk/results", {"customer_id": 999999}).status_code == 404
    assert officer1.get("risk/results").status_code == 422
    assert [
        r["score"]
        for r in client_for("risk").get("risk/results", {"customer_id": theirs.pk}).json()
    ] == [500]
    # no customers.view: 403
    assert client_for("collector").get("risk/results", {"customer_id": mine.pk}).status_code in (
        403,
        404,
    )
