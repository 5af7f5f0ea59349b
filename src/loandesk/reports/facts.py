"""Pre-aggregated facts for the report engine (ADR 0010).

`reports_portfoliofact` holds the live book (loans active or overdue) as signed delta rows per
(department, owner, product, bucket, classification, days-past-due class), written by database
triggers on lending_loan in the same transaction as every loan write. The stock metrics
(loans on book, outstanding and overdue principal, overdue rate, PAR30/90) are answered from
it — a few thousand rows instead of a scan of every loan — whenever the query's dimensions and
filters are ones the fact key carries; any other query (a channel or region breakdown, a
custom metric) reads the loans as before. Both paths give identical answers (tests/reports/
test_facts.py); nothing is cached, so the answer is as live as the loans table.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum

from loandesk.accounts.scoping import ScopeSpec
from loandesk.reports.metrics import Metric, Source

PORTFOLIO_FACTS = Source(
    "portfolio_facts",
    "reports.PortfolioFact",
    ScopeSpec(),  # owner / department: the loan's, as on the loans table
    None,
    dims={"product": "product_id", "bucket": "bucket", "classification": "classification"},
    records="loans",
)

# Dimensions (Dim.key after build_dim: an org leaf becomes "officer") and filters the key holds.
COVERED_DIMS = frozenset({"org", "officer", "product", "bucket", "classification"})
COVERED_FILTERS = frozenset(
    {"org", "department_exact", "officer", "product", "bucket", "classification"}
)

_OVERDUE = Q(dpd_class__gte=1)


def _live() -> dict[str, Any]:
    return {
        "o": Sum("outstanding_fen"),
        "d": Sum("outstanding_fen", filter=_OVERDUE),
        "p30": Sum("outstanding_fen", filter=Q(dpd_class__gte=2)),
        "p90": Sum("outstanding_fen", filter=Q(dpd_class__gte=3)),
    }


# Portfolio metric → its parts over the fact table (the same part names as metrics.py's).
PARTS: dict[str, Callable[[], dict[str, Any]]] = {
    "active_loans": lambda: {"v": Sum("loans")},
    "outstanding_principal": lambda: {"v": Sum("outstanding_fen")},
    "overdue_loans": lambda: {"v": Sum("loans", filter=_OVERDUE)},
    "overdue_principal": lambda: {"v": Sum("outstanding_fen", filter=_OVERDUE)},
    "overdue_rate": _live,
    "par30": _live,
    "par90": _live,
}
# A group exists when it holds a live loan (the rows of a key may net to zero).
PRESENT = ("_facts_n", Sum("loans"))


def enabled() -> bool:
    return bool(getattr(settings, "LOANDESK_REPORT_FACTS", True))


def covers(
    src: Source, metrics: list[Metric], dim_keys: list[str], filters: Mapping[str, Any]
) -> bool:
    """Whether the fact table can answer these metrics of `src` exactly."""
    return (
        enabled()
        and src.key == "portfolio"
        and all(m.key in PARTS and m.custom_source is None and m.stat is None for m in metrics)
        and all(k in COVERED_DIMS for k in dim_keys)
        and all(k in COVERED_FILTERS for k in filters)
    )


_COMPACT_PG = """
WITH gone AS (
    DELETE FROM reports_portfoliofact
    RETURNING department_id, owner_id, product_id, bucket, classification, dpd_class,
              loans, outstanding_fen
)
INSERT INTO reports_portfoliofact
    (department_id, owner_id, product_id, bucket, classification, dpd_class,
     loans, outstanding_fen)
SELECT department_id, owner_id, product_id, bucket, classification, dpd_class,
       SUM(loans), SUM(outstanding_fen)
FROM gone
GROUP BY department_id, owner_id, product_id, bucket, classification, dpd_class
HAVING SUM(loans) <> 0 OR SUM(outstanding_fen) <> 0
"""
_COMPACT_SQLITE = """
INSERT INTO reports_portfoliofact
    (department_id, owner_id, product_id, bucket, classification, dpd_class,
     loans, outstanding_fen)
SELECT department_id, owner_id, product_id, bucket, classification, dpd_class,
       SUM(loans), SUM(outstanding_fen)
FROM reports_portfoliofact
WHERE id <= %s
GROUP BY department_id, owner_id, product_id, bucket, classification, dpd_class
HAVING SUM(loans) <> 0 OR SUM(outstanding_fen) <> 0
"""


def compact() -> int:
    """Folds the delta rows into one row per key (sums unchanged); returns the rows left.

    PostgreSQL: one statement (DELETE … RETURNING feeding the INSERT), so exactly the rows it
    summed are the rows it removed, whatever commits meanwhile; concurrent writers are never
    blocked (they only insert). SQLite: one write transaction (a single writer at a time)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_COMPACT_PG)
        else:
            cursor.execute("SELECT MAX(id) FROM reports_portfoliofact")
            top = cursor.fetchone()[0] or 0
            cursor.execute(_COMPACT_SQLITE, [top])
            cursor.execute("DELETE FROM reports_portfoliofact WHERE id <= %s", [top])
        cursor.execute("SELECT COUNT(*) FROM reports_portfoliofact")
        return int(cursor.fetchone()[0])
