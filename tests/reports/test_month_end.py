"""Month-end facts (reports.month_end, ADR 0013): what a taken month end holds equals the states
restated from the installments, loan by loan; the analyses read them and answer as the
restatement does; a month end is taken once, again when a write reaches into it or the buckets
change, and not for a change of owner; COB takes the month's end on its last day."""

import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from loandesk.core.services import set_business_date
from loandesk.lending.models import Installment, Loan, Repayment
from loandesk.postloan import cob
from loandesk.postloan.models import CollectionCase, DelinquencyBucket
from loandesk.reports import facts
from loandesk.reports import month_end as me
from loandesk.reports import vintage as v
from loandesk.reports.models import MonthEndClose, MonthEndFact
from tests.reports.conftest import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_module_book")]

PERIOD = {"start": "2025-10-01", "end": "2026-11-20"}
FIRST_END = date(2025, 10, 31)
LAST_END = date(2026, 10, 31)  # the last closed month end on the business date 2026-11-20

Key = tuple[date, date, int | None, int, int, str, str]


def closed_ends() -> list[date]:
    return me.all_closed_ends(TODAY)


def restated(ends: list[date]) -> Counter[Key]:
    """The facts the month ends should hold, from reports.vintage's per-loan states (the SQL
    the analyses used before the facts existed), loan by loan."""
    loans = {
        row["id"]: row
        for row in Loan.objects.values(
            "id", "start_date", "department_id", "owner_id", "product_id"
        )
    }
    out: Counter[Key] = Counter()
    for end in ends:
        before = v.state_map(Loan.objects.all(), me.previous_month_end(end))
        for loan_id, state in v.state_map(Loan.objects.all(), end).items():
            loan = loans[loan_id]
            key = (
                end,
                loan["start_date"].replace(day=1),
                loan["department_id"],
                loan["owner_id"],
                loan["product_id"],
                before.get(loan_id, me.NOT_ON_BOOK),
                state,
            )
            out[key] += 1
    return out


def held(ends: list[date]) -> Counter[Key]:
    """The cohort rows of these month ends, per key (checking the roll-rate rows on the way:
    the cohort rows with a bucket as previous state, summed over the cohorts)."""
    out: Counter[Key] = Counter()
    rolls: Counter[tuple[Any, ...]] = Counter()
    for row in MonthEndFact.objects.filter(month_end__in=ends, cohort__isnull=True).values():
        rolls[_roll_key(row)] += row["loans"]
    summed: Counter[tuple[Any, ...]] = Counter()
    for row in MonthEndFact.objects.filter(month_end__in=ends, cohort__isnull=False).values():
        if row["previous"] in {code for code, _ in v.buckets()}:
            summed[_roll_key(row)] += row["loans"]
    assert rolls == summed and all(n > 0 for n in rolls.values())
    for row in MonthEndFact.objects.filter(month_end__in=ends, cohort__isnull=False).values():
        key = (
            row["month_end"],
            row["cohort"],
            row["department_id"],
            row["owner_id"],
            row["product_id"],
            row["previous"],
            row["state"],
        )
        out[key] += row["loans"]
    return out


def _roll_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        row[k]
        for k in ("month_end", "department_id", "owner_id", "product_id", "previous", "state")
    )


def written_off(loan: Loan, at: datetime) -> None:
    Loan.objects.filter(pk=loan.pk).update(status="written_off", closed_at=at)


def overdue_loans(n: int) -> list[Loan]:
    return list(
        Loan.objects.filter(
            status="overdue",
            start_date__lt=date(2026, 2, 1),
            installments__paid_off_on__isnull=True,
        )
        .distinct()
        .order_by("id")[:n]
    )


def both_ways(call: Any, **kwargs: Any) -> tuple[Any, Any]:
    """(from the facts, restated from the installments)."""
    with override_settings(LOANDESK_REPORT_FACTS=True):
        fast = call(**kwargs)
    with override_settings(LOANDESK_REPORT_FACTS=False):
        slow = call(**kwargs)
    return fast, slow


