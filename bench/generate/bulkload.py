"""Load mode for the generator: the tables it fills lose their secondary indexes (and, on
PostgreSQL, their foreign keys) while the rows go in, and get them back afterwards.

Maintaining a b-tree per inserted row (forms_record alone has 36 indexes, most of them the
form's index slots) and checking every foreign key per row (PostgreSQL's RI triggers fire
per row at commit) costs more than building each index once over the loaded table and
validating each foreign key with one join. What comes back is exactly what was there: the
statements are read from the catalog (`pg_get_indexdef` / `pg_get_constraintdef`, SQLite's
`sqlite_master.sql`) before the drop and replayed after the load, so the schema equals the
migrations' (the test compares the catalog before and after).

Indexes that back a constraint (primary keys, unique constraints) stay: they are what keeps
the generated ids and numbers honest while loading. On PostgreSQL partial and expression
indexes stay too: replaying `pg_get_indexdef` re-parses the deparsed predicate into a
different (equivalent) expression tree — `status IN ('open', 'promised')` comes back with the
cast inside the ARRAY — and the point is the migrations' exact schema; they are few and
partial ones only take the rows their predicate matches. On PostgreSQL the rebuild runs on two
connections (`_in_parallel`), largest table first; a foreign key comes back `NOT VALID` and is
then validated there — a generator bug that wrote a dangling id fails the run. On SQLite
foreign keys live in the table definitions and stay (checked per row, deferred to commit).

A run that dies inside the load mode leaves the tables without those indexes: generate into a
fresh database (the generator refuses a database that already holds generated loans anyway).

The report facts are rebuilt after each load with `rebuild_facts`: as `reports.facts.rebuild`,
but on PostgreSQL the month ends are taken on two connections too (`on_connections`, as the
rebuild of the indexes).
"""

import json
import multiprocessing
import os
import queue
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar

from django.db import connection, connections
from psycopg.types.json import Json, Jsonb

T = TypeVar("T")


