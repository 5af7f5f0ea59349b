"""Risk API: scorecards, preview (试算) and score results (mounted at /api/v1/risk). Thin."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from loandesk.accounts.models import User
from loandesk.risk import selectors, services
from loandesk.risk.schemas import (
    FactorOut,
    PreviewIn,
    ResultFilter,
    ResultOut,
    ResultRowOut,
    ScorecardIn,
    ScorecardOut,
)

risk_router = Router(tags=["risk"])


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@risk_router.get("/factors", response=list[FactorOut])
def factors(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.factors(actor=_actor(request))


@risk_router.get("/scorecards", response=list[ScorecardOut])
def list_scorecards(request: HttpRequest) -> list[dict[str, Any]]:
    return [selectors.scorecard_out(c) for c in selectors.list_scorecards(actor=_actor(request))]


@risk_router.post("/scorecards", response={201: ScorecardOut})
def create_scorecard(request: HttpRequest, payload: ScorecardIn) -> Status[dict[str, Any]]:
    data = payload.dict(exclude_unset=True)
    data.pop("version", None)
    card = services.create_scorecard(actor=_actor(request), data=data)
    return Status(201, selectors.scorecard_out(card))


@risk_router.get("/scorecards/{code}", response=ScorecardOut)
def get_scorecard(request: HttpRequest, code: str) -> dict[str, Any]:
    return selectors.scorecard_out(selectors.get_scorecard(actor=_actor(request), code=code))


@risk_router.patch("/scorecards/{code}", response=ScorecardOut)
def update_scorecard(request: HttpRequest, code: str, payload: ScorecardIn) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    expected = data.pop("version", None)
    card = services.update_scorecard(
        actor=_actor(request), code=code, data=data, expected_version=expected
    )
    return selectors.scorecard_out(selectors.get_scorecard(actor=_actor(request), code=card.code))


@risk_router.post("/scorecards/{code}/preview", response=ResultOut)
def preview(request: HttpRequest, code: str, payload: PreviewIn) -> dict[str, Any]:
    values = payload.dict(exclude_none=True)
    definition = values.pop("definition", None)
    return services.preview(actor=_actor(request), code=code, values=values, definition=definition)


@risk_router.get("/results", response=list[ResultRowOut])
def results(request: HttpRequest, filters: Query[ResultFilter]) -> list[dict[str, Any]]:
    rows = selectors.results_for_customer(actor=_actor(request), customer_id=filters.customer_id)
    return [selectors.result_out(r) for r in rows]