def test_a_taken_month_end_holds_every_loan_in_its_state(book: dict[str, Any]) -> None:
    a, b = overdue_loans(2)
    written_off(a, datetime(2026, 5, 31, 15, 30, tzinfo=UTC))  # 23:30 on a month end in China
    written_off(b, datetime(2026, 5, 31, 16, 30, tzinfo=UTC))  # 00:30 the next day
    ends = closed_ends()
    assert ends[-1] == LAST_END and len(ends) >= 12
    loans = me.take(ends, v.buckets())
    want = restated(ends)
    assert held(ends) == want
    assert loans == sum(want.values())
    states = {k[6] for k in want}
    assert {"M0", "M1", "M2", "closed", "written_off"} <= states
    assert any(k[5] == me.NOT_ON_BOOK for k in want) and any(k[5] == "M1" for k in want)
    # The write-off at 23:30 local counts on 2026-05-31, the one at 00:30 from June.
    may, june = date(2026, 5, 31), date(2026, 6, 30)
    may_wo = sum(n for k, n in want.items() if k[0] == may and k[6] == "written_off")
    june_wo = sum(n for k, n in want.items() if k[0] == june and k[6] == "written_off")
    assert (may_wo, june_wo) == (1, 2)
    closes = MonthEndClose.objects.filter(month_end__in=ends)
    assert closes.count() == len(ends)
    assert all(c.buckets == me.signature(v.buckets()) and not c.stale for c in closes)


@pytest.mark.parametrize("username", ["gm", "manager", "officer1"])
def test_the_analyses_from_the_facts_equal_the_restatement(
    book: dict[str, Any], username: str
) -> None:
    user = book["users"][username]
    written_off(overdue_loans(1)[0], datetime(2026, 8, 10, 4, tzinfo=UTC))
    product = book["loans"][0].product_id
    for filters in ({}, {"product": [product]}, {"officer": [book["users"]["officer1"].pk]}):
        fast, slow = both_ways(v.vintage, actor=user, period=PERIOD, filters=filters)
        assert fast == slow, filters
        fast, slow = both_ways(v.roll_rate, actor=user, period=PERIOD, filters=filters)
        assert fast == slow, filters
    # The facts were read: every month end the two analyses need was taken.
    taken = set(MonthEndClose.objects.values_list("month_end", flat=True))
    assert taken == set(closed_ends()) | {FIRST_END}
    got = v.roll_rate(actor=user, period=PERIOD, filters={})
    assert sum(row["total"] for row in got["rows"]) > 0


def test_a_filter_the_facts_do_not_carry_restates_from_the_installments(
    book: dict[str, Any],
) -> None:
    gm = book["users"]["gm"]
    channel = {"channel": ["online"]}
    got = v.vintage(actor=gm, period=PERIOD, filters=channel)
    assert not MonthEndClose.objects.exists()
    with override_settings(LOANDESK_REPORT_FACTS=False):
        assert got == v.vintage(actor=gm, period=PERIOD, filters=channel)
    assert got != v.vintage(actor=gm, period=PERIOD, filters={})


def test_a_month_end_is_taken_once(book: dict[str, Any]) -> None:
    gm = book["users"]["gm"]
    first = v.vintage(actor=gm, period=PERIOD, filters={})
    rolls = v.roll_rate(actor=gm, period=PERIOD, filters={})
    taken = dict(MonthEndClose.objects.values_list("month_end", "taken_at"))
    assert taken
    with CaptureQueriesContext(connection) as queries:
        again = v.vintage(actor=gm, period=PERIOD, filters={})
        assert v.roll_rate(actor=gm, period=PERIOD, filters={}) == rolls
    assert again == first
    assert dict(MonthEndClose.objects.values_list("month_end", "taken_at")) == taken
    assert not [q for q in queries if "INSERT" in q["sql"].upper()]
    # Roll rate needs the months of the period and the month end before the first.
    assert min(taken) == FIRST_END and max(taken) == LAST_END


def stale_ends() -> set[date]:
    return set(MonthEndClose.objects.filter(stale=True).values_list("month_end", flat=True))


def test_a_write_into_a_closed_month_makes_it_stale_and_it_is_taken_again(
    book: dict[str, Any],
) -> None:
    gm = book["users"]["gm"]
    ends = closed_ends()
    me.take(ends, v.buckets())
    # A repayment or a change on the business date reaches no closed month end.
    inst = Installment.objects.filter(paid_off_on__isnull=True, due_date__lt=TODAY).first()
    assert inst is not None
    Installment.objects.filter(pk=inst.pk).update(paid_off_on=TODAY)
    Loan.objects.filter(pk=inst.loan_id).update(status="closed", closed_at=datetime.now(UTC))
    assert stale_ends() == set()
    # A repayment back-dated to 2026-06-10 restates June's end and every later one.
    Installment.objects.filter(pk=inst.pk).update(paid_off_on=date(2026, 6, 10))
    assert stale_ends() == {e for e in ends if e >= date(2026, 6, 10)}
    fast, slow = both_ways(v.vintage, actor=gm, period=PERIOD, filters={})
    assert fast == slow
    assert stale_ends() == set()  # taken again by the analysis
    assert held(ends) == restated(ends)
    # A write-off dated into a closed month.
    written_off(overdue_loans(1)[0], datetime(2026, 3, 3, 4, tzinfo=UTC))
    assert min(stale_ends()) <= date(2026, 3, 31) and FIRST_END not in stale_ends()
    fast, slow = both_ways(v.roll_rate, actor=gm, period=PERIOD, filters={})
    assert fast == slow
    # A loan removed with its installments (a booking error undone).
    gone = (
        Loan.objects.filter(start_date__lte=date(2026, 1, 15))
        .exclude(pk__in=Repayment.objects.values("loan_id"))
        .exclude(pk__in=CollectionCase.objects.values("loan_id"))
        .order_by("-start_date")
        .first()
    )
    assert gone is not None
    gone.installments.all().delete()
    Loan.objects.filter(pk=gone.pk).delete()
    assert {e for e in ends if e >= gone.start_date} <= stale_ends()
    me.ensure(ends, v.buckets())
    assert held(ends) == restated(ends)


