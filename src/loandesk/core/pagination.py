"""Page-number pagination shared by every list endpoint."""

from typing import Any, Generic, TypeVar

from django.conf import settings
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
