"""The test suite's own guard (tests/conftest.py): a transactional test's flush leaves no
report-fact residue, whatever order SQLite deletes the tables in."""

from typing import Any

import pytest
from bench.generate import loans as portfolio
from django.core.management import call_command
from django.db import connection

from loandesk.reports.models import DailyFact, PortfolioFact

FACT_TABLES = (PortfolioFact._meta.db_table, DailyFact._meta.db_table)


@pytest.mark.django_db(transaction=True)
def test_a_flush_that_empties_the_facts_before_the_loans_leaves_no_residue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    portfolio.generate(5, log=False)
    assert PortfolioFact.objects.exists() and DailyFact.objects.exists()
    introspection = connection.introspection
    plain = introspection.django_table_names

    def facts_first(*args: Any, **kwargs: Any) -> list[str]:
        # The worst order SQLite's hash-ordered flush can take: the loan, installment and
        # customer deletes come after the fact tables and fire their triggers.
        tables = plain(*args, **kwargs)
        return sorted(tables, key=lambda t: t not in FACT_TABLES)

    monkeypatch.setattr(introspection, "django_table_names", facts_first)
    call_command("flush", interactive=False, verbosity=0)
    assert not PortfolioFact.objects.exists()
    assert not DailyFact.objects.exists()
