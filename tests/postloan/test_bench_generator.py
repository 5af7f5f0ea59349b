"""The bench loan-portfolio generator (bench/generate/loans.py): its rows obey the lending
invariants, reflect COB's state for `loans.CLOSED`, and are the same for the same seed."""

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from bench.generate import loans as portfolio
from django.db import connection, transaction

from loandesk.accounts.models import User
from loandesk.core.services import set_business_date
from loandesk.customers.models import Customer
from loandesk.flows.models import FlowHistory, FlowInstance, FlowStepRun, FlowTask, FlowTimer
from loandesk.lending.models import Installment, Loan, Repayment, RepaymentAllocation
from loandesk.postloan import cob, collections, selectors
from loandesk.postloan.models import (
    OPEN_CASE_STATUSES,
    CollectionAction,
    CollectionCase,
    PromiseToPay,
)

COUNT = 1500
CLOSED = portfolio.CLOSED
# sha256 of `_content()` for COUNT loans with the default seed: the same on SQLite and PG.
DIGEST = "646495962479f34d8bec726f5e54c8addf411f04fef937a3f792dde9dcb813f5"


def _content() -> list[tuple[Any, ...]]:
    """Every generated value except surrogate ids (customers as their rank by id)."""
    rank = {
        pk: k for k, pk in enumerate(Customer.objects.order_by("id").values_list("pk", flat=True))
    }
    loans = {}
    for row in Loan.objects.filter(contract_no__startswith="BL").values_list(
        "id", "contract_no", "customer_id", "product__code", "principal_fen", "annual_rate",
        "periods", "method", "start_date", "first_due_date", "maturity_date", "apr",
        "penalty_rate", "grace_days", "status", "outstanding_principal_fen", "overdue_since",
        "days_past_due", "bucket", "classification", "closed_at",
    ):  # fmt: skip
        loans[row[0]] = (row[1], rank[row[2]], *[str(v) for v in row[3:]])
    out: list[tuple[Any, ...]] = []
    for row in Installment.objects.filter(loan_id__in=loans).values_list(
        "loan_id", "seq", "due_date", "days", "opening_principal_fen", "principal_fen",
        "interest_fen", "fee_fen", "paid_principal_fen", "paid_interest_fen", "paid_fee_fen",
        "status", "paid_off_on",
    ):  # fmt: skip
        out.append((loans[row[0]][0], *[str(v) for v in row[1:]]))
    out.sort()
    return sorted(loans.values()) + out


def _digest() -> str:
    return hashlib.sha256(repr(_content()).encode()).hexdigest()


# sha256 of `_applications()` for COUNT loans with the default seed, on either engine and
# whether the applications were cloned in the generator or in its cloning process.
APPLICATIONS_DIGEST = "5168cb275f55b31f98cc5a7213541e83349ce967882133f48bbc9e8c93ea3f60"


def _applications() -> list[tuple[Any, ...]]:
    """Every cloned application without surrogate ids (in the order of their ids): record,
    instance, history, tasks and step runs. Left out: deadlines and timer fire times (they keep
    the template's offsets, which follow the working hours of the moment it was made) and the
    step runs' times (microseconds after an event in the template, as it ran)."""
    out: list[tuple[Any, ...]] = []
    instances = FlowInstance.objects.filter(record__serial_no__startswith="SQ").order_by("id")
    for inst in instances.select_related("record"):
        data = inst.state["data"]
        out.append(
            (inst.record.serial_no, inst.title, inst.status, inst.current_node_id,
             inst.started_at, inst.finished_at, inst.amount_fen, inst.record.created_at,
             data["application_no"], data["amount"], data.get("monthly_payment"),
             inst.state["status"], inst.state["history_seq"], len(inst.state["tasks"]),
             [(h.seq, h.action, h.node_id, h.visit, h.round, h.at, h.duration_seconds, h.comment)
              for h in FlowHistory.objects.filter(instance=inst).order_by("seq")],
             [(t.node_id, t.status, t.created_at, t.closed_at)
              for t in FlowTask.objects.filter(instance=inst).order_by("id")],
             [(r.node_id, r.action, r.status)
              for r in FlowStepRun.objects.filter(instance=inst).order_by("id")],
             FlowTimer.objects.filter(instance=inst).count())
        )  # fmt: skip
    return out


