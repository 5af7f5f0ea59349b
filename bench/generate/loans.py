"""A loan portfolio with its installments, as close of business would leave it.

Loans go to the generated customers (the demo's when there are none; a few bench customers
when the database has no customer at all), over the three demo products (equal installment,
equal principal, interest only), with amounts, rates and terms drawn inside each product's
limits and start dates spread over the 24 months before `AS_OF`. Schedules come from the real
engine (`finance.build_schedule`), computed once per (product, amount, rate, term, start date)
template and reused by every loan of that template.

Repayment behaviour by vintage: most borrowers pay every installment on its due date; a few
per cent stopped paying 1–90 days ago and ~1.5 % more than 90 days ago (older loans are more
likely to be late), some of them after a partial payment. Installment and loan states are the
ones COB computes for `CLOSED` (`postloan.rules` and the configured buckets/thresholds), so a
COB run for `CLOSED` changes nothing and the next date is an ordinary day. Loans with every
installment paid are closed.

Rows are written as prepared tuples: COPY … FROM STDIN on PostgreSQL (psycopg 3), executemany
in large transactions on SQLite (in load mode the applications through a staging file:
`CloningProcess`); on SQLite the installments, repayments and allocations are made by SQLite
from the schedule templates (bench/generate/schedules.py). Loan ids are reserved from the
table's sequence first (`customers.bulk.reserve_ids`), installment ids come from the column
default, so both sequences stay right for the application afterwards.
"""

import bisect
import multiprocessing
import os
import queue
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, connections, transaction

from bench.generate import SEED, applications, bulkload, collections, repayments, schedules
from loandesk.accounts.models import User
from loandesk.customers import bulk
from loandesk.customers.models import Customer
from loandesk.lending.finance.enums import Frequency, Method
from loandesk.lending.finance.schedule import build_schedule
from loandesk.lending.finance.types import ScheduleInput
from loandesk.lending.models import Installment, Loan, Product, Repayment, RepaymentAllocation
from loandesk.lending.products import seed_demo_products
from loandesk.postloan import cob, rules
from loandesk.postloan.models import CollectionAction, CollectionCase, PromiseToPay

