"""Calculator and holiday-calendar endpoints."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from loandesk.accounts.scoping import require_perm
from loandesk.lending import calculator, calendar
from loandesk.lending.schemas import (
    CalendarYearIn,
    CalendarYearOut,
    CompareOut,
    PayoffIn,
    PayoffOut,
    ScheduleIn,
    ScheduleOut,
    ScheduleParams,
)

calculator_router = Router(tags=["calculator"])
calendar_router = Router(tags=["lending"])


def _params(payload: ScheduleParams) -> dict[str, Any]:
    return payload.dict(exclude_none=True)


@calculator_router.post("/schedule", response=ScheduleOut)
def schedule(request: HttpRequest, payload: ScheduleIn) -> dict[str, Any]:
    return calculator.schedule(_params(payload))


@calculator_router.post("/compare", response=CompareOut)
def compare(request: HttpRequest, payload: ScheduleParams) -> dict[str, Any]:
    return calculator.compare(_params(payload))


@calculator_router.post("/payoff-quote", response=PayoffOut)
def payoff_quote(request: HttpRequest, payload: PayoffIn) -> dict[str, str]:
    return calculator.payoff(_params(payload), payload.as_of, payload.prepayment_fee_percent)


@calendar_router.get("/calendar/years", response=list[CalendarYearOut])
def calendar_years(request: HttpRequest) -> list[dict[str, Any]]:
    return calendar.years_overview()


@calendar_router.put("/calendar/years/{year}", response=CalendarYearOut)
def set_calendar_year(request: HttpRequest, year: int, payload: CalendarYearIn) -> dict[str, Any]:
    require_perm(request.user, "lending.manage_calendar")  # type: ignore[arg-type]
    calendar.set_year(
        actor=request.user,
        year=year,
        holidays=[(d.date, d.name) for d in payload.holidays],
        workdays=[(d.date, d.name) for d in payload.workdays],
    )
    return next(y for y in calendar.years_overview() if y["year"] == year)


@calendar_router.delete("/calendar/years/{year}", response={204: None})
def delete_calendar_year(request: HttpRequest, year: int) -> Status[None]:
    require_perm(request.user, "lending.manage_calendar")  # type: ignore[arg-type]
    calendar.delete_year(actor=request.user, year=year)
    return Status(204, None)