def _pg_definitions(tables: Sequence[str]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(table, name, definition) of the foreign keys, and the CREATE INDEX statements of the
    indexes that back no constraint, of `tables`."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
            ORDER BY 1, 2
            """,
            [list(tables)],
        )
        fks = [(t, n, d) for t, n, d in cursor.fetchall()]
        cursor.execute(
            """
            SELECT pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE i.indrelid = ANY(%s::regclass[])
              AND i.indpred IS NULL AND i.indexprs IS NULL
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                                                              AND c.conrelid = i.indrelid)
            ORDER BY ic.relname
            """,
            [list(tables)],
        )
        indexes = [row[0] for row in cursor.fetchall()]
    return fks, indexes


def _index_name(statement: str) -> str:
    # "CREATE [UNIQUE] INDEX name ON public.table USING ..."
    words = statement.split()
    return words[words.index("INDEX") + 1]


def _index_table(statement: str) -> str:
    # "CREATE [UNIQUE] INDEX name ON [ONLY] public.table USING ..."
    words = statement.split()
    at = words.index("ON") + 1
    return words[at + 1] if words[at] == "ONLY" else words[at]


def _altered_table(statement: str) -> str:
    # 'ALTER TABLE "table" VALIDATE CONSTRAINT ...'
    return statement.split()[2].strip('"')


def _largest_first(statements: list[str], table_of: Callable[[str], str]) -> list[str]:
    """`statements` ordered by the size of the table each works on, largest first: with two
    connections taking them in turn, the longest ones do not end up last and alone."""
    if not statements:
        return []
    with connection.cursor() as cursor:
        names = sorted({table_of(s) for s in statements})
        cursor.execute(
            "SELECT t, pg_relation_size(t::regclass) FROM unnest(%s::text[]) AS t", [names]
        )
        size = dict(cursor.fetchall())
    return sorted(statements, key=lambda s: -size[table_of(s)])


def _in_parallel(
    statements: Sequence[str],
    setup: str = "",
    workers: int = 2,
    task: str = "rebuilding the indexes or foreign keys",
) -> None:
    """Runs `statements` (each its own transaction) on `workers` connections of their own,
    each taking the next one when it is free; raises the first failure after all stopped.

    At the end of a load nothing else runs, and one statement at a time leaves a core idle
    for most of it: a foreign key's validation is a one-process join, and the small indexes'
    builds get no parallel workers. Index builds share the table lock they take (SHARE); a
    validation takes SHARE UPDATE EXCLUSIVE on its own table only (ROW SHARE on the one it
    references), so two statements can wait for each other but never deadlock."""
    on_connections(
        [partial(_execute, statement) for statement in statements],
        task,
        setup=setup,
        workers=workers,
    )


def _execute(statement: str) -> None:
    with connection.cursor() as cursor:  # the calling thread's connection
        cursor.execute(statement)


def on_connections(
    jobs: Sequence[Callable[[], T]], task: str, *, setup: str = "", workers: int = 2
) -> list[T]:
    """Runs `jobs` on `workers` threads, each with a Django connection of its own (what a job
    does through `django.db.connection` is on its thread's: autocommit, so each statement or
    `transaction.atomic` block commits on its own), each thread taking the next job when it is
    free; returns the jobs' results in their order. `setup` runs first on each connection.
    Raises the first failure (as "`task` failed") after every thread stopped; a thread stops
    taking jobs once any failed."""
    if not jobs:
        return []
    if connection.in_atomic_block:
        # The caller's open transaction would hold the tables' locks (its DROPs and ADDs, its
        # uncommitted rows) and the workers would wait for it forever, or not see its rows.
        raise RuntimeError(f"{task} must run outside any transaction")
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for at in range(len(jobs)):
        todo.put(at)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def work() -> None:
        from django.db import connection as own  # this thread's connection

        try:
            if setup:
                with own.cursor() as cursor:
                    cursor.execute(setup)
            while not errors:
                try:
                    at = todo.get_nowait()
                except queue.Empty:
                    return
                results[at] = jobs[at]()
        except BaseException as error:  # re-raised below, once every worker stopped
            errors.append(error)
        finally:
            own.close()

    # Daemons: an interrupted generator exits (its connections close, the server stops).
    threads = [
        threading.Thread(target=work, name=f"bench-parallel-{n}", daemon=True)
        for n in range(min(workers, len(jobs)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        for error in errors[1:]:  # the first is raised
            print(f"  also failed: {error}", file=sys.stderr, flush=True)
        raise RuntimeError(f"{task} failed") from errors[0]
    return [results[at] for at in range(len(jobs))]


def shares(ends: Iterable[date], parts: int) -> list[list[date]]:
    """`ends` cut into at most `parts` runs of consecutive month ends, each about an equal share
    of the work of taking them, for takers on connections of their own (the bench generator's
    restatement after a bulk load: `take` of each run, in parallel: `rebuild_facts`).

    Runs, not every other month end: a `take` computes its month ends and the month ends
    before them in one statement, whose `late` part reads the installments due by the last of
    them. The work of a month end is about the loans disbursed by then (the rows its statement
    joins and groups), so the later month ends of a growing book weigh more: the runs are cut
    where the running sum of those counts crosses each equal share."""
    from django.db.models import Count

    from loandesk.lending.models import Loan

    pending = sorted(set(ends))
    if parts < 1:
        raise ValueError(f"parts must be at least 1, not {parts}")
    if parts == 1 or len(pending) <= 1:
        return [pending] if pending else []
    by_day = (
        Loan.objects.filter(start_date__lte=pending[-1])
        .values_list("start_date")
        .annotate(n=Count("id"))
        .order_by("start_date")
    )
    weights, disbursed, at = [], 0, 0
    days = list(by_day)
    for end in pending:
        while at < len(days) and days[at][0] <= end:
            disbursed += days[at][1]
            at += 1
        weights.append(disbursed + 1)  # + 1: a month end before any loan still costs a little
    total = sum(weights)
    out: list[list[date]] = [[]]
    done = 0
    for end, weight in zip(pending, weights, strict=True):
        # A new run once this month end's middle lies past the current run's equal share.
        if out[-1] and len(out) < parts and (done + weight / 2) > total * len(out) / parts:
            out.append([])
        out[-1].append(end)
        done += weight
    return out


def rebuild_facts(workers: int = 2) -> dict[str, int]:
    """`reports.facts.rebuild()` for the end of a bulk load (`facts.triggers_suspended`'s
    `rebuild_with`); returns the rows written per table, as it does.

    On PostgreSQL the month ends, most of the rebuild (at 100k: about 17 of 24 s), are not
    taken in the rebuild's one transaction on one core: every month end's facts and close rows
    are deleted, then `workers` connections take, each the next when it is free, the other
    facts (`rebuild(month_ends=False)`, one transaction) and `workers + 1` runs of consecutive
    month ends (`shares`, each by `month_end.take`). Each run commits its month ends
    one by one; a run that fails leaves its month ends missing or stale (close rows claimed
    but not written), which the analyses take when they need them, and fails the load. Nothing
    else writes meanwhile (the load's premise), so no take finds a month end's version moved.
    The rows are the same as `rebuild()`'s (tests/reports/test_month_end_take.py).

    SQLite on a file rebuilds the other facts first, then takes `workers` runs of month ends
    so: a take computes outside any transaction, so the runs' statements read at once (WAL
    readers do not block), and each month end's short write waits for the other's on the
    busy timeout (at 100k the facts 16.5 → 13.1 s). An in-memory database rebuilds as the
    application does."""
    from loandesk.core.services import get_business_date
    from loandesk.reports import facts, month_end, vintage

    pg = connection.vendor == "postgresql"
    if not pg and sqlite_file_dir() is None:
        return facts.rebuild()
    if connection.in_atomic_block:
        raise RuntimeError("rebuild the facts outside any transaction")
    buckets = vintage.buckets()
    ends = month_end.all_closed_ends(get_business_date())
    jobs: list[Callable[[], Any]] = []
    if pg:
        # The other facts are one transaction on one core (at 1m about a third of the work):
        # it is the first job, beside the first run of month ends, and the month ends are cut
        # into one run more than there are connections, so that the connection that rebuilt
        # the other facts usually takes the last run. It locks the source tables against
        # writers only (SHARE); the takes only read them.
        month_end.forget_all()
        jobs.append(partial(facts.rebuild, month_ends=False))
        runs = shares(ends, workers + 1)
    else:
        # SQLite: the rebuild holds the file's one write lock until it commits, and a take
        # begins with a write (its claims), so they could not overlap: the rebuild goes first.
        written = facts.rebuild(month_ends=False)
        month_end.forget_all()
        runs = shares(ends, workers)
    jobs.extend(partial(month_end.take, run, buckets) for run in runs)
    done: list[Any] = on_connections(
        jobs,
        "rebuilding the report facts",
        setup="SET synchronous_commit TO off" if pg else "",  # as the generator's connection
        workers=workers,
    )
    if pg:
        written = done[0]
    written["reports_monthendfact"] = month_end.MonthEndFact.objects.count()
    return written


def analyze(workers: int = 2) -> None:
    """Fresh planner statistics after a load. PostgreSQL, outside a transaction: table by
    table, largest first, on `workers` connections (one `ANALYZE` samples one table at a time
    on one core; 15 s at 1m). Otherwise one `ANALYZE`, on the caller's connection (inside a
    transaction, it also sees the rows not committed yet)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            " ORDER BY pg_relation_size(c.oid) DESC, c.relname"
        )
        tables = [row[0] for row in cursor.fetchall()]
    quote = connection.ops.quote_name
    _in_parallel([f"ANALYZE {quote(t)}" for t in tables], workers=workers, task="analyzing")


