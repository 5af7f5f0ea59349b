"""Firing rules for real: outbox events, the periodic scan with a moved clock, catch-up,
idempotency, rollback of a failing firing, retry, and the shipped rules."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection

from loandesk.core.models import AuditEntry
from loandesk.customers.models import Customer
from loandesk.lending.models import Installment
from loandesk.rules import records, registry, services
from loandesk.rules.models import Rule, RuleFiring
from tests.rules.conftest import deliver, local, make_rule, publish, redeliver

pytestmark = pytest.mark.django_db

OVERDUE_TO_WATCH = {
    "record_type": "loan",
    "trigger_type": "event",
    "trigger": {"kind": "event", "topic": "loan.became_overdue"},
    "actions": [
        {
            "action": "update_fields",
            "params": {"target": "customer", "fields": {"credit_level": "watch"}},
        }
    ],
}


def overdue_event(loan: Any) -> str:
    return publish(
        "loan.became_overdue",
        {"loan_id": loan.pk, "customer_id": loan.customer_id, "days_past_due": 4},
        "lending.loan",
        loan.pk,
    )


def test_outbox_event_fires_rule_through_services(ctx: dict[str, Any]) -> None:
    rule = make_rule(ctx["admin"], **OVERDUE_TO_WATCH)
    loan = ctx["loan"]
    before = Customer.objects.get(pk=loan.customer_id).credit_level
    event_id = overdue_event(loan)
    deliver()
    firing = RuleFiring.objects.get(rule=rule)
    assert firing.status == "done", firing.error
    assert firing.key == f"{rule.pk}|loan:{loan.pk}|ev:{event_id}"
    assert firing.results[0]["ok"] and firing.results[0]["result"]["set"] == {
        "credit_level": [before, "watch"]
    }
    customer = Customer.objects.get(pk=loan.customer_id)
    assert customer.credit_level == "watch"
    # through customers.services: audited, with the customer's own event
    assert AuditEntry.objects.filter(target_id=str(customer.pk), actor=ctx["admin"]).exists()
    from loandesk.core.models import OutboxEvent

    assert OutboxEvent.objects.filter(
        topic="customer.updated", payload__customer_id=customer.pk
    ).exists()


def test_redelivered_event_fires_nothing_twice(ctx: dict[str, Any], probe: str) -> None:
    rule = make_rule(
        ctx["admin"],
        record_type="loan",
        trigger_type="event",
        trigger={"kind": "event", "topic": "loan.became_overdue"},
        actions=[{"action": probe, "params": {"note": "x"}}],
    )
    event_id = overdue_event(ctx["loan"])
    deliver()
    redeliver(event_id)
    deliver()
    from loandesk.core.models import OutboxEvent

    services.handle_event(OutboxEvent.objects.get(pk=event_id))  # and a third time, directly
    assert RuleFiring.objects.filter(rule=rule).count() == 1


def test_field_changed_to_value_and_condition(ctx: dict[str, Any], probe: str) -> None:
    loan = ctx["loan"]
    rule = make_rule(
        ctx["admin"],
        record_type="loan",
        trigger_type="event",
        trigger={"kind": "field_changed", "field": "bucket", "to": "M2"},
        condition={">": [{"var": "principal"}, 50000]},
        actions=[{"action": probe, "params": {}}],
    )
    small = make_rule(
        ctx["admin"],
        record_type="loan",
        trigger_type="event",
        trigger={"kind": "field_changed", "field": "bucket", "to": "M2"},
        condition={"<": [{"var": "principal"}, 50000]},
        actions=[{"action": probe, "params": {}}],
    )
    base = {"loan_id": loan.pk, "classification": ["special_mention", "special_mention"]}
    publish("loan.bucket_changed", {**base, "from": "M0", "to": "M1"})
    publish("loan.bucket_changed", {**base, "from": "M1", "to": "M2"})
    deliver()
    assert RuleFiring.objects.filter(rule=rule).count() == 1
    assert not RuleFiring.objects.filter(rule=small).exists()  # condition false: no firing


def test_created_and_updated_customer_events(ctx: dict[str, Any], probe: str) -> None:
    from loandesk.customers.services import update_customer

    created = make_rule(
        ctx["admin"],
        record_type="customer",
        trigger_type="event",
        trigger={"kind": "created"},
        actions=[{"action": probe, "params": {}}],
    )
    changed = make_rule(
        ctx["admin"],
        record_type="customer",
        trigger_type="event",
        trigger={"kind": "field_changed", "field": "credit_level", "to": "blacklist"},
        actions=[{"action": probe, "params": {}}],
    )
    c1 = ctx["c1"]
    update_customer(actor=ctx["admin"], customer=c1, changes={"credit_level": "B"})
    update_customer(actor=ctx["admin"], customer=c1, changes={"credit_level": "blacklist"})
    deliver()
    assert not RuleFiring.objects.filter(rule=created).exists()
    firings = list(RuleFiring.objects.filter(rule=changed))
    assert [f.record_id for f in firings] == [c1.pk]


def test_disabled_rules_do_not_fire(ctx: dict[str, Any], probe: str) -> None:
    rule = make_rule(ctx["admin"], **{**OVERDUE_TO_WATCH, "enabled": False})
    overdue_event(ctx["loan"])
    deliver()
    assert not RuleFiring.objects.filter(rule=rule).exists()


def test_failing_action_rolls_back_the_whole_firing_then_retry(
    ctx: dict[str, Any], probe: str
) -> None:
    rule = make_rule(
        ctx["admin"],
        **{
            **OVERDUE_TO_WATCH,
            "actions": [
                *OVERDUE_TO_WATCH["actions"],
                {"action": "not_installed_yet", "params": {}},
            ],
        },
    )
    assert rule.actions[1] == {"action": "not_installed_yet", "params": {}}  # saved anyway
    loan = ctx["loan"]
    before = Customer.objects.get(pk=loan.customer_id).credit_level
    assert before != "watch"
    event_id = overdue_event(loan)
    deliver()
    firing = RuleFiring.objects.get(rule=rule)
    assert firing.status == "failed"
    assert "not_installed_yet" in firing.error
    assert firing.results[0]["rolled_back"] is True
    assert Customer.objects.get(pk=loan.customer_id).credit_level == before  # not half-applied
    from loandesk.core.models import OutboxEvent

    assert OutboxEvent.objects.get(pk=event_id).status == "done"  # the event is not retried

    # the missing app arrives; the admin retries the same firing
    registry.register_action("not_installed_yet", label_zh="后到", label_en="Late")(
        lambda c, p: {"ok": True}
    )
    try:
        again = services.retry_firing(actor=ctx["admin"], firing_id=firing.pk)
    finally:
        registry._actions.pop("not_installed_yet", None)
    assert again.status == "done" and again.attempts == 2 and again.error == ""
    assert Customer.objects.get(pk=loan.customer_id).credit_level == "watch"
    assert RuleFiring.objects.filter(rule=rule).count() == 1


def test_failing_action_in_one_firing_leaves_other_firings_alone(
    ctx: dict[str, Any], probe: str
) -> None:
    bad = make_rule(
        ctx["admin"],
        record_type="loan",
        trigger_type="event",
        trigger={"kind": "event", "topic": "loan.became_overdue"},
        actions=[{"action": probe, "params": {"fail": True}}],
    )
    good = make_rule(ctx["admin"], **OVERDUE_TO_WATCH)
    overdue_event(ctx["loan"])
    deliver()
    assert RuleFiring.objects.get(rule=bad).status == "failed"
    assert RuleFiring.objects.get(rule=good).status == "done"
    assert Customer.objects.get(pk=ctx["loan"].customer_id).credit_level == "watch"


# ---- date-relative via the periodic job ------------------------------------------------------

REMINDER = {
    "record_type": "installment",
    "trigger_type": "date",
    "trigger": {"field": "due_date", "days": -3, "at": "09:00"},
    "condition": {"in": [{"var": "status"}, ["pending", "due"]]},
}


def _date_rule(ctx: dict[str, Any], probe: str, watermark: Any) -> Rule:
    rule = make_rule(ctx["admin"], **REMINDER, actions=[{"action": probe, "params": {}}])
    Rule.objects.filter(pk=rule.pk).update(watermark=watermark)
    return rule


def test_date_relative_fires_at_its_local_time(ctx: dict[str, Any], probe: str) -> None:
    loan = ctx["loan"]
    first = loan.installments.get(seq=1)
    assert first.due_date == date(2026, 2, 10)
    rule = _date_rule(ctx, probe, local(2026, 2, 1))
    services.scan_scheduled(now=local(2026, 2, 7, 8, 59))
    assert not RuleFiring.objects.filter(rule=rule).exists()
    services.scan_scheduled(now=local(2026, 2, 7, 9, 0))
    firing = RuleFiring.objects.get(rule=rule)
    assert firing.record_id == first.pk
    assert firing.occurrence == "2026-02-07T01:00Z"
    assert firing.occurred_at == local(2026, 2, 7, 9)
    services.scan_scheduled(now=local(2026, 2, 7, 9, 0))
    services.scan_scheduled(now=local(2026, 2, 7, 12, 0))
    assert RuleFiring.objects.filter(rule=rule).count() == 1
    assert Rule.objects.get(pk=rule.pk).watermark == local(2026, 2, 7, 12)


def test_catch_up_after_downtime_fires_missed_occurrences_once(
    ctx: dict[str, Any], probe: str
) -> None:
    rule = _date_rule(ctx, probe, local(2026, 2, 5))
    # the scheduler was down from 02-05 until 04-07 10:00: 02-07, 03-07 and 04-07 were missed
    services.scan_scheduled(now=local(2026, 4, 7, 10))
    seqs = sorted(
        Installment.objects.get(pk=f.record_id).seq for f in RuleFiring.objects.filter(rule=rule)
    )
    assert seqs == [1, 2, 3]
    services.scan_scheduled(now=local(2026, 4, 7, 10))
    services.scan_scheduled(now=local(2026, 4, 8, 1))
    assert RuleFiring.objects.filter(rule=rule).count() == 3


def test_long_outage_continues_on_the_next_tick(ctx: dict[str, Any], probe: str) -> None:
    rule = _date_rule(ctx, probe, local(2026, 2, 1))
    now = local(2026, 6, 1)  # ~120 days: more than one scan's worth of days
    services.scan_scheduled(now=now)
    mid = Rule.objects.get(pk=rule.pk).watermark
    assert mid == local(2026, 2, 1) + services.MAX_SPANS_PER_SCAN * services.SCAN_SPAN
    services.scan_scheduled(now=now)
    assert Rule.objects.get(pk=rule.pk).watermark == now
    fired = RuleFiring.objects.filter(rule=rule)
    # dues 02-10 .. 06-10 → reminders 02-07 .. 05-07 (06-07 is after now)
    assert sorted(Installment.objects.get(pk=f.record_id).seq for f in fired) == [1, 2, 3, 4]


def test_condition_is_checked_when_the_occurrence_comes(ctx: dict[str, Any], probe: str) -> None:
    rule = _date_rule(ctx, probe, local(2026, 2, 1))
    Installment.objects.filter(loan=ctx["loan"], seq=1).update(status="paid")
    services.scan_scheduled(now=local(2026, 2, 8))
    assert not RuleFiring.objects.filter(rule=rule).exists()


def test_enabling_starts_the_schedule_now(ctx: dict[str, Any], probe: str) -> None:
    rule = make_rule(
        ctx["admin"], **REMINDER, enabled=False, actions=[{"action": probe, "params": {}}]
    )
    assert rule.watermark is None
    services.scan_scheduled(now=local(2026, 4, 8))
    assert not RuleFiring.objects.filter(rule=rule).exists()
    rule = services.set_enabled(actor=ctx["admin"], rule_id=rule.pk, enabled=True)
    assert rule.watermark is not None


def test_installment_date_scan_uses_the_status_due_index(ctx: dict[str, Any]) -> None:
    """The scan `ids_with_date` runs, over a book with years of due dates and fresh
    statistics: a two-day window is read through (status, due_date), not by walking loans."""
    rtype = records.record_type("installment")
    assert rtype is not None
    extra = rtype.date_query("due_date")
    assert extra is not None
    first = date(2020, 1, 1)
    Installment.objects.bulk_create(
        Installment(
            loan=ctx["loan"], seq=1000 + k, due_date=first + timedelta(days=k), days=1,
            opening_principal_fen=100, principal_fen=100, interest_fen=1,
            status=Installment.Status.PAID if k % 4 else Installment.Status.PENDING,
        )
        for k in range(4000)
    )  # fmt: skip
    qs = (
        rtype.base_queryset()
        .filter(extra, due_date__gte=date(2026, 3, 1), due_date__lte=date(2026, 3, 2))
        .order_by("due_date", "pk")
        .values_list("pk", "due_date")
    )
    with connection.cursor() as cur:
        # This transaction's rows, so the plan does not depend on statistics an earlier test
        # left behind (an ANALYZE in a rolled-back transaction keeps its row counts).
        cur.execute("ANALYZE lending_installment" if connection.vendor == "sqlite" else
                    "ANALYZE lending_installment, lending_loan")  # fmt: skip
    plan = qs.explain()
    assert "installment_status_due" in plan


def test_due_soon_event_maps_to_its_installments(ctx: dict[str, Any], probe: str) -> None:
    rule = make_rule(
        ctx["admin"],
        record_type="installment",
        trigger_type="event",
        trigger={"kind": "event", "topic": "loan.installment_due_soon"},
        actions=[{"action": probe, "params": {}}],
    )
    loan = ctx["loan"]
    publish(
        "loan.installment_due_soon", {"loan_id": loan.pk, "seqs": [1, 2]}, "lending.loan", loan.pk
    )
    deliver()
    ids = sorted(RuleFiring.objects.filter(rule=rule).values_list("record_id", flat=True))
    assert ids == sorted(loan.installments.filter(seq__in=[1, 2]).values_list("pk", flat=True))


# ---- cron ------------------------------------------------------------------------------------


def test_cron_without_record_type(ctx: dict[str, Any], probe: str) -> None:
    rule = make_rule(
        ctx["admin"],
        trigger_type="cron",
        trigger={"cron": "0 9 * * 1"},
        actions=[{"action": probe, "params": {"note": "weekly"}}],
    )
    Rule.objects.filter(pk=rule.pk).update(watermark=local(2026, 3, 1))
    services.scan_scheduled(now=local(2026, 3, 16, 9))
    firings = list(RuleFiring.objects.filter(rule=rule).order_by("occurred_at"))
    assert [f.occurred_at for f in firings] == [local(2026, 3, 2, 9), local(2026, 3, 9, 9),
                                                local(2026, 3, 16, 9)]  # fmt: skip
    assert all(f.record_id is None and f.status == "done" for f in firings)
    services.scan_scheduled(now=local(2026, 3, 16, 9))
    assert RuleFiring.objects.filter(rule=rule).count() == 3


def test_cron_over_records_with_condition(ctx: dict[str, Any], probe: str) -> None:
    c1 = ctx["c1"]
    rule = make_rule(
        ctx["admin"],
        record_type="customer",
        trigger_type="cron",
        trigger={"cron": "30 8 * * *"},
        condition={"==": [{"var": "id"}, c1.pk]},
        actions=[{"action": "update_fields", "params": {"fields": {"remark": "每日检查"}}}],
    )
    Rule.objects.filter(pk=rule.pk).update(watermark=local(2026, 3, 1, 12))
    services.scan_scheduled(now=local(2026, 3, 4, 12))  # 03-02, 03-03, 03-04 08:30
    firings = RuleFiring.objects.filter(rule=rule)
    assert firings.count() == 3
    assert {f.record_id for f in firings} == {c1.pk}
    assert all(f.status == "done" for f in firings), [f.error for f in firings]
    assert Customer.objects.get(pk=c1.pk).remark == "每日检查"


# ---- shipped rules ---------------------------------------------------------------------------


def test_demo_seed_is_idempotent_and_enabled(lending: dict[str, Any]) -> None:
    from loandesk.rules.demo import seed

    shipped = Rule.objects.filter(code__isnull=False)
    assert {r.code for r in shipped} == {"repayment_reminder", "overdue_day_1", "dpd30_escalation"}
    assert all(r.enabled and r.watermark for r in shipped)
    assert seed({"users": lending["users"]}) == 0
    assert Rule.objects.filter(code__isnull=False).count() == 3
    # every shipped rule is valid for the designer (round trip through clean_rule)
    for r in shipped:
        services.clean_rule(
            {
                "name": r.name,
                "record_type": r.record_type,
                "trigger_type": r.trigger_type,
                "trigger": r.trigger,
                "condition": r.condition,
                "actions": r.actions,
            }
        )


def test_shipped_overdue_rule_on_a_real_cob(lending: dict[str, Any]) -> None:
    """COB marks a loan overdue → loan.became_overdue → the shipped overdue-day-1 rule."""
    from loandesk.postloan import cob
    from tests.postloan.conftest import START, make_loan, set_date

    set_date(START)
    loan = make_loan(lending, start=START)
    # first due 02-10, 3 grace days: overdue on the close of 02-14
    set_date(date(2026, 2, 14))
    cob.run_cob(until=date(2026, 2, 14), in_process=True)
    deliver()
    rule = Rule.objects.get(code="overdue_day_1")
    firing = RuleFiring.objects.get(rule=rule, record_id=loan.pk)
    names = [a["action"] for a in rule.actions]
    missing = [n for n in names if n not in {a.name for a in registry.all_actions()}]
    customer = Customer.objects.get(pk=loan.customer_id)
    if missing:  # another app's action is not there yet: failed, nothing half-applied
        assert firing.status == "failed" and missing[0] in firing.error
        assert customer.credit_level != "watch"
    else:
        assert firing.status == "done", firing.error
        assert customer.credit_level == "watch"


def test_watermark_never_moves_backwards_on_repeat_scans(ctx: dict[str, Any], probe: str) -> None:
    rule = _date_rule(ctx, probe, local(2026, 2, 1))
    services.scan_scheduled(now=local(2026, 2, 10))
    services.scan_scheduled(now=local(2026, 2, 5))  # a scheduler with a slow clock
    assert Rule.objects.get(pk=rule.pk).watermark == local(2026, 2, 10)
    assert RuleFiring.objects.filter(rule=rule).count() == 1
    assert timedelta(0) <= local(2026, 2, 10) - local(2026, 2, 10)
