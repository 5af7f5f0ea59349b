"""Rules API (mounted at /api/v1/rules). Thin: parse, call a service or selector, return."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status
from pydantic import Field

from loandesk.core.pagination import PageParams
from loandesk.rules import selectors, services
from loandesk.rules.schemas import (
    ActionOut,
    EnabledIn,
    FieldOut,
    FiringOut,
    FiringPage,
    RecordOption,
    RecordTypeOut,
    RuleIn,
    RuleOut,
    TestIn,
    TestOut,
)

rules_router = Router(tags=["rules"])


def _body(payload: RuleIn) -> dict[str, Any]:
    return payload.dict()


class FiringFilters(PageParams):
    rule: int | None = Field(None, ge=1, le=2**62)
    status: str | None = Field(None, max_length=10)
    record_type: str | None = Field(None, max_length=30)
    record_id: int | None = Field(None, ge=1, le=2**62)


@rules_router.get("/actions", response=list[ActionOut])
def actions(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.actions_catalogue(actor=request.user)  # type: ignore[arg-type]


@rules_router.get("/record-types", response=list[RecordTypeOut])
def record_types(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.record_types(actor=request.user)  # type: ignore[arg-type]


@rules_router.get("/fields", response=list[FieldOut])
def fields(
    request: HttpRequest,
    record_type: str = Query(..., max_length=30),
    form: str = Query("", max_length=50),
) -> list[dict[str, Any]]:
    return selectors.fields(actor=request.user, record_type=record_type, form_code=form)  # type: ignore[arg-type]


@rules_router.get("/records", response=list[RecordOption])
def search_records(
    request: HttpRequest,
    record_type: str = Query(..., max_length=30),
    form: str = Query("", max_length=50),
    q: str = Query("", max_length=50),
) -> list[dict[str, Any]]:
    return selectors.search_records(
        actor=request.user,  # type: ignore[arg-type]
        record_type=record_type,
        form_code=form,
        q=q,
    )


@rules_router.post("/test", response=TestOut)
def test_rule(request: HttpRequest, payload: TestIn) -> dict[str, Any]:
    return services.test_rule(
        actor=request.user,  # type: ignore[arg-type]
        data=_body(payload.rule),
        record_id=payload.record_id,
    )


@rules_router.get("/firings", response=FiringPage)
def firings(request: HttpRequest, filters: Query[FiringFilters]) -> dict[str, Any]:
    return selectors.firings(
        actor=request.user,  # type: ignore[arg-type]
        params=filters,
        rule_id=filters.rule,
        status=filters.status,
        record_type=filters.record_type,
        record_id=filters.record_id,
    )


@rules_router.post("/firings/{firing_id}/retry", response=FiringOut)
def retry(request: HttpRequest, firing_id: int) -> dict[str, Any]:
    firing = services.retry_firing(actor=request.user, firing_id=firing_id)  # type: ignore[arg-type]
    return selectors.firing_out(firing)


@rules_router.get("", response=list[RuleOut])
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.list_rules(actor=request.user)  # type: ignore[arg-type]


@rules_router.post("", response={201: RuleOut})
def create_rule(request: HttpRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    rule = services.create_rule(actor=request.user, data=_body(payload))  # type: ignore[arg-type]
    return Status(201, selectors.get_rule(actor=request.user, rule_id=rule.pk))  # type: ignore[arg-type]


@rules_router.get("/{rule_id}", response=RuleOut)
def get_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    return selectors.get_rule(actor=request.user, rule_id=rule_id)  # type: ignore[arg-type]


@rules_router.put("/{rule_id}", response=RuleOut)
def update_rule(request: HttpRequest, rule_id: int, payload: RuleIn) -> dict[str, Any]:
    services.update_rule(actor=request.user, rule_id=rule_id, data=_body(payload))  # type: ignore[arg-type]
    return selectors.get_rule(actor=request.user, rule_id=rule_id)  # type: ignore[arg-type]


@rules_router.post("/{rule_id}/enabled", response=RuleOut)
def set_enabled(request: HttpRequest, rule_id: int, payload: EnabledIn) -> dict[str, Any]:
    services.set_enabled(actor=request.user, rule_id=rule_id, enabled=payload.enabled)  # type: ignore[arg-type]
    return selectors.get_rule(actor=request.user, rule_id=rule_id)  # type: ignore[arg-type]


@rules_router.delete("/{rule_id}", response={204: None})
def delete_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    services.delete_rule(actor=request.user, rule_id=rule_id)  # type: ignore[arg-type]
    return Status(204, None)
