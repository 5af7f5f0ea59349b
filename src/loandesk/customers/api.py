"""Customer-center HTTP layer (mounted at /api/v1/customers): parse, call a service or a
selector, return a schema. Permission and data scope are enforced below this layer."""

from typing import IO, Any, cast

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import File, Form, Query, Router, Status, UploadedFile

from loandesk.accounts.models import User
from loandesk.accounts.scoping import has_perm
from loandesk.core.crypto import mask_bank_card
from loandesk.core.errors import ValidationFailed
from loandesk.core.pagination import Page, PageParams, paginate
from loandesk.customers import export, files, imports, selectors, services
from loandesk.customers.schemas import (
    BankCardIn,
    BankCardOut,
    ChoiceOut,
    CustomerFilter,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    DocumentFilter,
    DocumentKind,
    DocumentOut,
    DryRunIn,
    FollowUpIn,
    FollowUpOut,
    ImportOut,
    ImportReport,
    MergeIn,
    RevealIn,
    RevealOut,
    TagIn,
    TagOut,
    TimelineOut,
    TodoFilter,
    TodoPage,
)

customers_router = Router(tags=["customers"])

_RELATIONS = ("owner_id", "tag_ids", "custom", "bank_cards", "on_duplicate")


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _required(file: UploadedFile | None) -> UploadedFile:
    """A missing upload names the field "file" (Ninja would report it as "file.file")."""
    if file is None:
        raise ValidationFailed.field("file", "customers.file_required")
    return file


def _detail(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id)
    return selectors.customer_detail(actor, customer, request=request)


# --- lists, meta, tags, to-do, export, imports (fixed paths first) --------------------------


@customers_router.get("", response=CustomerPage)
def list_customers(
    request: HttpRequest, filters: Query[CustomerFilter], page: Query[PageParams]
) -> dict[str, Any]:
    actor = _actor(request)
    found = selectors.search(actor=actor, **filters.dict())
    result = selectors.paginate_customers(found, page.page, page.page_size)
    result["items"] = selectors.customer_rows(actor, result["items"], request=request)
    return result


@customers_router.post("", response={200: CustomerOut, 201: CustomerOut})
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    data = payload.dict()
    customer, created = services.create_customer(
        actor=actor,
        data={k: v for k, v in data.items() if k not in _RELATIONS},
        owner_id=data["owner_id"],
        tag_ids=data["tag_ids"],
        bank_cards=data["bank_cards"],
        custom=data["custom"],
        on_duplicate=data["on_duplicate"],
        request=request,
    )
    return Status(201 if created else 200, _detail(request, customer.pk))


@customers_router.get("/meta", response=dict[str, list[ChoiceOut]])
def meta(request: HttpRequest) -> dict[str, Any]:
    return selectors.meta()


