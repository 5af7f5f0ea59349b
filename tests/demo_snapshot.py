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
  row is dated after the write-back; a test whose clock reads another local day than the
  snapshot's gets the real `seed_demo()`;
* tables the database's triggers write (the name grams, the report facts) are filled by those
  triggers as the rows go in, then replaced by the snapshot's rows, so they match exactly;
* PostgreSQL's sequences are moved past the written ids.

`tests/test_demo_snapshot.py` checks that a write-back equals a real seed, table by table.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

ENABLED = os.environ.get("LOANDESK_TEST_DEMO_SNAPSHOT", "1") != "0"
_SKIP = frozenset({"django_migrations"})
_TRIGGER_WRITES = re.compile(
    r"(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.IGNORECASE
)

Rows = tuple[list[str], list[tuple[Any, ...]]]


@dataclass
class Snapshot:
    rows: dict[str, Rows]  # the tables seed_demo wrote: columns, rows
    derived: list[str]  # of those, the ones triggers write: replaced after the others
    empty: list[str]  # every table empty before the seed: must be empty to write back
    sequences: dict[str, tuple[str, str]]  # PostgreSQL: table -> (sequence, pk column)
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
    """Tables written by the database's own triggers (their bodies read from the catalog)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                " WHERE NOT t.tgisinternal"
            )
        bodies = [row[0] or "" for row in cursor.fetchall()]
    return {name for body in bodies for name in _TRIGGER_WRITES.findall(body)}


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
        started = timezone.now()
        seed_demo()
        # Times are moved relative to the end of the seed, so that a write-back never dates a
        # row after the moment it was written (a test's next row must sort after the demo's).
        taken_at = timezone.now()
        after = read(names)
        transaction.set_rollback(True)
    written = [name for name in names if after[name][1] != before[name][1]]
    if any(before[name][1] for name in written):
        return None
    derived = _trigger_targets()
    return Snapshot(
        rows={name: after[name] for name in written},
        derived=[name for name in written if name in derived],
        empty=[name for name in names if not before[name][1]],
        sequences=_sequences(written),
        taken_at=taken_at,
        day=timezone.localdate(started),
    )


def _pristine(snapshot: Snapshot) -> bool:
    probes = ", ".join(f"EXISTS (SELECT 1 FROM {_quote(name)})" for name in snapshot.empty)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {probes}")
        return not any(cursor.fetchone())


def write_back(snapshot: Snapshot) -> timedelta | None:
    """Writes the snapshot's rows into the current transaction and returns how far their
    timestamps moved; None (nothing written) when the database or the clock is not as the
    snapshot needs (see the module docstring)."""
    if not connection.in_atomic_block:
        return None
    now = timezone.now()
    if timezone.localdate(now) != snapshot.day or not _pristine(snapshot):
        return None
    shift = now - snapshot.taken_at

    def moved(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v + shift if isinstance(v, datetime) else v for v in row)

    derived = set(snapshot.derived)
    order = [n for n in snapshot.rows if n not in derived] + snapshot.derived
    with transaction.atomic(), connection.cursor() as cursor:
        for name in order:
            columns, rows = snapshot.rows[name]
            if name in derived:  # what the triggers wrote for the rows above, replaced
                cursor.execute(f"DELETE FROM {_quote(name)}")
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {_quote(name)} ({', '.join(map(_quote, columns))}) VALUES ({marks})",
                [moved(row) for row in rows],
            )
        if snapshot.sequences:
            moves = ", ".join(
                f"setval('{sequence}', GREATEST((SELECT MAX({_quote(pk)}) FROM {_quote(name)}),"
                f" (SELECT last_value FROM {sequence})))"
                for name, (sequence, pk) in snapshot.sequences.items()
            )
            cursor.execute(f"SELECT {moves}")
    return shift


def seed_for_test(snapshot: Snapshot | None) -> None:
    """The demo organisation in the current transaction: the snapshot's rows written back, or
    the real `seed_demo()` when they cannot be."""
    if snapshot is None or write_back(snapshot) is None:
        from loandesk.demo.services import seed_demo

        seed_demo()
