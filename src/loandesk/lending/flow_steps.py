"""The `disburse` automated flow step: book the approved loan.

Runs after the 财务放款 approval node, on the authority of the finance officer who approved it
(`ctx.actor_id`). It maps the application record to `lending.loans.disburse_once`:

- ``product`` (the select value) → `Product.code`;
- ``amount``, ``term`` (periods) and ``annual_rate`` (percent) as approved — approvers' edits
  are written to the record before this runs;
- ``disbursement_account_name`` / ``disbursement_account_no`` / ``disbursement_bank`` /
  ``disbursement_date`` (the value date) filled by finance;
- ``contract_no`` reserved by the contract step (``data["contract"]["contract_no"]``).

Exactly once: the idempotency key is ``flow:{instance_id}:{step_id}``, so a re-run (worker killed
after the loan was written, or a retry) answers with the same loan. A refusal raises
`AutomatedStepFailed` with a code that says what to fix; the instance stops in ``error`` and an
admin retries after the record was corrected.
"""

from datetime import date
from typing import Any

from loandesk.core.errors import LoanDeskError, ValidationFailed
from loandesk.core.i18n import register_messages
from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed

register_messages(
    {
        "lending.flow.no_record": ("找不到申请记录", "The application record is missing"),
        "lending.flow.no_customer": ("申请未关联客户", "The application has no customer"),
        "lending.flow.unknown_product": (
            "产品「{product}」不存在",
            "No lending product “{product}”",
        ),
        "lending.flow.actor_missing": ("找不到放款人", "The disbursing user is missing"),
        "lending.flow.refused": ("放款被拒绝:{detail}", "Disbursement refused: {detail}"),
    }
)


def _plain_record(record_id: int | None) -> tuple[Any, dict[str, Any]]:
    from loandesk.forms import storage
    from loandesk.forms.models import Record
    from loandesk.forms.services import compiled_version

    record = Record.objects.select_related("version").filter(pk=record_id or 0).first()
    if record is None:
        raise AutomatedStepFailed("lending.flow.no_record")
    return record, storage.unseal(compiled_version(record.version), record.data)


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise AutomatedStepFailed(
            "lending.flow.refused", {"detail": f"disbursement_date={value}"}
        ) from None


def disburse(ctx: AutomatedContext) -> dict[str, Any]:
    from loandesk.accounts.models import User
    from loandesk.lending.loans import disburse_once
    from loandesk.lending.models import Product

    record, data = _plain_record(ctx.record_id)
    customer_id = record.customer_id or ctx.customer_id
    if customer_id is None:
        raise AutomatedStepFailed("lending.flow.no_customer")
    code = data.get("product")
    product = Product.objects.filter(code=code).first() if code else None
    if product is None:
        raise AutomatedStepFailed("lending.flow.unknown_product", {"product": code or ""})
    actor = User.objects.filter(pk=ctx.actor_id, is_active=True).first()
    if actor is None:
        raise AutomatedStepFailed("lending.flow.actor_missing")
    contract = ctx.data.get("contract")
    contract_no = contract.get("contract_no") if isinstance(contract, dict) else None
    term = data.get("term")
    try:
        loan, created = disburse_once(
            actor=actor,
            customer_id=customer_id,
            product_id=product.pk,
            amount=str(data.get("amount") or ""),
            periods=int(term) if term is not None else None,  # type: ignore[arg-type]
            annual_rate=str(data.get("annual_rate") or ""),
            start=_date(data.get("disbursement_date")),
            account_name=str(data.get("disbursement_account_name") or ""),
            account_number=str(data.get("disbursement_account_no") or ""),
            bank_name=str(data.get("disbursement_bank") or ""),
            idempotency_key=f"flow:{ctx.instance_id}:{ctx.step_id}",
            source_record_id=record.pk,
            contract_no=str(contract_no) if contract_no else None,
        )
    except ValidationFailed as exc:
        fields = exc.details.get("fields") or {}
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items()) or exc.message
        raise AutomatedStepFailed("lending.flow.refused", {"detail": detail}) from None
    except LoanDeskError as exc:
        raise AutomatedStepFailed("lending.flow.refused", {"detail": exc.message}) from None
    return {"loan_id": loan.pk, "contract_no": loan.contract_no, "created": created}


def register() -> None:
    from loandesk.flows.automation import register_action

    register_action("disburse", disburse)
