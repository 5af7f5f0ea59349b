"""Loans: disbursement (the one way a loan comes to exist) and the scoped loan reads.

`disburse` is exactly-once per idempotency key. The key is a unique column on Disbursement, the
loan and everything around it are written in one transaction (a savepoint when the caller already
holds one), and a concurrent request that loses the race on that unique index gets an
IntegrityError, rolls back its savepoint and answers with the winner's loan. The same key with
different terms is a 409; a key is never spent on a request that failed validation.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.http import HttpRequest
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.accounts.scoping import ScopeSpec, get_scoped, has_perm, require_perm, scoped
from loandesk.core import audit, outbox
from loandesk.core.crypto import blind_index, mask_bank_card
from loandesk.core.errors import Conflict, LoanDeskError, ValidationFailed
from loandesk.core.i18n import message, register_messages
from loandesk.core.money import fen_to_yuan, format_yuan
from loandesk.core.services import get_business_date
from loandesk.lending.calculator import lpr_one_year
from loandesk.lending.models import ContractCounter, Disbursement, Installment, Loan, Product
from loandesk.lending.products import Priced, Terms, parse_terms, price, rate_text

DISBURSE_PERM = "lending.disburse"
VIEW_PERM = "lending.view_loans"
LOAN_SCOPE = ScopeSpec(owner="owner", department="department")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,99}$")
_ACCOUNT = re.compile(r"^\d{8,30}$")
_CONTRACT_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_/-]*$")

register_messages(
    {
        "lending.contract_no_invalid": ("合同编号格式不正确", "Malformed contract number"),
        "lending.contract_no_taken": (
            "合同编号已被其他贷款使用",
            "That contract number belongs to another loan",
        ),
    }
)


class ScheduleMismatch(RuntimeError):
    """The fen rows of a schedule do not add up to its principal: never written to the books."""


# --- exactly once ----------------------------------------------------------------------------


def clean_key(header: str | None, body: str | None) -> str:
    """The idempotency key from the `Idempotency-Key` header or the body (both: must agree)."""
    header = (header or "").strip() or None
    body = (body or "").strip() or None
    if header and body and header != body:
        raise ValidationFailed.field("idempotency_key", "lending.idempotency_key_mismatch")
    key = header or body
    if key is None:
        raise ValidationFailed.field("idempotency_key", "lending.idempotency_key_required")
    if not _KEY.match(key):
        raise ValidationFailed.field("idempotency_key", "lending.idempotency_key_invalid")
    return key


def _fingerprint(request: dict[str, Any]) -> str:
    """A keyed hash of the request's terms (it includes an account number: never a bare hash)."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, default=str)
    return blind_index(canonical, purpose="lending.disbursement")


def _replay(disbursement: Disbursement, fingerprint: str) -> Loan:
    if disbursement.request_hash != fingerprint:
        raise Conflict(
            "lending.idempotency_conflict",
            details={"contract_no": disbursement.loan.contract_no},
        )
    return disbursement.loan


def _existing(key: str) -> Disbursement | None:
    return Disbursement.objects.select_related("loan").filter(idempotency_key=key).first()


# --- the books -------------------------------------------------------------------------------


def next_contract_no(day: date) -> str:
    """HT + yyyymmdd + a per-day sequence (4 digits, more past 9999). Call inside the writing
    transaction: the counter row stays locked until it commits, so numbers never repeat."""
    if not ContractCounter.objects.filter(day=day).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                ContractCounter.objects.create(day=day, last=1)
        except IntegrityError:  # another transaction created the day's row first
            ContractCounter.objects.filter(day=day).update(last=F("last") + 1)
    last = ContractCounter.objects.filter(day=day).values_list("last", flat=True).get()
    return f"HT{day:%Y%m%d}{last:04d}"


def _fen(amount: Decimal) -> int:
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ScheduleMismatch(f"{amount} is not a whole number of fen")
    return int(fen)


def _installments(priced: Priced) -> list[Installment]:
    rows = [
        Installment(
            seq=row.seq,
            due_date=row.due_date,
            days=row.days,
            opening_principal_fen=_fen(row.opening_balance),
            principal_fen=_fen(row.principal),
            interest_fen=_fen(row.interest),
            fee_fen=_fen(row.fee),
        )
        for row in priced.result.rows
    ]
    principal_fen = _fen(priced.terms.amount)
    if sum(r.principal_fen for r in rows) != principal_fen:
        raise ScheduleMismatch(
            f"installments sum to {sum(r.principal_fen for r in rows)} fen, not {principal_fen}"
        )
    if [r.seq for r in rows] != list(range(1, len(rows) + 1)):
        raise ScheduleMismatch("installment numbers are not 1..n")
    return rows


