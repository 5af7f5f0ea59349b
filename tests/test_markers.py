"""The suite's own markers (tests/conftest.py)."""

import pytest
from django.db import connection

from tests.conftest import _skip_postgres_only_tests_on_sqlite


@pytest.mark.postgres(reason="the marker's own check")
def test_a_postgres_marked_test_runs_only_on_postgresql() -> None:
    """Skipped on SQLite by the marker alone; were it run there, this would fail."""
    assert connection.vendor == "postgresql"


def test_the_sqlite_skip_says_why(request: pytest.FixtureRequest) -> None:
    item = request.node
    item.add_marker(pytest.mark.postgres(reason="SQLite has no fillfactor"))
    _skip_postgres_only_tests_on_sqlite([item])
    skips = [m.kwargs["reason"] for m in item.iter_markers("skip")]
    if connection.vendor == "postgresql":
        assert skips == []
    else:
        assert skips == [
            "needs PostgreSQL: SQLite has no fillfactor (DATABASE_URL=postgres://… to run it)"
        ]
