"""Repayment reads, always within the caller's data scope (the loan's owner / department)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from loandesk.accounts.models import User
from loandesk.accounts.scoping import ScopeSpec, get_scoped, has_perm, require_perm, scoped
from loandesk.core.money import fen_to_yuan
from loandesk.lending.loans import VIEW_PERM
from loandesk.lending.models import Repayment

REPAYMENT_SCOPE = ScopeSpec(owner="loan__owner", department="loan__department")
_RELATED = ("loan", "loan__customer", "created_by", "reversed_by")


def visible_repayments(actor: User) -> QuerySet[Repayment]:
    require_perm(actor, VIEW_PERM)
    return scoped(Repayment.objects.select_related(*_RELATED), actor, REPAYMENT_SCOPE)


def repayment_for(*, actor: User, repayment_id: int) -> Repayment:
    """The repayment if its loan is in the caller's scope (else 404)."""
    require_perm(actor, VIEW_PERM)
    return get_scoped(
        Repayment.objects.select_related(*_RELATED), actor, REPAYMENT_SCOPE, repayment_id
    )


def count_customer_repayments(actor: User, customer: Any) -> int:
    """The 360 repayments tab's count: repayments on the customer's loans in the actor's scope
    (0 without the permission to see them)."""
    if not has_perm(actor, VIEW_PERM):
        return 0
    return visible_repayments(actor).filter(loan__customer_id=customer.pk).count()


def search_repayments(
    *,
    actor: User,
    loan_id: int | None = None,
    customer_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    channel: str | None = None,
    q: str | None = None,
    reversed: bool | None = None,
    kind: str | None = None,
) -> QuerySet[Repayment]:
    qs = visible_repayments(actor)
    if loan_id is not None:
        qs = qs.filter(loan_id=loan_id)
    if customer_id is not None:
        qs = qs.filter(loan__customer_id=customer_id)
    if date_from is not None:
        qs = qs.filter(value_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(value_date__lte=date_to)
    if channel:
        qs = qs.filter(channel=channel)
    if kind:
        qs = qs.filter(kind=kind)
    if reversed is not None:
        qs = qs.filter(status=Repayment.Status.REVERSED if reversed else Repayment.Status.POSTED)
    if q and q.strip():
        text = q.strip()
        qs = qs.filter(
            Q(loan__contract_no__icontains=text)
            | Q(reference__icontains=text)
            | Q(loan__customer__name__contains=text)
        )
    return qs.order_by("-value_date", "-id")


def _money(fen: int) -> str:
    return str(fen_to_yuan(fen))


def _user(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "full_name": user.full_name}


def repayment_out(rep: Repayment, *, allocations: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rep.pk,
        "loan_id": rep.loan_id,
        "contract_no": rep.loan.contract_no,
        "customer": {"id": rep.loan.customer_id, "name": rep.loan.customer.name},
        "kind": rep.kind,
        "prepayment_mode": rep.prepayment_mode,
        "amount": _money(rep.amount_fen),
        "value_date": rep.value_date,
        "channel": rep.channel,
        "reference": rep.reference,
        "source": rep.source,
        "principal": _money(rep.principal_fen),
        "interest": _money(rep.interest_fen),
        "fee": _money(rep.fee_fen),
        "penalty": _money(rep.penalty_fen),
        "credit": _money(rep.credit_fen),
        "status": rep.status,
        "created_by": _user(rep.created_by),
        "created_at": rep.created_at,
        "reversed_by": _user(rep.reversed_by),
        "reversed_at": rep.reversed_at,
        "reversed_on": rep.reversed_on,
        "reversal_reason": rep.reversal_reason,
        "replayed": bool(getattr(rep, "replayed", False)),
        "allocations": None,
    }
    if allocations:
        out["allocations"] = [
            {
                "seq": a.seq,
                "due_date": a.due_date,
                "principal": _money(a.principal_fen),
                "interest": _money(a.interest_fen),
                "fee": _money(a.fee_fen),
                "penalty": _money(a.penalty_fen),
                "total": _money(a.total_fen),
            }
            for a in rep.allocations.order_by("seq")
        ]
    return out


def loan_credit_fen(loan_id: int) -> int:
    """Money held on the loan (挂账): credit of its non-reversed repayments."""
    from django.db.models import Sum

    total = Repayment.objects.filter(loan_id=loan_id, status=Repayment.Status.POSTED).aggregate(
        c=Sum("credit_fen")
    )["c"]
    return int(total or 0)
