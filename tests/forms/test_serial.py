"""Serial numbers: one counter per form and date part, unique under concurrent submissions."""

import contextlib
import threading
from datetime import date
from typing import Any

import pytest
from django.db import connection

from loandesk.accounts.models import User
from loandesk.forms import services
from loandesk.forms.fieldtypes import SchemaError, SerialPattern
from loandesk.forms.models import Record, SerialCounter
from tests.factories import make_department, make_role, make_user


def test_pattern_rendering() -> None:
    pattern = SerialPattern.parse("SQ{yyyyMMdd}{0000}")
    day = date(2026, 3, 1)
    assert pattern.render(day, 7) == "SQ202603010007"
    assert pattern.render(day, 12345) == "SQ2026030112345"  # grows rather than wraps
    assert pattern.period(day) == "SQ20260301#"
    short = SerialPattern.parse("{yy}-{MM}/{000}号")
    assert short.render(day, 3) == "26-03/003号"
    assert short.period(day) == short.period(date(2026, 3, 31)) != short.period(date(2026, 4, 1))
    for bad in ("SQ", "{0000}{00}", "{yyyy}", "{hh}{00}", "x{0000", "{" * 50):
        with pytest.raises(SchemaError):
            SerialPattern.parse(bad)


def test_counter_restarts_each_period(make_form: Any, demo: Any) -> None:
    serial = {
        "key": "no",
        "type": "serial",
        "label": "编号",
        "settings": {"pattern": "D{yyyyMMdd}{000}"},
    }
    form = make_form("daily", [serial])
    officer = demo["users"]["officer1"]
    first = services.create_record(actor=officer, form_code="daily", data={})
    second = services.create_record(actor=officer, form_code="daily", data={})
    assert first.serial_no.endswith("001") and second.serial_no == first.serial_no[:-3] + "002"
    assert second.data["no"] == second.serial_no
    field = services.compiled_version(form.current_version).serial
    assert field is not None
    assert services._next_serial(form, field, date(2030, 1, 1)) == "D20300101001"
    assert services._next_serial(form, field, date(2030, 1, 1)) == "D20300101002"
    assert services._next_serial(form, field, date(2030, 1, 2)) == "D20300102001"


def _setup() -> User:
    role = make_role(permissions=["forms.submit", "forms.design"], data_scope="all")
    user = make_user("serial_user", department=make_department(), roles=[role], is_superuser=True)
    services.create_form(
        actor=user,
        code="concurrent",
        name="并发",
        schema={
            "fields": [
                {
                    "key": "no",
                    "type": "serial",
                    "label": "编号",
                    "settings": {"pattern": "C{yyyyMMdd}{0000}"},
                },
                {"key": "n", "type": "number", "label": "序", "settings": {"precision": 0}},
            ]
        },
    )
    services.publish(actor=user, code="concurrent")
    return user


@pytest.mark.django_db(transaction=True)
def test_serials_unique_under_concurrency() -> None:
    user = _setup()
    threads_count, per_thread = 8, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_count)
    # PostgreSQL runs the writers truly in parallel (the counter row lock serialises them).
    # SQLite has one writer at a time: the app's IMMEDIATE transactions queue on busy_timeout,
    # but the shared-cache in-memory test database answers "table is locked" instead of
    # waiting, so there the threads take turns — still separate threads and connections.
    turns: Any = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def work(worker: int) -> None:
        try:
            actor = User.objects.get(pk=user.pk)
            barrier.wait()
            for i in range(per_thread):
                with turns:
                    services.create_record(
                        actor=actor, form_code="concurrent", data={"n": worker * 100 + i}
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    serials = list(Record.objects.values_list("serial_no", flat=True))
    total = threads_count * per_thread
    assert len(serials) == total and len(set(serials)) == total
    assert sorted(int(s[-4:]) for s in serials) == list(range(1, total + 1))
    assert SerialCounter.objects.get().value == total