def _terms_snapshot(product: Product, priced: Priced) -> dict[str, Any]:
    inp = priced.result.input
    return {
        "product_code": product.code,
        "method": product.method,
        "frequency": product.frequency,
        "interest_period": product.interest_period,
        "day_count": product.day_count,
        "installment_multiple": str(inp.installment_multiple),
        "holiday_shift": product.holiday_shift,
        "upfront_fee": str(inp.upfront_fee),
        "upfront_fee_percent": str(product.upfront_fee_percent),
        "period_fee": str(inp.period_fee),
        "period_fee_kind": inp.period_fee_kind.value,
        "prepayment_fee_percent": str(product.prepayment_fee_percent),
        "penalty_rate_multiplier": str(product.penalty_rate_multiplier),
        "grace_days": product.grace_days,
        "compound_penalty": product.compound_penalty,
        "allocation_order": list(product.allocation_order),
        "allocation_strategy": product.allocation_strategy,
        "overpayment": product.overpayment,
        "cap_line": product.cap_line,
        "cap_policy": product.cap_policy,
        "cap_rate": str(priced.cap),
        "apr_exact": str(priced.result.apr.apr),
        "lpr_one_year": str(lpr_one_year()),
    }


@dataclass(frozen=True)
class _Account:
    name: str
    number: str
    bank: str


def _write(
    *,
    actor: User,
    customer: Any,
    product: Product,
    priced: Priced,
    account: _Account,
    key: str,
    fingerprint: str,
    source_record_id: int | None,
    request: HttpRequest | None,
    contract_no: str | None = None,
) -> Loan:
    """Everything a disbursement writes, in the caller's transaction."""
    from loandesk.customers.services import add_timeline_event

    installments = _installments(priced)
    principal_fen = _fen(priced.terms.amount)
    upfront_fen = _fen(priced.upfront_fee)
    rows = priced.result.rows
    loan = Loan.objects.create(
        contract_no=contract_no or next_contract_no(get_business_date()),
        customer=customer,
        product=product,
        owner_id=customer.owner_id,
        department_id=customer.department_id or getattr(customer.owner, "department_id", None),
        principal_fen=principal_fen,
        annual_rate=priced.terms.annual_rate,
        periods=priced.terms.periods,
        method=product.method,
        frequency=product.frequency,
        start_date=priced.terms.start,
        first_due_date=rows[0].due_date,
        maturity_date=rows[-1].due_date,
        apr=priced.apr,
        cap_rate=priced.cap,
        cap_exceeded=priced.cap_exceeded,
        penalty_rate=(priced.terms.annual_rate * product.penalty_rate_multiplier).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        ),
        grace_days=product.grace_days,
        terms=_terms_snapshot(product, priced),
        outstanding_principal_fen=principal_fen,
        source_record_id=source_record_id,
        created_by=actor,
        disbursed_at=timezone.now(),
    )
    for row in installments:
        row.loan = loan
    Installment.objects.bulk_create(installments)
    disbursement = Disbursement.objects.create(
        loan=loan,
        idempotency_key=key,
        request_hash=fingerprint,
        amount_fen=principal_fen,
        upfront_fee_fen=upfront_fen,
        net_amount_fen=principal_fen - upfront_fen,
        value_date=priced.terms.start,
        account_name=account.name,
        account_number=account.number,
        bank_name=account.bank,
        created_by=actor,
    )
    # Belt and braces: what the database holds is what the schedule said, to the fen.
    stored = Installment.objects.filter(loan=loan).aggregate(p=Sum("principal_fen"))["p"]
    if stored != principal_fen:
        raise ScheduleMismatch(f"stored installments sum to {stored} fen, not {principal_fen}")

    amount = str(fen_to_yuan(principal_fen))
    outbox.publish(
        "loan.disbursed",
        payload={
            "loan_id": loan.pk,
            "contract_no": loan.contract_no,
            "customer_id": customer.pk,
            "product_id": product.pk,
            "owner_id": loan.owner_id,
            "department_id": loan.department_id,
            "principal": amount,
            "principal_fen": principal_fen,
            "net_amount_fen": disbursement.net_amount_fen,
            "annual_rate": rate_text(loan.annual_rate),
            "apr": str(loan.apr),
            "cap_exceeded": loan.cap_exceeded,
            "periods": loan.periods,
            "value_date": loan.start_date.isoformat(),
            "first_due_date": loan.first_due_date.isoformat(),
            "maturity_date": loan.maturity_date.isoformat(),
            "disbursement_id": disbursement.pk,
            "source_record_id": source_record_id,
        },
        aggregate_type="lending.loan",
        aggregate_id=loan.pk,
    )
    add_timeline_event(
        customer=customer,
        kind="loan_disbursed",
        summary_code="lending.timeline.disbursed",
        params={
            "amount": format_yuan(fen_to_yuan(principal_fen)),
            "contract_no": loan.contract_no,
            "product": product.name,
            "periods": loan.periods,
        },
        actor=actor,
        ref_type="lending.loan",
        ref_id=loan.pk,
    )
    audit.record(
        action="loan.disburse",
        actor=actor,
        target=loan,
        changes={
            "principal": [None, amount],
            "annual_rate": [None, rate_text(loan.annual_rate)],
            "periods": [None, loan.periods],
        },
        extra={
            "customer_id": customer.pk,
            "product_id": product.pk,
            "net_amount": str(fen_to_yuan(disbursement.net_amount_fen)),
            "account_number": mask_bank_card(account.number),
            "idempotency_key": key,
            "cap_exceeded": loan.cap_exceeded,
        },
        request=request,
    )
    return loan


