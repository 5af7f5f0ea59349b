"""Flows API: designer, instances, approval inbox (mounted at /api/v1/flows). See docs/api-flows.md.

Thin: parse, call a service or selector, return. Authorization lives in services/selectors.
"""

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from loandesk.core.pagination import PageParams
from loandesk.flows import schemas as out
from loandesk.flows import selectors, services

flows_router = Router(tags=["flows"])

JsonObject = dict[str, Any]


def _actor(request: HttpRequest) -> Any:
    return request.user


class DefinitionIn(Schema):
    key: str = Field(max_length=64)
    name: str = Field(max_length=100)
    form_code: str = Field(max_length=50)
    description: str = Field("", max_length=500)


class DefinitionPatch(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=500)
    is_active: bool | None = None
    form_code: str | None = Field(None, max_length=50)


class DraftIn(Schema):
    definition: JsonObject


class StartIn(Schema):
    record_id: int = Field(ge=1, le=2**62)
    choices: dict[str, list[int | str]] | None = None


class ActIn(Schema):
    task_id: int = Field(ge=1, le=2**62)
    action: str = Field(max_length=30)
    comment: str | None = Field(None, max_length=2000)
    attachments: list[str] | None = Field(None, max_length=20)
    signature: str | None = Field(None, max_length=300_000)
    target: int | str | None = None
    data: JsonObject | None = None
    expected_version: int | None = Field(None, ge=0, le=2**62)


class CommentIn(Schema):
    comment: str | None = Field(None, max_length=2000)


class ResubmitIn(Schema):
    data: JsonObject = Field(default_factory=dict)
    choices: dict[str, list[int | str]] | None = None
    comment: str | None = Field(None, max_length=2000)


class BatchIn(Schema):
    task_ids: list[int] = Field(max_length=100)
    action: str = Field(max_length=30)
    comment: str | None = Field(None, max_length=2000)


class InboxQuery(Schema):
    q: str | None = Field(None, max_length=50)
    cursor: str | None = Field(None, max_length=64)


class MineQuery(InboxQuery):
    status: str | None = Field(None, max_length=12)


class AnalyticsQuery(Schema):
    flow_key: str | None = Field(None, max_length=64)
    date_from: date | None = None
    date_to: date | None = None


# --- designer --------------------------------------------------------------------------------


@flows_router.get("/definitions", response=list[out.FlowSummaryOut])
def list_definitions(request: HttpRequest) -> list[JsonObject]:
    return selectors.definitions(actor=_actor(request))


@flows_router.post("/definitions", response={201: out.DefinitionDetailOut}, exclude_unset=True)
def create_definition(request: HttpRequest, body: DefinitionIn) -> Status:
    flow = services.create_definition(actor=_actor(request), **body.dict())
    return Status(201, selectors.definition_detail(actor=_actor(request), key=flow.key))


@flows_router.get("/definitions/{key}", response=out.DefinitionDetailOut, exclude_unset=True)
def definition_detail(request: HttpRequest, key: str) -> JsonObject:
    return selectors.definition_detail(actor=_actor(request), key=key)


@flows_router.patch("/definitions/{key}", response=out.DefinitionDetailOut, exclude_unset=True)
def update_definition(request: HttpRequest, key: str, body: DefinitionPatch) -> JsonObject:
    services.update_definition(actor=_actor(request), key=key, **body.dict(exclude_unset=True))
    return selectors.definition_detail(actor=_actor(request), key=key)


@flows_router.put("/definitions/{key}/draft", response=out.DraftOut)
def save_draft(request: HttpRequest, key: str, body: DraftIn) -> JsonObject:
    draft, issues = services.save_draft(actor=_actor(request), key=key, definition=body.definition)
    return {"draft": draft, "issues": issues, "draft_differs": selectors.draft_differs_for(key)}


@flows_router.post("/definitions/{key}/validate", response=out.IssuesOut)
def validate_definition(request: HttpRequest, key: str, body: DraftIn) -> JsonObject:
    return {"issues": services.validate(actor=_actor(request), key=key, definition=body.definition)}


@flows_router.post("/definitions/{key}/publish", response={201: out.PublishedOut})
def publish(request: HttpRequest, key: str) -> Status:
    version = services.publish(actor=_actor(request), key=key)
    return Status(201, {"version": version.version})


@flows_router.get("/definitions/{key}/versions/{number}", response=out.VersionOut)
def version_detail(request: HttpRequest, key: str, number: int) -> JsonObject:
    return selectors.version_detail(actor=_actor(request), key=key, number=number)


# --- instances -------------------------------------------------------------------------------


@flows_router.get("/start-info", response=out.StartInfoOut)
def start_info(request: HttpRequest, form_code: str = Query(..., max_length=50)) -> JsonObject:
    return selectors.start_info(actor=_actor(request), form_code=form_code)


def _detail(request: HttpRequest, instance: Any) -> JsonObject:
    return selectors.detail_of(
        selectors.get_instance(actor=_actor(request), instance_id=instance.pk), _actor(request)
    )