def sqlite_file_dir() -> str | None:
    """The directory of the SQLite database file; None on PostgreSQL or for an in-memory
    database (threads share that one only through SQLite's shared cache, whose table locks
    fail at once instead of waiting)."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or name.startswith("file:") or name == ":memory:":
        return None
    return os.path.dirname(os.path.abspath(name))


# SQLite staging files: a forked process writes a batch's rows into a file of its own (one
# untyped table per table, `stage`) and the generator copies them with one `INSERT … SELECT`
# per table (`attached`, `copy_staged`), in SQLite's C: binding every value from Python on the
# generator's connection, SQLite's one writer, was its largest cost.


def stage(
    db: sqlite3.Connection, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Writes `rows` into a fresh untyped table `name` of staging file `db`; returns how many.
    Untyped: the values keep the type they were bound with, and the copy gives them the real
    columns' affinity, as binding them there would."""
    db.execute(f"DROP TABLE IF EXISTS {name}")
    db.execute(f"CREATE TABLE {name} ({', '.join(f'c{j}' for j in range(len(columns)))})")
    marks = ", ".join(["?"] * len(columns))
    return db.executemany(f"INSERT INTO {name} VALUES ({marks})", rows).rowcount


def staging_file(path: str) -> sqlite3.Connection:
    """A staging file, opened without journal or sync (scratch: regenerated on any failure)."""
    db = sqlite3.connect(path, isolation_level=None, timeout=60)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    return db


