"""Post-loan API: close of business (mounted at /api/v1/postloan). Thin: parse, call, return."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from loandesk.accounts.models import User
from loandesk.core.pagination import PageParams, paginate
from loandesk.lending import loans
from loandesk.postloan import collections, selectors, services
from loandesk.postloan.models import CollectionCase
from loandesk.postloan.schemas import (
    ActionIn,
    ActionOut,
    BucketsIn,
    CaseDetailOut,
    CaseFilter,
    CaseOpenIn,
    CasePage,
    CloseIn,
    CobOut,
    CollectionsMetaOut,
    CustomerCasesOut,
    EscalateIn,
    OwedOut,
    PromiseIn,
    PromiseOut,
    ReassignIn,
    RevealOut,
    RunIn,
    RunOut,
    SettingsOut,
    SummaryOut,
    TeamIn,
    TeamOut,
    ThresholdsIn,
    UserRefOut,
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


# --- collections (催收) -----------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@postloan_router.get("/collections/cases", response=CasePage)
def collection_cases(
    request: HttpRequest, filters: Query[CaseFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = selectors.search_cases(actor=_user(request), **filters.dict())
    out = paginate(qs, page)
    out["items"] = selectors.case_rows(out["items"])
    return out


@postloan_router.post("/collections/cases", response={200: CaseDetailOut, 201: CaseDetailOut})
def open_collection_case(request: HttpRequest, payload: CaseOpenIn) -> Status[dict[str, Any]]:
    actor = _user(request)
    case, created = collections.request_open_case(
        actor=actor, loan_id=payload.loan_id, team_id=payload.team_id, assign_to=payload.assign_to
    )
    case = selectors.case_for(actor=actor, case_id=case.pk)
    return Status(201 if created else 200, selectors.case_detail(actor=actor, case=case))


@postloan_router.get("/collections/cases/{case_id}", response=CaseDetailOut)
def collection_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    actor = _user(request)
    case = selectors.case_for(actor=actor, case_id=case_id)
    return selectors.case_detail(actor=actor, case=case)


@postloan_router.post("/collections/cases/{case_id}/actions", response={201: ActionOut})
def collection_action(
    request: HttpRequest, case_id: int, payload: ActionIn
) -> Status[dict[str, Any]]:
    actor = _user(request)
    case = selectors.case_for(actor=actor, case_id=case_id)
    action = collections.log_action(
        actor=actor,
        case=case,
        kind=payload.kind,
        result=payload.result,
        note=payload.note,
        next_action_at=payload.next_action_at,
    )
    return Status(201, selectors.action_rows([action])[0])


@postloan_router.post("/collections/cases/{case_id}/promises", response={201: PromiseOut})
def collection_promise(
    request: HttpRequest, case_id: int, payload: PromiseIn
) -> Status[dict[str, Any]]:
    actor = _user(request)
    case = selectors.case_for(actor=actor, case_id=case_id)
    promise = collections.record_promise(
        actor=actor, case=case, on=payload.date, amount=payload.amount, note=payload.note
    )
    return Status(201, selectors.promise_rows([promise])[0])


@postloan_router.post("/collections/cases/{case_id}/reassign", response=CaseDetailOut)
def collection_reassign(request: HttpRequest, case_id: int, payload: ReassignIn) -> dict[str, Any]:
    actor = _user(request)
    case = selectors.case_for(actor=actor, case_id=case_id)
    collections.reassign_case(
        actor=actor,
        case=case,
        collector_id=payload.collector_id,
        team_id=payload.team_id,
        note=payload.note,
    )
    return _detail_or_gone(actor, case_id)


@postloan_router.post("/collections/cases/{case_id}/escalate", response=CaseDetailOut)
def collection_escalate(request: HttpRequest, case_id: int, payload: EscalateIn) -> dict[str, Any]:
    actor = _user(request)
    case = selectors.case_for(actor=actor, case_id=case_id)
    collections.request_escalate(actor=actor, case=case, team_id=payload.team_id, note=payload.note)
    return _detail_or_gone(actor, case_id)


@postloan_router.post("/collections/cases/{case_id}/close", response=CaseDetailOut)
def collection_close(request: HttpRequest, case_id: int, payload: CloseIn) -> dict[str, Any]:
    actor = _user(request)
    case = selectors.case_for(actor=actor, case_id=case_id)
    collections.close_case(actor=actor, case=case, note=payload.note)
    return _detail_or_gone(actor, case_id)


def _detail_or_gone(actor: User, case_id: int) -> dict[str, Any]:
    """The case after a manager's change (a manager may move it out of their own scope)."""
    case = CollectionCase.objects.select_related(*selectors.CASE_RELATED).get(pk=case_id)
    return selectors.case_detail(actor=actor, case=case)


@postloan_router.post("/collections/cases/{case_id}/reveal-phone", response=RevealOut)
def collection_reveal_phone(request: HttpRequest, case_id: int) -> dict[str, str]:
    actor = _user(request)
    case = selectors.case_for(actor=actor, case_id=case_id)
    value = collections.reveal_phone(actor=actor, case=case, request=request)
    return {"field": "phone", "value": value}


@postloan_router.get("/collections/summary", response=SummaryOut)
def collection_summary(request: HttpRequest) -> dict[str, Any]:
    return selectors.collection_summary(actor=_user(request))


@postloan_router.get("/collections/customers/{customer_id}", response=CustomerCasesOut)
def collection_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    return selectors.customer_cases(actor=_user(request), customer_id=customer_id)


@postloan_router.get("/collections/teams", response=list[TeamOut])
def collection_teams(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.teams(actor=_user(request))


@postloan_router.post("/collections/teams", response={201: TeamOut})
def collection_team_create(request: HttpRequest, payload: TeamIn) -> Status[dict[str, Any]]:
    team = collections.save_team(actor=_user(request), data=payload.dict())
    return Status(201, selectors.team_rows([team])[0])


@postloan_router.put("/collections/teams/{team_id}", response=TeamOut)
def collection_team_update(request: HttpRequest, team_id: int, payload: TeamIn) -> dict[str, Any]:
    actor = _user(request)
    team = collections.team_for(actor=actor, team_id=team_id)
    team = collections.save_team(actor=actor, data=payload.dict(), team=team)
    return selectors.team_rows([team])[0]


@postloan_router.get("/collections/collectors", response=list[UserRefOut])
def collection_collectors(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.collectors(actor=_user(request))


@postloan_router.get("/collections/meta", response=CollectionsMetaOut)
def collection_meta(request: HttpRequest) -> dict[str, Any]:
    return selectors.collections_meta(actor=_user(request))
