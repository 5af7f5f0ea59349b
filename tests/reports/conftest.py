"""Report fixtures: the demo organisation plus a generated book written straight into the tables
(loans with their installments over the past 400 days, several officers, departments, products,
buckets and channels; COB snapshots; channel costs), on a fixed business date."""

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from loandesk.accounts.models import Department, Role, User
from loandesk.core.services import set_business_date
from loandesk.customers.models import Customer
from loandesk.lending.models import Installment, Loan, Product
from loandesk.postloan.models import PortfolioSnapshot
from loandesk.reports.models import ChannelCost
from tests.demo_snapshot import Snapshot, seed_for_test

TODAY = date(2026, 11, 20)
BUCKETS = [("M0", 0, 0), ("M1", 1, 30), ("M2", 31, 60), ("M3", 61, 90), ("M3+", 91, 10_000)]


def bucket_of(dpd: int) -> str:
    return next(code for code, lo, hi in BUCKETS if lo <= dpd <= hi)


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, min(d.day, 28))


def generate(users: list[User], n_loans: int = 90, seed: int = 7) -> list[Loan]:
    rnd = random.Random(seed)
    products = list(Product.objects.order_by("id"))
    made: list[Loan] = []
    for k in range(n_loans):
        owner = users[k % len(users)]
        customers = list(Customer.objects.filter(owner=owner).order_by("id")[:6])
        customer = rnd.choice(customers)
        principal = rnd.randrange(10, 500) * 100_000
        disbursed = datetime(2026, 11, 19, 6, tzinfo=UTC) - timedelta(
            days=rnd.randrange(0, 400), hours=rnd.randrange(0, 20)
        )
        start = disbursed.date()
        dpd = rnd.choice([0, 0, 0, 0, 5, 20, 30, 31, 45, 75, 95, 130])
        status = rnd.choice(["active", "active", "overdue", "closed"]) if dpd == 0 else "overdue"
        outstanding = 0 if status == "closed" else rnd.randrange(1, 101) * principal // 100
        loan = Loan.objects.create(
            contract_no=f"RPT{seed:02d}{k:05d}",
            customer=customer,
            product=rnd.choice(products),
            owner=owner,
            department=owner.department,
            principal_fen=principal,
            annual_rate=Decimal("12"),
            periods=6,
            method="equal_principal",
            frequency="monthly",
            start_date=start,
            first_due_date=_add_months(start, 1),
            maturity_date=_add_months(start, 6),
            apr=Decimal("12"),
            cap_rate=Decimal("36"),
            penalty_rate=Decimal("18"),
            grace_days=3,
            status=status,
            outstanding_principal_fen=outstanding,
            days_past_due=dpd if status != "closed" else 0,
            bucket=bucket_of(dpd if status != "closed" else 0),
            classification=rnd.choice(["normal", "normal", "special_mention", "substandard"]),
            created_by=owner,
            disbursed_at=disbursed,
        )
        rows = []
        for seq in range(1, 7):
            due = _add_months(start, seq)
            paid = rnd.random() < 0.7
            late = rnd.random() < 0.3
            paid_on = (due + timedelta(days=rnd.randrange(1, 20) if late else -1)) if paid else None
            rows.append(
                Installment(
                    loan=loan,
                    seq=seq,
                    due_date=due,
                    days=30,
                    opening_principal_fen=principal,
                    principal_fen=principal // 6,
                    interest_fen=1000,
                    paid_principal_fen=principal // 6 if paid else 0,
                    paid_interest_fen=1000 if paid else 0,
                    status="paid" if paid else ("overdue" if due <= TODAY else "pending"),
                    paid_off_on=paid_on,
                )
            )
        Installment.objects.bulk_create(rows)
        made.append(loan)
    return made


def collections(loans: list[Loan], collector: User, seed: int = 11) -> None:
    """Posted and reversed repayments, collection cases (some closed as paid), promises to pay
    (kept, broken, pending), written straight into their tables."""
    from loandesk.lending.models import Repayment
    from loandesk.postloan.models import CollectionCase, PromiseToPay

    rnd = random.Random(seed)
    for i, loan in enumerate(loans):
        for k in range(rnd.randrange(0, 3)):
            amount = rnd.randrange(1, 50) * 10_000
            Repayment.objects.create(
                loan=loan,
                amount_fen=amount,
                principal_fen=amount,
                value_date=TODAY - timedelta(days=rnd.randrange(0, 300)),
                channel="bank_transfer",
                status="reversed" if k == 1 and i % 5 == 0 else "posted",
                idempotency_key=f"rpt-{seed}-{i}-{k}",
                created_by=collector,
            )
        if loan.days_past_due == 0:
            continue
        closed = rnd.random() < 0.4
        case = CollectionCase.objects.create(
            loan=loan,
            customer=loan.customer,
            collector=collector if i % 2 else loan.owner,
            department=loan.department,
            opened_bucket=loan.bucket,
            bucket=loan.bucket,
            dpd=loan.days_past_due,
            status="closed" if closed else "open",
            close_reason=rnd.choice(["paid", "paid", "manual"]) if closed else "",
        )
        CollectionCase.objects.filter(pk=case.pk).update(
            opened_at=datetime(2026, 11, 1, 4, tzinfo=UTC) - timedelta(days=rnd.randrange(0, 200))
        )
        for j, status in enumerate(rnd.sample(["kept", "broken", "pending", "kept"], 2)):
            day = TODAY - timedelta(days=rnd.randrange(1, 120))
            PromiseToPay.objects.create(
                case=case,
                loan_id=loan.pk,
                date=day,
                amount_fen=100_000 + j,
                paid_before_fen=0,
                status=status,
                created_on=day - timedelta(days=3),
                decided_on=day + timedelta(days=1) if status != "pending" else None,
            )


