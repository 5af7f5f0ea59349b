"""Accounting API (mounted at /api/v1/accounting). Thin: parse, call, return."""

from typing import IO, Any, cast

from django.http import FileResponse, HttpRequest
from ninja import File, Query, Router, Status, UploadedFile

from loandesk.accounting import export, selectors, services, statements, writeoff
from loandesk.accounting.schemas import (
    AccountIn,
    AccountOut,
    AccountPatch,
    DryRunIn,
    EntryOut,
    ExportFilter,
    JournalFilter,
    JournalSummary,
    PostIn,
    PostingRuleIn,
    PostingRuleOut,
    StatementOut,
    WriteOffIn,
    WriteOffOut,
    WriteOffPreview,
)
from loandesk.accounts.models import User
from loandesk.core.errors import ValidationFailed
from loandesk.core.pagination import Page, PageParams, paginate

accounting_router = Router(tags=["accounting"])


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


# --- chart of accounts and posting map -------------------------------------------------------


@accounting_router.get("/accounts", response=list[AccountOut])
def list_accounts(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.chart(actor=_actor(request))


@accounting_router.post("/accounts", response={201: AccountOut})
def create_account(request: HttpRequest, payload: AccountIn) -> Status[dict[str, Any]]:
    account = services.create_account(actor=_actor(request), **payload.dict())
    return Status(201, selectors.account_out(account))


@accounting_router.patch("/accounts/{account_id}", response=AccountOut)
def update_account(request: HttpRequest, account_id: int, payload: AccountPatch) -> dict[str, Any]:
    account = services.update_account(
        actor=_actor(request), account_id=account_id, changes=payload.dict(exclude_unset=True)
    )
    return selectors.account_out(account)


@accounting_router.get("/posting-rules", response=list[PostingRuleOut])
def list_posting_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return selectors.posting_rules(actor=_actor(request))


@accounting_router.put("/posting-rules/{component}", response=list[PostingRuleOut])
def set_posting_rule(
    request: HttpRequest, component: str, payload: PostingRuleIn
) -> list[dict[str, Any]]:
    services.set_posting_rule(
        actor=_actor(request),
        component=component,
        debit_code=payload.debit_code,
        credit_code=payload.credit_code,
    )
    return selectors.posting_rules(actor=_actor(request))


# --- journal and vouchers ---------------------------------------------------------------------


@accounting_router.get("/journal", response=Page[EntryOut])
def journal(
    request: HttpRequest, filters: Query[JournalFilter], params: Query[PageParams]
) -> dict[str, Any]:
    page = paginate(selectors.journal(actor=_actor(request), period=filters.period), params)
    page["items"] = [selectors.entry_out(e) for e in page["items"]]
    return page


@accounting_router.get("/journal/summary", response=JournalSummary)
def journal_summary(request: HttpRequest, filters: Query[JournalFilter]) -> dict[str, Any]:
    return selectors.journal_summary(actor=_actor(request), period=filters.period)


@accounting_router.get("/journal/{entry_id}", response=EntryOut)
def journal_entry(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    return selectors.entry_detail(actor=_actor(request), entry_id=entry_id)


@accounting_router.get("/vouchers/export")
def export_vouchers(request: HttpRequest, filters: Query[ExportFilter]) -> FileResponse:
    fh, name = export.export_vouchers(
        actor=_actor(request), period=filters.period, layout=filters.layout
    )
    response = FileResponse(
        fh,
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- bank statements --------------------------------------------------------------------------


@accounting_router.post("/statements", response={201: StatementOut})
def upload_statement(
    request: HttpRequest, file: File[UploadedFile | None] = None
) -> Status[dict[str, Any]]:
    if file is None:
        raise ValidationFailed.field("file", "accounting.file_required")
    statement = statements.upload_statement(
        actor=_actor(request), fh=cast(IO[bytes], file), original_name=file.name or ""
    )
    return Status(201, statements.statement_out(statement))


@accounting_router.get("/statements/{statement_id}", response=StatementOut)
def get_statement(request: HttpRequest, statement_id: int) -> dict[str, Any]:
    statement = statements.get_statement(actor=_actor(request), statement_id=statement_id)
    return statements.statement_out(statement)


@accounting_router.post("/statements/{statement_id}/dry-run", response=StatementOut)
def dry_run(request: HttpRequest, statement_id: int, payload: DryRunIn) -> dict[str, Any]:
    return statements.dry_run(
        actor=_actor(request), statement_id=statement_id, mapping=payload.mapping
    )


@accounting_router.post("/statements/{statement_id}/post", response=StatementOut)
def post_statement(request: HttpRequest, statement_id: int, payload: PostIn) -> dict[str, Any]:
    return statements.post_statement(
        actor=_actor(request),
        statement_id=statement_id,
        resolutions=[r.dict() for r in payload.resolutions],
    )


# --- write-off --------------------------------------------------------------------------------


@accounting_router.get("/write-offs/preview", response=WriteOffPreview)
def write_off_preview(request: HttpRequest, loan_id: int) -> dict[str, Any]:
    return writeoff.preview(actor=_actor(request), loan_id=loan_id)


@accounting_router.post("/write-offs", response={201: WriteOffOut})
def request_write_off(request: HttpRequest, payload: WriteOffIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    req = writeoff.request_write_off(actor=actor, loan_id=payload.loan_id, reason=payload.reason)
    return Status(201, writeoff.get_request(actor=actor, request_id=req.pk))


@accounting_router.get("/write-offs/{request_id}", response=WriteOffOut)
def get_write_off(request: HttpRequest, request_id: int) -> dict[str, Any]:
    return writeoff.get_request(actor=_actor(request), request_id=request_id)
