"""Write-off (核销): a request, its approval through the 核销审批 flow, and the final automated
step `write_off_loan`.

`request_write_off` snapshots what the loan owes (outstanding principal; the unpaid interest,
fees and penalty due, via `postloan.selectors.amount_owed_today`) and creates a record of the
shipped form 核销申请, whose creation starts the bound flow (risk review → GM approval →
`write_off_loan`). The record is created on the authority of `lending.request_write_off`.

`write_off_loan` runs after the last approval. Exactly once per request: it locks the loan; if
the request is already written off it answers with the stored result (a re-run changes
nothing). Otherwise it posts the penalty accrued up to the business date into the installments
(their amounts then stop growing: COB skips written-off loans), marks the loan written off,
publishes `loan.written_off` and books the journal entry from that event (the outbox handler
finds it booked, by event id, and does nothing). Installments keep their paid columns and
statuses: the claim stays on record for recovery (账销案存), only the books let it go.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from loandesk.accounting import ledger
from loandesk.accounting.models import WriteOffRequest
from loandesk.accounting.permissions import REQUEST_WRITE_OFF
from loandesk.accounts.models import User
from loandesk.accounts.scoping import has_perm, require_perm
from loandesk.core import audit, outbox
from loandesk.core.errors import Conflict, LoanDeskError, NotFound, ValidationFailed
from loandesk.core.i18n import message
from loandesk.core.money import fen_to_yuan
from loandesk.core.services import get_business_date
from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed

FORM_CODE = "loan_write_off"
FLOW_KEY = "loan_write_off"
OPEN = ("active", "overdue")
LIVE_FLOW = ("running", "returned", "error")


def _money(fen: int) -> str:
    return str(fen_to_yuan(fen))


def _loan(actor: User, loan_id: int, *, lock: bool = False) -> Any:
    from loandesk.lending.loans import loan_for
    from loandesk.lending.models import Loan

    loan = loan_for(actor=actor, loan_id=loan_id)  # scope check (404 outside it)
    if lock:
        loan = Loan.objects.select_for_update().select_related("customer").get(pk=loan.pk)
    return loan


def owed(loan: Any, on: date | None = None) -> dict[str, int]:
    from loandesk.postloan.selectors import amount_owed_today

    today = amount_owed_today(loan, on)
    return {
        "principal_fen": int(loan.outstanding_principal_fen),
        "due_principal_fen": today.principal_fen,
        "interest_fen": today.interest_fen,
        "fee_fen": today.fee_fen,
        "penalty_fen": today.penalty_fen,
    }


def _live_request(loan_id: int) -> WriteOffRequest | None:
    for req in WriteOffRequest.objects.filter(loan_id=loan_id, status="pending").select_related(
        "instance"
    ):
        if req.instance is None or req.instance.status in LIVE_FLOW:
            return req
    return None


def request_out(req: WriteOffRequest) -> dict[str, Any]:
    instance = req.instance
    return {
        "id": req.pk,
        "loan_id": req.loan_id,
        "contract_no": req.loan.contract_no,
        "customer_name": req.loan.customer.name,
        "reason": req.reason,
        "owed_on": req.owed_on,
        "principal": _money(req.principal_fen),
        "interest": _money(req.interest_fen),
        "fee": _money(req.fee_fen),
        "penalty": _money(req.penalty_fen),
        "total": _money(req.principal_fen + req.interest_fen + req.fee_fen + req.penalty_fen),
        "status": _status(req),
        "instance": (
            {
                "id": instance.pk,
                "status": instance.status,
                "current_node_name": instance.current_node_name,
            }
            if instance
            else None
        ),
        "requested_by": {"id": req.requested_by_id, "full_name": req.requested_by.full_name},
        "created_at": req.created_at,
        "written_off_at": req.written_off_at,
    }


def _status(req: WriteOffRequest) -> str:
    if req.status == WriteOffRequest.Status.WRITTEN_OFF:
        return "written_off"
    if req.instance is not None and req.instance.status not in LIVE_FLOW:
        return "closed" if req.instance.status != "approved" else "approved"
    return "pending"


def preview(*, actor: User, loan_id: int) -> dict[str, Any]:
    """What a write-off of this loan would cover today, and any request already under way."""
    require_perm(actor, REQUEST_WRITE_OFF)
    loan = _loan(actor, loan_id)
    amounts = owed(loan)
    live = _live_request(loan.pk)
    latest = (
        WriteOffRequest.objects.filter(loan=loan)
        .select_related("loan__customer", "instance", "requested_by")
        .first()
    )
    return {
        "loan": {
            "id": loan.pk,
            "contract_no": loan.contract_no,
            "status": loan.status,
            "customer_name": loan.customer.name,
            "days_past_due": loan.days_past_due,
            "bucket": loan.bucket,
            "classification": loan.classification,
        },
        "on": get_business_date(),
        "principal": _money(amounts["principal_fen"]),
        "due_principal": _money(amounts["due_principal_fen"]),
        "interest": _money(amounts["interest_fen"]),
        "fee": _money(amounts["fee_fen"]),
        "penalty": _money(amounts["penalty_fen"]),
        "total": _money(
            amounts["principal_fen"]
            + amounts["interest_fen"]
            + amounts["fee_fen"]
            + amounts["penalty_fen"]
        ),
        "can_request": loan.status in OPEN and live is None,
        "pending": live is not None,
        "latest": request_out(latest) if latest else None,
    }


def _create_record(actor: User, data: dict[str, Any]) -> Any:
    """A record of the 核销申请 form (its creation starts the bound flow). The authority is
    `lending.request_write_off`, checked by the caller — not forms.submit, which would also
    let the requester submit loan applications."""
    from loandesk.forms import services as form_services

    try:
        form, version, compiled = form_services.published(FORM_CODE)
    except (NotFound, Conflict):
        raise Conflict("accounting.write_off.no_flow") from None
    return form_services._create(
        form=form,
        version=version,
        compiled=compiled,
        raw=data,
        actor=actor,
        owner=actor,
        modes=form_services.field_modes(compiled, actor),
        resolver=form_services.DbResolver(actor=actor),
    )


@transaction.atomic
def request_write_off(*, actor: User, loan_id: int, reason: str) -> WriteOffRequest:
    from loandesk.flows.models import FlowInstance
    from loandesk.flows.services import active_flow_for

    require_perm(actor, REQUEST_WRITE_OFF)
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed.field("reason", "accounting.write_off.reason_required")
    if len(text) > 500:
        raise ValidationFailed({"reason": message("field.too_long", {"max": 500})})
    loan = _loan(actor, loan_id, lock=True)
    if loan.status not in OPEN:
        raise Conflict("accounting.write_off.loan_not_open", details={"status": loan.status})
    if _live_request(loan.pk) is not None:
        raise Conflict("accounting.write_off.pending")
    from loandesk.forms.models import FormDefinition

    form = FormDefinition.objects.filter(code=FORM_CODE).first()
    if form is None or active_flow_for(form.pk) is None:
        raise Conflict("accounting.write_off.no_flow")
    on = get_business_date()
    amounts = owed(loan, on)
    total = (
        amounts["principal_fen"]
        + amounts["interest_fen"]
        + amounts["fee_fen"]
        + amounts["penalty_fen"]
    )
    record = _create_record(
        actor,
        {
            "customer": loan.customer_id,
            "loan_id": loan.pk,
            "contract_no": loan.contract_no,
            "amount": _money(total),
            "principal": _money(amounts["principal_fen"]),
            "interest": _money(amounts["interest_fen"]),
            "fee": _money(amounts["fee_fen"]),
            "penalty": _money(amounts["penalty_fen"]),
            "owed_on": on.isoformat(),
            "reason": text,
        },
    )
    req = WriteOffRequest.objects.create(
        loan=loan,
        reason=text,
        principal_fen=amounts["principal_fen"],
        interest_fen=amounts["interest_fen"],
        fee_fen=amounts["fee_fen"],
        penalty_fen=amounts["penalty_fen"],
        owed_on=on,
        record=record,
        instance=FlowInstance.objects.filter(record=record).order_by("-id").first(),
        requested_by=actor,
    )
    audit.record(
        action="accounting.write_off_requested",
        actor=actor,
        target=loan,
        extra={"request_id": req.pk, "principal": _money(req.principal_fen), "reason": text},
    )
    return req


def get_request(*, actor: User, request_id: int) -> dict[str, Any]:
    """The requester, or anyone holding the permission who may see the loan."""
    req = (
        WriteOffRequest.objects.select_related("loan__customer", "instance", "requested_by")
        .filter(pk=request_id)
        .first()
    )
    if req is None:
        raise NotFound()
    if req.requested_by_id != actor.pk:
        require_perm(actor, REQUEST_WRITE_OFF)
        _loan(actor, req.loan_id)
    return request_out(req)


def requests_for_loan(*, actor: User, loan_id: int) -> list[dict[str, Any]]:
    if not has_perm(actor, REQUEST_WRITE_OFF):
        require_perm(actor, REQUEST_WRITE_OFF)
    loan = _loan(actor, loan_id)
    return [
        request_out(r)
        for r in WriteOffRequest.objects.filter(loan=loan).select_related(
            "loan__customer", "instance", "requested_by"
        )
    ]


# --- the automated step -----------------------------------------------------------------------


def write_off_loan(ctx: AutomatedContext) -> dict[str, Any]:
    from loandesk.lending.models import Installment, Loan
    from loandesk.postloan.cob import post_penalties

    req = (
        WriteOffRequest.objects.select_for_update()
        .filter(record_id=ctx.record_id or 0)
        .order_by("-id")
        .first()
    )
    if req is None:
        raise AutomatedStepFailed("accounting.write_off.no_request")
    if req.status == WriteOffRequest.Status.WRITTEN_OFF:
        return dict(req.result)  # a re-run: the loan was written off by this request already
    loan = Loan.objects.select_for_update().filter(pk=req.loan_id).first()
    if loan is None or loan.status not in OPEN:
        raise AutomatedStepFailed("accounting.write_off.loan_not_open")
    on = get_business_date()
    due = list(
        Installment.objects.filter(loan=loan, due_date__lte=on)
        .exclude(status=Installment.Status.PAID)
        .select_related("loan")
        .order_by("seq")
    )
    post_penalties(due, on=on)  # crystallise the penalty: COB no longer accrues it
    amounts = owed(loan, on)
    old_status = loan.status
    loan.status = Loan.Status.WRITTEN_OFF
    loan.closed_at = timezone.now()
    loan.save(update_fields=["status", "closed_at"])
    payload = {
        "loan_id": loan.pk,
        "contract_no": loan.contract_no,
        "customer_id": loan.customer_id,
        "owner_id": loan.owner_id,
        "department_id": loan.department_id,
        "value_date": on.isoformat(),
        "principal_fen": amounts["principal_fen"],
        "interest_fen": amounts["interest_fen"],
        "fee_fen": amounts["fee_fen"],
        "penalty_fen": amounts["penalty_fen"],
        "request_id": req.pk,
        "instance_id": ctx.instance_id,
    }
    event = outbox.publish(
        "loan.written_off", payload=payload, aggregate_type="lending.loan", aggregate_id=loan.pk
    )
    try:
        entry = ledger.book(event.pk, event.topic, event.payload)
    except LoanDeskError as exc:
        raise AutomatedStepFailed(exc.code, exc.params) from None
    result = {
        "loan_id": loan.pk,
        "contract_no": loan.contract_no,
        "written_off": True,
        "principal": _money(amounts["principal_fen"]),
        "interest": _money(amounts["interest_fen"]),
        "fee": _money(amounts["fee_fen"]),
        "penalty": _money(amounts["penalty_fen"]),
        "voucher": f"{entry.period} {entry.voucher_word}-{entry.voucher_no}" if entry else None,
    }
    req.status = WriteOffRequest.Status.WRITTEN_OFF
    req.written_off_at = timezone.now()
    req.result = result
    req.save(update_fields=["status", "written_off_at", "result"])
    from loandesk.accounts.models import User as UserModel

    actor = UserModel.objects.filter(pk=ctx.actor_id).first()
    audit.record(
        action="loan.write_off",
        actor=actor,
        target=loan,
        changes={"status": [old_status, "written_off"]},
        extra={"request_id": req.pk, "instance_id": ctx.instance_id, **result},
    )
    return result


def register() -> None:
    from loandesk.flows.automation import register_action

    register_action("write_off_loan", write_off_loan)
