"""Thin HTTP layer of the form engine: parse, call a service or selector, return a schema.

`forms_router` is mounted at /api/v1/forms (signed in); `public_router` at /api/v1/public
(no login: shared links and status pages, identified by unguessable tokens).
"""

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Query, Router, Status, UploadedFile

from loandesk.core.audit import client_ip
from loandesk.core.errors import LoanDeskError, NotFound
from loandesk.core.expression import FUNCTIONS
from loandesk.core.i18n import EN, current_language
from loandesk.forms import export, selectors, services, uploads
from loandesk.forms.fieldtypes import group_labels, palette
from loandesk.forms.models import Upload
from loandesk.forms.schemas import (
    DataIn,
    DraftIn,
    DraftOut,
    EvaluateOut,
    FormDetailOut,
    FormIn,
    FormOut,
    FormPatchIn,
    FormulaCheckIn,
    FormulaCheckOut,
    HistoryOut,
    LinkIn,
    LinkOut,
    PublicFormOut,
    PublicStatusOut,
    PublicSubmitIn,
    PublicSubmitOut,
    RecordListParams,
    RecordOut,
    RecordPageOut,
    RevealIn,
    RevealOut,
    SmsIn,
    SmsOut,
    StatusVerifyIn,
    UploadOut,
    ValidateIn,
    ValidateOut,
    VersionDetailOut,
    VersionOut,
)

forms_router = Router(tags=["forms"])
public_router = Router(tags=["public"], auth=None)

PUBLIC_MAX_BODY = 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _actor(request: HttpRequest) -> Any:
    return request.user


