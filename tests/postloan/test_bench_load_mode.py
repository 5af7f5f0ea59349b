"""The generator's load mode (bench/generate/bulkload.py): the tables lose their secondary
indexes (PostgreSQL: and foreign keys) while loading and get exactly the same ones back."""

import os
import string
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from bench.generate import bulkload
from bench.generate import customers as people
from bench.generate import loans as portfolio
from bench.generate.org import ensure_org
from django.db import connection, transaction

from loandesk.customers.models import Customer, CustomerNameGram, Document, FollowUp
from loandesk.flows.models import FlowHistory
from loandesk.forms.models import Record
from loandesk.lending.models import Loan

TABLES = (*people.TABLES, *portfolio.TABLES)


@pytest.mark.django_db(transaction=True)
def test_load_mode_restores_exactly_the_migrations_indexes_and_keys() -> None:
    before = bulkload.schema(TABLES)
    assert len(before) > 36  # something to restore: forms_record alone has 36 indexes
    # The customers' load mode, as the command line runs it.
    people.generate(30, log=False, load_mode=True)
    assert bulkload.schema(TABLES) == before
    assert Customer.objects.count() >= 30
    with bulkload.deferred_indexes(TABLES, log=False):
        remaining = bulkload.schema(TABLES)
        # Only what backs a constraint (primary keys, unique constraints) is left.
        assert remaining == []
        portfolio.generate(40, log=False)
    assert bulkload.schema(TABLES) == before
    assert Loan.objects.filter(contract_no__startswith="BL").count() == 40


@pytest.mark.django_db(transaction=True)
def test_the_command_lines_load_mode_makes_the_same_rows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Loading with deferred indexes (and on SQLite without journal) writes what the normal
    path writes: the portfolio digest of the same seed is the same. In four batches, so that
    SQLite's cloning process writes every one of its three staging files, one of them twice."""
    monkeypatch.setattr(bulkload, "builder_count", lambda: 2)  # as on any machine with 2 cores
    monkeypatch.setattr(portfolio, "BATCH", 400)
    monkeypatch.setattr(bulkload, "sqlite_file_dir", lambda: str(tmp_path))  # staging goes here
    made: list[str] = []
    mkdtemp = tempfile.mkdtemp

    def spy(*args: Any, **kwargs: Any) -> str:
        made.append(mkdtemp(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", spy)
    from tests.postloan import test_bench_generator as plain

    def journal() -> Any:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode" if connection.vendor == "sqlite" else "SELECT 1")
            return cursor.fetchone()[0]

    mode = journal()
    # PostgreSQL: the applications are cloned and written by the cloning process.
    seconds: dict[str, float] = {}
    totals = portfolio.generate(plain.COUNT, log=False, load_mode=True, seconds=seconds)
    # The applications went through the cloning process: written there (PostgreSQL) or sent
    # back and written here (SQLite).
    assert "applications: to the cloning process" in seconds
    assert ("cloning: its cpu seconds" in seconds) == (connection.vendor == "postgresql")
    assert ("applications: waiting for the cloning process" in seconds) == (
        connection.vendor == "sqlite"
    )
    assert plain._digest() == plain.DIGEST
    assert plain.applications_digest() == plain.APPLICATIONS_DIGEST
    assert plain.repayments_digest() == plain.REPAYMENTS_DIGEST
    # SQLite staged the rows beside the database, and the files are gone.
    assert [os.path.dirname(d) for d in made] == (
        [str(tmp_path)] if connection.vendor == "sqlite" else []
    )
    assert not list(tmp_path.iterdir())
    assert Record.objects.count() == totals["record"] + totals["other_record"]
    assert FlowHistory.objects.count() == totals["flowhistory"] + totals["other_flowhistory"]
    assert journal() == mode  # SQLite: the journal is back (WAL for a file, memory in tests)
    if connection.vendor == "sqlite":  # the installments' templates were temporary tables
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
            assert cursor.fetchall() == []


@pytest.mark.django_db(transaction=True)
def test_a_failed_background_copy_reaches_the_generator() -> None:
    """The background writer (PostgreSQL's load mode) raises a failed COPY on the next write or
    when it is closed, and keeps draining its queue so the generator never blocks on it."""
    bg = bulkload.BackgroundWriter(pending=2)
    bg("no_such_table", ["a"], [(1,)])
    bg.thread.join(timeout=0.01)
    for _ in range(50):  # the failure is noticed by a later write (or by close)
        try:
            bg("no_such_table", ["a"], [(2,)])
        except RuntimeError as error:
            assert "background COPY failed" in str(error)
            assert error.__cause__ is not None and "no_such_table" in str(error.__cause__)
            break
        bg.thread.join(timeout=0.05)
    else:
        raise AssertionError("the failure was never raised")
    with pytest.raises(RuntimeError, match="background COPY failed"):
        bg.close()
    assert not bg.thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_a_failed_load_drops_the_queued_copies() -> None:
    """When the load raises, the writer is drained without running what was still queued."""
    if connection.vendor != "postgresql":
        assert bulkload.writer(True).__enter__() is bulkload.copy_rows
        return
    with pytest.raises(ValueError, match="the load failed"), bulkload.writer(True) as write:
        assert isinstance(write, bulkload.BackgroundWriter)
        for _ in range(3):
            write("no_such_table", ["a"], [(1,)])
        raise ValueError("the load failed")
    assert write.cancelled and not write.thread.is_alive()


@pytest.mark.postgres(reason="the parallel rebuild is PostgreSQL's load mode")
@pytest.mark.django_db(transaction=True)
def test_a_failed_rebuild_statement_reaches_the_generator() -> None:
    """The rebuild's statements run on two connections of their own; one that fails (say a
    foreign key whose validation finds a dangling id) is raised after both stopped."""
    with pytest.raises(RuntimeError, match="rebuilding") as failed:
        bulkload._in_parallel(["SELECT 1", "SELECT * FROM no_such_table", "SELECT 2"])
    assert "no_such_table" in str(failed.value.__cause__)
    bulkload._in_parallel([])  # nothing to do: no connection opened


@pytest.mark.postgres(reason="the parallel rebuild is PostgreSQL's load mode")
@pytest.mark.django_db
def test_the_rebuild_refuses_to_run_inside_a_transaction() -> None:
    """Inside the caller's transaction the workers would wait for its locks forever."""
    with pytest.raises(RuntimeError, match="outside any transaction"):
        bulkload._in_parallel(["SELECT 1"])


@pytest.mark.postgres(reason="the parallel rebuild is PostgreSQL's load mode")
@pytest.mark.django_db(transaction=True)
def test_jobs_on_connections_of_their_own_return_their_results_in_order() -> None:
    """What the month-end take of the load's fact rebuild runs on (bulkload.rebuild_facts):
    any callables, each on the connection of the thread that takes it, after `setup`."""

    def job(n: int) -> tuple[int, str, int]:
        with connection.cursor() as cursor:  # the worker thread's own
            cursor.execute("SHOW synchronous_commit")
            return n, cursor.fetchone()[0], cursor.connection.info.backend_pid

    connection.ensure_connection()
    done = bulkload.on_connections(
        [partial(job, n) for n in range(5)], "testing", setup="SET synchronous_commit TO off"
    )
    assert [(n, setting) for n, setting, _ in done] == [(n, "off") for n in range(5)]
    assert connection.connection.info.backend_pid not in {pid for _, _, pid in done}


def _expected_grams(name: str) -> set[str]:
    """customers migration 0003's grams: every 1- and 2-character piece, ASCII lowercased."""
    folded = name.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))
    return {folded[p : p + w] for w in (1, 2) for p in range(len(folded) - w + 1)}


