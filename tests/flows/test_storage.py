"""Storage settings of the flow tables (migration flows 0003)."""

import pytest
from django.db import connection

from loandesk.flows.models import FlowInstance


@pytest.mark.django_db
def test_instance_pages_keep_room_for_the_transitions() -> None:
    """PostgreSQL: an approval's update of its instance row stays on the page (HOT, no index
    entry written) only if the page has room; the instances table has fillfactor 70."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no fillfactor")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
            [FlowInstance._meta.db_table],
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=70" in (options or [])
