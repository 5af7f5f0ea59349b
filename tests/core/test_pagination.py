"""Shared pagination helpers (core/pagination.py)."""

import pytest
from django.db import connection

from loandesk.core.pagination import serial_plan


def _workers() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather')")
        return str(cursor.fetchone()[0])


@pytest.mark.postgres(reason="parallel query workers are PostgreSQL's")
@pytest.mark.django_db
def test_serial_plan_turns_parallel_workers_off_inside_only() -> None:
    with connection.cursor() as cursor:  # whatever the server's configuration says
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
    before = _workers()
    assert before == "2"
    with serial_plan():
        assert _workers() == "0"
    assert _workers() == before  # also inside the test's own transaction
    with pytest.raises(ZeroDivisionError), serial_plan():
        assert _workers() == "0"
        _ = 1 / 0
    assert _workers() == before


@pytest.mark.django_db
def test_serial_plan_runs_its_queries_on_either_engine() -> None:
    from loandesk.accounts.models import User

    with serial_plan():
        assert User.objects.filter(username="nobody").count() == 0