def test_a_new_owner_is_not_a_restatement(book: dict[str, Any]) -> None:
    """The facts keep a loan with the officer who held it at each month end; a rebuild restates
    the history under today's owners."""
    gm, officer1, officer2 = (book["users"][u] for u in ("gm", "officer1", "officer2"))
    v.vintage(actor=gm, period=PERIOD, filters={})

    def officer1_loans() -> int:
        rows = MonthEndFact.objects.filter(owner=officer1, month_end=LAST_END, cohort__isnull=False)
        return sum(rows.values_list("loans", flat=True))

    held_before = officer1_loans()
    moved = Loan.objects.filter(owner=officer1, start_date__lt=date(2026, 3, 1))
    n = moved.count()
    assert n > 0 and held_before >= n
    moved.update(owner=officer2)
    assert stale_ends() == set()
    v.vintage(actor=gm, period=PERIOD, filters={})
    assert officer1_loans() == held_before  # as reported at the month end
    facts.rebuild()
    assert officer1_loans() == held_before - n
    mine = {"officer": [officer1.pk]}
    fast, slow = both_ways(v.vintage, actor=gm, period=PERIOD, filters=mine)
    assert fast == slow


def test_other_buckets_take_the_month_ends_again(book: dict[str, Any]) -> None:
    gm = book["users"]["gm"]
    DelinquencyBucket.objects.all().delete()
    DelinquencyBucket.objects.bulk_create(
        DelinquencyBucket(code=code, min_dpd=floor, max_dpd=top)
        for code, floor, top in [("M0", 0, 0), ("M1", 1, 30), ("M2", 31, 60), ("M3", 61, 10_000)]
    )
    v.vintage(actor=gm, period=PERIOD, filters={})
    sign = me.signature(v.buckets())
    assert set(MonthEndClose.objects.values_list("buckets", flat=True)) == {sign}
    DelinquencyBucket.objects.filter(code="M2").update(min_dpd=45)
    fast, slow = both_ways(v.roll_rate, actor=gm, period=PERIOD, filters={})
    assert fast == slow
    assert [s["key"] for s in fast["states"]] == ["M0", "M1", "M2", "M3", "closed", "written_off"]
    assert (
        set(MonthEndClose.objects.values_list("buckets", flat=True))
        == {me.signature(v.buckets())}
        != {sign}
    )


def test_the_last_day_of_a_month_is_observed_once_it_is_closed(book: dict[str, Any]) -> None:
    gm = book["users"]["gm"]
    set_business_date(actor=None, new_date=date(2026, 10, 31), allow_backwards=True)
    assert v.vintage(actor=gm, period=PERIOD, filters={})["as_of"] == "2026-09-30"
    set_business_date(actor=None, new_date=date(2026, 11, 1), allow_backwards=True)
    assert v.vintage(actor=gm, period=PERIOD, filters={})["as_of"] == "2026-10-31"


def test_cob_takes_the_month_end_on_the_last_day_of_the_month(book: dict[str, Any]) -> None:
    cob.run_cob(until=date(2026, 11, 30))
    close = MonthEndClose.objects.get(month_end=date(2026, 11, 30))
    assert not close.stale and close.loans > 0
    assert not MonthEndClose.objects.exclude(month_end=date(2026, 11, 30)).exists()
    assert held([close.month_end]) == restated([close.month_end])
    assert close.loans == sum(restated([close.month_end]).values())
    # A rerun of the day takes it again rather than adding to it.
    me.take([close.month_end], v.buckets())
    assert held([close.month_end]) == restated([close.month_end])
    assert timedelta(0) <= datetime.now(UTC) - close.taken_at < timedelta(minutes=10)