def _ip(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


# --- catalogue (designer palette and formula help) -------------------------------------------


@forms_router.get("/field-types", response=dict[str, Any])
def field_types(request: HttpRequest) -> dict[str, Any]:
    lang = current_language()
    return {"groups": group_labels(lang), "types": palette(lang)}


@forms_router.get("/functions", response=list[dict[str, Any]])
def functions(request: HttpRequest) -> list[dict[str, Any]]:
    english = current_language() == EN
    return [
        {
            "name": name,
            "min_args": spec.min_args,
            "max_args": spec.max_args,
            "description": spec.description_en if english else spec.description_zh,
            "example": spec.example,
        }
        for name, spec in sorted(FUNCTIONS.items())
    ]


@forms_router.post("/formula/check", response=FormulaCheckOut)
def formula_check(request: HttpRequest, payload: FormulaCheckIn) -> dict[str, Any]:
    return services.check_formula_text(
        actor=_actor(request), text=payload.text, fields=payload.fields, subtables=payload.subtables
    )


# --- uploads ---------------------------------------------------------------------------------


def _upload_out(upload: Upload, *, public: bool = False) -> dict[str, Any]:
    return {
        "id": str(upload.pk),
        "name": upload.name,
        "content_type": upload.content_type,
        "size": upload.size,
        "kind": upload.kind,
        "url": None if public else f"/api/v1/forms/uploads/{upload.pk}",
    }


@forms_router.post("/uploads", response={201: UploadOut})
def upload(request: HttpRequest, file: File[UploadedFile]) -> Status[dict[str, Any]]:
    content = file.read(uploads.MAX_UPLOAD_BYTES + 1)
    found = services.upload(actor=_actor(request), content=content, name=file.name or "file")
    return Status(201, _upload_out(found))


@forms_router.get("/uploads/{upload_id}")
def download(request: HttpRequest, upload_id: str) -> FileResponse:
    try:
        found = services.get_upload(actor=_actor(request), upload_id=upload_id)
    except (ValueError, LoanDeskError) as exc:
        raise NotFound() from exc
    inline = found.content_type in uploads.IMAGE_TYPES
    response = FileResponse(
        found.file.open("rb"),
        content_type=found.content_type,
        as_attachment=not inline,
        filename=found.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- links -----------------------------------------------------------------------------------


@forms_router.post("/links/{link_id}/deactivate", response=LinkOut)
def deactivate_link(request: HttpRequest, link_id: int) -> dict[str, Any]:
    link = services.deactivate_link(actor=_actor(request), link_id=link_id)
    return selectors.link_row(link)


@forms_router.get("/links/{link_id}/qr.png")
def link_qr(request: HttpRequest, link_id: int) -> HttpResponse:
    link = services.get_link(actor=_actor(request), link_id=link_id)
    png = services.qr_png(request.build_absolute_uri(services.link_url(link.token)))
    return HttpResponse(png, content_type="image/png")


# --- forms -----------------------------------------------------------------------------------


@forms_router.get("", response=list[FormOut])
def list_forms(request: HttpRequest) -> list[dict[str, Any]]:
    return [selectors.form_row(f) for f in selectors.forms_visible(actor=_actor(request))]


@forms_router.post("", response={201: FormOut})
def create_form(request: HttpRequest, payload: FormIn) -> Status[dict[str, Any]]:
    form = services.create_form(actor=_actor(request), **payload.dict())
    return Status(201, selectors.form_row(form, has_draft=True))


@forms_router.get("/{code}", response=FormDetailOut, by_alias=True)
def get_form(request: HttpRequest, code: str) -> dict[str, Any]:
    return selectors.form_detail(actor=_actor(request), code=code)


@forms_router.patch("/{code}", response=FormOut)
def patch_form(request: HttpRequest, code: str, payload: FormPatchIn) -> dict[str, Any]:
    form = services.update_form(
        actor=_actor(request), code=code, changes=payload.dict(exclude_unset=True)
    )
    return selectors.form_row(form)


def _draft_out(draft: Any, problems: list[Any]) -> dict[str, Any]:
    return {
        "number": draft.number,
        "schema": draft.schema,
        "updated_at": draft.updated_at,
        "problems": [services.problem_out(p) for p in problems],
    }


@forms_router.get("/{code}/draft", response=DraftOut, by_alias=True)
def get_draft(request: HttpRequest, code: str) -> dict[str, Any]:
    draft = selectors.draft(actor=_actor(request), code=code)
    return _draft_out(draft, services.check_schema(draft.form, draft.schema))


@forms_router.put("/{code}/draft", response=DraftOut, by_alias=True)
def save_draft(request: HttpRequest, code: str, payload: DraftIn) -> dict[str, Any]:
    draft, problems = services.save_draft(actor=_actor(request), code=code, schema=payload.schema_)
    return _draft_out(draft, problems)


@forms_router.post("/{code}/draft/validate", response=ValidateOut)
def validate_draft(request: HttpRequest, code: str, payload: ValidateIn) -> dict[str, Any]:
    problems = services.validate_draft(actor=_actor(request), code=code, schema=payload.schema_)
    return {"ok": not problems, "problems": [services.problem_out(p) for p in problems]}


@forms_router.post("/{code}/publish", response=VersionOut)
def publish(request: HttpRequest, code: str) -> dict[str, Any]:
    version = services.publish(actor=_actor(request), code=code)
    return selectors.version_row(version)


@forms_router.get("/{code}/versions", response=list[VersionOut])
def list_versions(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    return selectors.versions(actor=_actor(request), code=code)


@forms_router.get("/{code}/versions/{number}", response=VersionDetailOut, by_alias=True)
def get_version(request: HttpRequest, code: str, number: int) -> dict[str, Any]:
    return selectors.version_detail(actor=_actor(request), code=code, number=number)


@forms_router.post("/{code}/evaluate", response=EvaluateOut)
def evaluate(request: HttpRequest, code: str, payload: DataIn) -> dict[str, Any]:
    return services.evaluate(actor=_actor(request), form_code=code, data=payload.data)


# --- records ---------------------------------------------------------------------------------


@forms_router.get("/{code}/records", response=RecordPageOut)
def list_records(
    request: HttpRequest, code: str, params: Query[RecordListParams]
) -> dict[str, Any]:
    return selectors.records_page(
        actor=_actor(request),
        code=code,
        params=request.GET.dict(),
        sort=params.sort,
        page=params.page,
        page_size=params.page_size,
    )


@forms_router.post("/{code}/records", response={201: RecordOut})
def create_record(request: HttpRequest, code: str, payload: DataIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    record = services.create_record(actor=actor, form_code=code, data=payload.data, request=request)
    return Status(201, selectors.record_out(record, actor=actor))


@forms_router.get("/{code}/records/export")
def export_records(request: HttpRequest, code: str, sort: str = "-created_at") -> HttpResponse:
    disposition, content = export.export_xlsx(
        actor=_actor(request), code=code, params=request.GET.dict(), sort=sort, request=request
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = disposition
    return response


@forms_router.get("/{code}/records/{record_id}", response=RecordOut)
def get_record(request: HttpRequest, code: str, record_id: int) -> dict[str, Any]:
    return selectors.record_detail(actor=_actor(request), code=code, record_id=record_id)


@forms_router.patch("/{code}/records/{record_id}", response=RecordOut)
def patch_record(
    request: HttpRequest, code: str, record_id: int, payload: DataIn
) -> dict[str, Any]:
    actor = _actor(request)
    record = services.update_record(
        actor=actor, form_code=code, record_id=record_id, data=payload.data, request=request
    )
    return selectors.record_out(record, actor=actor)


@forms_router.get("/{code}/records/{record_id}/history", response=list[HistoryOut])
def record_history(request: HttpRequest, code: str, record_id: int) -> list[Any]:
    return selectors.history(actor=_actor(request), code=code, record_id=record_id)


@forms_router.post("/{code}/records/{record_id}/reveal", response=RevealOut)
def reveal(request: HttpRequest, code: str, record_id: int, payload: RevealIn) -> dict[str, str]:
    value = services.reveal(
        actor=_actor(request),
        form_code=code,
        record_id=record_id,
        path=payload.field,
        request=request,
    )
    return {"field": payload.field, "value": value}


@forms_router.post("/{code}/links", response={201: LinkOut})
def create_link(request: HttpRequest, code: str, payload: LinkIn) -> Status[dict[str, Any]]:
    link = services.create_link(actor=_actor(request), form_code=code, **payload.dict())
    qr = services.qr_data_url(request.build_absolute_uri(services.link_url(link.token)))
    return Status(201, selectors.link_row(link, qr=qr))


@forms_router.get("/{code}/links", response=list[LinkOut])
def list_links(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    return [selectors.link_row(link) for link in selectors.links(actor=_actor(request), code=code)]


# --- public (no login) -----------------------------------------------------------------------


def _limit_body(request: HttpRequest) -> None:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > PUBLIC_MAX_BODY or len(request.body) > PUBLIC_MAX_BODY:
        raise LoanDeskError("payload_too_large", status=413)


@public_router.get("/forms/{token}", response=PublicFormOut, by_alias=True)
def public_form(request: HttpRequest, token: str) -> dict[str, Any]:
    return selectors.public_form(services.open_link(token))


@public_router.post("/forms/{token}/evaluate", response=EvaluateOut)
def public_evaluate(request: HttpRequest, token: str, payload: DataIn) -> dict[str, Any]:
    _limit_body(request)
    link = services.open_link(token)
    return services.evaluate(
        actor=None, form_code=link.form.code, data=payload.data, public_link=link
    )


@public_router.post("/forms/{token}/sms", response=SmsOut)
def public_sms(request: HttpRequest, token: str, payload: SmsIn) -> dict[str, Any]:
    return services.send_sms_code(token=token, phone=payload.phone, ip=_ip(request))


@public_router.post("/forms/{token}/uploads", response={201: UploadOut})
def public_upload(
    request: HttpRequest, token: str, file: File[UploadedFile]
) -> Status[dict[str, Any]]:
    content = file.read(uploads.MAX_UPLOAD_BYTES + 1)
    found = services.public_upload(
        token=token, content=content, name=file.name or "file", ip=_ip(request)
    )
    return Status(201, _upload_out(found, public=True))


@public_router.post("/forms/{token}/submit", response={201: PublicSubmitOut})
def public_submit(
    request: HttpRequest, token: str, payload: PublicSubmitIn
) -> Status[dict[str, Any]]:
    _limit_body(request)
    record = services.submit_public(
        token=token,
        data=payload.data,
        sms_code=payload.sms_code,
        honeypot=payload.website,
        ip=_ip(request),
        request=request,
    )
    return Status(201, {"status_token": record.status_token, "serial_no": record.serial_no})


@public_router.get("/status/{status_token}", response=PublicStatusOut, exclude_none=True)
def public_status(request: HttpRequest, status_token: str) -> dict[str, Any]:
    record = services.status_record(status_token)
    grant = request.COOKIES.get(services.STATUS_GRANT_COOKIE)
    verified = services.check_status_grant(record, grant)
    return selectors.public_status_page(record, verified=verified)


@public_router.post("/status/{status_token}/sms", response=SmsOut)
def public_status_sms(request: HttpRequest, status_token: str) -> dict[str, Any]:
    return services.send_status_code(token=status_token, ip=_ip(request))


@public_router.post("/status/{status_token}/verify", response=PublicStatusOut, exclude_none=True)
def public_status_verify(
    request: HttpRequest, response: HttpResponse, status_token: str, payload: StatusVerifyIn
) -> dict[str, Any]:
    record = services.verify_status(token=status_token, code=payload.code, ip=_ip(request))
    response.set_cookie(
        services.STATUS_GRANT_COOKIE,
        services.status_grant(record),
        max_age=int(services.STATUS_GRANT_TTL.total_seconds()),
        path=f"/api/v1/public/status/{status_token}",
        secure=request.is_secure(),
        httponly=True,
        samesite="Strict",
    )
    return selectors.public_status_page(record, verified=True)
