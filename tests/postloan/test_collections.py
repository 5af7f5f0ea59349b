"""Collections services: opening (idempotent), assignment strategies, bucket routing and
escalation, actions, promises, closing on payoff, the rule-engine actions, the demo seeder."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loandesk.core import outbox
from loandesk.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from loandesk.core.models import OutboxEvent
from loandesk.lending.models import Loan
from loandesk.postloan import cob, collections
from loandesk.postloan.models import (
    CollectionAction,
    CollectionCase,
    CollectionTeam,
    PromiseToPay,
)
from loandesk.rules.registry import ActionContext, get_action
from tests.postloan.collections_fixtures import (
    OVERDUE_ON,
    collector,
    overdue_loans,
    pay,
    team,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_demo_teams(demo: dict[str, Any]) -> None:
    """The demo seeds teams for M1/M2/M3+; each test builds the teams it is about."""
    CollectionTeam.objects.all().delete()


def events(topic: str) -> list[dict[str, Any]]:
    return [e.payload for e in OutboxEvent.objects.filter(topic=topic).order_by("id")]


@pytest.fixture
def loan(lending: dict[str, Any]) -> Loan:
    return overdue_loans(lending)[0]


# --- opening ------------------------------------------------------------------------------------


def test_opening_twice_returns_the_one_open_case(loan: Loan) -> None:
    assert loan.status == "overdue" and loan.bucket == "M1" and loan.days_past_due == 4
    case, created = collections.open_case(loan=loan)
    again, created_again = collections.open_case(loan=loan.pk)
    assert created and not created_again and again.pk == case.pk
    assert CollectionCase.objects.filter(loan=loan).count() == 1
    assert len(events(collections.TOPIC_OPENED)) == 1
    assert case.opened_bucket == case.bucket == "M1" and case.opened_dpd == 4
    assert case.overdue_fen == collections.overdue_fen_of(loan.pk, OVERDUE_ON) > 0
    assert case.priority == collections.priority_score(case.overdue_fen, 4)
    assert case.customer_id == loan.customer_id and case.department_id == loan.department_id
    # No team serves M1: the loan's owner collects.
    assert case.team is None and case.collector_id == loan.owner_id
    assert [a.event for a in case.actions.all()] == ["opened"]


def test_a_closed_case_lets_a_new_one_open(loan: Loan) -> None:
    case, _ = collections.open_case(loan=loan)
    collections.close_for_loan(loan.pk, reason="manual")
    second, created = collections.open_case(loan=loan)
    assert created and second.pk != case.pk
    assert CollectionCase.objects.filter(loan=loan).count() == 2


def test_a_closed_loan_gets_no_case(loan: Loan) -> None:
    Loan.objects.filter(pk=loan.pk).update(status="closed")
    with pytest.raises(Conflict) as err:
        collections.open_case(loan=loan)
    assert err.value.code == "postloan.collections.loan_not_live"
    with pytest.raises(NotFound):
        collections.open_case(loan=999_999_999)
    with pytest.raises(ValidationFailed):
        collections.open_case(loan=loan, assign_to="nobody")


def test_priority_score_weighs_amount_and_days() -> None:
    assert collections.priority_score(0, 0) == 0
    assert collections.priority_score(99_999, 0) == 0
    assert collections.priority_score(100_000, 1) == 11
    assert collections.priority_score(10**15, 10_000) == 2000
    assert collections.priority_score(-5, -1) == 0


# --- assignment ---------------------------------------------------------------------------------


def test_owner_and_fixed_strategies(lending: dict[str, Any]) -> None:
    a, b, c = overdue_loans(lending, 3)
    zhou = lending["users"]["collector"]
    owner_team = team("客户经理催收", [zhou], strategy="owner")
    fixed_team = team("指定", [zhou], strategy="fixed", fixed=zhou, order=20)
    rr_team = team("轮流", [zhou], order=30)
    case_a, _ = collections.open_case(loan=a, team=owner_team)
    case_b, _ = collections.open_case(loan=b, team=fixed_team)
    case_c, _ = collections.open_case(loan=c, team=rr_team, assign_to="owner")
    assert case_a.collector_id == a.owner_id and case_a.team_id == owner_team.pk
    assert case_b.collector_id == zhou.pk
    # assign_to=owner (the shipped rule) wins over the team's strategy.
    assert case_c.collector_id == c.owner_id and case_c.team_id == rr_team.pk


def test_round_robin_takes_turns_in_member_id_order(lending: dict[str, Any]) -> None:
    loans = overdue_loans(lending, 5)
    members = [collector(f"rr{i}") for i in range(3)]
    t = team("M1 组", members)
    got = [collections.open_case(loan=loan)[0].collector_id for loan in loans]
    ids = [m.pk for m in members]
    assert got == [ids[0], ids[1], ids[2], ids[0], ids[1]]
    t.refresh_from_db()
    assert t.rr_cursor == 5
    # An inactive member is skipped; an empty team leaves the case unassigned.
    members[2].is_active = False
    members[2].save()
    assert collections.pick_collector(t, loans[0], "team") in members[:2]


@pytest.fixture
def pool(lending: dict[str, Any]) -> dict[str, Any]:
    return {"loans": overdue_loans(lending, 8), "members": [collector(f"p{i}") for i in range(4)]}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    k=st.integers(min_value=1, max_value=4),
    ops=st.lists(
        st.tuples(st.integers(min_value=0, max_value=7), st.booleans()), min_size=1, max_size=30
    ),
)
def test_round_robin_is_fair_within_one_for_any_sequence(
    pool: dict[str, Any], k: int, ops: list[tuple[int, bool]]
) -> None:
    """Any sequence of openings (and closings, after which the loan opens again) hands cases
    out so that no active member has more than one case more than another, in a fixed turn."""
    with transaction.atomic():
        members = pool["members"][:k]
        t = team("RR", members)
        assigned: list[int] = []
        for index, close_after in ops:
            loan = pool["loans"][index]
            case, created = collections.open_case(loan=loan)
            if created:
                assigned.append(case.collector_id)
            if close_after:
                collections.close_for_loan(loan.pk, reason="manual")
        counts = [assigned.count(m.pk) for m in members]
        assert max(counts) - min(counts) <= 1
        assert assigned == [members[i % k].pk for i in range(len(assigned))]
        t.refresh_from_db()
        assert t.rr_cursor == len(assigned)
        transaction.set_rollback(True)


# --- routing and escalation -------------------------------------------------------------------


@pytest.fixture
def teams(lending: dict[str, Any]) -> dict[str, CollectionTeam]:
    zhou = lending["users"]["collector"]
    li = lending["users"]["manager"]
    return {
        "m1": team("M1", [zhou], buckets=["M1"], order=10),
        "m2": team("M2", [li], buckets=["M2", "M3"], order=20),
        "legal": team("法务", [li], buckets=["M3+"], order=30, kind="legal"),
    }


def test_bucket_routing_then_escalation_as_the_bucket_grows(
    loan: Loan, teams: dict[str, CollectionTeam], lending: dict[str, Any]
) -> None:
    case, _ = collections.open_case(loan=loan)
    assert case.team_id == teams["m1"].pk
    assert case.collector == lending["users"]["collector"]
    # Still M1: the rule's escalation does nothing.
    assert not collections.escalate_case(case=case, idempotent=True)
    # COB moves the loan to M2 (DPD 31 on 2026-03-13) and refreshes the case.
    cob.run_cob(until=OVERDUE_ON + timedelta(days=27))
    case.refresh_from_db()
    assert case.bucket == "M2" and case.dpd == 31 and case.opened_bucket == "M1"
    assert case.priority == collections.priority_score(case.overdue_fen, 31)
    assert collections.escalate_case(case=case, idempotent=True)
    case.refresh_from_db()
    assert case.team_id == teams["m2"].pk and case.collector == lending["users"]["manager"]
    assert not collections.escalate_case(case=case, idempotent=True)
    # A manager escalates by hand: the next team in order, then there is none.
    assert collections.escalate_case(case=case)
    case.refresh_from_db()
    assert case.team_id == teams["legal"].pk
    with pytest.raises(Conflict) as err:
        collections.escalate_case(case=case)
    assert err.value.code == "postloan.collections.no_next_team"
    history = [a.event for a in case.actions.order_by("id")]
    assert history == ["opened", "escalated", "escalated"]
    moved = case.actions.filter(event="escalated").order_by("id").first()
    assert moved is not None and moved.params["from_team"] == "M1"
    assert moved.params["to_team"] == "M2"
    assert len(events(collections.TOPIC_UPDATED)) == 2


# --- actions and promises ---------------------------------------------------------------------


def test_log_action_validates_and_updates_the_case(loan: Loan, lending: dict[str, Any]) -> None:
    zhou = lending["users"]["collector"]
    case, _ = collections.open_case(loan=loan, team=team("T", [zhou]))
    with pytest.raises(ValidationFailed) as err:
        collections.log_action(actor=zhou, case=case, kind="system", result="夜里")
    assert set(err.value.details["fields"]) == {"kind", "result"}
    with pytest.raises(ValidationFailed):
        collections.log_action(actor=zhou, case=case, kind="call", result="other", note="x" * 1001)
    past = datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as err:
        collections.log_action(
            actor=zhou, case=case, kind="call", result="other", next_action_at=past
        )
    assert "next_action_at" in err.value.details["fields"]
    with pytest.raises(PermissionDenied):
        collections.log_action(
            actor=lending["users"]["officer1"], case=case, kind="call", result="other"
        )
    assert case.actions.count() == 1  # only "opened": nothing partial was written
    action = collections.log_action(
        actor=zhou, case=case, kind="call", result="no_answer", note="  两次未接  "
    )
    case.refresh_from_db()
    assert action.note == "两次未接" and case.last_result == "no_answer"
    assert case.last_action_at == action.at
    collections.close_for_loan(loan.pk, reason="manual")
    with pytest.raises(Conflict) as err2:
        collections.log_action(actor=zhou, case=case, kind="call", result="other")
    assert err2.value.code == "postloan.collections.case_closed"


def test_promise_validation(loan: Loan, lending: dict[str, Any]) -> None:
    zhou = lending["users"]["collector"]
    case, _ = collections.open_case(loan=loan, team=team("T", [zhou]))
    today = OVERDUE_ON + timedelta(days=1)
    bad: list[tuple[Any, Any, str]] = [
        (today - timedelta(days=1), "100", "date"),
        (today + timedelta(days=91), "100", "date"),
        (today, "0", "amount"),
        (today, "-1", "amount"),
        (today, "1.001", "amount"),
        (today, "abc", "amount"),
        (today, "1e30", "amount"),
        (today, "99999999", "amount"),  # more than the loan owes
    ]
    for on, amount, field in bad:
        with pytest.raises(ValidationFailed) as err:
            collections.record_promise(actor=zhou, case=case, on=on, amount=amount)
        assert field in err.value.details["fields"], (on, amount)
    assert not PromiseToPay.objects.exists()
    promise = collections.record_promise(actor=zhou, case=case, on=today, amount=Decimal("500"))
    case.refresh_from_db()
    assert case.status == "promised" and case.promise_date == today
    assert promise.amount_fen == 50_000 and promise.created_on == today
    with pytest.raises(Conflict) as err:
        collections.record_promise(actor=zhou, case=case, on=today, amount="1")
    assert err.value.code == "postloan.collections.promise_pending"


def _promised(loan: Loan, users: dict[str, Any], on_days: int, amount: str) -> CollectionCase:
    zhou = users["collector"]
    case, _ = collections.open_case(loan=loan, team=team(f"T{loan.pk}", [zhou]))
    collections.record_promise(
        actor=zhou, case=case, on=OVERDUE_ON + timedelta(days=on_days), amount=amount
    )
    return case


def test_cob_decides_a_kept_promise_the_day_after_its_date(
    loan: Loan, lending: dict[str, Any]
) -> None:
    case = _promised(loan, lending["users"], 3, "500")  # promise date 2026-02-17
    pay(loan, 60_000)
    cob.run_cob(until=OVERDUE_ON + timedelta(days=3))  # COB of the promise date: not yet
    assert PromiseToPay.objects.get(case=case).status == "pending"
    cob.run_cob(until=OVERDUE_ON + timedelta(days=4))
    promise = PromiseToPay.objects.get(case=case)
    assert promise.status == "kept" and promise.paid_fen == 60_000
    assert promise.decided_on == OVERDUE_ON + timedelta(days=4)
    case.refresh_from_db()
    assert case.status == "open" and case.promise_date is None
    assert case.actions.filter(event="promise_kept").count() == 1
    assert events(cob.TOPIC_PROMISE_BROKEN) == []


def test_cob_breaks_an_unkept_promise_once_and_a_rerun_changes_nothing(
    lending: dict[str, Any],
) -> None:
    short, none = overdue_loans(lending, 2)
    short_case = _promised(short, lending["users"], 1, "500")
    none_case = _promised(none, lending["users"], 1, "300")
    pay(short, 49_999)  # one fen short
    run = cob.run_cob(until=OVERDUE_ON + timedelta(days=2))[-1]
    decided = {p.case_id: (p.status, p.paid_fen) for p in PromiseToPay.objects.all()}
    assert decided == {short_case.pk: ("broken", 49_999), none_case.pk: ("broken", 0)}
    broken = events(cob.TOPIC_PROMISE_BROKEN)
    assert sorted(e["case_id"] for e in broken) == sorted([short_case.pk, none_case.pk])
    assert {e["dedupe_key"].split(":")[0] for e in broken} == {cob.TOPIC_PROMISE_BROKEN}
    # Re-executing the step by hand (not just the skipped rerun) changes nothing.
    before = (
        list(PromiseToPay.objects.values_list("id", "status", "paid_fen", "decided_on")),
        CollectionAction.objects.count(),
        OutboxEvent.objects.count(),
        list(CollectionCase.objects.values_list("id", "status", "dpd", "overdue_fen", "priority")),
    )
    step = run.steps.get(step="collections")
    with transaction.atomic():
        cob.step_collections(step, run.business_date, cob.Config.of(run.config))
    assert cob.run_day(run.business_date).status == "done"  # a finished date is skipped
    after = (
        list(PromiseToPay.objects.values_list("id", "status", "paid_fen", "decided_on")),
        CollectionAction.objects.count(),
        OutboxEvent.objects.count(),
        list(CollectionCase.objects.values_list("id", "status", "dpd", "overdue_fen", "priority")),
    )
    assert after == before


def test_catching_up_several_dates_decides_each_promise_on_its_day(
    lending: dict[str, Any],
) -> None:
    early, late = overdue_loans(lending, 2)
    early_case = _promised(early, lending["users"], 1, "100")  # 2026-02-15
    late_case = _promised(late, lending["users"], 5, "100")  # 2026-02-19
    pay(late, 10_000)
    cob.run_cob(until=OVERDUE_ON + timedelta(days=10))  # one command, ten dates
    early_p = PromiseToPay.objects.get(case=early_case)
    late_p = PromiseToPay.objects.get(case=late_case)
    assert (early_p.status, early_p.decided_on) == ("broken", OVERDUE_ON + timedelta(days=2))
    assert (late_p.status, late_p.decided_on) == ("kept", OVERDUE_ON + timedelta(days=6))
    assert len(events(cob.TOPIC_PROMISE_BROKEN)) == 1


def test_cob_closes_the_case_of_a_closed_loan(loan: Loan, lending: dict[str, Any]) -> None:
    case = _promised(loan, lending["users"], 10, "100")
    Loan.objects.filter(pk=loan.pk).update(status="closed")
    pay(loan, 10_000)
    cob.run_cob(until=OVERDUE_ON + timedelta(days=1))
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == "paid" and case.closed_at
    # The promise of a loan that ended is decided at once, by what was paid.
    assert PromiseToPay.objects.get(case=case).status == "kept"
    assert [e["change"] for e in events(cob.TOPIC_CASE_UPDATED) if e.get("business_date")] == [
        "closed"
    ]


# --- closing on payoff (outbox) -----------------------------------------------------------------


def _deliver(topic: str, payload: dict[str, Any]) -> None:
    with transaction.atomic():
        event = outbox.publish(
            topic, payload=payload, aggregate_type="lending.loan", aggregate_id=payload["loan_id"]
        )
    outbox.dispatch_event(event.pk)


def test_loan_closed_event_closes_the_case(loan: Loan) -> None:
    case, _ = collections.open_case(loan=loan)
    _deliver("loan.closed", {"loan_id": loan.pk})
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == "paid"
    assert case.actions.filter(event="closed").count() == 1
    _deliver("loan.closed", {"loan_id": loan.pk})  # a second delivery: nothing more
    assert case.actions.filter(event="closed").count() == 1


def test_repayment_posted_notes_a_part_payment_and_closes_when_cured(loan: Loan) -> None:
    case, _ = collections.open_case(loan=loan)
    owed = case.overdue_fen
    pay(loan, 1_000)
    _deliver(
        "loan.repayment_posted",
        {"loan_id": loan.pk, "amount_fen": 1_000, "value_date": "2026-02-15"},
    )
    case.refresh_from_db()
    assert case.is_open and case.overdue_fen == owed - 1_000
    note = case.actions.get(event="repayment")
    assert note.params == {"amount": "10.00", "value_date": "2026-02-15"}
    pay(loan, owed - 1_000)
    _deliver(
        "loan.repayment_posted",
        {"loan_id": loan.pk, "amount_fen": owed - 1_000, "value_date": "2026-02-15"},
    )
    case.refresh_from_db()
    assert case.status == "closed" and case.close_reason == "paid" and case.overdue_fen == 0


# --- rule-engine actions ----------------------------------------------------------------------


def _context(loan: Loan, *, dry_run: bool) -> ActionContext:
    return ActionContext(
        rule_id=1,
        rule_name="逾期第1天开案",
        firing_key=f"1:{loan.pk}:1",
        record_type="loan",
        record_id=loan.pk,
        record={"id": loan.pk, "loan_id": loan.pk, "customer_id": loan.customer_id,
                "owner_id": loan.owner_id},
        occurred_at=datetime(2026, 2, 14, tzinfo=UTC),
        dry_run=dry_run,
    )  # fmt: skip


def test_rule_actions_open_and_escalate_and_dry_run_writes_nothing(
    loan: Loan, teams: dict[str, CollectionTeam]
) -> None:
    opener = get_action("open_collection_case")
    escalator = get_action("escalate_collection_case")
    assert {p.key for p in opener.params} == {"assign_to", "team"}
    preview = opener.run(_context(loan, dry_run=True), {"assign_to": "owner"})
    assert preview["ok"] and preview["dry_run"] and preview["created"]
    assert (
        not CollectionCase.objects.exists()
        and not OutboxEvent.objects.filter(topic__startswith="collections.").exists()
    )
    done = opener.run(_context(loan, dry_run=False), {"assign_to": "owner"})
    case = CollectionCase.objects.get(pk=done["case_id"])
    assert done["created"] and case.collector_id == loan.owner_id and case.source == "rule"
    assert opener.run(_context(loan, dry_run=False), {"assign_to": "owner"})["created"] is False
    assert escalator.run(_context(loan, dry_run=False), {})["moved"] is False  # still M1
    Loan.objects.filter(pk=loan.pk).update(bucket="M2", days_past_due=35)
    preview = escalator.run(_context(loan, dry_run=True), {})
    assert preview["moved"] and preview["team"] == "M2"
    assert CollectionCase.objects.get(pk=case.pk).team_id == teams["m1"].pk
    moved = escalator.run(_context(loan, dry_run=False), {})
    assert moved["moved"] and CollectionCase.objects.get(pk=case.pk).team_id == teams["m2"].pk
    assert escalator.run(_context(loan, dry_run=False), {})["moved"] is False
    bad = opener.run(_context(loan, dry_run=False), {"assign_to": "someone"})
    assert bad == {"ok": False, "reason": "bad_assign_to", "assign_to": "someone"}


# --- demo -----------------------------------------------------------------------------------------


def test_demo_seeder_makes_teams_and_cases_once(lending: dict[str, Any]) -> None:
    from loandesk.postloan import demo_collections

    ctx = {"users": lending["users"], "departments": lending["departments"]}
    # No overdue loans: only the teams.
    assert demo_collections.seed(ctx) == 3 and not CollectionCase.objects.exists()
    assert CollectionTeam.objects.count() == 3
    overdue_loans(lending, 3)
    made = demo_collections.seed(ctx)
    assert made == 3 and CollectionCase.objects.filter(status__in=["open", "promised"]).count() == 3
    assert PromiseToPay.objects.filter(status="pending").count() == 1
    assert CollectionCase.objects.filter(collector=lending["users"]["collector"]).exists()
    counts = (CollectionAction.objects.count(), PromiseToPay.objects.count())
    assert demo_collections.seed(ctx) == 0
    assert (CollectionAction.objects.count(), PromiseToPay.objects.count()) == counts