def test_the_report_facts_command_restates_the_month_ends(book: dict[str, Any]) -> None:
    out = io.StringIO()
    call_command("report-facts", stdout=out)
    assert "month ends taken: none" in out.getvalue()
    call_command("report-facts", "--rebuild", stdout=out)
    ends = closed_ends()
    assert f"month ends taken: {len(ends)} ({ends[0]} to {ends[-1]}), 0 stale" in out.getvalue()
    assert "reports_monthendfact:" in out.getvalue()
    assert held(ends) == restated(ends)


def _some_installment(**filters: Any) -> Installment:
    found = Installment.objects.filter(**filters).order_by("id").first()
    assert found is not None
    return found


@pytest.mark.parametrize(
    "write",
    [
        "due_date_moved",
        "start_date_moved",
        "installment_added",
        "write_off_reversed",
        "loan_booked_back_dated",
    ],
)
def test_every_kind_of_back_dated_write_marks_from_its_date(
    book: dict[str, Any], write: str
) -> None:
    ends = closed_ends()
    me.take(ends, v.buckets())
    if write == "due_date_moved":
        inst = _some_installment(due_date__gte=date(2026, 4, 5), due_date__lte=date(2026, 4, 25))
        Installment.objects.filter(pk=inst.pk).update(due_date=inst.due_date + timedelta(days=40))
        since = inst.due_date
    elif write == "start_date_moved":
        loan = Loan.objects.filter(start_date__gte=date(2026, 3, 5)).order_by("start_date")[0]
        Loan.objects.filter(pk=loan.pk).update(start_date=loan.start_date + timedelta(days=3))
        since = loan.start_date
    elif write == "installment_added":
        inst = _some_installment(loan__start_date__lt=date(2026, 2, 1))
        inst.pk = None
        inst.seq = 99
        inst.save()
        since = Loan.objects.get(pk=inst.loan_id).start_date
    elif write == "write_off_reversed":
        loan = overdue_loans(1)[0]
        written_off(loan, datetime(2026, 7, 15, 4, tzinfo=UTC))
        me.ensure(ends, v.buckets())
        assert stale_ends() == set()
        Loan.objects.filter(pk=loan.pk).update(status="overdue", closed_at=None)
        since = date(2026, 7, 14)
    else:
        loan = Loan.objects.order_by("id")[0]
        twin = Loan.objects.get(pk=loan.pk)
        twin.pk = None
        twin.contract_no = "BACKDATED1"
        twin.start_date = date(2026, 5, 20)
        twin.save()
        since = date(2026, 5, 20)
    want = {e for e in ends if e >= since}
    assert want and stale_ends() == want
    me.ensure(ends, v.buckets())
    assert stale_ends() == set()
    assert held(ends) == restated(ends)


def test_a_write_dated_on_the_month_end_being_closed_marks_it(book: dict[str, Any]) -> None:
    """COB takes a month end on its last day, while the business date is still that day: a
    repayment dated that day and written after the take must mark it (PostgreSQL's trigger
    counts the month being closed as closed)."""
    end = LAST_END
    set_business_date(actor=None, new_date=end, allow_backwards=True)
    me.take([end], v.buckets())
    assert stale_ends() == set()
    inst = _some_installment(paid_off_on__isnull=True, due_date__lte=end)
    Installment.objects.filter(pk=inst.pk).update(paid_off_on=end)
    assert stale_ends() == {end}


def test_moving_the_business_date_back_reopens_the_month_ends_after_it(
    book: dict[str, Any],
) -> None:
    ends = closed_ends()
    me.take(ends, v.buckets())
    versions = dict(MonthEndClose.objects.values_list("month_end", "version"))
    set_business_date(actor=None, new_date=date(2026, 12, 1), allow_backwards=True)
    assert stale_ends() == set()  # forward: nothing reopened
    set_business_date(actor=None, new_date=date(2026, 8, 15), allow_backwards=True)
    assert stale_ends() == {e for e in ends if e >= date(2026, 8, 15)}
    bumped = {
        e
        for e, version in MonthEndClose.objects.values_list("month_end", "version")
        if version != versions[e]
    }
    assert bumped == stale_ends()


def test_shares_stay_within_the_month_ends_own_loans_after_a_new_owner(
    book: dict[str, Any],
) -> None:
    gm, officer1, officer2 = (book["users"][u] for u in ("gm", "officer1", "officer2"))
    v.vintage(actor=gm, period=PERIOD, filters={})
    Loan.objects.filter(owner=officer1).update(owner=officer2)
    got = v.vintage(actor=gm, period=PERIOD, filters={"officer": [officer1.pk]})
    shares = [float(x) for c in got["cohorts"] for x in c["m1"].values() if x is not None]
    assert shares and all(0 <= x <= 100 for x in shares)
    assert all(c["loans"] == 0 for c in got["cohorts"])  # today officer1 holds none