def _customer_for(actor: User, customer_id: int) -> Any:
    from loandesk.customers.models import Customer
    from loandesk.customers.selectors import get_customer

    try:
        customer = get_customer(actor=actor, customer_id=customer_id)
    except LoanDeskError as exc:
        if exc.status == 404:
            raise ValidationFailed({"customer_id": message("not_found")}) from None
        raise
    if customer.status != Customer.Status.ACTIVE:
        raise ValidationFailed.field("customer_id", "lending.customer_inactive")
    return customer


def _clean_account(name: str, number: str, bank: str) -> _Account:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    number = re.sub(r"[\s-]", "", number or "")
    bank = (bank or "").strip()
    if not name:
        errors["account_name"] = message("field.required")
    elif len(name) > 100:
        errors["account_name"] = message("field.too_long", {"max": 100})
    if not number:
        errors["account_number"] = message("field.required")
    elif not _ACCOUNT.match(number):
        errors["account_number"] = message("lending.account_number_invalid")
    if len(bank) > 100:
        errors["bank_name"] = message("field.too_long", {"max": 100})
    if errors:
        raise ValidationFailed(errors)
    return _Account(name, number, bank)


def _clean_contract_no(contract_no: str) -> str:
    """A reserved contract number: sane text, not already on another loan."""
    number = (contract_no or "").strip()
    if not number or len(number) > 40 or not _CONTRACT_NO.match(number):
        raise ValidationFailed.field("contract_no", "lending.contract_no_invalid")
    if Loan.objects.filter(contract_no=number).exists():
        raise Conflict("lending.contract_no_taken", details={"contract_no": number})
    return number


def disburse_once(
    *,
    actor: User,
    customer_id: int,
    product_id: int,
    amount: Decimal | str,
    periods: int,
    annual_rate: Decimal | str,
    start: date | None = None,
    first_due: date | None = None,
    account_name: str,
    account_number: str,
    bank_name: str = "",
    idempotency_key: str,
    source_record_id: int | None = None,
    contract_no: str | None = None,
    request: HttpRequest | None = None,
) -> tuple[Loan, bool]:
    """`disburse`, also telling whether this call created the loan (False: a replay)."""
    require_perm(actor, DISBURSE_PERM)
    key = clean_key(None, idempotency_key)
    customer = _customer_for(actor, customer_id)
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise ValidationFailed({"product_id": message("not_found")})
    terms: Terms = parse_terms(
        amount=amount, periods=periods, annual_rate=annual_rate, start=start, first_due=first_due
    )
    account = _clean_account(account_name, account_number, bank_name)
    fingerprint = _fingerprint(
        {
            "customer_id": customer.pk,
            "product_id": product.pk,
            "amount": str(terms.amount),
            "periods": terms.periods,
            "annual_rate": str(terms.annual_rate.normalize()),
            # An omitted start means "the business date": a retry on the next day is the same
            # request, so the fingerprint records what was sent, not what it resolved to.
            "start": start.isoformat() if start else None,
            "first_due": first_due.isoformat() if first_due else None,
            "account_name": account.name,
            "account_number": account.number,
            "bank_name": account.bank,
            "source_record_id": source_record_id,
            # Only when given, so fingerprints of keys spent before the parameter existed hold.
            **({"contract_no": contract_no} if contract_no is not None else {}),
        }
    )
    found = _existing(key)
    if found is not None:
        return _replay(found, fingerprint), False
    if contract_no is not None:
        contract_no = _clean_contract_no(contract_no)

    priced = price(product, terms)
    try:
        with transaction.atomic():
            loan = _write(
                actor=actor,
                customer=customer,
                product=product,
                priced=priced,
                account=account,
                key=key,
                fingerprint=fingerprint,
                source_record_id=source_record_id,
                contract_no=contract_no,
                request=request,
            )
    except IntegrityError:
        # Lost the race on the key: the savepoint is rolled back, the winner has committed.
        found = _existing(key)
        if found is None:
            raise
        return _replay(found, fingerprint), False
    return loan, True


