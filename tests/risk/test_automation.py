"""The `risk_scorecard` automated flow action with a real customer and a real 贷款申请 record."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed, get_action
from loandesk.forms.models import Record
from loandesk.risk.models import Scorecard, ScoreResult
from tests.risk.conftest import make_customer, submit_application, user


def context(record: Record, **overrides: Any) -> AutomatedContext:
    officer = user("officer1")
    values: dict[str, Any] = {
        "instance_id": 41,
        "step_id": "41:risk_scorecard:1",
        "node_id": "risk_scorecard",
        "action": "risk_scorecard",
        "params": {"scorecard": "default"},
        "data": record.data,
        "record_id": record.pk,
        "form_code": "loan_application",
        "customer_id": record.customer_id,
        "initiator_id": officer.pk,
        "actor_id": user("manager").pk,
        "now": timezone.now(),
    }
    values.update(overrides)
    return AutomatedContext(**values)


def test_the_action_is_registered(demo: Any) -> None:
    assert get_action("risk_scorecard") is not None


def test_scores_the_application_and_stores_the_result_once(demo: Any) -> None:
    customer = make_customer(credit_level="A")
    record = submit_application(customer)
    action = get_action("risk_scorecard")
    assert action is not None
    ctx = context(record)
    result = action(ctx)
    assert result["scorecard"] == "default"
    assert result["version"] == 1
    assert result["factors"]["credit_level"] == "A"
    assert result["factors"]["applications_30d"] == "0"  # this application is not counted
    assert result["factors"]["debt_to_income"] == "28.69"
    assert result["factors"]["age"] is not None
    assert (result["grade"], result["decision"]) == ("A", "approve")
    stored = ScoreResult.objects.get()
    assert (stored.instance_id, stored.step_id) == (41, "41:risk_scorecard:1")
    assert stored.record_id == record.pk and stored.customer_id == customer.pk
    assert (stored.score, stored.grade, stored.decision) == (result["score"], "A", "approve")
    assert stored.result == result

    # A re-run (worker died before the step's result was saved) returns the same result, even
    # after the scorecard changed meanwhile, and writes nothing.
    Scorecard.objects.filter(code="default").update(version=9)
    later = context(record, now=ctx.now + timedelta(minutes=5))
    assert action(later) == result
    assert ScoreResult.objects.count() == 1
    # another step of the same instance is scored afresh
    other = action(context(record, step_id="41:risk_scorecard:2"))
    assert other["version"] == 9
    assert ScoreResult.objects.count() == 2


def test_recent_applications_and_blacklist_tag(demo: Any) -> None:
    customer = make_customer(credit_level="B", tags=["黑名单"])
    for _ in range(3):
        submit_application(customer)
    record = submit_application(customer)
    result = get_action("risk_scorecard")(context(record))  # type: ignore[misc]
    assert result["factors"]["applications_30d"] == "3"
    assert result["factors"]["blacklisted"] == "yes"
    assert result["decision"] == "reject"
    reasons = {r["code"]: r for r in result["reasons"]}
    assert reasons["applications_30d"]["points"] == -80
    assert reasons["blacklist"]["points"] == -300


def test_missing_customer_data_becomes_reasons(demo: Any) -> None:
    customer = make_customer(credit_level="", monthly_income=None)
    record = submit_application(customer)
    data = {
        k: v for k, v in record.data.items() if k not in ("applicant_income", "household_income")
    }
    data.pop("debt_ratio", None)
    result = get_action("risk_scorecard")(context(record, data=data))  # type: ignore[misc]
    reasons = {r["code"]: r for r in result["reasons"]}
    assert result["factors"]["credit_level"] == "none"
    assert reasons["debt_to_income"]["detail"] == "缺少收入或月供数据"
    assert result["decision"] in ("review", "reject")


@pytest.mark.parametrize("change", [{"is_active": False}, {"code": "renamed"}])
def test_inactive_or_missing_scorecard_fails_the_step(demo: Any, change: dict[str, Any]) -> None:
    Scorecard.objects.filter(code="default").update(**change)
    record = submit_application(make_customer())
    with pytest.raises(AutomatedStepFailed) as failed:
        get_action("risk_scorecard")(context(record))  # type: ignore[misc]
    assert failed.value.code == "risk.scorecard_missing"
    assert failed.value.params == {"code": "default"}
    assert not ScoreResult.objects.exists()


def test_a_named_scorecard_param(demo: Any) -> None:
    card = Scorecard.objects.get(code="default")
    Scorecard.objects.create(code="strict", name="严格", definition=card.definition, version=4)
    record = submit_application(make_customer())
    result = get_action("risk_scorecard")(  # type: ignore[misc]
        context(record, params={"scorecard": "strict"})
    )
    assert (result["scorecard"], result["version"]) == ("strict", 4)