@customers_router.get("/tags", response=list[TagOut])
def list_tags(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.tags(actor=_actor(request))


@customers_router.post("/tags", response={201: TagOut})
def create_tag(request: HttpRequest, payload: TagIn) -> Status[dict[str, Any]]:
    tag = services.create_tag(actor=_actor(request), name=payload.name, color=payload.color)
    return Status(201, {"id": tag.pk, "name": tag.name, "color": tag.color, "customer_count": 0})


@customers_router.get("/follow-ups/todo", response=TodoPage)
def follow_up_todo(
    request: HttpRequest, filters: Query[TodoFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = selectors.todo(actor=_actor(request), within_days=filters.within_days)
    count, capped = selectors.todo_count(qs)
    result = paginate(qs, page, count=count)
    result["items"] = selectors.todo_rows(result["items"])
    return {**result, "count_capped": capped}


@customers_router.get("/export")
def export_customers(request: HttpRequest, filters: Query[CustomerFilter]) -> FileResponse:
    out, _count = export.export_customers(
        actor=_actor(request), filters=filters.dict(), request=request
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = FileResponse(
        out,
        as_attachment=True,
        filename=f"customers-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@customers_router.post("/imports", response={201: ImportOut})
def upload_import(
    request: HttpRequest, file: File[UploadedFile | None] = None
) -> Status[dict[str, Any]]:
    file = _required(file)
    imp = imports.upload_import(
        actor=_actor(request), fh=cast(IO[bytes], file), original_name=file.name or "import.xlsx"
    )
    return Status(201, imports.import_out(imp))


@customers_router.get("/imports/{import_id}", response=ImportOut)
def get_import(request: HttpRequest, import_id: int) -> dict[str, Any]:
    return imports.import_out(selectors.import_for(actor=_actor(request), import_id=import_id))


@customers_router.post("/imports/{import_id}/dry-run", response=ImportReport)
def dry_run_import(request: HttpRequest, import_id: int, payload: DryRunIn) -> dict[str, Any]:
    actor = _actor(request)
    imp = selectors.import_for(actor=actor, import_id=import_id)
    return imports.dry_run(
        actor=actor,
        imp=imp,
        mapping={k: v for k, v in payload.mapping.items() if v},
        skip_bad_rows=payload.skip_bad_rows,
    )


@customers_router.post("/imports/{import_id}/commit", response={202: ImportOut})
def commit_import(request: HttpRequest, import_id: int) -> Status[dict[str, Any]]:
    """Starts the commit in the background; poll GET /imports/{id} for progress."""
    actor = _actor(request)
    imp = selectors.import_for(actor=actor, import_id=import_id)
    started = imports.commit_import(actor=actor, imp=imp, request=request)
    return Status(202, imports.import_out(started))


# --- one customer ---------------------------------------------------------------------------


@customers_router.get("/{customer_id}", response=CustomerOut)
def get_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    return _detail(request, customer_id)


@customers_router.patch("/{customer_id}", response=CustomerOut)
def patch_customer(
    request: HttpRequest, customer_id: int, payload: CustomerPatch
) -> dict[str, Any]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.update")
    services.update_customer(
        actor=actor, customer=customer, changes=payload.dict(exclude_unset=True), request=request
    )
    return _detail(request, customer_id)


@customers_router.delete("/{customer_id}", response={204: None})
def archive_customer(request: HttpRequest, customer_id: int) -> Status[None]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.delete")
    services.archive_customer(actor=actor, customer=customer, request=request)
    return Status(204, None)


@customers_router.post("/{customer_id}/restore", response=CustomerOut)
def restore_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.delete")
    services.restore_customer(actor=actor, customer=customer, request=request)
    return _detail(request, customer_id)


@customers_router.post("/{customer_id}/reveal", response=RevealOut)
def reveal(request: HttpRequest, customer_id: int, payload: RevealIn) -> dict[str, str]:
    actor = _actor(request)
    # Owners may reveal their own customer's phone (to call); the service decides the rest.
    perm = "customers.view" if payload.field == "phone" else "customers.view_pii"
    customer = selectors.customer_for(actor, customer_id, perm=perm)
    value = services.reveal_pii(
        actor=actor,
        customer=customer,
        field=payload.field,
        bank_card_id=payload.bank_card_id,
        request=request,
    )
    return {"field": payload.field, "value": value}


@customers_router.post("/{customer_id}/merge", response=CustomerOut)
def merge(request: HttpRequest, customer_id: int, payload: MergeIn) -> dict[str, Any]:
    actor = _actor(request)
    survivor = selectors.customer_for(actor, customer_id, perm="customers.merge")
    duplicate = selectors.customer_for(actor, payload.duplicate_id, perm="customers.merge")
    services.merge_customers(actor=actor, survivor=survivor, duplicate=duplicate, request=request)
    return _detail(request, customer_id)


@customers_router.get("/{customer_id}/timeline", response=Page[TimelineOut])
def timeline(request: HttpRequest, customer_id: int, page: Query[PageParams]) -> dict[str, Any]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id)
    result = paginate(selectors.timeline(actor=actor, customer=customer), page)
    result["items"] = selectors.timeline_rows(result["items"])
    return result


@customers_router.post("/{customer_id}/bank-cards", response={201: BankCardOut})
def add_bank_card(
    request: HttpRequest, customer_id: int, payload: BankCardIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.update")
    card = services.add_bank_card(
        actor=actor, customer=customer, number=payload.number, bank_name=payload.bank_name
    )
    number = card.number if has_perm(actor, "customers.view_pii") else mask_bank_card(card.number)
    return Status(
        201,
        {
            "id": card.pk,
            "number": number,
            "bank_name": card.bank_name,
            "created_at": card.created_at,
        },
    )


@customers_router.delete("/{customer_id}/bank-cards/{card_id}", response={204: None})
def remove_bank_card(request: HttpRequest, customer_id: int, card_id: int) -> Status[None]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.update")
    services.remove_bank_card(actor=actor, customer=customer, card_id=card_id)
    return Status(204, None)


@customers_router.get("/{customer_id}/follow-ups", response=Page[FollowUpOut])
def list_follow_ups(
    request: HttpRequest, customer_id: int, page: Query[PageParams]
) -> dict[str, Any]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id)
    result = paginate(selectors.follow_ups(actor=actor, customer=customer), page)
    result["items"] = selectors.follow_up_rows(result["items"])
    return result


@customers_router.post("/{customer_id}/follow-ups", response={201: FollowUpOut})
def create_follow_up(
    request: HttpRequest, customer_id: int, payload: FollowUpIn
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.update")
    follow_up = services.create_follow_up(
        actor=actor, customer=customer, request=request, **payload.dict()
    )
    rows = selectors.follow_up_rows(
        selectors.follow_ups(actor=actor, customer=customer).filter(pk=follow_up.pk)
    )
    return Status(201, rows[0])


@customers_router.get("/{customer_id}/documents", response=Page[DocumentOut])
def list_documents(
    request: HttpRequest,
    customer_id: int,
    filters: Query[DocumentFilter],
    page: Query[PageParams],
) -> dict[str, Any]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id)
    result = paginate(selectors.documents(actor=actor, customer=customer, kind=filters.kind), page)
    result["items"] = selectors.document_rows(result["items"])
    return result


@customers_router.post("/{customer_id}/documents", response={201: DocumentOut})
def upload_document(
    request: HttpRequest,
    customer_id: int,
    file: File[UploadedFile | None] = None,
    kind: Form[DocumentKind] = "other",
) -> Status[dict[str, Any]]:
    file = _required(file)
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.update")
    document = services.upload_document(
        actor=actor,
        customer=customer,
        kind=kind,
        fh=cast(IO[bytes], file),
        original_name=file.name or "",
        request=request,
    )
    return Status(201, selectors.document_rows([document])[0])


@customers_router.get("/{customer_id}/documents/{document_id}/file")
def download_document(request: HttpRequest, customer_id: int, document_id: int) -> FileResponse:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id)
    document = selectors.document_for(actor=actor, customer=customer, document_id=document_id)
    services.record_download(actor=actor, document=document, request=request)
    response = FileResponse(
        default_storage.open(document.file.name, "rb"),
        as_attachment=document.content_type == "application/pdf",
        filename=files.download_name(document.original_name, document.content_type),
        content_type=document.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@customers_router.delete("/{customer_id}/documents/{document_id}", response={204: None})
def delete_document(request: HttpRequest, customer_id: int, document_id: int) -> Status[None]:
    actor = _actor(request)
    customer = selectors.customer_for(actor, customer_id, perm="customers.update")
    services.delete_document(
        actor=actor, customer=customer, document_id=document_id, request=request
    )
    return Status(204, None)
