"""Page-number pagination shared by every list endpoint."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from ninja import Schema
from pydantic import Field

T = TypeVar("T")


class PageParams(Schema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(20, ge=1, le=100)


class Page(Schema, Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int


def paginate(
    queryset: QuerySet[Any], params: PageParams, count: int | None = None
) -> dict[str, Any]:
    """`count`: the caller's own (e.g. a capped count), instead of an exact COUNT(*)."""
    size = min(params.page_size, settings.LOANDESK_MAX_PAGE_SIZE)
    start = (params.page - 1) * size
    return {
        "items": list(queryset[start : start + size]),
        "count": queryset.count() if count is None else count,
        "page": params.page,
        "page_size": size,
    }


@contextmanager
def serial_plan() -> Iterator[None]:
    """PostgreSQL: the queries inside run without parallel workers.

    A page walked from an index (ORDER BY … LIMIT 20, checking each row) is no faster with
    workers: each walks its own share until the merge has a page, so with two workers about
    three times the rows are read, on processes the other requests need. Broad customer
    searches at 1m customers: 126 → 53 ms (a rare surname in an officer's book), 75 → 20 ms
    (a common given name) — docs/performance.md, "Load test"."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_parallel_workers_per_gather'),"
            " set_config('max_parallel_workers_per_gather', '0', true)"
        )
        before = cursor.fetchone()[0]
        yield
        # Inside a longer transaction (a test, a command) the setting ends here, not there.
        cursor.execute("SELECT set_config('max_parallel_workers_per_gather', %s, true)", [before])
