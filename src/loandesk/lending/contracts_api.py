"""Contract templates and generated contracts API (mounted at /api/v1/contracts).

Thin: parse, call lending.contracts, return. A stored contract PDF is downloaded through the
customer-document endpoint (`download_url`), which checks scope and audits the download.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Field, Query, Router, Schema, Status

from loandesk.accounts.models import User
from loandesk.lending import contracts

contracts_router = Router(tags=["contracts"])


class UserRef(Schema):
    id: int
    name: str


class TemplateListItem(Schema):
    code: str
    name: str
    is_active: bool
    version: int
    updated_at: Any
    updated_by: UserRef | None = None


class TemplateOut(TemplateListItem):
    body: str


class TemplateCreateIn(Schema):
    code: Any = None
    name: Any = None
    body: Any = None
    is_active: Any = None


class TemplatePatchIn(Schema):
    name: Any = None
    body: Any = None
    is_active: Any = None
    # The version the editor loaded: a save over a newer version is a 409.
    version: int | None = None


class PreviewIn(Schema):
    # An unsaved body to preview (the editor's text); the stored body when absent.
    body: str | None = None
    values: dict[str, Any] = Field(default_factory=dict)


class PlaceholderOut(Schema):
    name: str
    token: str
    label: str
    zh: str
    en: str
    block: bool
    group: str


class GeneratedFilter(Schema):
    record_id: int


class GeneratedOut(Schema):
    id: int
    contract_no: str
    template: str
    template_name: str
    template_version: int
    record_id: int | None
    customer_id: int
    document_id: int
    file_name: str
    size: int
    sha256: str
    amount: str
    instance_id: int | None
    step_id: str | None
    download_url: str
    created_at: Any


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@contracts_router.get("/templates", response=list[TemplateListItem])
def list_templates(request: HttpRequest) -> list[dict[str, Any]]:
    rows = contracts.list_templates(actor=_actor(request))
    return [contracts.template_out(t, with_body=False) for t in rows]


@contracts_router.post("/templates", response={201: TemplateOut})
def create_template(request: HttpRequest, payload: TemplateCreateIn) -> Status[dict[str, Any]]:
    data = payload.dict(exclude_unset=True)
    template = contracts.create_template(actor=_actor(request), data=data)
    return Status(201, contracts.template_out(template))


@contracts_router.get("/templates/placeholders", response=list[PlaceholderOut])
def placeholders(request: HttpRequest) -> list[dict[str, Any]]:
    contracts.require_manage(_actor(request))
    return contracts.placeholder_catalog()


@contracts_router.get("/templates/{code}", response=TemplateOut)
def get_template(request: HttpRequest, code: str) -> dict[str, Any]:
    return contracts.template_out(contracts.get_template(actor=_actor(request), code=code))


@contracts_router.patch("/templates/{code}", response=TemplateOut)
def patch_template(request: HttpRequest, code: str, payload: TemplatePatchIn) -> dict[str, Any]:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    template = contracts.update_template(
        actor=_actor(request), code=code, data=data, expected_version=version
    )
    return contracts.template_out(template)


@contracts_router.post("/templates/{code}/preview")
def preview(request: HttpRequest, code: str, payload: PreviewIn) -> HttpResponse:
    pdf = contracts.preview_contract(
        actor=_actor(request), template_code=code, values=payload.values, body=payload.body
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    disposition = content_disposition_header(False, f"{code}-preview.pdf")
    response["Content-Disposition"] = disposition or "inline"
    response["Cache-Control"] = "no-store"
    return response


@contracts_router.get("/generated", response=list[GeneratedOut])
def generated(request: HttpRequest, filters: Query[GeneratedFilter]) -> list[dict[str, Any]]:
    rows = contracts.generated_for_record(actor=_actor(request), record_id=filters.record_id)
    return [contracts.contract_out(c) for c in rows]
