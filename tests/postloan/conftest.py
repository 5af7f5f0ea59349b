"""Post-loan fixtures: loans made through the real disbursement service, the business date set
where a scenario starts, and a comparison of every column COB maintains."""

from datetime import date
from typing import Any

import pytest

from loandesk.core.models import OutboxEvent
from loandesk.core.services import set_business_date
from loandesk.lending import loans
from loandesk.lending.models import Installment, Loan
from loandesk.postloan.models import CobEventKey, PenaltyPosting, PortfolioSnapshot
from tests.lending.conftest import disburse_body, lending, service_kwargs  # noqa: F401

START = date(2026, 1, 10)  # first due 2026-02-10; consumer product: 3 grace days


def make_loan(
    ctx: dict[str, Any], *, start: date = START, customer: str = "c1", **over: Any
) -> Loan:
    body = disburse_body(ctx[customer], ctx["products"][over.pop("product", "consumer")])
    body.update({"start": start.isoformat(), **over})
    return loans.disburse(actor=ctx["users"]["finance"], **service_kwargs(body))


def set_date(d: date) -> None:
    set_business_date(actor=None, new_date=d, allow_backwards=True)


@pytest.fixture
def book(lending: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    """Seven loans of two customers and three products, started on different days."""
    set_date(START)
    made = [
        make_loan(lending, start=START),
        make_loan(lending, start=date(2026, 1, 5), customer="c2"),
        make_loan(lending, start=date(2025, 12, 20), periods=6),
        make_loan(lending, start=date(2026, 1, 12), product="sme_operating", amount="200000"),
        make_loan(lending, start=date(2025, 11, 30), customer="c2", periods=3),
        make_loan(lending, start=date(2026, 1, 1), amount="50000", periods=24),
        make_loan(
            lending,
            start=date(2026, 1, 8),
            customer="c2",
            product="short_bridge",
            amount="30000",
            periods=1,
            annual_rate="18",
        ),
    ]
    return {**lending, "loans": made}


def state() -> dict[str, Any]:
    """Every column COB writes, plus its events and snapshots, comparable across databases
    (ids are replaced by contract number and seq)."""
    loans_ = {
        l.contract_no: (
            l.status,
            l.overdue_since,
            l.days_past_due,
            l.bucket,
            l.classification,
            l.outstanding_principal_fen,
        )
        for l in Loan.objects.all()  # noqa: E741
    }
    insts = {
        (i.loan.contract_no, i.seq): (i.status, i.penalty_fen, i.paid_off_on)
        for i in Installment.objects.select_related("loan")
    }
    contract = dict(Loan.objects.values_list("id", "contract_no"))
    events = sorted(
        (
            e.topic,
            contract.get(int(e.aggregate_id)),
            e.payload.get("business_date"),
            e.payload.get("from"),
            e.payload.get("to"),
        )
        for e in OutboxEvent.objects.filter(topic__startswith="loan.").exclude(
            topic="loan.disbursed"
        )
    )
    keys = sorted(
        (k.topic, contract.get(k.loan_id), k.business_date) for k in CobEventKey.objects.all()
    )
    snaps = sorted(
        PortfolioSnapshot.objects.values_list(
            "date",
            "department_id",
            "product_id",
            "bucket",
            "loan_count",
            "outstanding_principal_fen",
            "overdue_principal_fen",
        )
    )
    postings = sorted(
        PenaltyPosting.objects.values_list(
            "installment__loan__contract_no", "installment__seq", "through"
        )
    )
    return {
        "loans": loans_,
        "installments": insts,
        "events": events,
        "keys": keys,
        "snapshots": snaps,
        "postings": postings,
    }
