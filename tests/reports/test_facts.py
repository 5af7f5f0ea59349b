"""The portfolio fact table (reports.facts, ADR 0012): every write that moves a loan's numbers
moves the facts in the same transaction (ORM saves, queryset and bulk updates, deletes, the real
disbursement, repayment, back-dated repayment, reversal and COB services), compaction keeps the
sums, and every widget of the four shipped dashboards answers the same through the facts as
through the raw loans — for every demo role's data scope, several periods and filters, on a
book with today's activity and back-dated changes."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from loandesk.accounts.models import Department, User
from loandesk.customers.models import Customer
from loandesk.flows.demo import seed_samples
from loandesk.flows.models import FlowInstance
from loandesk.forms.models import FormDefinition, Record
from loandesk.lending import repayments
from loandesk.lending.models import Installment, Loan
from loandesk.postloan import cob
from loandesk.reports import facts
from loandesk.reports.demo import DASHBOARDS
from loandesk.reports.models import DailyFact, MonthEndFact, PortfolioFact
from loandesk.reports.query import parse_query, run_query
from tests.lending.conftest import lending  # noqa: F401
from tests.postloan.conftest import START, make_loan, set_date
from tests.reports.conftest import TODAY, bucket_of

pytestmark = pytest.mark.django_db

LIVE = ("active", "overdue")
Key = tuple[Any, ...]


def dpd_class(dpd: int) -> int:
    return 3 if dpd > 90 else 2 if dpd > 30 else 1 if dpd > 0 else 0


def loans_by_key() -> dict[Key, tuple[int, int]]:
    """The live book grouped by the fact key, straight from the loans."""
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for dept, owner, product, bucket, cls, dpd, outstanding in Loan.objects.filter(
        status__in=LIVE
    ).values_list(
        "department_id",
        "owner_id",
        "product_id",
        "bucket",
        "classification",
        "days_past_due",
        "outstanding_principal_fen",
    ):
        got = out[(dept, owner, product, bucket, cls, dpd_class(dpd))]
        got[0] += 1
        got[1] += outstanding
    return {k: (n, o) for k, (n, o) in out.items()}


def facts_by_key() -> dict[Key, tuple[int, int]]:
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for row in PortfolioFact.objects.values_list(
        "department_id",
        "owner_id",
        "product_id",
        "bucket",
        "classification",
        "dpd_class",
        "loans",
        "outstanding_fen",
    ):
        got = out[row[:6]]
        got[0] += row[6]
        got[1] += row[7]
    return {k: (n, o) for k, (n, o) in out.items() if n or o}


def daily_by_key() -> dict[Key, tuple[int, int, int]]:
    """Customers, disbursements and due installments per day and key, from the raw rows."""
    zone = ZoneInfo(facts.FACT_TIME_ZONE)
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for created, dept, owner, channel, region in Customer.objects.exclude(
        status="merged"
    ).values_list("created_at", "department_id", "owner_id", "source_channel", "province_code"):
        day = created.astimezone(zone).date()
        out[("customer", day, dept, owner, None, channel, region)][0] += 1
        out[("customer_m", day.replace(day=1), dept, owner, None, channel, region)][0] += 1
    for day, dept, owner, product, principal in Loan.objects.values_list(
        "start_date", "department_id", "owner_id", "product_id", "principal_fen"
    ):
        got = out[("disbursement", day, dept, owner, product, "", "")]
        got[0] += 1
        got[1] += principal
    for due, dept, owner, product, status, paid_on in Installment.objects.values_list(
        "due_date",
        "loan__department_id",
        "loan__owner_id",
        "loan__product_id",
        "status",
        "paid_off_on",
    ):
        got = out[("due", due, dept, owner, product, "", "")]
        got[0] += 1
        got[2] += status == "paid" and paid_on is not None and paid_on <= due
    for created, dept, owner in Record.objects.filter(form__kind="application").values_list(
        "created_at", "department_id", "owner_id"
    ):
        day = created.astimezone(zone).date()
        out[("applied", day, dept, owner, None, "", "")][0] += 1
        out[("applied_m", day.replace(day=1), dept, owner, None, "", "")][0] += 1
    for finished, dept, initiator, status in FlowInstance.objects.filter(
        status__in=("approved", "rejected"), finished_at__isnull=False
    ).values_list("finished_at", "department_id", "initiator_id", "status"):
        day = finished.astimezone(zone).date()
        for key in (("decided", day), ("decided_m", day.replace(day=1))):
            got = out[(*key, dept, initiator, None, "", "")]
            got[0] += 1
            got[2] += status == "approved"
    return {k: (a, b, c) for k, (a, b, c) in out.items() if a or b or c}


def daily_facts_by_key() -> dict[Key, tuple[int, int, int]]:
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in DailyFact.objects.values_list(
        "source",
        "day",
        "department_id",
        "owner_id",
        "product_id",
        "channel",
        "region",
        "n",
        "amount_fen",
        "ok",
    ):
        got = out[row[:7]]
        for i in range(3):
            got[i] += row[7 + i]
    return {k: (a, b, c) for k, (a, b, c) in out.items() if a or b or c}


def assert_in_step() -> None:
    expected = loans_by_key()
    assert expected, "the scenario should have live loans"
    assert facts_by_key() == expected
    daily = daily_by_key()
    assert {k[0] for k in daily} >= {"customer", "customer_m", "disbursement", "due"}
    assert daily_facts_by_key() == daily


# --- maintenance ---------------------------------------------------------------------------


def test_orm_writes_move_the_facts(book: dict[str, Any]) -> None:
    assert_in_step()  # the reports book: Loan.objects.create + a back-dated history
    loans: list[Loan] = book["loans"]
    live = [x for x in loans if x.status in LIVE]
    before = PortfolioFact.objects.count()

    # A save that changes nothing the facts hold writes no fact row.
    live[0].annual_rate = live[0].annual_rate
    live[0].save()
    assert PortfolioFact.objects.count() == before

    live[0].outstanding_principal_fen -= 1
    live[0].save()  # a repayment of principal
    assert_in_step()

    Loan.objects.filter(pk=live[1].pk).update(days_past_due=45, bucket="M2", status="overdue")
    assert_in_step()  # COB moving a loan to another bucket and PAR class

    Loan.objects.filter(pk=live[2].pk).update(status="closed", outstanding_principal_fen=0)
    assert_in_step()  # paid off

    Loan.objects.filter(pk=live[3].pk).update(status="written_off")
    assert_in_step()  # 核销

    officer3: User = book["officer3"]
    Loan.objects.filter(pk__in=[live[4].pk, live[5].pk]).update(
        owner=officer3, department=officer3.department
    )
    assert_in_step()  # a transfer of the book to another officer

    for loan in live[6:12]:
        loan.classification = "doubtful"
    Loan.objects.bulk_update(live[6:12], ["classification"])
    assert_in_step()

    closed = next(x for x in loans if x.status == "closed")
    Loan.objects.filter(pk=closed.pk).update(status="active", outstanding_principal_fen=12_345)
    assert_in_step()  # a reopened loan (reversal of the payment that closed it)

    # Installments: paid on time, paid late, a payment reversed, a due date moved.
    first, second, third = Installment.objects.filter(loan=live[14]).order_by("seq")[:3]
    Installment.objects.filter(pk=first.pk).update(status="paid", paid_off_on=first.due_date)
    Installment.objects.filter(pk=second.pk).update(
        status="paid", paid_off_on=second.due_date + timedelta(days=3)
    )
    assert_in_step()
    Installment.objects.filter(pk=first.pk).update(status="overdue", paid_off_on=None)
    Installment.objects.filter(pk=third.pk).update(due_date=third.due_date + timedelta(days=9))
    assert_in_step()
    Loan.objects.filter(pk=live[15].pk).update(
        start_date=TODAY, principal_fen=live[15].principal_fen + 100
    )
    Loan.objects.filter(pk=live[16].pk).update(product=live[17].product)  # re-keys its dues
    assert_in_step()

    # Customers: a transfer, a new channel and region, a merge, a back-dated creation.
    customers = list(Customer.objects.order_by("id")[:4])
    Customer.objects.filter(pk=customers[0].pk).update(
        owner=officer3, department=officer3.department
    )
    Customer.objects.filter(pk=customers[1].pk).update(
        source_channel="phone", province_code="310000"
    )
    Customer.objects.filter(pk=customers[2].pk).update(status="merged")
    Customer.objects.filter(pk=customers[3].pk).update(
        created_at=customers[3].created_at - timedelta(days=40, hours=15)
    )
    assert_in_step()

    spare = Loan.objects.get(pk=live[13].pk)
    spare.pk = None
    spare.contract_no = "SPARE0001"
    spare.save()
    rows = list(Installment.objects.filter(loan=live[13]).order_by("seq"))
    for row in rows:
        row.pk = None
        row.loan = spare
    Installment.objects.bulk_create(rows)
    assert_in_step()
    spare.delete()  # the ORM deletes its installments first, then the loan
    assert_in_step()


def test_compaction_keeps_every_sum_and_folds_the_deltas(book: dict[str, Any]) -> None:
    live = [x for x in book["loans"] if x.status in LIVE]
    for loan in live[:10]:
        Loan.objects.filter(pk=loan.pk).update(days_past_due=5, bucket="M1", status="overdue")
        Loan.objects.filter(pk=loan.pk).update(days_past_due=6)  # same class: no fact row
        Loan.objects.filter(pk=loan.pk).update(days_past_due=40, bucket="M2")
    expected = loans_by_key()
    grown = PortfolioFact.objects.count()
    daily = daily_by_key()
    left = facts.compact()
    assert left["reports_portfoliofact"] == PortfolioFact.objects.count() == len(expected) < grown
    assert left["reports_dailyfact"] == DailyFact.objects.count() == len(daily)
    assert facts_by_key() == expected
    assert daily_facts_by_key() == daily
    assert facts.compact() == left  # idempotent
    assert facts_by_key() == expected


def test_compaction_refolds_only_the_days_with_new_deltas(book: dict[str, Any]) -> None:
    facts.compact()
    folded = dict(DailyFact.objects.values_list("id", "day"))
    assert folded and not DailyFact.objects.filter(folded__isnull=True).exists()
    # One installment paid: a delta for its due day ("due" source) only.
    inst = Installment.objects.filter(loan__status__in=LIVE, status="pending").first()
    assert inst is not None
    Installment.objects.filter(pk=inst.pk).update(
        paid_principal_fen=inst.principal_fen,
        paid_interest_fen=inst.interest_fen,
        paid_fee_fen=inst.fee_fen,
        status="paid",
        paid_off_on=inst.due_date,
    )
    touched = set(
        DailyFact.objects.filter(folded__isnull=True).values_list("source", "day").distinct()
    )
    assert touched == {("due", inst.due_date)}
    daily = daily_by_key()
    facts.compact()
    assert daily_facts_by_key() == daily
    after = dict(DailyFact.objects.values_list("id", "day"))
    # Every other day's folded rows were left as they were (same ids); the due day's refolded.
    assert {i: d for i, d in folded.items() if d != inst.due_date} == {
        i: d for i, d in after.items() if i in folded and d != inst.due_date
    }
    assert all(d == inst.due_date for i, d in after.items() if i not in folded)
    assert not DailyFact.objects.filter(folded__isnull=True).exists()
    ids = set(after)
    facts.compact()  # nothing new: nothing rewritten
    assert set(DailyFact.objects.values_list("id", flat=True)) == ids


def test_rebuild_writes_the_sums_the_triggers_kept_folded(decided_book: dict[str, Any]) -> None:
    merged = Customer.objects.exclude(status="merged").order_by("pk").first()
    assert merged is not None
    Customer.objects.filter(pk=merged.pk).update(status="merged")  # leaves the customer facts
    # 17:30 UTC is the next day (and here the next month) in China: the rebuild must count the
    # customer on the local date, as the triggers do.
    late = Customer.objects.exclude(status="merged").order_by("-pk").first()
    assert late is not None
    Customer.objects.filter(pk=late.pk).update(created_at=datetime(2026, 1, 31, 17, 30, tzinfo=UTC))
    expected, daily = facts_by_key(), daily_facts_by_key()
    assert expected == loans_by_key() and daily == daily_by_key()
    assert {"applied", "applied_m", "decided", "decided_m"} <= {k[0] for k in daily}
    assert (
        "customer_m",
        date(2026, 2, 1),
        late.department_id,
        late.owner_id,
        None,
        late.source_channel,
        late.province_code,
    ) in daily
    written = facts.rebuild()
    # Every closed month end restated too (tests/reports/test_month_end.py checks the counts).
    assert written.pop("reports_monthendfact") == MonthEndFact.objects.count() > 0
    assert written == {
        "reports_portfoliofact": len(expected),
        "reports_dailyfact": len(daily),
    }
    assert facts_by_key() == expected
    assert daily_facts_by_key() == daily
    # One row per key, all folded: the next compaction has nothing to do.
    assert not DailyFact.objects.filter(folded__isnull=True).exists()
    assert facts.compact() == written


def test_writes_with_the_triggers_suspended_are_counted_by_the_rebuild(
    book: dict[str, Any],
) -> None:
    facts.compact()
    if connection.vendor == "postgresql":
        # The test's transaction holds deferred foreign-key checks, and PostgreSQL alters no
        # table with pending trigger events (the bulk load calls it outside any transaction).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    before = (PortfolioFact.objects.count(), DailyFact.objects.count())
    live = [x for x in book["loans"] if x.status in LIVE]
    triggers = fact_triggers()
    assert set(triggers) == facts.TRIGGERS
    with facts.triggers_suspended():
        Loan.objects.filter(pk=live[0].pk).update(days_past_due=45, bucket="M2", status="overdue")
        Loan.objects.filter(pk=live[1].pk).update(status="closed", outstanding_principal_fen=0)
        Installment.objects.filter(loan=live[2], status="pending").delete()
        Customer.objects.filter(pk=live[3].customer_id).update(source_channel="bulk-load")
        # Nothing written to the facts while suspended ...
        assert (PortfolioFact.objects.count(), DailyFact.objects.count()) == before
        assert facts_by_key() != loans_by_key()
    # ... and everything counted once it ends, with every trigger back as it was.
    assert fact_triggers() == triggers
    assert_in_step()
    assert not DailyFact.objects.filter(folded__isnull=True).exists()
    # The triggers are back: the next write moves the facts again.
    Loan.objects.filter(pk=live[4].pk).update(days_past_due=100, bucket="M3+", status="overdue")
    assert PortfolioFact.objects.filter(dpd_class=3).exists()
    assert_in_step()


def fact_triggers() -> dict[str, str]:
    """The report fact triggers on the tables a bulk load writes: name → definition (SQLite) or
    enabled state (PostgreSQL). (Migration 0008's trigger on core_businessdate is not one.)"""
    tables = list(facts._TRIGGER_TABLES)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger"
                " WHERE NOT tgisinternal AND tgname LIKE 'reports%%'"
                " AND tgrelid = ANY(%s::regclass[])",
                [tables],
            )
        else:
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                f" AND name LIKE 'reports%%' AND tbl_name IN ({marks})",
                tables,
            )
        return {name: str(value) for name, value in cursor.fetchall()}


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_suspending_refuses_when_a_trigger_is_already_gone(book: dict[str, Any]) -> None:
    """A load killed while suspended leaves SQLite without the triggers: the next load must
    not run (and rebuild once) as if they were there."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER reports_daily_fact_installment_update")
    with (
        pytest.raises(RuntimeError, match="reports_daily_fact_installment_update"),
        facts.triggers_suspended(),
    ):
        pytest.fail("ran with a trigger missing")
    assert len(fact_triggers()) == len(facts.TRIGGERS) - 1  # nothing else dropped


def test_services_move_the_facts(lending: dict[str, Any]) -> None:  # noqa: F811
    """The real disbursement, repayment (today's and back-dated), reversal and COB services."""
    set_date(START)
    made = [
        make_loan(lending, start=START),
        make_loan(lending, start=date(2026, 1, 5), customer="c2"),
        make_loan(lending, start=date(2026, 1, 8), product="sme_operating", amount="200000"),
    ]
    assert_in_step()
    set_date(date(2026, 3, 19))
    cob.run_cob(until=date(2026, 3, 19))  # instalments fall due, loans go overdue, buckets
    assert_in_step()
    assert Loan.objects.filter(status="overdue").exists()

    finance = lending["users"]["finance"]

    def post(loan: Loan, amount_fen: int, on: date) -> Any:
        return repayments.post_repayment(
            actor=finance,
            loan_id=loan.pk,
            amount_fen=amount_fen,
            value_date=on,
            channel="bank_transfer",
        )

    today = post(made[0], 900_000, date(2026, 3, 20))
    assert_in_step()
    post(made[1], 1_800_000, date(2026, 2, 12))  # back-dated: replays the loan from then
    assert_in_step()
    repayments.reverse_repayment(actor=finance, repayment_id=today.pk, reason="错账红冲")
    assert_in_step()
    cob.run_cob(until=date(2026, 4, 30))  # catching up six weeks: DPD, buckets, PAR classes
    assert_in_step()
    facts.compact()
    assert_in_step()
    # The engine answers the stock KPIs from the facts, identically to the loans.
    gm = lending["users"]["gm"]
    for metric in ("outstanding_principal", "overdue_rate", "par30", "overdue_loans"):
        for dimension in (None, "org", "bucket", "product"):
            payload = {"metrics": [metric], "dimension": dimension}
            fast, raw, used = both(gm, payload)
            assert used and fast == raw, (metric, dimension)


# --- the engine: facts vs raw loans --------------------------------------------------------


def both(
    actor: User, payload: dict[str, Any], table: str = "reports_portfoliofact"
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(answer through the facts, answer from the raw tables, whether `table` was read)."""
    connection.queries_log.clear()  # a bounded log: keep the captured slices exact
    with override_settings(LOANDESK_REPORT_FACTS=True), CaptureQueriesContext(connection) as q:
        fast = run_query(actor=actor, query=parse_query(payload))
    used = any(table in x["sql"] for x in q.captured_queries)
    with override_settings(LOANDESK_REPORT_FACTS=False), CaptureQueriesContext(connection) as q:
        raw = run_query(actor=actor, query=parse_query(payload))
    assert not any("reports_" in x["sql"] and "fact" in x["sql"] for x in q.captured_queries)
    return fast, raw, used


@pytest.fixture
def busy_book(book: dict[str, Any]) -> dict[str, Any]:
    """The reports book plus today's activity and back-dated changes: loans disbursed today,
    payments today, a loan closed, one reopened, buckets moved, one written off."""
    loans: list[Loan] = book["loans"]
    live = [x for x in loans if x.status in LIVE]
    for i, template in enumerate(live[:4]):
        template.pk = None
        template.contract_no = f"TODAY{i:03d}"
        template.start_date = TODAY
        template.status = "active"
        template.days_past_due = 0
        template.bucket = bucket_of(0)
        template.outstanding_principal_fen = template.principal_fen
        template.save()
    for loan in live[4:10]:
        Loan.objects.filter(pk=loan.pk).update(
            outstanding_principal_fen=loan.outstanding_principal_fen // 2
        )
    Loan.objects.filter(pk=live[10].pk).update(status="closed", outstanding_principal_fen=0)
    closed = next(x for x in loans if x.status == "closed")
    Loan.objects.filter(pk=closed.pk).update(
        status="overdue", outstanding_principal_fen=closed.principal_fen // 3, days_past_due=33
    )
    Loan.objects.filter(pk=live[11].pk).update(days_past_due=95, bucket="M3+")
    Loan.objects.filter(pk=live[12].pk).update(status="written_off")
    facts.compact()
    Loan.objects.filter(pk=live[13].pk).update(days_past_due=0, bucket="M0")  # after compaction
    assert_in_step()
    return book


@pytest.fixture
def decided_book(busy_book: dict[str, Any]) -> dict[str, Any]:
    """busy_book plus applications: the demo's samples in every flow state, made through the
    real services, and copies of them over twelve months, three owners and their departments,
    each created (and decided) at 17:30 UTC on a month's last day — the next local day and
    month in China."""
    seed_samples()
    owners: list[User] = busy_book["owners"]
    instances = list(FlowInstance.objects.order_by("pk"))
    assert {"approved", "rejected", "running"} <= {x.status for x in instances}
    for n in range(1, 27):
        src = instances[n % len(instances)]
        owner = owners[n % len(owners)]
        record = Record.objects.get(pk=src.record_id)
        record.pk, record.status_token = None, None
        record.serial_no = f"{record.serial_no}-{n}"
        record.owner, record.department = owner, owner.department
        record.save()
        month_end = date(2026, 11, 1) - timedelta(days=1 + 30 * (n % 13))
        created = datetime(month_end.year, month_end.month, month_end.day, 17, 30, tzinfo=UTC)
        Record.objects.filter(pk=record.pk).update(created_at=created)
        decided = src.status in ("approved", "rejected")
        FlowInstance.objects.create(
            version=src.version,
            record=record,
            initiator=owner,
            department=owner.department,
            title=src.title,
            status=src.status,
            started_at=created - timedelta(days=2),
            finished_at=created if decided else None,
        )
    assert_in_step()
    return busy_book


def test_applications_and_decisions_move_the_facts(decided_book: dict[str, Any]) -> None:
    """Record and instance inserts, updates and deletes, and a form's kind changing, move the
    application and approval facts in the same transaction."""
    daily = daily_facts_by_key()
    assert {"applied", "applied_m", "decided", "decided_m"} <= {k[0] for k in daily}
    officer3: User = decided_book["officer3"]
    record = Record.objects.filter(form__kind="application").order_by("pk").first()
    assert record is not None
    Record.objects.filter(pk=record.pk).update(owner=officer3, department=officer3.department)
    assert_in_step()
    running = FlowInstance.objects.filter(status="running").order_by("pk").first()
    assert running is not None
    FlowInstance.objects.filter(pk=running.pk).update(
        status="approved", finished_at=datetime(2026, 11, 19, 17, 30, tzinfo=UTC)
    )
    assert_in_step()
    approved = FlowInstance.objects.filter(status="approved").order_by("-pk").first()
    assert approved is not None
    FlowInstance.objects.filter(pk=approved.pk).update(status="rejected")  # ok moves, n stays
    assert_in_step()
    FlowInstance.objects.filter(pk=approved.pk).update(status="withdrawn", finished_at=None)
    assert_in_step()
    # Across a month end (the local date and month both move), to another initiator and
    # department.
    Record.objects.filter(pk=record.pk).update(created_at=datetime(2026, 8, 31, 16, 30, tzinfo=UTC))
    assert_in_step()
    FlowInstance.objects.filter(pk=approved.pk).update(status="approved")
    FlowInstance.objects.filter(pk=approved.pk).update(
        initiator=officer3, department=officer3.department
    )
    assert_in_step()
    # A change between undecided states writes nothing.
    before = DailyFact.objects.count()
    FlowInstance.objects.filter(status="running").update(status="returned")
    assert DailyFact.objects.count() == before
    form = FormDefinition.objects.get(pk=record.form_id)
    loose = Record.objects.create(form=form, version=record.version, owner=officer3, data={})
    assert_in_step()
    # A record moved to a form of another kind leaves the application facts, and back.
    other = FormDefinition.objects.exclude(kind="application").order_by("pk").first()
    assert other is not None
    Record.objects.filter(pk=loose.pk).update(form=other)
    assert_in_step()
    Record.objects.filter(pk=loose.pk).update(form=form)
    assert_in_step()
    # Several rows in one statement (PostgreSQL: one trigger call over the transition table).
    version = FlowInstance.objects.get(pk=approved.pk).version
    many = FlowInstance.objects.bulk_create(
        [
            FlowInstance(
                version=version,
                record=loose,
                initiator=officer3,
                department=officer3.department,
                title=f"批量{i}",
                status="approved" if i % 2 else "rejected",
                started_at=datetime(2026, 5, 1, tzinfo=UTC),
                finished_at=datetime(2026, 5, 1 + i, 17, tzinfo=UTC),
            )
            for i in range(6)
        ]
    )
    assert_in_step()
    FlowInstance.objects.filter(pk__in=[x.pk for x in many[:4]]).delete()
    assert_in_step()
    FlowInstance.objects.filter(pk__in=[x.pk for x in many[4:]]).delete()
    form.kind = "generic"
    form.save(update_fields=["kind"])  # every record of the form leaves the application facts
    assert_in_step()
    assert not [k for k in daily_facts_by_key() if k[0].startswith("applied")]
    form.kind = "application"
    form.save(update_fields=["kind"])
    assert_in_step()
    loose.delete()
    FlowInstance.objects.filter(pk=approved.pk).delete()
    assert_in_step()
    facts.compact()
    assert_in_step()
    assert daily_facts_by_key() == daily_by_key()
    # The funnel and the approval KPI are answered from the facts, identically to the raw rows.
    gm = User.objects.get(username="gm")
    for metrics in (["applications", "approvals_approved"], ["approval_rate"]):
        for dimension in (None, "org", "officer", "time"):
            payload = {
                "metrics": metrics,
                "dimension": dimension,
                "period": {"preset": "this_year"},
            }
            fast, raw, used = both(gm, payload, table="reports_dailyfact")
            assert used and fast == raw, (metrics, dimension)


def _widgets() -> list[tuple[str, dict[str, Any]]]:
    return [
        (d["code"], w)
        for d in DASHBOARDS
        for w in d["widgets"]
        if w["query"].get("metrics")  # vintage / roll rate are not metric queries
    ]


def _viewers() -> list[User]:
    from loandesk.accounts.scoping import has_perm
    from loandesk.reports.permissions import VIEW

    return [u for u in User.objects.order_by("username") if has_perm(u, VIEW)]


def test_every_widget_of_every_dashboard_same_through_facts(decided_book: dict[str, Any]) -> None:
    viewers = _viewers()
    scopes = {u.username for u in viewers}
    assert {"gm", "manager", "officer1", "risk"} <= scopes
    through_facts = 0
    for code, widget in _widgets():
        for viewer in viewers:
            for period in ("last_30_days", "this_month", "last_12_months"):
                payload = {**widget["query"], "period": {"preset": period}}
                fast, raw, used = both(viewer, payload)
                assert fast == raw, (code, widget["id"], viewer.username, period)
                through_facts += used
    assert through_facts > 100  # the portfolio widgets did go through the facts


def test_filters_and_drill_levels_same_through_facts(busy_book: dict[str, Any]) -> None:
    products = list(Loan.objects.values_list("product_id", flat=True).distinct())
    beijing = Department.objects.get(name="北京一组")
    top = Department.objects.filter(parent=None).order_by("id").first()
    assert top is not None
    officer1 = User.objects.get(username="officer1")
    filters: list[dict[str, Any]] = [
        {"product": products[:1]},
        {"bucket": ["M0", "M2"]},
        {"classification": ["normal", "substandard"]},
        {"org": beijing.pk},
        {"department_exact": beijing.pk},
        {"officer": [officer1.pk]},
        {"product": products[1:], "bucket": ["M1", "M3+"], "org": top.pk},
        {"channel": ["online"]},  # not in the fact key: read from the loans
        {"region": ["110000"]},
    ]
    portfolio = [
        "active_loans",
        "outstanding_principal",
        "overdue_loans",
        "overdue_principal",
        "overdue_rate",
        "par30",
        "par90",
    ]
    dims: list[dict[str, Any]] = [
        {},
        {"dimension": "org"},
        {"dimension": "org", "node": top.pk},
        {"dimension": "org", "node": beijing.pk},
        {"dimension": "officer"},
        {"dimension": "product", "series": "bucket"},
        {"dimension": "classification"},
        {"dimension": "channel"},  # not covered
    ]
    viewers = [User.objects.get(username=u) for u in ("gm", "manager", "officer1", "risk")]
    used_any = fallback = 0
    for viewer in viewers:
        for flt in filters:
            for dim in dims:
                metrics = portfolio[:1] if dim.get("series") else portfolio
                payload = {"metrics": metrics, "filters": flt, **dim}
                fast, raw, used = both(viewer, payload)
                assert fast == raw, (viewer.username, flt, dim)
                covered = not {"channel", "region"} & (set(flt) | set(dim.values()))
                assert used == covered, (viewer.username, flt, dim)
                used_any += used
                fallback += not used
    assert used_any and fallback
    # A metric mixing a covered and an uncovered source still answers the same.
    fast, raw, _ = both(
        viewers[0],
        {"metrics": ["outstanding_principal", "disbursement_amount"], "dimension": "product"},
    )
    assert fast == raw


def test_period_metrics_whole_months_and_partial_ends(decided_book: dict[str, Any]) -> None:
    """New customers over periods with whole months (monthly facts) and partial months at either
    end (daily facts), by every covered dimension and grain; disbursements, dues, applications
    and approvals too. Every metric × period × dimension; the viewer (scope) and the org filter
    laid over those as a Latin square, so every metric × dimension meets every viewer × filter
    pair over the six periods (the full product, six times as many queries, cost ~25 s per
    engine in CI)."""
    periods: list[Any] = [
        {"start": "2025-12-15", "end": "2026-10-31"},
        {"start": "2026-01-01", "end": "2026-11-20"},
        {"start": "2026-03-02", "end": "2026-03-30"},
        {"start": "2025-11-01", "end": "2026-04-30"},
        {"preset": "last_12_months"},
        {"preset": "this_year"},
    ]
    dims: list[dict[str, Any]] = [
        {},
        {"dimension": "time", "grain": "month"},
        {"dimension": "time", "grain": "quarter"},
        {"dimension": "time", "grain": "week"},
        {"dimension": "region"},
        {"dimension": "channel", "series": "time", "series_grain": "month"},
        {"dimension": "org"},
        {"dimension": "officer"},
    ]
    beijing = Department.objects.get(name="北京一组")
    viewers = [User.objects.get(username=u) for u in ("gm", "manager", "officer2")]
    used_any = 0
    filters: list[dict[str, Any]] = [{}, {"org": beijing.pk}]
    pairs = [(viewer, flt) for flt in filters for viewer in viewers]  # 6 = len(periods)
    met: dict[tuple[str, int], set[tuple[str, int]]] = {}
    queries = 0
    for metrics in (
        ["new_customers"],
        ["disbursement_amount", "disbursement_count"],
        ["on_time_rate", "due_installments"],
        ["applications"],
        ["approvals_decided", "approvals_approved", "approval_rate"],
    ):
        for p, period in enumerate(periods):
            for d, dim in enumerate(dims):
                if dim.get("series") and len(metrics) > 1:
                    continue
                if metrics[0] != "new_customers" and "channel" in dim.values():
                    continue
                # A Latin square: over the six periods each dimension meets all six pairs.
                viewer, flt = pairs[(p + d) % len(pairs)]
                payload = {
                    "metrics": metrics,
                    "period": period,
                    "filters": flt,
                    "compare": True,
                    **dim,
                }
                fast, raw, used = both(viewer, payload, table="reports_dailyfact")
                assert fast == raw, (metrics, viewer.username, period, dim, flt)
                used_any += used
                queries += 1
                met.setdefault((metrics[0], d), set()).add((viewer.username, len(flt)))
    assert len(pairs) == len(periods)
    assert all(len(seen) == len(pairs) for seen in met.values()), met
    assert used_any > queries * 3 // 4, (used_any, queries)  # most read the daily facts


def test_switch_off_reads_the_loans(busy_book: dict[str, Any]) -> None:
    gm = User.objects.get(username="gm")
    payload = {"metrics": ["outstanding_principal"], "dimension": "product"}
    with override_settings(LOANDESK_REPORT_FACTS=False), CaptureQueriesContext(connection) as q:
        run_query(actor=gm, query=parse_query(payload))
    assert not any("reports_portfoliofact" in x["sql"] for x in q.captured_queries)
    assert any("lending_loan" in x["sql"] for x in q.captured_queries)


def test_today_shows_at_once(busy_book: dict[str, Any]) -> None:
    """A loan disbursed now counts in the next read, without COB or compaction."""
    gm = User.objects.get(username="gm")
    payload = {"metrics": ["active_loans", "outstanding_principal"]}
    before, _, _ = both(gm, payload)
    template = Loan.objects.filter(status="active").order_by("id").first()
    assert template is not None
    template.pk = None
    template.contract_no = "NOW0001"
    template.start_date = TODAY + timedelta(days=0)
    template.outstanding_principal_fen = 1_000_000
    template.principal_fen = 1_000_000
    template.save()
    after, raw, used = both(gm, payload)
    assert used and after == raw
    assert after["totals"]["active_loans"] == before["totals"]["active_loans"] + 1