@pytest.mark.django_db(transaction=True)
def test_the_customers_load_mode_writes_every_name_gram_and_the_trigger_comes_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(people, "BATCH", 25)  # three batches, built by forked builders
    before = set(Customer.objects.values_list("pk", flat=True))
    people.generate(60, log=False, load_mode=True)
    loaded = Customer.objects.exclude(pk__in=before)
    assert loaded.count() >= 60
    held: dict[int, set[str]] = {}
    for customer_id, gram in CustomerNameGram.objects.filter(customer__in=loaded).values_list(
        "customer_id", "gram"
    ):
        held.setdefault(customer_id, set()).add(gram)
    expected = {c.pk: _expected_grams(c.name) for c in loaded}
    assert held == expected
    rows = CustomerNameGram.objects.filter(customer__in=loaded).count()
    assert rows == sum(len(grams) for grams in expected.values())  # each gram once
    # The trigger is on again: a customer added afterwards gets its grams as it is written.
    some = loaded.first()
    assert some is not None
    Customer.objects.filter(pk=some.pk).update(name="Ab测试")
    grams = set(CustomerNameGram.objects.filter(customer=some).values_list("gram", flat=True))
    assert grams == {"a", "b", "测", "试", "ab", "b测", "测试"}


def _people(before: set[int]) -> list[tuple[Any, ...]]:
    """Every generated customer value but surrogate ids (customers as their rank by id)."""
    rank: dict[int, int] = {}
    out: list[tuple[Any, ...]] = []
    for c in Customer.objects.exclude(pk__in=before).order_by("id").prefetch_related("tags"):
        rank[c.pk] = len(rank)
        out.append(
            (c.name, c.kind, c.phone, c.id_number, c.uscc, c.name_pinyin, c.owner_id,
             c.credit_level,
             c.status, c.district_code, c.created_at, c.next_follow_up_at,
             sorted(t.name for t in c.tags.all()))
        )  # fmt: skip
    follow_ups = sorted(
        (rank[f.customer_id], f.kind, f.content, f.created_at, f.next_follow_up_at, f.closed_at)
        for f in FollowUp.objects.filter(customer_id__in=rank)
    )
    documents = sorted(
        (rank[d.customer_id], d.kind, str(d.file).rsplit("-")[-1], d.size, d.sha256)
        for d in Document.objects.filter(customer_id__in=rank)
    )
    return [*out, *follow_ups, *documents]


