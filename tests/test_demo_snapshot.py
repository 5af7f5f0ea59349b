"""The `demo` fixture's shortcut (tests/demo_snapshot.py) leaves what `seed_demo()` leaves."""

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from loandesk.accounts.models import Department
from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.customers.models import Tag
from tests import demo_snapshot as snapshots

# Fact tables hold signed delta rows (only their sums are read, ADR 0012): the same facts may
# be split into other rows when written row by row instead of in bulk.
MEASURES = {"reports_dailyfact": {"n", "amount_fen", "ok"}}


def _sums(
    name: str, columns: list[str], rows: list[tuple[Any, ...]], move: Any = None
) -> dict[str, Any]:
    """The table's measures summed by everything else (ids and the folded flag aside)."""
    measures = MEASURES[name]
    keep = [i for i, c in enumerate(columns) if c not in measures | {"id", "folded"}]
    summed = [i for i, c in enumerate(columns) if c in measures]
    totals: dict[str, list[int]] = {}
    for row in rows:
        values = [move(v) if move else v for v in row]
        key = repr([values[i] for i in keep])
        now = totals.setdefault(key, [0] * len(summed))
        for k, i in enumerate(summed):
            now[k] += values[i]
    return {key: sums for key, sums in totals.items() if any(sums)}


def _canonical(rows: list[tuple[Any, ...]], move: Any = None, drop_id: bool = False) -> list[str]:
    """Rows as comparable text: moved as a write-back moves them; without the id column for
    the tables triggers fill (their ids come from the sequence)."""
    out = []
    for row in rows:
        values = [move(v) if move else v for v in row]
        out.append(repr(values[1:] if drop_id else values))
    return sorted(out)


@pytest.mark.django_db
def test_a_write_back_leaves_exactly_what_a_real_seed_leaves() -> None:
    names = snapshots.tables()
    empty = snapshots.read(names)
    real = snapshots.capture()  # seed_demo() for real, read, rolled back
    assert real is not None
    assert snapshots.read(names) == empty
    # What seed_demo writes: the organisation, the apps' seeds, and the trigger-kept tables.
    assert {"accounts_user", "customers_customer", "forms_formdefinition"} <= real.rows.keys()
    assert {"customers_customernamegram", "reports_dailyfact"} <= set(real.derived)

    shift = snapshots.write_back(real)

    assert shift is not None
    move = snapshots.moving(real.taken_at, shift)
    after = snapshots.read(names)
    for name in names:
        columns, rows = after[name]
        if name in real.rows:
            derived = name in real.derived
            assert columns == real.rows[name][0]
            assert columns[0] == "id" or not derived
            if name in MEASURES:
                expected_sums = _sums(name, columns, real.rows[name][1], move)
                assert _sums(name, columns, rows) == expected_sums, name
                continue
            expected = _canonical(real.rows[name][1], move, drop_id=derived)
            assert _canonical(rows, drop_id=derived) == expected, name
        else:
            assert rows == empty[name][1], f"{name} was written by the write-back"


@pytest.mark.django_db
def test_sentinel_times_stay_and_the_seeds_commit_hooks_come_back(
    demo_snapshot: snapshots.Snapshot | None,
) -> None:
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from loandesk.core import outbox

    assert demo_snapshot is not None
    demo_snapshot = snapshots.current(demo_snapshot)  # today's, if the run crossed midnight
    assert snapshots.write_back(demo_snapshot) is not None
    # "Run at once" is stored as the latest date: a sentinel, not a time to move.
    assert DBTaskResult.objects.get().run_after.year == 9999
    assert any(hook[1] is outbox._nudged for hook in connection.run_on_commit)


@pytest.mark.django_db
def test_ids_after_a_write_back_do_not_collide(demo_snapshot: snapshots.Snapshot | None) -> None:
    assert demo_snapshot is not None, "the session's snapshot was not taken"
    demo_snapshot = snapshots.current(demo_snapshot)  # today's, if the run crossed midnight
    assert snapshots.write_back(demo_snapshot) is not None
    highest = max(row[0] for row in demo_snapshot.rows["accounts_department"][1])
    assert Department.objects.create(name="新部门").pk > highest


@pytest.mark.django_db
def test_written_back_rows_are_not_dated_after_the_write_back(
    demo_snapshot: snapshots.Snapshot | None,
) -> None:
    """A test's own events must sort after the demo's (lists newest first, `[n:]` slices)."""
    assert demo_snapshot is not None
    demo_snapshot = snapshots.current(demo_snapshot)  # today's, if the run crossed midnight
    assert snapshots.write_back(demo_snapshot) is not None
    now = timezone.now()
    assert OutboxEvent.objects.exists() and AuditEntry.objects.exists()
    assert not OutboxEvent.objects.filter(created_at__gt=now).exists()
    assert not AuditEntry.objects.filter(at__gt=now).exists()


@pytest.mark.django_db
def test_no_write_back_onto_rows_written_before(demo_snapshot: snapshots.Snapshot | None) -> None:
    assert demo_snapshot is not None
    Tag.objects.create(name="先来的", color="#000000")
    assert snapshots.write_back(demo_snapshot) is None
    assert Department.objects.count() == 0  # nothing written: the real seed_demo() runs instead


@pytest.mark.django_db
def test_no_write_back_on_another_day(
    demo_snapshot: snapshots.Snapshot | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_snapshot is not None
    later = demo_snapshot.taken_at + timedelta(days=3)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert snapshots.write_back(demo_snapshot) is None


def test_the_demo_fixture_gives_the_organisation(demo: dict[str, Any]) -> None:
    assert {"admin", "officer1", "officer2", "manager"} <= demo["users"].keys()
    assert demo["users"]["officer1"].department.name == "北京一组"


@pytest.mark.django_db
def test_a_snapshot_from_another_day_is_taken_again_today(
    demo_snapshot: snapshots.Snapshot | None,
) -> None:
    """A run across local midnight: the session's snapshot is yesterday's, which `write_back`
    refuses; `current` takes it again on the still-migrated database, and that one writes."""
    assert demo_snapshot is not None
    yesterday = dataclasses.replace(demo_snapshot, day=timezone.localdate() - timedelta(days=1))
    assert snapshots.write_back(yesterday) is None
    today = snapshots.current(yesterday)
    assert today is not None and today is not yesterday
    assert today.day == timezone.localdate() and today.rows.keys() == demo_snapshot.rows.keys()
    assert snapshots.current(yesterday) is today  # taken once, then reused
    assert snapshots.write_back(today) is not None
    assert Department.objects.exists()
