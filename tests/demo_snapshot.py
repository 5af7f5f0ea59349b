"""The demo organisation for tests: `seed_demo()` once per session, its rows written back per test.

About 1,700 tests start from the demo organisation (the `demo` fixture). Seeding it through the
ORM and the apps' seeders costs ~350 queries: 0.3 s per test on SQLite and 0.5 s on PostgreSQL,
about half of the PostgreSQL pass. Instead, `take()` runs the real `seed_demo()` once on the
freshly migrated test database, inside a transaction it rolls back, and keeps every row it wrote.
`write_back()` then puts the same rows into a test's transaction with one INSERT per table:

* only onto a database still as migrated: every table that was empty when the snapshot was
  taken must still be empty (a fixture that wrote first gets the real `seed_demo()`), and only
  inside a transaction (a `transaction=True` test gets the real one, with its on-commit hooks);
* timestamps move by the time since the seed ended (the seeders date rows from `now`), so no
  row is dated after the write-back; sentinels far from now (a task's "run at once",
  9999-01-01) stay; a test whose clock reads another local day, or whose settings differ from
  the snapshot's where the seed reads them (the task backend, keys, the demo's switches),
  gets the real `seed_demo()`;
* tables the database's triggers write (the name grams, the report facts) are not written
  back: the triggers fill them from the rows as they go in (tables in foreign-key order), so
  they agree with the moved timestamps;
* the seed's on-commit callbacks (the outbox's worker nudge) are registered again;
* PostgreSQL's sequences are moved past the written ids.

`tests/test_demo_snapshot.py` checks that a write-back equals a real seed, table by table.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

ENABLED = os.environ.get("LOANDESK_TEST_DEMO_SNAPSHOT", "1") != "0"
_SKIP = frozenset({"django_migrations"})
_TRIGGER_WRITES = re.compile(
    r"(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE
)

Rows = tuple[list[str], list[tuple[Any, ...]]]
# Timestamps further than this from the seed are sentinels, not "now"-relative: left as they are.
_MOVABLE = timedelta(days=365 * 50)


@dataclass
class Snapshot:
    rows: dict[str, Rows]  # the tables seed_demo wrote, in foreign-key order: columns, rows
    derived: list[str]  # of those, the ones triggers write: not written back
    empty: list[str]  # every table empty before the seed: must be empty to write back
    counts: dict[str, int]  # the other tables' row counts (what migrations wrote)
    sequences: dict[str, tuple[str, str]]  # PostgreSQL: table -> (sequence, pk column)
    hooks: list[tuple[Callable[[], Any], bool]]  # the seed's on-commit callbacks
    setup: str  # the settings the seed reads, as they were
    taken_at: datetime  # when the seed ended
    day: date  # the local day it ran on


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def tables() -> list[str]:
    return sorted(t for t in connection.introspection.table_names() if t not in _SKIP)


def read(names: list[str]) -> dict[str, Rows]:
    out = {}
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"SELECT * FROM {_quote(name)}")
            out[name] = ([d[0] for d in cursor.description], cursor.fetchall())
    return out


def _trigger_targets() -> set[str]:
    """Tables written by the database's own triggers: SQLite's trigger bodies; on PostgreSQL
    every function of the schema (trigger functions call helpers with PERFORM)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname = current_schema()"
            )
        bodies = [row[0] or "" for row in cursor.fetchall()]
    return {name for body in bodies for name in _TRIGGER_WRITES.findall(body)}


def _setup() -> str:
    """The settings the seed reads (and the task backend it enqueues with), as text."""
    names = sorted(n for n in dir(settings) if n.startswith("LOANDESK_"))
    values = [(n, getattr(settings, n)) for n in names]
    return repr([*values, settings.TASKS, settings.PASSWORD_HASHERS, settings.TIME_ZONE])


def _foreign_key_order(names: list[str]) -> list[str]:
    """`names` with every table after the tables its foreign keys point to (cycles: as found),
    so that a trigger that reads a parent row finds it."""
    by_table = {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}
    wanted = set(names)
    parents: dict[str, set[str]] = {}
    for name in names:
        model = by_table.get(name)
        fields = model._meta.concrete_fields if model is not None else ()
        parents[name] = {
            f.related_model._meta.db_table
            for f in fields
            if f.is_relation and f.related_model is not None
        } & wanted - {name}
    ordered: list[str] = []
    placed: set[str] = set()
    while len(ordered) < len(names):
        ready = [n for n in names if n not in placed and parents[n] <= placed]
        if not ready:  # a cycle: take the next one as found
            ready = [next(n for n in names if n not in placed)]
        for name in ready:
            ordered.append(name)
            placed.add(name)
    return ordered


def _sequences(names: list[str]) -> dict[str, tuple[str, str]]:
    if connection.vendor != "postgresql":
        return {}  # SQLite's AUTOINCREMENT follows explicit ids by itself
    found = {}
    with connection.cursor() as cursor:
        for name in names:
            pk = connection.introspection.get_primary_key_column(cursor, name)
            if pk is None:
                continue
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [_quote(name), pk])
            sequence = cursor.fetchone()[0]
            if sequence:
                found[name] = (sequence, pk)
    return found


