"""Health, business date, audit log and outbox endpoints."""

from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from loandesk import __version__
from loandesk.accounts.scoping import require_perm
from loandesk.core import outbox, selectors, services
from loandesk.core.pagination import Page, PageParams, paginate
from loandesk.core.schemas import (
    AuditEntryOut,
    AuditFilter,
    BusinessDateIn,
    BusinessDateOut,
    HealthOut,
    OutboxEventOut,
    OutboxFilter,
)

core_router = Router(tags=["system"])
audit_router = Router(tags=["audit"])


@core_router.get("/health", response=HealthOut, auth=None)
def health(request: HttpRequest) -> dict[str, str]:
    return {
        "status": "ok",
        "database": selectors.database_vendor(),
        "version": __version__,
        "business_date": services.get_business_date().isoformat(),
    }


@core_router.get("/business-date", response=BusinessDateOut)
def business_date(request: HttpRequest) -> dict[str, Any]:
    return {"business_date": services.get_business_date(), "today": services.today_local()}


@core_router.put("/business-date", response=BusinessDateOut)
def set_business_date(request: HttpRequest, payload: BusinessDateIn) -> dict[str, Any]:
    require_perm(request.user, "core.set_business_date")  # type: ignore[arg-type]
    services.set_business_date(actor=request.user, new_date=payload.date)
    return {"business_date": services.get_business_date(), "today": services.today_local()}


@core_router.get("/outbox/events", response=Page[OutboxEventOut])
def outbox_events(
    request: HttpRequest, filters: Query[OutboxFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = selectors.outbox_events(actor=request.user, status=filters.status)  # type: ignore[arg-type]
    result = paginate(qs, page)
    for event in result["items"]:
        event.id = str(event.id)
    return result


@core_router.post("/outbox/events/{event_id}/retry", response={204: None})
def retry_event(request: HttpRequest, event_id: UUID) -> Status[None]:
    require_perm(request.user, "core.view_outbox")  # type: ignore[arg-type]
    outbox.retry_dead(event_id)
    return Status(204, None)


@audit_router.get("/entries", response=Page[AuditEntryOut])
def audit_entries(
    request: HttpRequest, filters: Query[AuditFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = selectors.audit_entries(actor=request.user, **filters.dict())  # type: ignore[arg-type]
    result = paginate(qs, page)
    result["items"] = selectors.audit_rows(result["items"])
    return result