def snapshots() -> None:
    depts = list(Department.objects.filter(name__in=["北京一组", "上海一组"]))
    products = list(Product.objects.order_by("id")[:2])
    rows = []
    for day in (date(2026, 9, 30), date(2026, 10, 15), date(2026, 10, 31), date(2026, 11, 19)):
        for i, dept in enumerate(depts):
            for j, product in enumerate(products):
                for bucket, overdue in (("M0", 0), ("M1", 1)):
                    base = (day.day + i * 7 + j * 3) * 100_000
                    rows.append(
                        PortfolioSnapshot(
                            date=day,
                            department=dept,
                            product=product,
                            bucket=bucket,
                            loan_count=3 + i + j,
                            outstanding_principal_fen=base,
                            overdue_principal_fen=base // 4 if overdue else 0,
                        )
                    )
    PortfolioSnapshot.objects.bulk_create(rows)


def _make_book(demo: dict[str, Any]) -> dict[str, Any]:
    set_business_date(actor=None, new_date=TODAY, allow_backwards=True)
    users: dict[str, User] = demo["users"]
    depts: dict[str, Department] = demo["departments"]
    officer3 = User.objects.create(
        username="officer3", full_name="刘三", department=depts["北京二组"]
    )
    officer3.roles.set([Role.objects.get(code="officer")])
    for i, customer in enumerate(Customer.objects.filter(owner=users["officer1"])[:3]):
        Customer.objects.filter(pk=customer.pk).update(
            owner=officer3, department=depts["北京二组"], source_channel=["online", "", "phone"][i]
        )
    owners = [users["officer1"], users["officer2"], officer3]
    loans = generate(owners)
    collections(loans, users["collector"])
    snapshots()
    ChannelCost.objects.bulk_create(
        [
            ChannelCost(channel="online", month=date(2026, 10, 1), cost_fen=1_200_000),
            ChannelCost(channel="phone", month=date(2026, 10, 1), cost_fen=300_000),
            ChannelCost(channel="online", month=date(2026, 11, 1), cost_fen=900_000),
        ]
    )
    return {"loan_ids": [loan.pk for loan in loans]}


@pytest.fixture(scope="module")
def _module_book(
    django_db_setup: None, django_db_blocker: Any, demo_snapshot: Snapshot | None
) -> Iterator[dict[str, Any]]:
    """Opt-in per module (`pytestmark = pytest.mark.usefixtures("_module_book")`, for modules
    whose every test can live with the book): the demo organisation and the book made once per
    module (seconds on PostgreSQL), in a transaction that each test's own rolled-back
    transaction nests in (a module fixture is set up before the test's database fixture);
    rolled back after the module's last test."""

    with django_db_blocker.unblock(), transaction.atomic():
        seed_for_test(demo_snapshot)
        yield _make_book(_demo_rows())
        transaction.set_rollback(True)


def _demo_rows() -> dict[str, Any]:
    return {
        "users": {u.username: u for u in User.objects.all()},
        "departments": {d.name: d for d in Department.objects.all()},
    }


@pytest.fixture
def demo(
    request: pytest.FixtureRequest, db: None, demo_snapshot: Snapshot | None
) -> dict[str, Any]:
    """The demo organisation, read afresh for each test (in a shared-book module a test's
    changes roll back with it, and none of its in-memory objects reach the next test)."""
    if "_module_book" not in request.fixturenames:
        seed_for_test(demo_snapshot)
    return _demo_rows()


@pytest.fixture
def book(request: pytest.FixtureRequest, demo: dict[str, Any]) -> dict[str, Any]:
    if "_module_book" in request.fixturenames:
        ids = request.getfixturevalue("_module_book")["loan_ids"]
        # The business date is cached per process: set it again inside this test.
        set_business_date(actor=None, new_date=TODAY, allow_backwards=True)
    else:
        ids = _make_book(demo)["loan_ids"]
    users = User.objects.in_bulk(field_name="username")
    loans = list(Loan.objects.filter(pk__in=ids).order_by("pk"))
    owners = [users["officer1"], users["officer2"], users["officer3"]]
    return {**_demo_rows(), "loans": loans, "officer3": users["officer3"], "owners": owners}