AS_OF = date(2026, 6, 1)  # the business date after the generated state
CLOSED = AS_OF - timedelta(days=1)  # the last date whose close of business the data reflects
LOANS = {"small": 2_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
CONTRACT_PREFIX = "BL"
BATCH = 20_000

# Per product: amounts (yuan), annual rates (%), terms (months) — inside the demo limits.
TERMS: dict[str, tuple[tuple[int, ...], tuple[str, ...], tuple[int, ...]]] = {
    "consumer": ((10_000, 20_000, 30_000, 50_000, 80_000, 100_000), ("7.2", "9.6", "12", "15.6"),
                 (6, 12, 24, 36)),
    "sme_operating": ((50_000, 100_000, 200_000, 300_000, 500_000), ("6", "8.4", "10.8", "13.2"),
                      (12, 24, 36)),
    "short_bridge": ((20_000, 50_000, 100_000, 200_000), ("8", "10", "12"), (3, 6, 12)),
}  # fmt: skip
PRODUCT_WEIGHTS = {"consumer": 60, "sme_operating": 25, "short_bridge": 15}
# Loans start on any day 1..28 (every month has it), so each calendar day carries ~1/28 of a
# month's installments — COB's ordinary day is a real day's work, not a sixth of the month on
# six days and nothing on the others.
START_DAYS = tuple(range(1, 29))
# The tables the loan phase fills (their indexes are built after the load in load mode).
TABLES = tuple(
    m._meta.db_table
    for m in (
        Loan, Installment, Repayment, RepaymentAllocation, CollectionCase, CollectionAction,
        PromiseToPay, applications.Record, *applications.CLONED, applications.FlowInstance,
    )
)  # fmt: skip

LOAN_COLUMNS = (
    "id", "contract_no", "customer_id", "product_id", "owner_id", "department_id",
    "principal_fen", "annual_rate", "periods", "method", "frequency", "start_date",
    "first_due_date", "maturity_date", "apr", "cap_rate", "cap_exceeded", "penalty_rate",
    "grace_days", "terms", "status", "outstanding_principal_fen", "overdue_since",
    "days_past_due", "bucket", "classification", "created_by_id", "disbursed_at", "closed_at",
    "source_record_id",
)  # fmt: skip
INSTALLMENT_COLUMNS = (
    "loan_id", "seq", "due_date", "days", "opening_principal_fen", "principal_fen",
    "interest_fen", "fee_fen", "penalty_fen", "paid_principal_fen", "paid_interest_fen",
    "paid_fee_fen", "paid_penalty_fen", "status", "paid_off_on",
)  # fmt: skip


def _fen(yuan: Decimal) -> int:
    return int((yuan * 100).to_integral_value(ROUND_HALF_UP))


@dataclass(frozen=True)
class Template:
    """One schedule, shared by every loan with the same terms and start date."""

    product: Product
    principal_fen: int
    rate: Decimal
    periods: int
    start: date
    dues: tuple[date, ...]
    # (seq, due, days, opening, principal, interest, fee) per installment
    rows: tuple[tuple[int, date, int, int, int, int, int], ...]
    no: int  # its number, in the order made (SQLite: the key of its rows' table)
    # SQLite (empty on PostgreSQL): the rows with the due date as stored, for the templates'
    # table the installments are made from (bench/generate/schedules.py).
    db_rows: tuple[tuple[Any, ...], ...]
    # PostgreSQL (empty on SQLite): the same rows in COPY text format, from the tab after
    # loan_id to the newline.
    paid_text: tuple[str, ...]
    pending_text: tuple[str, ...]
    payments: tuple[tuple[int, date, str, int, int, int], ...]  # (seq, due, text, p, i, f)
    due_by_closed: int  # how many installments fall due on or before CLOSED
    apr: str
    penalty_rate: str


def _months_back(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - n, 12)
    return date(y, m + 1, 1)


class Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed + 7)  # its own stream: independent of the customers'
        seed_demo_products()
        self.products = {p.code: p for p in Product.objects.filter(code__in=TERMS)}
        self.codes = list(PRODUCT_WEIGHTS)
        self.weights = [PRODUCT_WEIGHTS[c] for c in self.codes]
        self.templates: dict[tuple[str, int, str, int, date], Template] = {}
        self.cfg = cob.Config.of(cob.current_config())
        self.date_text = connection.ops.adapt_datefield_value
        self.text = connection.vendor == "postgresql"
        self.disbursed: dict[date, Any] = {}
        # Set by `loan()`: the repayments (seq, due, text, principal, interest, fee) that account
        # for the paid columns, and the overdue loan's facts for its collection case.
        self.payments: list[tuple[int, date, str, int, int, int]] = []
        self.overdue: collections.Overdue | None = None
        self.tpl: Template | None = None  # the last loan's schedule template
        # SQLite: the templates whose rows are not in the templates' table yet, and the last
        # loan's installments as (loan id, template number, paid in full) and its specials.
        self.unwritten: list[tuple[int, tuple[tuple[Any, ...], ...]]] = []
        self.schedule: tuple[int, int, int] = (0, 0, 0)
        self.specials: list[schedules.Special] = []

    def template(self, code: str, amount: int, rate: str, periods: int, start: date) -> Template:
        key = (code, amount, rate, periods, start)
        found = self.templates.get(key)
        if found is not None:
            return found
        product = self.products[code]
        result = build_schedule(
            ScheduleInput(
                principal=Decimal(amount),
                annual_rate=Decimal(rate),
                periods=periods,
                start=start,
                method=Method(product.method),
                frequency=Frequency(product.frequency),
            )
        )
        rows = tuple(
            (
                r.seq,
                r.due_date,
                r.days,
                _fen(r.opening_balance),
                _fen(r.principal),
                _fen(r.interest),
                _fen(r.fee),
            )
            for r in result.rows
        )
        text = self.date_text
        db_rows: tuple[tuple[Any, ...], ...] = ()
        paid_text: tuple[str, ...] = ()
        pending_text: tuple[str, ...] = ()
        if self.text:
            # COPY text straight from the numbers (ints and ISO dates need no escaping): at 1m
            # the ~129,000 templates' rows went through `copy_text` value by value, ~40 % of
            # the loans' make time.
            paid_text = tuple(
                f"\t{s}\t{d}\t{days}\t{o}\t{p}\t{i}\t{f}\t0\t{p}\t{i}\t{f}\t0\tpaid\t{d}\n"
                for s, d, days, o, p, i, f in rows
            )
            pending_text = tuple(
                f"\t{s}\t{d}\t{days}\t{o}\t{p}\t{i}\t{f}\t0\t0\t0\t0\t0\tpending\t\\N\n"
                for s, d, days, o, p, i, f in rows
            )
        else:
            db_rows = tuple((s, text(d), days, o, p, i, f) for s, d, days, o, p, i, f in rows)
        dues = tuple(r[1] for r in rows)
        payments = tuple((s, d, text(d), p, i, f) for s, d, _, _, p, i, f in rows)
        multiplier = product.penalty_rate_multiplier
        tpl = Template(
            product=product,
            principal_fen=amount * 100,
            rate=Decimal(rate),
            periods=periods,
            start=start,
            dues=dues,
            rows=rows,
            no=len(self.templates),
            db_rows=db_rows,
            paid_text=paid_text,
            pending_text=pending_text,
            payments=payments,
            due_by_closed=bisect.bisect_right(dues, CLOSED),
            apr=str(result.apr.apr.quantize(Decimal("0.01"), ROUND_HALF_UP)),
            penalty_rate=str((Decimal(rate) * multiplier).quantize(Decimal("0.0001"))),
        )
        self.templates[key] = tpl
        if not self.text:
            self.unwritten.append((tpl.no, db_rows))
        return tpl

    def loan(
        self, n: int, loan_id: int, customer: tuple[int, int, int | None]
    ) -> tuple[tuple[Any, ...], list[str]]:
        """Loan n's row and, on PostgreSQL, its installments as COPY text lines (on SQLite
        `schedule` and `specials` say what they are)."""
        rng = self.rng
        code = rng.choices(self.codes, weights=self.weights)[0]
        amounts, rates, terms = TERMS[code]
        age = rng.randrange(24)  # months since disbursement (start month)
        start = _months_back(AS_OF, age + 1).replace(day=rng.choice(START_DAYS))
        tpl = self.template(code, rng.choice(amounts), rng.choice(rates), rng.choice(terms), start)
        u = rng.random()
        vintage = 0.4 + 1.2 * age / 23  # older vintages are more often late
        dpd_target = 0
        if u < 0.015 * vintage:
            dpd_target = 91 + int(rng.expovariate(1 / 90))
        elif u < 0.065 * vintage:
            dpd_target = 1 + min(89, int(rng.expovariate(1 / 20)))
        partial = rng.random() < 0.3
        paid_until = tpl.due_by_closed  # installments [0, paid_until) are fully paid
        if dpd_target:
            # The oldest unpaid installment is the first one due on or after CLOSED - dpd.
            paid_until = bisect.bisect_left(tpl.dues, CLOSED - timedelta(days=dpd_target))
            if paid_until >= tpl.due_by_closed:
                paid_until = tpl.due_by_closed  # too young to be that late: current
                dpd_target = 0
        grace = tpl.product.grace_days
        # PostgreSQL: the installments as COPY text lines. SQLite: none here; SQLite makes
        # them from the template (`self.schedule`), but for those due and not paid in full
        # (`self.specials`).
        as_text = self.text
        rows: list[str] = [f"{loan_id}{t}" for t in tpl.paid_text[:paid_until]] if as_text else []
        self.schedule = (loan_id, tpl.no, paid_until)
        self.specials = []
        paid_principal = sum(r[4] for r in tpl.rows[:paid_until])
        payments = list(tpl.payments[:paid_until])
        unpaid_due = 0  # unpaid amount of the installments due by CLOSED
        oldest_overdue: date | None = None
        for k in range(paid_until, tpl.due_by_closed):
            seq, due, days, opening, principal, interest, fee = tpl.rows[k]
            pp = pi = 0
            # (Not on an interest-only installment before maturity: with no principal due,
            # paying its interest would settle it, and it would not be overdue.)
            if k == paid_until and partial and principal >= 2:
                pi = interest
                pp = principal // 2
            status = rules.installment_status(
                status="pending", due_date=due, grace_days=grace, on=CLOSED, settled=False
            )
            if status == "overdue" and oldest_overdue is None:
                oldest_overdue = due
            paid_principal += pp
            unpaid_due += principal + interest + fee - pp - pi
            if pp or pi:
                payments.append((seq, due, self.date_text(due), pp, pi, 0))
            if as_text:
                row = (
                    (seq, self.date_text(due), days, opening, principal, interest, fee, 0, pp, pi,
                     0, 0, status, None)
                )  # fmt: skip
                rows.append(f"{loan_id}{_copy_line(row)}")
            else:
                self.specials.append(schedules.Special(loan_id, seq, pp, pi, status))
        if as_text:
            rows.extend(f"{loan_id}{t}" for t in tpl.pending_text[tpl.due_by_closed :])
        outstanding = tpl.principal_fen - paid_principal
        closed_at = None
        if outstanding == 0 and paid_until == len(tpl.rows):
            status, since, dpd, bucket, classification = "closed", None, 0, "M0", "normal"
            closed_at = self._at(tpl.dues[-1])
        else:
            state = rules.loan_state(
                oldest_overdue_due=oldest_overdue,
                on=CLOSED,
                buckets=self.cfg.buckets,
                thresholds=self.cfg.thresholds,
            )
            status, since, dpd = state.status, state.overdue_since, state.days_past_due
            bucket, classification = state.bucket, state.classification
        customer_id, owner_id, department_id = customer
        self.tpl = tpl
        self.payments = payments
        self.overdue = None
        if status == "overdue":
            assert since is not None
            self.overdue = collections.Overdue(
                loan_id=loan_id,
                customer_id=customer_id,
                owner_id=owner_id,
                department_id=department_id,
                bucket=bucket,
                dpd=dpd,
                overdue_since=since,
                grace=grace,
                overdue_fen=unpaid_due,
                paid_fen=sum(p + i + f for _, _, _, p, i, f in payments),
            )
        text = self.date_text
        loan = (
            loan_id, f"{CONTRACT_PREFIX}{n:08d}", customer_id, tpl.product.pk, owner_id,
            department_id, tpl.principal_fen, str(tpl.rate), tpl.periods, tpl.product.method,
            tpl.product.frequency, text(tpl.start), text(tpl.dues[0]), text(tpl.dues[-1]),
            tpl.apr, "24.00", False, tpl.penalty_rate, grace, "{}", status, outstanding,
            text(since) if since else None, dpd, bucket, classification, owner_id,
            self._at(tpl.start), closed_at, None,
        )  # fmt: skip
        return loan, rows

    def _at(self, d: date) -> Any:
        """Disbursement/closing timestamps: 10:00 China time on the day."""
        if d not in self.disbursed:
            moment = datetime.combine(d, dtime(2, 0), tzinfo=UTC)
            self.disbursed[d] = connection.ops.adapt_datetimefield_value(moment)
        return self.disbursed[d]