@pytest.mark.django_db
def test_the_customers_are_the_same_whatever_the_number_of_builders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each batch draws from its own seed, so building in forked processes (several batches
    ahead of the writing, results taken in order) makes the rows building here makes."""
    monkeypatch.setattr(people, "BATCH", 7)  # 5 batches, 3 of them in flight
    made = []
    ensure_org()  # the demo's own customers are seeded here, before either run
    before = set(Customer.objects.values_list("pk", flat=True))
    for processes in (0, 2):
        with transaction.atomic():
            totals = people.generate(33, log=False, processes=processes)
            made.append((totals, _people(before)))
            transaction.set_rollback(True)
    (totals, here), (totals_forked, forked) = made
    assert totals == totals_forked and totals["customers"] == 33
    assert totals["follow_ups"] > 10 and totals["documents"] > 5 and totals["tags"] > 5
    assert forked == here
    assert len({row[2] for row in here[:33]}) == 33  # the phones stay unique across batches


@pytest.mark.django_db(transaction=True)
def test_the_customers_load_mode_makes_the_rows_the_plain_path_makes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In load mode with builders, SQLite's builders stage each batch in a file of its own
    beside the database, which the generator copies in and removes; PostgreSQL's return COPY
    text. Either way the rows are those the plain path writes."""
    monkeypatch.setattr(people, "BATCH", 7)  # 5 batches, each its own staging file on SQLite
    monkeypatch.setattr(bulkload, "sqlite_file_dir", lambda: str(tmp_path))  # staging goes here
    ensure_org()
    before = set(Customer.objects.values_list("pk", flat=True))
    with transaction.atomic():
        plain_totals = people.generate(33, log=False, processes=0)
        plain = _people(before)
        transaction.set_rollback(True)
    staged: list[str] = []
    real_copy = bulkload.copy_staged

    def copy_staged(alias: str, tables: Any) -> None:
        staged.append(alias)
        real_copy(alias, tables)

    monkeypatch.setattr(bulkload, "copy_staged", copy_staged)
    totals = people.generate(33, log=False, load_mode=True, processes=2)
    assert totals == plain_totals and totals["customers"] == 33
    assert _people(before) == plain
    assert len(staged) == (5 if connection.vendor == "sqlite" else 0)
    assert not list(tmp_path.iterdir())  # the staging files and their directory are gone


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_cloning_process_reaches_the_generator() -> None:
    def other(cloner: Any, write: Any) -> dict[str, int]:
        raise ValueError("no template for this department")

    cloning = portfolio.CloningProcess(cloner=None, other=other)  # type: ignore[arg-type]
    try:
        with pytest.raises(RuntimeError, match="no template for this department"):
            cloning.finish()
    finally:
        cloning.stop()
    assert not cloning.process.is_alive()


class _NoTemplates:
    """A cloner whose templates are missing: cloning any batch raises."""

    @property
    def t(self) -> Any:
        raise LookupError("no approved template for this department")


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_in_the_cloning_process_stops_the_generator() -> None:
    """The generator is told while it still hands batches over (its queue of two fills once
    the process is gone), not left waiting."""
    cloning = portfolio.CloningProcess(cloner=_NoTemplates(), other=dict)  # type: ignore[arg-type]
    try:
        with pytest.raises(RuntimeError, match="no approved template for this department"):
            for _ in range(10):
                cloning.submit([], [], [])
    finally:
        cloning.stop()
    assert not cloning.process.is_alive()


def test_a_builder_that_fails_or_dies_is_reported_not_waited_for() -> None:
    def build(n: int) -> int:
        if n == 3:
            raise ValueError("batch 3 is bad")
        return n * 2

    got = []
    with bulkload.builders(build, 2) as pool, pytest.raises(RuntimeError, match="batch 3 is bad"):
        for value in pool.map((n,) for n in range(6)):
            got.append(value)
    assert got == [0, 2, 4]  # in order, up to the failed batch

    def die(n: int) -> int:
        if n == 1:
            os._exit(7)
        return n

    with bulkload.builders(die, 2) as pool, pytest.raises(RuntimeError, match="exit code 7"):
        list(pool.map((n,) for n in range(4)))
    assert all(not process.is_alive() for process, _, _ in pool.workers)
