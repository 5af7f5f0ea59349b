"""Rule engine fixtures: the demo organisation with loans, a rule maker, and a probe action.

The probe is a real action registered through the public registry (as every app does); it only
echoes what it was handed, so tests can see the context of a firing."""

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

import pytest

from loandesk.core import outbox
from loandesk.core.models import OutboxEvent
from loandesk.rules import registry, services
from loandesk.rules.engine import LOCAL_TZ
from loandesk.rules.models import Rule
from tests.lending.conftest import lending  # noqa: F401
from tests.postloan.conftest import START, make_loan, set_date


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=LOCAL_TZ)


def _probe(ctx: registry.ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
    if params.get("fail"):
        raise RuntimeError("probe asked to fail")
    return {"record_id": ctx.record_id, "note": params.get("note", ""), "dry": ctx.dry_run}


@pytest.fixture
def probe() -> Iterator[str]:
    registry.register_action(
        "test_probe",
        label_zh="测试探针",
        label_en="Test probe",
        params=(
            registry.ParamSpec("note", "备注", "Note"),
            registry.ParamSpec("fail", "失败", "Fail", "bool"),
        ),
    )(_probe)
    yield "test_probe"
    registry._actions.pop("test_probe", None)


@pytest.fixture
def ctx(lending: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """The demo organisation (without its shipped rules, so each test sees only its own) and
    one loan of customer c1 started on START (installments due on the 10th)."""
    Rule.objects.all().delete()
    set_date(START)
    loan = make_loan(lending, start=START)
    return {**lending, "admin": lending["users"]["admin"], "loan": loan}


def make_rule(admin: Any, **data: Any) -> Rule:
    body = {"name": "测试规则", "enabled": True, **data}
    return services.create_rule(actor=admin, data=body)


def publish(topic: str, payload: dict[str, Any], agg_type: str = "", agg_id: Any = "") -> str:
    from django.db import transaction

    with transaction.atomic():
        event = outbox.publish(topic, payload=payload, aggregate_type=agg_type, aggregate_id=agg_id)
    return str(event.pk)


def deliver() -> int:
    return outbox.dispatch_pending()


def redeliver(event_id: str) -> None:
    """As if the worker crashed after delivering: the event is pending again, deliveries gone."""
    event = OutboxEvent.objects.get(pk=event_id)
    event.deliveries.all().delete()
    OutboxEvent.objects.filter(pk=event_id).update(status=OutboxEvent.Status.PENDING)


def first_due(loan: Any) -> date:
    return loan.installments.order_by("seq").first().due_date  # type: ignore[no-any-return]