def disburse(
    *,
    actor: User,
    customer_id: int,
    product_id: int,
    amount: Decimal | str,
    periods: int,
    annual_rate: Decimal | str,
    start: date | None = None,
    first_due: date | None = None,
    account_name: str,
    account_number: str,
    bank_name: str = "",
    idempotency_key: str,
    source_record_id: int | None = None,
    contract_no: str | None = None,
    request: HttpRequest | None = None,
) -> Loan:
    """Create the loan, its schedule and its disbursement from a product and approved terms.

    Needs lending.disburse and the customer in the actor's data scope. Exactly once per
    `idempotency_key`: the same key with the same terms returns the first loan; with other
    terms it raises Conflict (409). `contract_no`: a number reserved earlier (the approval flow's
    contract step) instead of the next one of the day; it must not belong to another loan.
    """
    loan, _created = disburse_once(
        actor=actor,
        customer_id=customer_id,
        product_id=product_id,
        amount=amount,
        periods=periods,
        annual_rate=annual_rate,
        start=start,
        first_due=first_due,
        account_name=account_name,
        account_number=account_number,
        bank_name=bank_name,
        idempotency_key=idempotency_key,
        source_record_id=source_record_id,
        contract_no=contract_no,
        request=request,
    )
    return loan


def move_loans_on_merge(survivor: Any, duplicate: Any, actor: User) -> None:
    """Customer merge hook: the duplicate's loans now belong to the surviving profile."""
    Loan.objects.filter(customer=duplicate).update(customer=survivor)


# --- reads -----------------------------------------------------------------------------------

_OWED = (
    F("principal_fen")
    + F("interest_fen")
    + F("fee_fen")
    + F("penalty_fen")
    - F("paid_principal_fen")
    - F("paid_interest_fen")
    - F("paid_fee_fen")
    - F("paid_penalty_fen")
)


def visible_loans(actor: User) -> QuerySet[Loan]:
    require_perm(actor, VIEW_PERM)
    return scoped(Loan.objects.all(), actor, LOAN_SCOPE)


def count_customer_loans(actor: User, customer: Any) -> int:
    """The 360 loans tab's count: the customer's loans in the actor's scope (0 without the
    permission to see loans, as the tab then lists none)."""
    if not has_perm(actor, VIEW_PERM):
        return 0
    return visible_loans(actor).filter(customer_id=customer.pk).count()


def search_loans(
    *,
    actor: User,
    status: str | None = None,
    customer_id: int | None = None,
    product_id: int | None = None,
    q: str | None = None,
) -> QuerySet[Loan]:
    qs = visible_loans(actor)
    if status:
        qs = qs.filter(status=status)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    if q and q.strip():
        text = q.strip().upper()
        qs = qs.filter(contract_no__contains=text)
    upcoming = Installment.objects.filter(loan=OuterRef("pk")).exclude(
        status=Installment.Status.PAID
    )
    upcoming = upcoming.order_by("seq")
    return (
        qs.select_related("customer", "product", "owner")
        .annotate(
            next_due_seq=Subquery(upcoming.values("seq")[:1]),
            next_due_date=Subquery(upcoming.values("due_date")[:1]),
            next_due_fen=Subquery(upcoming.annotate(owed=_OWED).values("owed")[:1]),
        )
        .order_by("-id")
    )


_RELATED = ("customer", "product", "owner", "department", "disbursement__created_by", "created_by")