def take() -> Snapshot | None:
    """Seeds the demo for real inside a transaction that is rolled back; keeps what it wrote.
    None when it cannot tell what a freshly migrated database holds: inside a transaction that
    may already hold rows (a module's shared fixture), or when the seed changed migrated rows
    (which INSERTs could not repeat)."""
    if not ENABLED or connection.in_atomic_block:
        return None
    return capture()


def capture() -> Snapshot | None:
    """`take()` without its guard: seeds in a savepoint of the current transaction, rolled back."""
    from loandesk.demo.services import seed_demo

    names = tables()
    with transaction.atomic():
        before = read(names)
        pending = len(connection.run_on_commit)
        started = timezone.now()
        seed_demo()
        # Times are moved relative to the end of the seed, so that a write-back never dates a
        # row after the moment it was written (a test's next row must sort after the demo's).
        taken_at = timezone.now()
        hooks = [(hook[1], hook[2]) for hook in connection.run_on_commit[pending:]]
        after = read(names)
        transaction.set_rollback(True)
    written = [name for name in names if after[name][1] != before[name][1]]
    changed = [name for name in written if before[name][1]]
    if changed:
        warnings.warn(f"demo snapshot not taken: the seed changed {changed}", stacklevel=2)
        return None
    written = _foreign_key_order(written)
    derived = _trigger_targets()
    return Snapshot(
        rows={name: after[name] for name in written},
        derived=[name for name in written if name in derived],
        empty=[name for name in names if not before[name][1]],
        counts={name: len(rows) for name, (_, rows) in before.items() if rows},
        sequences=_sequences(written),
        hooks=hooks,
        setup=_setup(),
        taken_at=taken_at,
        day=timezone.localdate(started),
    )


def _pristine(snapshot: Snapshot) -> bool:
    """Every table as when the snapshot was taken: the empty ones empty, the others (what
    migrations wrote) with as many rows."""
    probes = [f"EXISTS (SELECT 1 FROM {_quote(name)})" for name in snapshot.empty]
    probes += [f"(SELECT COUNT(*) FROM {_quote(name)})" for name in snapshot.counts]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(probes)}")
        found = cursor.fetchone()
    filled, counts = found[: len(snapshot.empty)], found[len(snapshot.empty) :]
    return not any(filled) and list(counts) == list(snapshot.counts.values())


def write_back(snapshot: Snapshot) -> timedelta | None:
    """Writes the snapshot's rows into the current transaction and returns how far their
    timestamps moved; None (nothing written) when the database or the clock is not as the
    snapshot needs (see the module docstring)."""
    if not connection.in_atomic_block:
        return None
    now = timezone.now()
    if timezone.localdate(now) != snapshot.day or _setup() != snapshot.setup:
        return None
    if not _pristine(snapshot):
        return None
    shift = now - snapshot.taken_at
    moved = moving(snapshot.taken_at, shift)
    derived = set(snapshot.derived)
    with transaction.atomic(), connection.cursor() as cursor:
        for name in snapshot.rows:
            if name in derived:  # the triggers filled it from the rows written before
                continue
            columns, rows = snapshot.rows[name]
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {_quote(name)} ({', '.join(map(_quote, columns))}) VALUES ({marks})",
                [tuple(moved(v) for v in row) for row in rows],
            )
        if snapshot.sequences:
            moves = ", ".join(
                f"setval('{sequence}', GREATEST((SELECT MAX({_quote(pk)}) FROM {_quote(name)}),"
                f" (SELECT last_value FROM {sequence})))"
                for name, (sequence, pk) in snapshot.sequences.items()
            )
            cursor.execute(f"SELECT {moves}")
    for hook, robust in snapshot.hooks:
        transaction.on_commit(hook, robust=robust)
    return shift


def moving(taken_at: datetime, shift: timedelta) -> Callable[[Any], Any]:
    """A value as `write_back` writes it: a timestamp near the seed moved by `shift`."""

    naive = taken_at.astimezone(UTC).replace(tzinfo=None)  # SQLite's columns read naive UTC

    def moved(value: Any) -> Any:
        if isinstance(value, datetime):
            near = value - (taken_at if value.tzinfo else naive)
            if abs(near) < _MOVABLE:
                return value + shift
        return value

    return moved


_retaken: list[Snapshot] = []


def current(snapshot: Snapshot | None) -> Snapshot | None:
    """`snapshot`, or one taken again today once the local day has changed since it was taken
    (a test run across midnight in China: the seed dates rows from today, so `write_back`
    refuses another day's rows). Taken again only where the database is still as migrated
    (`capture` in a savepoint, rolled back); otherwise `snapshot`, which then falls back to the
    real seed."""
    if snapshot is None or timezone.localdate() == snapshot.day:
        return snapshot
    if _retaken and _retaken[-1].day == timezone.localdate():
        return _retaken[-1]
    if not _pristine(snapshot):
        return snapshot
    fresh = capture()
    if fresh is None:
        return snapshot
    _retaken.append(fresh)
    return fresh


def seed_for_test(snapshot: Snapshot | None) -> None:
    """The demo organisation in the current transaction: the snapshot's rows written back, or
    the real `seed_demo()` when they cannot be."""
    snapshot = current(snapshot)
    if snapshot is None or write_back(snapshot) is None:
        from loandesk.demo.services import seed_demo

        seed_demo()