def applications_digest() -> str:
    return hashlib.sha256(repr(_applications()).encode()).hexdigest()


# sha256 of `_repayments()` for COUNT loans with the default seed, on either engine, whatever
# the batch size: made by `repayments.Payer` (PostgreSQL) or by SQLite from the schedule
# templates (bench/generate/schedules.py).
REPAYMENTS_DIGEST = "f502b3334a37a244d54a59f6794c2943729ddd9e76df543eb3630124382fa25f"


def _repayments() -> list[tuple[Any, ...]]:
    """Every generated repayment, then every allocation, without surrogate ids (loans as their
    contract numbers, repayments as their rank), each in the order of their ids."""
    contract = dict(Loan.objects.values_list("id", "contract_no"))
    reps = list(Repayment.objects.filter(source="bench").order_by("id"))
    rank = {r.pk: k for k, r in enumerate(reps)}
    out: list[tuple[Any, ...]] = [
        (contract[r.loan_id], r.value_date, r.amount_fen, r.principal_fen, r.interest_fen,
         r.fee_fen, r.penalty_fen, r.channel, r.status, r.created_at)
        for r in reps
    ]  # fmt: skip
    for a in RepaymentAllocation.objects.filter(repayment_id__in=rank).order_by("id"):
        out.append(
            (rank[a.repayment_id], a.seq, a.due_date, a.principal_fen, a.interest_fen,
             a.fee_fen, a.penalty_fen)
        )  # fmt: skip
    return out


def repayments_digest() -> str:
    return hashlib.sha256(repr(_repayments()).encode()).hexdigest()


pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def generated(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, int]]:
    """One portfolio for the whole module (generating it takes seconds), in a transaction that
    each test's own (rolled back) transaction nests in; rolled back after the last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield portfolio.generate(COUNT, log=False)
        transaction.set_rollback(True)


def test_installments_add_up_to_the_principal(generated: dict[str, int]) -> None:
    assert generated["loans"] == COUNT
    assert Loan.objects.filter(contract_no__startswith="BL").count() == COUNT
    by_loan: dict[int, list[Installment]] = defaultdict(list)
    for inst in Installment.objects.order_by("loan_id", "seq"):
        by_loan[inst.loan_id].append(inst)
    assert sum(len(v) for v in by_loan.values()) == generated["installments"]
    for loan in Loan.objects.all():
        rows = by_loan[loan.pk]
        assert [r.seq for r in rows] == list(range(1, loan.periods + 1))
        assert sum(r.principal_fen for r in rows) == loan.principal_fen
        assert rows[0].opening_principal_fen == loan.principal_fen
        for before, after in pairwise(rows):
            assert (
                after.opening_principal_fen == before.opening_principal_fen - before.principal_fen
            )
            assert after.due_date > before.due_date
        assert (loan.first_due_date, loan.maturity_date) == (rows[0].due_date, rows[-1].due_date)
        assert loan.start_date < loan.first_due_date
        assert all(r.interest_fen > 0 for r in rows)


def test_statuses_match_the_paid_columns_and_cob(generated: dict[str, int]) -> None:
    loans = {loan.pk: loan for loan in Loan.objects.all()}
    oldest: dict[int, date] = {}
    paid_principal: dict[int, int] = defaultdict(int)
    unpaid: dict[int, int] = defaultdict(int)
    for inst in Installment.objects.order_by("loan_id", "seq"):
        loan = loans[inst.loan_id]
        settled = (
            inst.paid_principal_fen == inst.principal_fen
            and inst.paid_interest_fen == inst.interest_fen
            and inst.paid_fee_fen == inst.fee_fen
        )
        paid_principal[loan.pk] += inst.paid_principal_fen
        if inst.status == "paid":
            assert settled and inst.paid_off_on is not None and inst.due_date <= CLOSED
            continue
        unpaid[loan.pk] += 1
        assert not settled and inst.paid_off_on is None
        if inst.status == "pending":
            assert inst.due_date > CLOSED
            assert inst.paid_principal_fen == inst.paid_interest_fen == 0
        else:
            late = (CLOSED - inst.due_date).days > loan.grace_days
            assert inst.status == ("overdue" if late else "due")
            if late:
                oldest.setdefault(loan.pk, inst.due_date)
    for loan in loans.values():
        assert loan.outstanding_principal_fen == loan.principal_fen - paid_principal[loan.pk]
        assert (loan.status == "closed") == (unpaid[loan.pk] == 0)
        if loan.status == "closed":
            assert loan.outstanding_principal_fen == 0 and loan.closed_at is not None
            continue
        assert loan.overdue_since == oldest.get(loan.pk)
        assert loan.status == ("overdue" if loan.pk in oldest else "active")
        expected_dpd = (CLOSED - oldest[loan.pk]).days if loan.pk in oldest else 0
        assert loan.days_past_due == expected_dpd
    # Realistic delinquency: mostly current, a few per cent late, ~1-2 % beyond 90 days.
    live = [v for v in loans.values() if v.status != "closed"]
    late = sum(1 for v in live if 0 < v.days_past_due <= 90) / len(live)
    severe = sum(1 for v in live if v.days_past_due > 90) / len(live)
    assert 0.01 < late < 0.10
    assert 0.003 < severe < 0.04
    products = {v.product_id for v in loans.values()}
    methods = {v.method for v in loans.values()}
    assert len(products) == 3 and len(methods) == 3
    starts = [v.start_date for v in loans.values()]
    assert (max(starts) - min(starts)).days > 600


def _cases() -> list[tuple[Any, ...]]:
    return sorted(
        CollectionCase.objects.values_list(
            "loan_id", "status", "bucket", "dpd", "overdue_fen", "priority", "team_id",
            "collector_id", "promise_date",
        )
    )  # fmt: skip


def test_cob_for_the_closed_date_changes_nothing(generated: dict[str, int], settings: Any) -> None:
    settings.LOANDESK_COB_ALLOW_FUTURE = True
    before = _content()
    cases = _cases()
    promises = sorted(PromiseToPay.objects.values_list("case_id", "status", "decided_on"))
    set_business_date(actor=None, new_date=CLOSED, allow_backwards=True)
    cob.run_cob(until=CLOSED)
    assert _content() == before
    # The collections step recomputes DPD, bucket, overdue amount and priority: the same, but
    # for the penalty that COB posts on this month end (the generated installments carry none).
    penalty: dict[int, int] = defaultdict(int)
    for loan_id, fen in (
        Installment.objects.filter(due_date__lte=CLOSED)
        .exclude(status="paid")
        .values_list("loan_id", "penalty_fen")
    ):
        penalty[loan_id] += fen
    after = _cases()
    assert [(*c[:4], *c[6:]) for c in after] == [(*c[:4], *c[6:]) for c in cases]
    for old, new in zip(cases, after, strict=True):
        assert new[4] == old[4] + penalty[old[0]]
        assert new[5] == collections.priority_score(new[4], new[3])
    assert sorted(PromiseToPay.objects.values_list("case_id", "status", "decided_on")) == promises


def test_repayments_account_for_every_paid_fen(generated: dict[str, int]) -> None:
    assert generated["repayments"] > COUNT and generated["allocations"] == generated["repayments"]
    allocated: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    dates: dict[tuple[int, int], set[date]] = defaultdict(set)
    reps = {r.pk: r for r in Repayment.objects.all()}
    assert len(reps) == generated["repayments"]
    per_rep: dict[int, int] = defaultdict(int)
    for a in RepaymentAllocation.objects.all():
        rep = reps[a.repayment_id]
        key = (rep.loan_id, a.seq)
        for k, fen in enumerate((a.principal_fen, a.interest_fen, a.fee_fen, a.penalty_fen)):
            allocated[key][k] += fen
        dates[key].add(rep.value_date)
        per_rep[rep.pk] += a.total_fen
        assert a.due_date == rep.value_date
    for rep in reps.values():
        split = rep.principal_fen + rep.interest_fen + rep.fee_fen + rep.penalty_fen
        assert rep.amount_fen == per_rep[rep.pk] == split and rep.credit_fen == 0
        assert rep.status == "posted" and rep.kind == "repayment"
        assert rep.channel in Repayment.Channel.values
    assert len({r.channel for r in reps.values()}) >= 4
    for inst in Installment.objects.all():
        key = (inst.loan_id, inst.seq)
        paid = [
            inst.paid_principal_fen, inst.paid_interest_fen, inst.paid_fee_fen,
            inst.paid_penalty_fen,
        ]  # fmt: skip
        # Exactly the paid columns, to the fen; nothing for what is unpaid.
        assert allocated.get(key, [0, 0, 0, 0]) == paid, key
        if any(paid):
            assert dates[key] == {inst.due_date}  # paid (in full or in part) on its due date
    partial = [i for i in Installment.objects.exclude(status="paid") if i.paid_principal_fen]
    assert partial  # some late borrowers paid part of the first missed installment


def test_one_open_case_per_overdue_loan_in_its_bucket(generated: dict[str, int]) -> None:
    overdue = {loan.pk: loan for loan in Loan.objects.filter(status="overdue")}
    cases = list(CollectionCase.objects.select_related("team"))
    assert generated["collection_cases"] == len(cases) == len(overdue) > 10
    assert {c.loan_id for c in cases} == set(overdue)
    assert all(c.status in OPEN_CASE_STATUSES for c in cases)
    m1 = collections.route_team("M1")
    escalated = collections.next_team(m1, "M2")
    assert m1 is not None and escalated is not None
    on = CLOSED
    for case in cases:
        loan = overdue[case.loan_id]
        assert (case.bucket, case.dpd) == (loan.bucket, loan.days_past_due)
        assert case.customer_id == loan.customer_id
        assert case.department_id == loan.department_id
        assert case.overdue_fen == collections.overdue_fen_of(loan.pk, on) > 0
        assert case.priority == collections.priority_score(case.overdue_fen, case.dpd)
        assert case.opened_bucket == "M1"
        assert case.team == (m1 if loan.bucket == "M1" else escalated)
        assert case.collector_id is not None
        events = list(case.actions.filter(kind="system").values_list("event", flat=True))
        assert "opened" in events
        assert ("escalated" in events) == (loan.bucket != "M1")
        assert case.actions.exclude(kind="system").exists()
    promises = list(PromiseToPay.objects.select_related("case"))
    assert {p.status for p in promises} == {"pending", "broken"}
    for p in promises:
        assert p.loan_id == p.case.loan_id and p.amount_fen > 0
        assert p.paid_before_fen == collections.loan_paid_fen(p.loan_id)
        if p.status == "pending":
            assert p.case.status == "promised" and p.case.promise_date == p.date > CLOSED
        else:
            assert p.date < CLOSED and p.decided_on is not None
    assert CollectionCase.objects.filter(status="promised").count() == sum(
        1 for p in promises if p.status == "pending"
    )
    assert CollectionAction.objects.count() == generated["collection_actions"]


def test_the_collector_workbench_lists_the_generated_cases(
    generated: dict[str, int], settings: Any
) -> None:
    collector = User.objects.get(username="collector")
    set_business_date(actor=None, new_date=portfolio.AS_OF, allow_backwards=True)
    mine = CollectionCase.objects.filter(collector=collector, status__in=OPEN_CASE_STATUSES)
    assert mine.count() > 0
    today = list(selectors.search_cases(actor=collector, view="today"))
    assert {c.pk for c in today} == set(mine.values_list("pk", flat=True))
    rows = selectors.case_rows(today[:20])
    assert all(r["bucket"] for r in rows)


def test_same_rows_for_the_same_seed_on_every_engine(generated: dict[str, int]) -> None:
    # The constant was recorded by another process: the same seed gives the same rows in
    # every run, and SQLite and PostgreSQL runs share it, so both engines hold the same rows.
    assert _digest() == DIGEST, connection.vendor


def test_the_applications_are_the_same_for_the_same_seed(generated: dict[str, int]) -> None:
    applications = _applications()
    assert len(applications) == generated["record"] + generated["other_record"]
    assert applications_digest() == APPLICATIONS_DIGEST, connection.vendor


def test_the_repayments_are_the_same_for_the_same_seed(generated: dict[str, int]) -> None:
    assert len(_repayments()) == generated["repayments"] + generated["allocations"]
    assert repayments_digest() == REPAYMENTS_DIGEST, connection.vendor


def test_refuses_a_second_portfolio(generated: dict[str, int]) -> None:
    with pytest.raises(RuntimeError):
        portfolio.generate(10, log=False)
