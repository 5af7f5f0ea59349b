"""Shared set-up for the collections tests: overdue loans made by the real disbursement service
and closed by the real COB, teams, and collectors with the demo collector role."""

from datetime import date
from typing import Any

from loandesk.accounts.models import Role, User
from loandesk.lending.models import Installment, Loan
from loandesk.postloan import cob
from loandesk.postloan.models import CollectionTeam
from tests.factories import make_user
from tests.postloan.conftest import START, make_loan, set_date

FIRST_DUE = date(2026, 2, 10)  # loans started on START; consumer product: 3 grace days
OVERDUE_ON = date(2026, 2, 14)  # the first COB date on which the first installment is overdue


def overdue_loans(
    ctx: dict[str, Any], n: int = 1, customers: list[str] | None = None, **over: Any
) -> list[Loan]:
    """Loans (`n` of c1's, or one per customer key given) whose first installment is overdue
    after COB of OVERDUE_ON (DPD 4, M1); the business date is then OVERDUE_ON + 1."""
    set_date(START)
    made = [make_loan(ctx, customer=c, **over) for c in (customers or ["c1"] * n)]
    set_date(OVERDUE_ON)
    cob.run_cob(until=OVERDUE_ON)
    return [Loan.objects.get(pk=loan.pk) for loan in made]


def collector(username: str | None = None) -> User:
    """A user with the demo collector role (collections.work, self scope)."""
    role = Role.objects.get(code="collector")
    return make_user(username, roles=[role], full_name=username or "催收员")


def team(
    name: str,
    members: list[User],
    *,
    buckets: list[str] | None = None,
    order: int = 10,
    strategy: str = "round_robin",
    kind: str = "in_house",
    fixed: User | None = None,
) -> CollectionTeam:
    t = CollectionTeam.objects.create(
        name=name,
        kind=kind,
        buckets=buckets if buckets is not None else ["M1"],
        escalation_order=order,
        strategy=strategy,
        fixed_user=fixed,
    )
    t.members.set(members)
    return t


def pay(loan: Loan, fen: int) -> None:
    """What a repayment does to the schedule: fill paid columns, oldest installment first
    (principal then interest), up to `fen` (repayments are another engineer's module)."""
    left = fen
    for inst in Installment.objects.filter(loan=loan).order_by("seq"):
        if left <= 0:
            break
        p = min(inst.principal_fen - inst.paid_principal_fen, left)
        left -= p
        i = min(inst.interest_fen - inst.paid_interest_fen, left)
        left -= i
        Installment.objects.filter(pk=inst.pk).update(
            paid_principal_fen=inst.paid_principal_fen + p,
            paid_interest_fen=inst.paid_interest_fen + i,
        )