def _copy_line(values: Sequence[Any]) -> str:
    """Columns after the first as the rest of a COPY text line: "\t…\t…\n"."""
    return "".join("\t" + bulkload.copy_text(v) for v in values) + "\n"


def _customers() -> list[tuple[int, int, int | None]]:
    """(id, owner, department) of the customers to lend to; a few bench ones when none exist."""
    if not Customer.objects.exists():
        from bench.generate import customers

        customers.generate(20, log=False)
    return list(Customer.objects.order_by("id").values_list("id", "owner_id", "department_id"))


def generate(
    count: int,
    *,
    seed: int = SEED,
    log: bool = True,
    seconds: dict[str, float] | None = None,
    load_mode: bool = False,
) -> dict[str, int]:
    """Adds `count` loans with their installments, repayments, collection cases and approved
    applications, then the applications in other states. Deterministic for (count, seed) and
    the customer table (the loans' rows: see the test's digest). `seconds`, when given, gets the
    time spent per part. `load_mode` (the command line's): the written tables' secondary
    indexes (PostgreSQL: and foreign keys) are built after the load and SQLite writes without
    journal (bench/generate/bulkload.py); call it outside any transaction."""
    spent = seconds if seconds is not None else {}
    cpu_at = [time.process_time()]

    def clock(part: str, since: float) -> float:
        now = time.perf_counter()
        spent[part] = spent.get(part, 0.0) + now - since
        cpu = time.process_time()
        key = f"{part} (cpu)"
        spent[key] = spent.get(key, 0.0) + cpu - cpu_at[0]
        cpu_at[0] = cpu
        return now

    if Loan.objects.filter(contract_no__startswith=CONTRACT_PREFIX).exists():
        raise RuntimeError("this database already holds generated loans")
    maker = Maker(seed)
    people = _customers()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -524288")  # 512 MB for the index pages
    payer = repayments.Payer(seed, _poster())
    t = time.perf_counter()
    templates = applications.Templates()
    templates.make(sorted({p[2] for p in people if p[2] is not None}))
    cloner = applications.Cloner(templates, seed)
    clock("templates", t)
    collector = collections.Collector(seed, CLOSED)

    def other(cloner: applications.Cloner, write: Callable[..., int]) -> dict[str, int]:
        return applications.generate_other(
            cloner,
            people,
            count,
            as_of=datetime.combine(CLOSED, dtime(12, 0), tzinfo=UTC),
            terms=TERMS,
            writer=write,
            log=log,
        )

    cloning: CloningProcess | None = None
    process_spent: dict[str, float] = {}
    cloning_cpu = 0.0
    with ExitStack() as stack:
        if not maker.text:
            stack.enter_context(schedules.tables(payer))
        if load_mode:
            stack.enter_context(bulkload.sqlite_unjournaled())
            stack.enter_context(bulkload.deferred_indexes(TABLES, log=log, seconds=spent))
        if load_mode and bulkload.builder_count() > 1:
            # Forked before the writer's thread starts; stopped (if still running) before the
            # indexes are rebuilt. SQLite has one writer per file: the process stages the
            # applications' rows in files the generator copies from.
            send_back = connection.vendor == "sqlite"
            cloning = CloningProcess(cloner, other, send_back=send_back)
            stack.callback(cloning.stop)
        # PostgreSQL in load mode: COPY on a second connection while the next batch is built
        # (entered after the indexes: drained before they are rebuilt).
        write = stack.enter_context(bulkload.writer(load_mode))
        started = time.perf_counter()
        totals = dict.fromkeys(
            ("loans", "installments", "repayments", "allocations", "collection_cases",
             "collection_actions", "promises"), 0
        )  # fmt: skip
        send_back = cloning is not None and cloning.send_back
        next_ids: dict[type[Any], int] = {}

        def reserve(model: type[Any], n: int) -> list[int]:
            # Sending back, a batch's loans and applications are written after the next batch
            # took its ids: SQLite's MAX(id) would repeat them, so count on from the first.
            if not send_back or model not in next_ids:
                found = bulk.reserve_ids(model, n)
                if found:  # none (n = 0): the next call asks the table again
                    next_ids[model] = found[-1] + 1
                return found
            first_id = next_ids[model]
            next_ids[model] = first_id + n
            return list(range(first_id, first_id + n))

        def write_made(made: Made, staged: Staged | None = None) -> None:
            """The batch's rows; sending back, `staged` holds its applications (the staging
            file attached), written before the loans that name their records."""
            t = time.perf_counter()
            if staged is not None:
                assert cloning is not None
                cloning.copy_staged(staged.k, staged.clones)
                for name, n in staged.counts.items():
                    totals[name] = totals.get(name, 0) + n
                t = clock("applications of loans: write", t)
            totals["loans"] += write(Loan._meta.db_table, LOAN_COLUMNS, made.loans)
            if maker.text:
                write(
                    Installment._meta.db_table,
                    INSTALLMENT_COLUMNS,
                    (),
                    text="".join(made.installments),
                )
                totals["installments"] += len(made.installments)
                t = clock("loans: write", t)
                _repayments(payer, made.paid, totals, write)
            else:
                # SQLite makes the installments and the repayments from the templates.
                unwritten, maker.unwritten = maker.unwritten, []
                written = schedules.write(unwritten, made.plans, made.specials)
                assert written == made.installment_count, (written, made.installment_count)
                totals["installments"] += written
                t = clock("loans: write", t)
                ids = reserve(Repayment, sum(len(p) for _, p in made.paid))
                paid = schedules.pay(payer, ids)
                totals["repayments"] += paid
                totals["allocations"] += paid
            t = clock("repayments", t)
            _cases(collector, made.overdue, totals, write)
            clock("collections", t)

        def progress(done: int) -> None:
            if log:
                elapsed = time.perf_counter() - started
                print(
                    f"  loans {done:,}/{count:,} ({done / elapsed:,.0f} loans/s,"
                    f" {totals['installments'] / elapsed:,.0f} installments/s)",
                    file=sys.stderr,
                    flush=True,
                )

        ahead: list[Made] = []  # sending back: made, handed over, written one batch later
        for first in range(0, count, BATCH):
            size = min(BATCH, count - first)
            with transaction.atomic():
                t = time.perf_counter()
                made = Made(first + size)
                for loan_id, n in zip(reserve(Loan, size), range(first, first + size), strict=True):
                    loan, rows = maker.loan(n, loan_id, people[maker.rng.randrange(len(people))])
                    made.loans.append(loan)
                    assert maker.tpl is not None
                    made.installment_count += len(maker.tpl.rows)
                    if maker.text:
                        made.installments.extend(rows)
                    else:
                        made.plans.append(maker.schedule)
                        made.specials.extend(maker.specials)
                    made.terms.append(maker.tpl)
                    if maker.payments:
                        made.paid.append((loan_id, maker.payments))
                    if maker.overdue is not None:
                        made.overdue.append(maker.overdue)
                t = clock("loans: make", t)
                record_ids = reserve(applications.Record, size)
                instance_ids = reserve(applications.FlowInstance, size)
                lite = _lite(made.loans, made.terms)
                made.loans = _with_records(made.loans, record_ids)
                if send_back:
                    assert cloning is not None
                    names = applications.customer_names({row[2] for row in lite})
                    forms = {}
                    for row in lite:  # in the order the clones would compute them
                        key = (row[5], row[6] // 100, row[7], row[8])
                        if key not in templates.forms_cache:
                            forms[key] = templates.form_data(key, templates.sample[row[4]])
                    cloning.submit(lite, record_ids, instance_ids, names, forms)
                    ahead.append(made)
                    t = clock("applications: to the cloning process", t)
                elif cloning is not None:
                    cloning.submit(lite, record_ids, instance_ids)
                    t = clock("applications: to the cloning process", t)
                else:
                    _clone_loans(cloner, lite, record_ids, instance_ids)
                    t = clock("applications of loans: build", t)
                    for name, n in applications.write(cloner, write).items():
                        totals[name] = totals.get(name, 0) + n
                    cloner.reset()
                    t = clock("applications of loans: write", t)
                if not send_back:
                    write_made(made)
                    progress(made.done)
            while len(ahead) > 1 or (ahead and first + size >= count):
                written = ahead.pop(0)
                if send_back:
                    assert cloning is not None
                    t = time.perf_counter()
                    staged = cloning.staged()
                    clock("applications: waiting for the cloning process", t)
                    # Attached outside the transaction: SQLite refuses to attach inside one.
                    with cloning.attached(staged.k), transaction.atomic():
                        write_made(written, staged)
                else:
                    with transaction.atomic():
                        write_made(written)
                progress(written.done)
        collector.router.save()
        t = time.perf_counter()
        if send_back:
            assert cloning is not None
            random_state, serial = cloning.state()
            cloner.rng.setstate(random_state)
            cloner.serial = serial
            t = clock("waiting for the cloning process", t)
            totals.update(other(cloner, write))
            t = clock("other applications", t)
        elif cloning is not None:
            written_rows, process_spent = cloning.finish()
            for name, n in written_rows.items():
                totals[name] = totals.get(name, 0) + n
            t = clock("waiting for the cloning process", t)
            cloning_cpu = process_spent.pop("cpu")
        else:
            totals.update(other(cloner, write))
            t = clock("other applications", t)
    if isinstance(write, bulkload.BackgroundWriter):
        # Not part of the sum of the phases: the thread's COPYs ran beside them.
        spent["COPY in the background (overlapped)"] = write.busy
        for table, busy in sorted(write.busy_by_table.items(), key=lambda kv: -kv[1])[:8]:
            spent[f"  of which {table}"] = busy
        spent["waiting for the background COPY"] = write.waited
    if cloning is not None and not cloning.send_back:
        # Not part of the sum either: the cloning process ran beside the generator.
        for part, value in process_spent.items():
            of_which = part.startswith("  ")
            spent[f"{part} (cloning)" if of_which else f"cloning: {part}"] = value
        spent["cloning: its cpu seconds"] = cloning_cpu
    t = time.perf_counter()
    bulkload.analyze()
    clock("analyze", t)
    totals["templates"] = len(maker.templates)
    return totals


@dataclass
class Made:
    """A batch of loans with what goes with them, made and not yet written."""

    done: int  # loans made so far, this batch included
    loans: list[tuple[Any, ...]] = field(default_factory=list)
    installments: list[str] = field(default_factory=list)  # PostgreSQL: COPY text lines
    # SQLite: what the installments are made from (bench/generate/schedules.py)
    plans: list[tuple[int, int, int]] = field(default_factory=list)
    specials: list[schedules.Special] = field(default_factory=list)
    installment_count: int = 0
    paid: list[tuple[int, list[tuple[int, date, str, int, int, int]]]] = field(default_factory=list)
    terms: list[Template] = field(default_factory=list)
    overdue: list[collections.Overdue] = field(default_factory=list)


def _poster() -> int:
    """Who posted the repayments: the demo's finance user (else the first superuser)."""
    user = User.objects.filter(username="finance").first()
    user = user or User.objects.filter(is_superuser=True).order_by("id").first()
    if user is None:
        raise RuntimeError("no finance user or superuser to post the repayments")
    return int(user.pk)


def _repayments(
    payer: repayments.Payer,
    paid: list[tuple[int, list[tuple[int, date, str, int, int, int]]]],
    totals: dict[str, int],
    write: Callable[..., int],
) -> None:
    ids = bulk.reserve_ids(Repayment, sum(len(p) for _, p in paid))
    reps, allocs = _repayment_rows(payer, paid, ids)
    totals["repayments"] += write(Repayment._meta.db_table, repayments.REPAYMENT_COLUMNS, reps)
    totals["allocations"] += write(
        RepaymentAllocation._meta.db_table, repayments.ALLOCATION_COLUMNS, allocs
    )


def _repayment_rows(
    payer: repayments.Payer,
    paid: list[tuple[int, list[tuple[int, date, str, int, int, int]]]],
    ids: list[int],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The repayment and allocation rows of a batch's payments (`ids`: one per payment)."""
    reps: list[tuple[Any, ...]] = []
    allocs: list[tuple[Any, ...]] = []
    at = 0
    for loan_id, payments in paid:
        r, a = payer.rows(loan_id, ids[at : at + len(payments)], payments)
        at += len(payments)
        reps.extend(r)
        allocs.extend(a)
    return reps, allocs


def _cases(
    collector: collections.Collector,
    overdue: list[collections.Overdue],
    totals: dict[str, int],
    write: Callable[..., int],
) -> None:
    ids = bulk.reserve_ids(CollectionCase, len(overdue))
    cases: list[tuple[Any, ...]] = []
    actions: list[tuple[Any, ...]] = []
    promises: list[tuple[Any, ...]] = []
    for case_id, o in zip(ids, overdue, strict=True):
        c, a, p = collector.case(case_id, o)
        cases.append(c)
        actions.extend(a)
        promises.extend(p)
    totals["collection_cases"] += write(
        CollectionCase._meta.db_table, collections.CASE_COLUMNS, cases
    )
    totals["collection_actions"] += write(
        CollectionAction._meta.db_table, collections.ACTION_COLUMNS, actions
    )
    totals["promises"] += write(PromiseToPay._meta.db_table, collections.PROMISE_COLUMNS, promises)


# What cloning a loan's application needs of it: (loan id, contract no, customer, owner,
# department, product code, principal fen, periods, rate, start date).
Lite = tuple[int, str, int, int, int | None, str, int, int, str, date]


def _lite(loans: list[tuple[Any, ...]], terms: list[Template]) -> list[Lite]:
    return [
        (row[0], row[1], row[2], row[4], row[5], tpl.product.code, tpl.principal_fen,
         tpl.periods, str(tpl.rate), tpl.start)
        for row, tpl in zip(loans, terms, strict=True)
    ]  # fmt: skip


def _clone_loans(
    cloner: applications.Cloner,
    lite: list[Lite],
    record_ids: list[int],
    instance_ids: list[int],
    names: dict[int, str] | None = None,
) -> None:
    """Each loan's approved application (record + flow instance), cloned into `cloner`."""
    if names is None:
        names = applications.customer_names({row[2] for row in lite})
    sample = cloner.t.sample
    for row, record_id, instance_id in zip(lite, record_ids, instance_ids, strict=True):
        loan_id, contract_no, customer_id, owner_id, department_id = row[:5]
        code, principal_fen, periods, rate, start = row[5:]
        template = cloner.t.by_key[(applications.APPROVED, department_id)]
        cloner.clone(
            template,
            instance_id=instance_id,
            record_id=record_id,
            customer=(customer_id, names[customer_id], owner_id, department_id),
            form_key=(code, principal_fen // 100, periods, rate),
            sample=sample[department_id],
            last=datetime.combine(start, dtime(2, 0), tzinfo=UTC),
            loan=(loan_id, contract_no, start),
        )


def _with_records(loans: list[tuple[Any, ...]], record_ids: list[int]) -> list[tuple[Any, ...]]:
    """The loan rows with their source record (the last column)."""
    return [(*row[:-1], record_id) for row, record_id in zip(loans, record_ids, strict=True)]


@dataclass
class Staged:
    """Sending back: a batch's rows in staging file `k`, as (table, columns, staging table)."""

    k: int
    clones: list[tuple[str, list[str], str]] = field(default_factory=list)  # its applications
    counts: dict[str, int] = field(default_factory=dict)  # rows per table (totals' names)


class CloningProcess:
    """Load mode: the loans' applications are cloned by a forked process of their own, beside
    the generator's loans, repayments and collections.

    The clone build was the generator's largest part (~170 of ~340 CPU-s in the loans phase at
    1m) and ran on the same core as everything else, while the server's COPY waited for it or it
    waited for the COPY. The process owns the `Cloner` (its random stream and the per-day
    application numbers) for the whole run and takes the batches in order, so the rows are
    those the in-process path writes. The generator reserves the record and instance ids (the
    loan rows name their record) and sends a few fields per loan.

    PostgreSQL: the process reads the customers' names, clones, writes with its own background
    writer on its own connections, and at the end clones the applications in other states too
    (`finish`). SQLite (`send_back`, one writer per file): the generator sends the names and
    the form data too, so the process never reads the database; it writes each batch's
    application rows into a staging file of its own, which the generator copies into the
    database with one `INSERT … SELECT` per table (`copy_staged`, in SQLite's C: binding every
    value from Python was most of the generator's clone write, 148 s at 1m). The three files
    sit beside the database file (each holds one batch's rows) and are removed at the end. At
    the end the process returns its random state (`state`) and the generator clones the
    others itself. Fork it before any thread starts and outside any transaction; at most
    `ahead` batches wait for it."""

    # The generator copies batch k - 1 while the process writes batch k; it submits k + 1 only
    # after k - 1 is committed. So two files would do; a third is slack.
    STAGING_FILES = 3

    def __init__(
        self,
        cloner: applications.Cloner,
        other: Callable[..., dict[str, int]],
        ahead: int = 2,
        *,
        send_back: bool = False,
    ) -> None:
        self.send_back = send_back
        self.staging_dir = ""
        if send_back:
            self.staging_dir = tempfile.mkdtemp(
                prefix="loandesk-clones-", dir=bulkload.sqlite_file_dir()
            )
        self.staging = [
            os.path.join(self.staging_dir, f"batch-{k}.sqlite3")
            for k in range(self.STAGING_FILES if send_back else 0)
        ]
        ctx = multiprocessing.get_context("fork")
        self.jobs: Any = ctx.Queue(ahead)
        self.results: Any = ctx.Queue()
        self.process = ctx.Process(
            target=self._main, args=(cloner, other), name="bench-cloning", daemon=True
        )
        try:
            self.process.start()
        except BaseException:
            self._remove_staging()
            raise

    def submit(
        self,
        lite: list[Lite],
        record_ids: list[int],
        instance_ids: list[int],
        names: dict[int, str] | None = None,
        forms: dict[tuple[Any, ...], dict[str, Any]] | None = None,
    ) -> None:
        """One batch; `send_back` takes the customers' names and the form data of the keys
        not sent before, so that the process never reads the database."""
        self._put(("loans", (lite, record_ids, instance_ids, names, forms or {})))

    def staged(self) -> "Staged":
        """`send_back`: where the next batch's rows wait."""
        kind, staged = self._result()
        assert kind == "staged", kind
        assert isinstance(staged, Staged)
        return staged

    def attached(self, k: int) -> AbstractContextManager[None]:
        """Staging file `k` attached to the generator's connection (`bulkload.attached`):
        enter outside any transaction."""
        return bulkload.attached(self.staging[k], f"clones_{k}")

    @staticmethod
    def copy_staged(k: int, tables: Sequence[tuple[str, Sequence[str], str]]) -> None:
        """Writes rows from attached staging file `k` into their tables."""
        bulkload.copy_staged(f"clones_{k}", tables)

    def state(self) -> tuple[Any, dict[date, int]]:
        """`send_back`, after the last batch: the cloner's random state and application
        numbers, for the generator's own cloner to go on from (the applications in other
        states are cloned and written by the generator)."""
        self._put(("state", ()))
        self._put(None)
        kind, random_state, serial = self._result()
        assert kind == "state", kind
        self.process.join()
        self._remove_staging()
        return random_state, serial

    def finish(self) -> tuple[dict[str, int], dict[str, float]]:
        """Clones the applications in other states, waits for every write; returns the rows
        written per table and the process's seconds per part."""
        self._put(("other", ()))
        self._put(None)
        kind, written, spent = self._result()
        assert kind == "ok", kind
        self.process.join()
        return written, spent

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self._remove_staging()

    def _remove_staging(self) -> None:
        if self.staging_dir:
            shutil.rmtree(self.staging_dir, ignore_errors=True)
            self.staging_dir = ""

    def _put(self, job: Any) -> None:
        while True:
            try:
                self.jobs.put(job, timeout=1)
                return
            except queue.Full:
                # A failed process reports before it ends (and cannot end before its report
                # is read, when the report is longer than the pipe holds).
                if not self.results.empty() or not self.process.is_alive():
                    self._result()  # raises its error
                    raise RuntimeError("the cloning process ended early") from None

    def _result(self) -> tuple[Any, ...]:
        while True:
            try:
                found: tuple[Any, ...] = self.results.get(timeout=1)
                break
            except queue.Empty:
                if not self.process.is_alive() and self.results.empty():
                    raise RuntimeError("the cloning process ended without a result") from None
        if found[0] == "error":
            raise RuntimeError(f"the cloning process failed:\n{found[1]}")
        return found

    def _next_job(self) -> Any:
        parent = multiprocessing.parent_process()
        while True:
            try:
                return self.jobs.get(timeout=5)
            except queue.Empty:
                if parent is not None and not parent.is_alive():
                    os._exit(1)  # the generator was killed: nothing will read what this writes

    def _send_back(self, cloner: applications.Cloner) -> None:
        """SQLite (one writer per file): clone each batch and write its rows into the next
        staging file (`bulkload.stage`), for the generator to copy in the batch's own
        transaction."""
        files = [bulkload.staging_file(path) for path in self.staging]
        batch = 0
        while (job := self._next_job()) is not None:
            kind, args = job
            if kind == "state":
                self.results.put(("state", cloner.rng.getstate(), cloner.serial))
                continue
            lite, record_ids, instance_ids, names, forms = args
            if forms:
                cloner.t.forms_cache.update(forms)
            _clone_loans(cloner, lite, record_ids, instance_ids, names)
            k = batch % len(files)
            batch += 1
            db = files[k]
            staged = Staged(k)

            def stage(
                table: str,
                columns: Sequence[str],
                rows: Iterable[Any],
                *,
                text: str = "",
                db: sqlite3.Connection = db,
                staged: Staged = staged,
            ) -> int:
                name = f"t{len(staged.clones)}"
                staged.clones.append((table, list(columns), name))
                return bulkload.stage(db, name, columns, rows)

            db.execute("BEGIN")
            staged.counts.update(applications.write(cloner, stage))
            cloner.reset()
            db.execute("COMMIT")
            self.results.put(("staged", staged))
        for db in files:
            db.close()

    def _main(self, cloner: applications.Cloner, other: Callable[..., dict[str, int]]) -> None:
        bulkload.detach_database()  # this process opens connections of its own
        totals: dict[str, int] = {}
        spent: dict[str, float] = {}

        def clock(part: str, since: float) -> float:
            now = time.perf_counter()
            spent[part] = spent.get(part, 0.0) + now - since
            return now

        t = time.perf_counter()
        try:
            if self.send_back:
                self._send_back(cloner)
                return
            with bulkload.writer(True) as write:
                while (job := self._next_job()) is not None:
                    kind, args = job
                    t = time.perf_counter()
                    if kind == "loans":
                        lite, record_ids, instance_ids, names = args[:4]
                        _clone_loans(cloner, lite, record_ids, instance_ids, names)
                        t = clock("build", t)
                        for name, n in applications.write(cloner, write).items():
                            totals[name] = totals.get(name, 0) + n
                        cloner.reset()
                        clock("write", t)
                    else:
                        totals.update(other(cloner, write))
                        t = clock("other applications", t)
            clock("waiting for its COPY", t)  # the writer drained on leaving
            if isinstance(write, bulkload.BackgroundWriter):
                spent["its COPY (overlapped)"] = write.busy
                for table, busy in sorted(write.busy_by_table.items(), key=lambda kv: -kv[1]):
                    spent[f"  of which {table}"] = busy
            spent["cpu"] = time.process_time()
            self.results.put(("ok", totals, spent))
        except BaseException:
            self.results.put(("error", traceback.format_exc()))
        finally:
            connections.close_all()
