"""Storage settings of the lending tables (migration lending 0009)."""

import pytest
from django.db import connection

from loandesk.lending.models import Loan


@pytest.mark.postgres(reason="SQLite has no fillfactor")
@pytest.mark.django_db
def test_loan_pages_keep_room_for_the_nightly_updates() -> None:
    """PostgreSQL: COB's daily DPD update of every delinquent loan stays on the page (HOT)
    only if the page has room; the loans table is created with fillfactor 80."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [Loan._meta.db_table]
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=80" in (options or [])