def loan_for(*, actor: User, loan_id: int) -> Loan:
    """The loan if in the caller's data scope (else 404, the id is never confirmed)."""
    require_perm(actor, VIEW_PERM)
    return get_scoped(Loan.objects.select_related(*_RELATED), actor, LOAN_SCOPE, loan_id)


def with_relations(loan: Loan) -> Loan:
    """The loan a disbursement just created or replayed, loaded for its detail view (the
    disburser sees what they disbursed, whatever their data scope)."""
    return Loan.objects.select_related(*_RELATED).get(pk=loan.pk)


def _money(fen: int | None) -> str:
    return str(fen_to_yuan(fen or 0))


def _user(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "full_name": user.full_name}


def _common(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.pk,
        "contract_no": loan.contract_no,
        "status": loan.status,
        "customer": {"id": loan.customer_id, "name": loan.customer.name},
        "product": {"id": loan.product_id, "code": loan.product.code, "name": loan.product.name},
        "owner": _user(loan.owner),
        "principal": _money(loan.principal_fen),
        "annual_rate": rate_text(loan.annual_rate),
        "apr": str(loan.apr),
        "periods": loan.periods,
        "method": loan.method,
        "start_date": loan.start_date,
        "maturity_date": loan.maturity_date,
        "outstanding_principal": _money(loan.outstanding_principal_fen),
        "days_past_due": loan.days_past_due,
        "bucket": loan.bucket,
        "disbursed_at": loan.disbursed_at,
    }


def loan_rows(loans: Iterable[Loan]) -> list[dict[str, Any]]:
    rows = []
    for loan in loans:
        row = _common(loan)
        due = getattr(loan, "next_due_date", None)
        row["next_due"] = (
            {
                "seq": getattr(loan, "next_due_seq", None),
                "due_date": due,
                "amount": _money(getattr(loan, "next_due_fen", 0)),
            }
            if due
            else None
        )
        rows.append(row)
    return rows


def _installment_out(row: Installment) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "due_date": row.due_date,
        "days": row.days,
        "opening_principal": _money(row.opening_principal_fen),
        "principal": _money(row.principal_fen),
        "interest": _money(row.interest_fen),
        "fee": _money(row.fee_fen),
        "penalty": _money(row.penalty_fen),
        "total": _money(row.total_fen),
        "paid": _money(row.paid_fen),
        "outstanding": _money(row.total_fen - row.paid_fen),
        "status": row.status,
    }


def loan_detail(loan: Loan) -> dict[str, Any]:
    installments = list(loan.installments.order_by("seq"))
    out = _common(loan)
    totals = {
        name: sum(getattr(r, f"{name}_fen") for r in installments)
        for name in ("principal", "interest", "fee", "penalty")
    }
    paid = sum(r.paid_fen for r in installments)
    total = sum(totals.values())
    upcoming = next((r for r in installments if r.status != Installment.Status.PAID), None)
    disbursement = getattr(loan, "disbursement", None)
    out.update(
        department=(
            {"id": loan.department_id, "name": loan.department.name} if loan.department else None
        ),
        frequency=loan.frequency,
        first_due_date=loan.first_due_date,
        cap_rate=str(loan.cap_rate),
        cap_exceeded=loan.cap_exceeded,
        penalty_rate=rate_text(loan.penalty_rate),
        grace_days=loan.grace_days,
        classification=loan.classification,
        overdue_since=loan.overdue_since,
        installments=[_installment_out(r) for r in installments],
        totals={
            **{k: _money(v) for k, v in totals.items()},
            "total": _money(total),
            "paid": _money(paid),
            "outstanding": _money(total - paid),
        },
        next_due=(
            {
                "seq": upcoming.seq,
                "due_date": upcoming.due_date,
                "amount": _money(upcoming.total_fen - upcoming.paid_fen),
            }
            if upcoming
            else None
        ),
        disbursement=(
            {
                "id": disbursement.pk,
                "amount": _money(disbursement.amount_fen),
                "upfront_fee": _money(disbursement.upfront_fee_fen),
                "net_amount": _money(disbursement.net_amount_fen),
                "value_date": disbursement.value_date,
                "account_name": disbursement.account_name,
                "account_number": mask_bank_card(disbursement.account_number),
                "bank_name": disbursement.bank_name,
                "created_by": _user(disbursement.created_by),
                "created_at": disbursement.created_at,
            }
            if disbursement
            else None
        ),
        created_by=_user(loan.created_by),
    )
    return out