@contextmanager
def attached(path: str, alias: str) -> Iterator[None]:
    """Staging file `path` attached to the current connection as `alias`. Enter outside any
    transaction (SQLite refuses to attach inside one) and only to copy: attached while other
    transactions ran, it would be read-locked by each of them (SQLite reads every attached
    schema into a transaction), and its writer could not write it."""
    with connection.cursor() as cursor:
        cursor.execute(f"ATTACH DATABASE %s AS {alias}", [path])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DETACH DATABASE {alias}")


def copy_staged(alias: str, tables: Sequence[tuple[str, Sequence[str], str]]) -> None:
    """Writes the rows of attached staging file `alias` ((table, columns, staging table))
    into their tables, in the order they were staged (the tables whose ids come from the
    column default number them so)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, columns, name in tables:
            names = ", ".join(quote(c) for c in columns)
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) SELECT * FROM {alias}.{name} ORDER BY rowid"
            )


def _sqlite_indexes(tables: Sequence[str]) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(tables))
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks}) ORDER BY name",
            list(tables),
        )
        return [(n, s) for n, s in cursor.fetchall()]


def schema(tables: Sequence[str]) -> list[str]:
    """The secondary indexes and foreign keys of `tables`, as comparable text (for tests)."""
    if connection.vendor == "postgresql":
        fks, indexes = _pg_definitions(tables)
        return sorted([f"{t} {n} {d}" for t, n, d in fks] + indexes)
    return sorted(s for _, s in _sqlite_indexes(tables))


@contextmanager
def deferred_indexes(
    tables: Sequence[str], *, log: bool = True, seconds: dict[str, float] | None = None
) -> Iterator[None]:
    """Drop the secondary indexes (and PostgreSQL foreign keys) of `tables`, yield, rebuild.
    Call outside any transaction; the caller's writes commit as they like in between."""
    spent = seconds if seconds is not None else {}
    tables = list(tables)
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        fks, indexes = _pg_definitions(tables)
        with connection.cursor() as cursor:
            for table, name, _ in fks:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for statement in indexes:
                cursor.execute(f"DROP INDEX {_index_name(statement)}")
        try:
            yield
        finally:
            t = time.perf_counter()
            with connection.cursor() as cursor:
                # The foreign keys come back unvalidated (a catalog change, no table scan) and
                # are validated below, on the two connections with the indexes.
                for table, name, definition in fks:
                    cursor.execute(
                        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                        " NOT VALID"
                    )
            _in_parallel(
                _largest_first(indexes, _index_table),
                # Room to sort in memory: 512 MB per connection, so 1 GB while both build.
                "SET maintenance_work_mem = '512MB'",
            )
            _in_parallel(
                _largest_first(
                    [
                        f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(name)}"
                        for table, name, _ in fks
                    ],
                    _altered_table,
                )
            )
            spent["indexes and foreign keys"] = time.perf_counter() - t
            if log:
                print(
                    f"  rebuilt {len(indexes)} indexes and {len(fks)} foreign keys"
                    f" in {spent['indexes and foreign keys']:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        return
    found = _sqlite_indexes(tables)
    with connection.cursor() as cursor:
        for name, _ in found:
            cursor.execute(f"DROP INDEX {quote(name)}")
    try:
        yield
    finally:
        t = time.perf_counter()
        with connection.cursor() as cursor:
            for _, statement in found:
                cursor.execute(statement)
        spent["indexes"] = time.perf_counter() - t
        if log:
            print(
                f"  rebuilt {len(found)} indexes in {spent['indexes']:.0f} s",
                file=sys.stderr,
                flush=True,
            )


@contextmanager
def sqlite_unjournaled() -> Iterator[None]:
    """SQLite: no rollback journal and no fsync while loading (a crash means regenerating the
    file, which a fresh generation needs anyway); WAL mode and full sync come back after."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA journal_mode = {journal}")
            cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")


def copy_rows(
    table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, text: str = ""
) -> int:
    """Writes `rows` (tuples of column values) or, PostgreSQL only, `text` (rows already in
    COPY text format) on the current thread's connection; returns the tuples written."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                if text:
                    copy.write(text)
                for row in rows:
                    copy.write_row(row)
                    total += 1
            return total
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch = list(rows)
        cursor.executemany(sql, batch)
        return len(batch)


class BackgroundWriter:
    """PostgreSQL load mode: the COPYs run on a second connection in a thread, so the generator
    builds the next batch while the server ingests this one. Synchronously the two took turns:
    at 1m the server ingested the cloned flow rows for ~300 s while the generator waited, and
    the generator built them for ~200 s while the server waited.

    Jobs run in order, each COPY its own transaction (autocommit). Nothing on the generator's
    connection depends on them: ids come from sequences (`bulk.reserve_ids`), the loaded tables
    have no foreign keys meanwhile (`deferred_indexes`), and what the generator reads back
    (customers, the templates) was committed before. The GIL is released while the thread waits
    for the server. A failed COPY is raised on the next `write` or by `close`; the thread drains
    the queue meanwhile so the generator never blocks on it. At most `pending` jobs wait (about
    one batch of tables), which bounds the memory held."""

    def __init__(self, pending: int = 14) -> None:
        self.jobs: queue.Queue[tuple[str, list[str] | None, list[Any], str] | None] = queue.Queue(
            pending
        )
        self.error: BaseException | None = None
        self.cancelled = False  # the load failed: drop what is queued instead of copying it
        self.busy = 0.0  # seconds the thread spent in COPY
        self.busy_by_table: dict[str, float] = {}  # the same per table
        self.waited = 0.0  # seconds the generator waited for room in the queue or at close
        self.thread = threading.Thread(target=self._run, name="bench-copy", daemon=True)
        self.thread.start()

    def __call__(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, text: str = ""
    ) -> int:
        self._raise()
        batch = list(rows)
        t = time.perf_counter()
        self.jobs.put((table, list(columns), batch, text))
        self.waited += time.perf_counter() - t
        return len(batch)

    def statement(self, label: str, sql: str, params: Sequence[Any]) -> None:
        """Queue one SQL statement, run in order with the COPYs (its own transaction); its
        time counts under `label`."""
        self._raise()
        t = time.perf_counter()
        self.jobs.put((label, None, [sql, list(params)], ""))
        self.waited += time.perf_counter() - t

    def _run(self) -> None:
        from django.db import connection as own  # this thread's connection

        try:
            if own.vendor == "postgresql":
                try:
                    with own.cursor() as cursor:
                        cursor.execute("SET synchronous_commit TO off")  # as the generator's
                except BaseException as error:  # re-raised in the generator; keep draining
                    self.error = error
            while (job := self.jobs.get()) is not None:
                if self.error is None and not self.cancelled:
                    t = time.perf_counter()
                    try:
                        table, columns, rows, text = job
                        if columns is None:  # a statement (`statement`)
                            with own.cursor() as cursor:
                                cursor.execute(rows[0], rows[1])
                        else:
                            copy_rows(table, columns, rows, text=text)
                    except BaseException as error:  # re-raised in the generator
                        self.error = error
                    spent = time.perf_counter() - t
                    self.busy += spent
                    self.busy_by_table[job[0]] = self.busy_by_table.get(job[0], 0.0) + spent
        finally:
            own.close()

    def _raise(self) -> None:
        if self.error is not None:
            raise RuntimeError("a background COPY failed") from self.error

    def close(self) -> None:
        """Waits for every job; raises the first failure."""
        t = time.perf_counter()
        self.jobs.put(None)
        self.thread.join()
        self.waited += time.perf_counter() - t
        self._raise()


@contextmanager
def writer(background: bool) -> Iterator[Callable[..., int]]:
    """`copy_rows`, or on PostgreSQL with `background` a BackgroundWriter closed (drained) on
    exit — also when the load raised, so no COPY outlives the generator's error."""
    if not background or connection.vendor != "postgresql":
        yield copy_rows
        return
    bg = BackgroundWriter()
    try:
        yield bg
    except BaseException:
        bg.cancelled = True
        with suppress(RuntimeError):  # the load's own error says more
            bg.close()
        raise
    bg.close()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, (Json, Jsonb)):  # what Django adapts a JSONField's value to
        value = (value.dumps or json.dumps)(value.obj)
    if isinstance(value, str):
        return (
            value.translate(_COPY_ESCAPES)
            if "\\" in value or "\n" in value or "\t" in value or "\r" in value
            else value
        )
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def copy_lines(rows: Iterable[Sequence[Any]]) -> str:
    """Rows of values as COPY text."""
    return "".join("\t".join([copy_text(v) for v in row]) + "\n" for row in rows)


