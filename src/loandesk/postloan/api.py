"""Post-loan API: close of business (mounted at /api/v1/postloan). Thin: parse, call, return."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from loandesk.lending import loans
from loandesk.postloan import selectors, services
from loandesk.postloan.schemas import (
    BucketsIn,
    CobOut,
    OwedOut,
    RunIn,
    RunOut,
    SettingsOut,
    ThresholdsIn,
)

postloan_router = Router(tags=["postloan"])


@postloan_router.get("/cob", response=CobOut)
def cob_overview(request: HttpRequest) -> dict[str, Any]:
    return selectors.cob_overview(actor=request.user)  # type: ignore[arg-type]


@postloan_router.get("/cob/runs/{run_id}", response=RunOut)
def cob_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    return selectors.cob_run(actor=request.user, run_id=run_id)  # type: ignore[arg-type]


@postloan_router.post("/cob/runs", response={202: RunOut})
def request_run(request: HttpRequest, payload: RunIn) -> Status[dict[str, Any]]:
    run = services.request_run(
        actor=request.user,  # type: ignore[arg-type]
        until=payload.until,
        workers=payload.workers,
    )
    return Status(202, selectors.run_out(run))


@postloan_router.get("/settings", response=SettingsOut)
def cob_settings(request: HttpRequest) -> dict[str, Any]:
    return selectors.cob_settings(actor=request.user)  # type: ignore[arg-type]


@postloan_router.put("/settings/buckets", response=SettingsOut)
def set_buckets(request: HttpRequest, payload: BucketsIn) -> dict[str, Any]:
    services.set_buckets(
        actor=request.user,  # type: ignore[arg-type]
        buckets=[b.dict() for b in payload.buckets],
    )
    return selectors.cob_settings(actor=request.user)  # type: ignore[arg-type]


@postloan_router.put("/settings/thresholds", response=SettingsOut)
def set_thresholds(request: HttpRequest, payload: ThresholdsIn) -> dict[str, Any]:
    services.set_thresholds(
        actor=request.user,  # type: ignore[arg-type]
        thresholds=[t.dict() for t in payload.thresholds],
    )
    return selectors.cob_settings(actor=request.user)  # type: ignore[arg-type]


@postloan_router.get("/loans/{loan_id}/owed-today", response=OwedOut)
def owed_today(request: HttpRequest, loan_id: int) -> dict[str, Any]:
    loan = loans.loan_for(actor=request.user, loan_id=loan_id)  # type: ignore[arg-type]
    return selectors.amount_owed_today(loan).as_dict()