@flows_router.post("/instances", response={201: out.InstanceDetailOut})
def start(request: HttpRequest, body: StartIn) -> Status:
    instance = services.start(actor=_actor(request), record_id=body.record_id, choices=body.choices)
    return Status(201, _detail(request, instance))


@flows_router.get("/records/{int:record_id}/instance", response=out.InstanceRefOut)
def instance_of_record(request: HttpRequest, record_id: int) -> JsonObject:
    return selectors.instance_of_record(actor=_actor(request), record_id=record_id)


@flows_router.get("/instances/{int:instance_id}", response=out.InstanceDetailOut)
def instance_detail(request: HttpRequest, instance_id: int) -> JsonObject:
    return selectors.instance_detail(actor=_actor(request), instance_id=instance_id)


@flows_router.post("/instances/{int:instance_id}/act", response=out.InstanceDetailOut)
def act(request: HttpRequest, instance_id: int, body: ActIn) -> JsonObject:
    instance = services.act(actor=_actor(request), instance_id=instance_id, **body.dict())
    return _detail(request, instance)


@flows_router.post("/instances/{int:instance_id}/withdraw", response=out.InstanceDetailOut)
def withdraw(request: HttpRequest, instance_id: int, body: CommentIn) -> JsonObject:
    instance = services.withdraw(
        actor=_actor(request), instance_id=instance_id, comment=body.comment
    )
    return _detail(request, instance)


@flows_router.post("/instances/{int:instance_id}/urge", response=out.InstanceDetailOut)
def urge(request: HttpRequest, instance_id: int) -> JsonObject:
    return _detail(request, services.urge(actor=_actor(request), instance_id=instance_id))


@flows_router.post("/instances/{int:instance_id}/resubmit", response=out.InstanceDetailOut)
def resubmit(request: HttpRequest, instance_id: int, body: ResubmitIn) -> JsonObject:
    instance = services.resubmit(actor=_actor(request), instance_id=instance_id, **body.dict())
    return _detail(request, instance)


@flows_router.post("/instances/{int:instance_id}/retry", response=out.InstanceDetailOut)
def retry(request: HttpRequest, instance_id: int) -> JsonObject:
    return _detail(request, services.retry(actor=_actor(request), instance_id=instance_id))


@flows_router.post("/instances/{int:instance_id}/cancel", response=out.InstanceDetailOut)
def cancel(request: HttpRequest, instance_id: int, body: CommentIn) -> JsonObject:
    instance = services.cancel(actor=_actor(request), instance_id=instance_id, comment=body.comment)
    return _detail(request, instance)


@flows_router.post("/tasks/batch", response=out.BatchOut)
def batch(request: HttpRequest, body: BatchIn) -> JsonObject:
    results = services.batch_act(actor=_actor(request), **body.dict())
    return {"results": results}


# --- inbox -----------------------------------------------------------------------------------


@flows_router.get("/inbox/counts", response=out.CountsOut)
def inbox_counts(request: HttpRequest) -> JsonObject:
    return selectors.counts(actor=_actor(request))


@flows_router.get("/inbox/todo", response=out.TodoPageOut)
def inbox_todo(request: HttpRequest, params: Query[InboxQuery]) -> JsonObject:
    return selectors.todo(actor=_actor(request), q=params.q, cursor=params.cursor)


@flows_router.get("/inbox/done", response=out.DonePageOut)
def inbox_done(request: HttpRequest, params: Query[InboxQuery]) -> JsonObject:
    return selectors.done(actor=_actor(request), q=params.q, cursor=params.cursor)


@flows_router.get("/inbox/cc", response=out.CcPageOut)
def inbox_cc(request: HttpRequest, params: Query[InboxQuery]) -> JsonObject:
    return selectors.cc(actor=_actor(request), q=params.q, cursor=params.cursor)


@flows_router.post("/inbox/cc/{int:cc_id}/read", response={204: None})
def cc_read(request: HttpRequest, cc_id: int) -> HttpResponse:
    services.mark_cc_read(actor=_actor(request), cc_id=cc_id)
    return HttpResponse(status=204)


@flows_router.get("/inbox/mine", response=out.MinePageOut)
def inbox_mine(request: HttpRequest, params: Query[MineQuery]) -> JsonObject:
    return selectors.mine(
        actor=_actor(request), status=params.status, q=params.q, cursor=params.cursor
    )


# --- customer 360 ------------------------------------------------------------------------------


@flows_router.get(
    "/customers/{int:customer_id}/applications", response=out.CustomerApplicationPageOut
)
def customer_applications(
    request: HttpRequest, customer_id: int, params: Query[PageParams]
) -> JsonObject:
    return selectors.customer_applications(
        actor=_actor(request), customer_id=customer_id, params=params
    )


# --- analytics -------------------------------------------------------------------------------


@flows_router.get("/analytics", response=out.AnalyticsOut)
def analytics(request: HttpRequest, params: Query[AnalyticsQuery]) -> JsonObject:
    return selectors.analytics(
        actor=_actor(request),
        flow_key=params.flow_key,
        date_from=params.date_from,
        date_to=params.date_to,
    )