# Held by a builder process for its life: the parent's database connections, inherited by the
# fork. Never used, and never closed here (closing would end the parent's session: the socket
# is shared); a builder that touched the database would open a connection of its own.
_INHERITED: list[Any] = []


def detach_database() -> None:
    """In a forked process: leave the parent's connections alone (see `_INHERITED`)."""
    for conn in connections.all(initialized_only=True):
        _INHERITED.append(conn.connection)
        conn.connection = None


def builder_count() -> int:
    """Processes to build rows in: one per usable core, where `fork` is available (it is what
    lets a builder start with the parent's prepared state instead of re-importing and
    re-reading)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(usable or 1, 4)


def _serve(build: Callable[..., Any], jobs: Any, results: Any) -> None:
    """A builder's loop: `build(*args)` per job until None (or until the parent is gone)."""
    detach_database()
    parent = multiprocessing.parent_process()
    while True:
        try:
            args = jobs.get(timeout=5)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                os._exit(1)  # the generator was killed: nothing will take the result
            continue
        if args is None:
            return
        try:
            results.put(("ok", build(*args)))
        except BaseException:
            results.put(("error", traceback.format_exc()))
            return


class Builders:
    """Builds batches in forked processes, in order, a bounded number ahead of their writing.

    The generator's row building is pure Python on one core, while on PostgreSQL the server is
    idle in the customers phase and on SQLite the same process also runs every INSERT. A
    builder gets the parent's state by the fork (the prepared makers, settings), so it needs
    nothing but the batch's arguments, and returns what the parent writes as is. Batch k goes
    to builder k mod n, and results are taken in the same order, each from its builder's own
    queue: a builder that died or failed is reported instead of waited for. Determinism does
    not depend on the number of builders: each batch draws from its own seed. `processes` 0
    builds in this process (tests; platforms without fork). Fork before any thread starts (the
    background writer): a fork copies only the forking thread, and no process is forked later."""

    def __init__(self, build: Callable[..., Any], processes: int) -> None:
        self.build = build
        ctx = multiprocessing.get_context("fork")
        self.workers: list[tuple[Any, Any, Any]] = []
        for _ in range(processes):
            jobs, results = ctx.Queue(), ctx.Queue()
            process = ctx.Process(target=_serve, args=(build, jobs, results), daemon=True)
            process.start()
            self.workers.append((process, jobs, results))

    def map(self, batches: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """`build(*args)` per batch, in order."""
        if not self.workers:
            for args in batches:
                yield self.build(*args)
            return
        n = len(self.workers)
        sent = taken = 0
        for args in batches:
            self.workers[sent % n][1].put(args)
            sent += 1
            if sent - taken > n:  # one batch ahead per builder
                yield self._take(taken)
                taken += 1
        while taken < sent:
            yield self._take(taken)
            taken += 1

    def _take(self, k: int) -> Any:
        process, _, results = self.workers[k % len(self.workers)]
        while True:
            try:
                kind, value = results.get(timeout=1)
                break
            except queue.Empty:
                if not process.is_alive():
                    raise RuntimeError(
                        f"a builder process ended (exit code {process.exitcode})"
                    ) from None
        if kind == "error":
            raise RuntimeError(f"a builder process failed:\n{value}")
        return value

    def close(self) -> None:
        for process, jobs, _ in self.workers:
            if process.is_alive():
                jobs.put(None)
        for process, _, _ in self.workers:
            process.join(timeout=5)
            if process.is_alive():  # a load that failed left it building: drop its batch
                process.terminate()
                process.join()


@contextmanager
def builders(build: Callable[..., Any], processes: int) -> Iterator[Builders]:
    pool = Builders(build, processes)
    try:
        yield pool
    finally:
        pool.close()
