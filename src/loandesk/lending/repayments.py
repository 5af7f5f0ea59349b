"""Repayments (还款登记), reversal (红冲) and the allocation engine they share with prepayments.

A loan's installment paid columns are a function of its non-reversed repayments taken in
(value_date, id) order — the *chain*. Posting at the end of the chain (the usual case: value
date not before any earlier repayment or penalty posting) applies one repayment to the locked
rows. Anything else — a 红冲, or a back-dated posting — rebuilds the loan from its schedule as
disbursed and replays the chain; each later repayment whose split changes gets its allocation
rows rewritten and a `loan.repayment_reallocated` event. The replay is exact because penalty
interest is a cumulative function of the unpaid base (docs/adr/0006): posting it at every
change of base reproduces what month-end postings and earlier repayments had posted.

Every write happens in one transaction that first locks the loan row, then its installments
(`SELECT … FOR UPDATE`), so concurrent postings on a loan serialise, and COB's per-row UPDATEs
either see a repayment or wait for it (docs/cob.md).

Idempotency: a repayment may carry a unique `idempotency_key` with a hash of the request; the
same key and request return the first repayment (`replayed = True`), another request under the
same key is a 409, and the unique index settles concurrent attempts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit, outbox
from loandesk.core.errors import Conflict, ValidationFailed
from loandesk.core.i18n import message
from loandesk.core.money import fen_to_yuan, format_yuan
from loandesk.core.services import get_business_date
from loandesk.lending.finance.allocation import DueInstallment, allocate_payment
from loandesk.lending.finance.errors import FinanceInputError
from loandesk.lending.loans import loan_for
from loandesk.lending.models import (
    Installment,
    Loan,
    Repayment,
    RepaymentAllocation,
    ScheduleBaseline,
)

POST_PERM = "lending.post_repayment"
REVERSE_PERM = "lending.reverse_repayment"
MAX_AMOUNT_FEN = 10_000_000_000_00  # 10 亿元: above any single repayment a lender books
MAX_REFERENCE = 100
MAX_REASON = 200
COMPONENTS = ("principal", "interest", "fee", "penalty")
CHANNELS = tuple(Repayment.Channel.values)

TOPIC_POSTED = "loan.repayment_posted"
TOPIC_REVERSED = "loan.repayment_reversed"
TOPIC_REALLOCATED = "loan.repayment_reallocated"
TOPIC_CLOSED = "loan.closed"


# --- the split of one repayment ---------------------------------------------------------------


@dataclass
class Split:
    """What one repayment paid: per installment seq, the four components; plus credit."""

    by_seq: dict[int, dict[str, int]] = field(default_factory=dict)
    due_dates: dict[int, date] = field(default_factory=dict)
    credit: int = 0

    def add(self, inst: Installment, component: str, fen: int) -> None:
        if fen:
            row = self.by_seq.setdefault(inst.seq, dict.fromkeys(COMPONENTS, 0))
            row[component] += fen
            self.due_dates[inst.seq] = inst.due_date

    def total(self, component: str) -> int:
        return sum(r[component] for r in self.by_seq.values())

    def totals(self) -> dict[str, int]:
        return {c: self.total(c) for c in COMPONENTS}

    def allocated(self) -> int:
        return sum(self.totals().values())

    def key(self) -> tuple[Any, ...]:
        return (
            tuple(sorted((s, tuple(r[c] for c in COMPONENTS)) for s, r in self.by_seq.items())),
            self.credit,
        )


class Refused(Exception):
    """A fresh posting that the rules refuse (the replay of history never refuses)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


# --- installment helpers ----------------------------------------------------------------------


def settled(inst: Installment) -> bool:
    return (
        inst.paid_principal_fen >= inst.principal_fen
        and inst.paid_interest_fen >= inst.interest_fen
        and inst.paid_fee_fen >= inst.fee_fen
        and inst.paid_penalty_fen >= inst.penalty_fen
    )


def owed(inst: Installment, component: str) -> int:
    return int(getattr(inst, f"{component}_fen")) - int(getattr(inst, f"paid_{component}_fen"))


def _yuan(fen: int) -> Decimal:
    return fen_to_yuan(fen)


def _fen(amount: Decimal) -> int:
    return int(amount * 100)


def terms_of(loan: Loan) -> dict[str, Any]:
    """Allocation settings: the loan's copy of its product terms (the product as a fallback)."""
    terms = loan.terms or {}
    product = loan.product
    return {
        "order": terms.get("allocation_order") or list(product.allocation_order),
        "strategy": terms.get("allocation_strategy") or product.allocation_strategy,
        "overpayment": terms.get("overpayment") or product.overpayment,
        "prepayment_fee_percent": Decimal(
            str(terms.get("prepayment_fee_percent", product.prepayment_fee_percent))
        ),
    }


def _post_penalties(rows: Sequence[Installment], on: date) -> None:
    """Post the penalty accrued up to `on` on every unsettled installment due before it: the
    base is about to change (docs/adr/0006). Keeps the in-memory checkpoints in step."""
    from loandesk.postloan.cob import post_penalties
    from loandesk.postloan.models import PenaltyPosting

    targets = [r for r in rows if r.due_date < on and not settled(r)]
    if not targets:
        return
    post_penalties(targets, on=on)
    for inst in targets:
        cached = getattr(inst, "_posting_cache", None)
        if cached is None or cached.through < on:
            inst._posting_cache = PenaltyPosting(  # type: ignore[attr-defined]
                installment_id=inst.pk, through=on
            )


def _allocate(
    loan: Loan,
    targets: Sequence[Installment],
    amount_fen: int,
    split: Split,
    *,
    strategy: str,
) -> int:
    """Apply up to `amount_fen` to `targets` in the loan's component order; return what is
    left. Rows are mutated in memory."""
    if not targets or amount_fen <= 0:
        return amount_fen
    items = [
        DueInstallment(
            seq=r.seq,
            due_date=r.due_date,
            principal=_yuan(owed(r, "principal")),
            interest=_yuan(owed(r, "interest")),
            fee=_yuan(owed(r, "fee")),
            penalty=_yuan(owed(r, "penalty")),
        )
        for r in targets
    ]
    result = allocate_payment(
        _yuan(amount_fen),
        items,
        order=terms_of(loan)["order"],
        strategy=strategy,
        overpayment="credit",
    )
    by_seq = {r.seq: r for r in targets}
    for alloc in result.installments:
        inst = by_seq[alloc.seq]
        for component in COMPONENTS:
            fen = _fen(getattr(alloc, component))
            if fen:
                setattr(
                    inst,
                    f"paid_{component}_fen",
                    getattr(inst, f"paid_{component}_fen") + fen,
                )
                split.add(inst, component, fen)
    return _fen(result.credit)


def allocate_due(
    loan: Loan, rows: Sequence[Installment], amount_fen: int, on: date, split: Split
) -> int:
    """Apply up to `amount_fen` to what is due on `on` (product order and strategy); return
    what is left. Rows are mutated in memory."""
    due = [r for r in rows if r.due_date <= on and not settled(r)]
    return _allocate(loan, due, amount_fen, split, strategy=terms_of(loan)["strategy"])


def allocate_ahead(
    loan: Loan, rows: Sequence[Installment], amount_fen: int, on: date, split: Split
) -> int:
    """Apply what is left after the arrears to installments not yet due on `on`, in schedule
    order, each one in full before the next (提前还当期, docs/adr/0009): the current period
    always; the periods after it only when the product keeps overpayments (`credit`), since a
    `prepay` product wants money beyond the current period as a prepayment. Return what is
    left: credit only once the whole schedule is paid."""
    ahead = sorted(
        (r for r in rows if r.due_date > on and not settled(r)),
        key=lambda r: (r.due_date, r.seq),
    )
    if terms_of(loan)["overpayment"] != "credit":
        ahead = ahead[:1]
    return _allocate(loan, ahead, amount_fen, split, strategy="installment_first")


def mark_settled(rows: Iterable[Installment], on: date) -> None:
    for inst in rows:
        if inst.status != Installment.Status.PAID and settled(inst):
            inst.status = Installment.Status.PAID
            inst.paid_off_on = on


# --- applying one repayment -------------------------------------------------------------------


def apply(loan: Loan, rows: list[Installment], rep: Repayment, *, fresh: bool) -> Split:
    """Apply `rep` to the in-memory rows (penalty posted first); return its split.

    `fresh` is a new posting: rule breaches raise Refused. In a replay they cannot (history is
    what it is): the money that cannot go where it went before is kept as credit."""
    from loandesk.lending import prepayments

    _post_penalties(rows, rep.value_date)
    split = Split()
    left = allocate_due(loan, rows, rep.amount_fen, rep.value_date, split)
    if rep.kind == Repayment.Kind.REPAYMENT:
        left = allocate_ahead(loan, rows, left, rep.value_date, split)
    if rep.kind != Repayment.Kind.REPAYMENT:
        left = prepayments.apply_prepayment(loan, rows, rep, left, split, fresh=fresh)
    elif left and fresh and terms_of(loan)["overpayment"] == "prepay":
        raise Refused(
            ValidationFailed.field(
                "amount",
                "lending.repayment.exceeds_owed",
                owed=format_yuan(_yuan(rep.amount_fen - left)),
            )
        )
    split.credit = left
    mark_settled(rows, rep.value_date)
    return split


# --- loading, locking, saving -----------------------------------------------------------------

_ROW_FIELDS = [
    "due_date",
    "days",
    "opening_principal_fen",
    "principal_fen",
    "interest_fen",
    "fee_fen",
    "penalty_fen",
    "paid_principal_fen",
    "paid_interest_fen",
    "paid_fee_fen",
    "paid_penalty_fen",
    "status",
    "paid_off_on",
]
_LOAN_FIELDS = [
    "status",
    "outstanding_principal_fen",
    "overdue_since",
    "days_past_due",
    "bucket",
    "classification",
    "closed_at",
]


def lock_loan(loan_id: int) -> tuple[Loan, list[Installment]]:
    """The loan row, then its installments, locked for the rest of the transaction."""
    from loandesk.postloan.models import PenaltyPosting

    loan = Loan.objects.select_for_update().select_related("product").get(pk=loan_id)
    rows = list(Installment.objects.select_for_update().filter(loan_id=loan_id).order_by("seq"))
    postings = {
        p.installment_id: p for p in PenaltyPosting.objects.filter(installment__loan_id=loan_id)
    }
    for inst in rows:
        inst.loan = loan
        inst._posting_cache = postings.get(inst.pk)  # type: ignore[attr-defined]
    return loan, rows


def _snapshot(inst: Installment) -> tuple[Any, ...]:
    return tuple(getattr(inst, f) for f in _ROW_FIELDS)


def save_rows(rows: Sequence[Installment], before: dict[int, tuple[Any, ...]]) -> None:
    changed = [r for r in rows if _snapshot(r) != before.get(r.pk)]
    if changed:
        Installment.objects.bulk_update(changed, _ROW_FIELDS, batch_size=500)


def cob_day() -> date:
    """The last closed business date as COB sees it: the position is as of the previous day."""
    return get_business_date() - timedelta(days=1)


def settle_loan(loan: Loan, rows: Sequence[Installment]) -> bool:
    """Outstanding principal, status and delinquency from the rows, with COB's rules; returns
    True when this closes the loan."""
    from loandesk.postloan import cob, rules

    cfg = cob.Config.of(cob.current_config())
    was_closed = loan.status == Loan.Status.CLOSED
    loan.outstanding_principal_fen = sum(owed(r, "principal") for r in rows)
    if all(settled(r) for r in rows):
        loan.status = Loan.Status.CLOSED
        loan.closed_at = loan.closed_at or timezone.now()
        loan.overdue_since = None
        loan.days_past_due = 0
        loan.bucket = cfg.buckets[0].code
        loan.classification = cfg.thresholds[0].classification
        return not was_closed
    if was_closed:  # a 红冲 reopened it
        loan.status = Loan.Status.ACTIVE
        loan.closed_at = None
    oldest = min(
        (r.due_date for r in rows if r.status == Installment.Status.OVERDUE and not settled(r)),
        default=None,
    )
    if oldest == loan.overdue_since and not was_closed:
        return False
    # Days past due stay counted to the date COB last counted them to (since + DPD), so a
    # repayment during the day does not shift the loan by a day against the rest of the book.
    on = (
        loan.overdue_since + timedelta(days=loan.days_past_due)
        if loan.overdue_since is not None
        else cob_day()
    )
    state = rules.loan_state(
        oldest_overdue_due=oldest, on=on, buckets=cfg.buckets, thresholds=cfg.thresholds
    )
    loan.status = state.status
    loan.overdue_since = state.overdue_since
    loan.days_past_due = state.days_past_due
    loan.bucket = state.bucket
    loan.classification = state.classification
    return False


def save_split(rep: Repayment, split: Split) -> None:
    totals = split.totals()
    for component in COMPONENTS:
        setattr(rep, f"{component}_fen", totals[component])
    rep.credit_fen = split.credit
    if rep.amount_fen != split.allocated() + split.credit:  # belt and braces: never off a fen
        raise AssertionError(f"split of repayment {rep.pk} does not add up")


def write_allocations(rep: Repayment, split: Split) -> None:
    RepaymentAllocation.objects.filter(repayment=rep).delete()
    RepaymentAllocation.objects.bulk_create(
        [
            RepaymentAllocation(
                repayment=rep,
                seq=seq,
                due_date=split.due_dates[seq],
                **{f"{c}_fen": parts[c] for c in COMPONENTS},
            )
            for seq, parts in sorted(split.by_seq.items())
        ]
    )


def stored_split(rep: Repayment) -> Split:
    split = Split(credit=rep.credit_fen)
    for a in RepaymentAllocation.objects.filter(repayment=rep):
        split.by_seq[a.seq] = {c: getattr(a, f"{c}_fen") for c in COMPONENTS}
        split.due_dates[a.seq] = a.due_date
    return split


# --- the chain and its replay -----------------------------------------------------------------


def chain(loan: Loan) -> list[Repayment]:
    return list(
        Repayment.objects.filter(loan=loan, status=Repayment.Status.POSTED).order_by(
            "value_date", "id"
        )
    )


def save_baseline(loan: Loan, rows: Sequence[Installment]) -> None:
    """Remember the schedule as disbursed before a prepayment first rewrites it."""
    if ScheduleBaseline.objects.filter(loan=loan).exists():
        return
    ScheduleBaseline.objects.create(
        loan=loan,
        rows=[
            {
                "seq": r.seq,
                "due_date": r.due_date.isoformat(),
                "days": r.days,
                "opening_principal_fen": r.opening_principal_fen,
                "principal_fen": r.principal_fen,
                "interest_fen": r.interest_fen,
                "fee_fen": r.fee_fen,
            }
            for r in rows
        ],
    )


def _restore_pristine(loan: Loan, rows: Sequence[Installment]) -> None:
    """The rows as disbursed: original amounts, nothing paid, no penalty posted."""
    from loandesk.postloan.models import PenaltyPosting

    baseline = ScheduleBaseline.objects.filter(loan=loan).first()
    original = {int(r["seq"]): r for r in baseline.rows} if baseline else {}
    for inst in rows:
        base = original.get(inst.seq)
        if base is not None:
            inst.due_date = date.fromisoformat(base["due_date"])
            inst.days = base["days"]
            inst.opening_principal_fen = base["opening_principal_fen"]
            inst.principal_fen = base["principal_fen"]
            inst.interest_fen = base["interest_fen"]
            inst.fee_fen = base["fee_fen"]
        inst.penalty_fen = 0
        for component in COMPONENTS:
            setattr(inst, f"paid_{component}_fen", 0)
        inst._posting_cache = None  # type: ignore[attr-defined]
    PenaltyPosting.objects.filter(installment__loan=loan).delete()


def _normalise_statuses(
    rows: Sequence[Installment], before: dict[int, tuple[Any, ...]], grace_days: int
) -> None:
    """After a replay: settled rows are paid; rows that were paid and no longer are get the
    state COB would give them; the rest keep COB's state."""
    from loandesk.postloan import rules

    on = cob_day()
    status_at = _ROW_FIELDS.index("status")
    paid_on_at = _ROW_FIELDS.index("paid_off_on")
    for inst in rows:
        old_status = before[inst.pk][status_at]
        if settled(inst):
            inst.status = Installment.Status.PAID
            if inst.paid_off_on is None:
                inst.paid_off_on = before[inst.pk][paid_on_at] or on
            continue
        inst.paid_off_on = None
        if old_status == Installment.Status.PAID:
            base = Installment.Status.PENDING if inst.due_date > on else Installment.Status.DUE
            inst.status = rules.installment_status(
                status=base, due_date=inst.due_date, grace_days=grace_days, on=on, settled=False
            )
        else:
            inst.status = old_status


@dataclass
class Replay:
    splits: dict[int, Split]
    events: list[tuple[str, dict[str, Any]]]


def replay(
    loan: Loan,
    rows: list[Installment],
    repayments: Sequence[Repayment],
    *,
    fresh: Repayment | None = None,
) -> Replay:
    """Rebuild the rows from the schedule as disbursed and apply `repayments` in order.

    Stored splits that change are rewritten (with a `loan.repayment_reallocated` event);
    `fresh` — the repayment being posted — may be refused, the others never are."""
    max_through = max(
        (p.through for p in (getattr(r, "_posting_cache", None) for r in rows) if p is not None),
        default=None,
    )
    _restore_pristine(loan, rows)
    for inst in rows:
        inst.status = Installment.Status.PENDING
        inst.paid_off_on = None
    # The database must hold the pristine rows too: penalty postings during the replay update
    # penalty_fen alone, and nothing paid may exceed what is due at any moment (a CHECK).
    Installment.objects.bulk_update(rows, _ROW_FIELDS, batch_size=500)
    out = Replay(splits={}, events=[])
    for rep in repayments:
        split = apply(loan, rows, rep, fresh=rep is fresh)
        out.splits[rep.pk or 0] = split
        if rep is fresh or rep.pk is None:
            continue
        old = stored_split(rep)
        if old.key() != split.key():
            save_split(rep, split)
            rep.save(update_fields=[f"{c}_fen" for c in COMPONENTS] + ["credit_fen"])
            write_allocations(rep, split)
            out.events.append(
                (
                    TOPIC_REALLOCATED,
                    {
                        "repayment_id": rep.pk,
                        "loan_id": loan.pk,
                        "contract_no": loan.contract_no,
                        "value_date": rep.value_date.isoformat(),
                        **{f"delta_{c}_fen": split.total(c) - old.total(c) for c in COMPONENTS},
                        "delta_credit_fen": split.credit - old.credit,
                    },
                )
            )
    # Month-end postings (COB) made after the last repayment are made again on the replayed
    # base: the penalty of a range is cumulative, so one posting to the last closed month end
    # gives what the monthly postings gave.
    month_end = _last_closed_month_end(max_through) if max_through is not None else None
    if month_end is not None:
        late = [
            r
            for r in rows
            if not settled(r)
            and (month_end - r.due_date).days > loan.grace_days
            and (
                getattr(r, "_posting_cache", None) is None or r._posting_cache.through < month_end  # type: ignore[attr-defined]
            )
        ]
        _post_penalties(late, month_end)
    return out


def _last_closed_month_end(upto: date) -> date | None:
    """The last month end on or before `upto` that COB has closed (it posted penalty then)."""
    from loandesk.postloan.models import CobRun

    end = upto if (upto + timedelta(days=1)).day == 1 else upto.replace(day=1) - timedelta(days=1)
    done = CobRun.objects.filter(business_date=end, status=CobRun.Status.DONE).exists()
    return end if done else None


# --- validation -------------------------------------------------------------------------------


def clean_amount_fen(amount_fen: Any) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise ValidationFailed.field("amount", "lending.repayment.amount_invalid")
    if amount_fen <= 0:
        raise ValidationFailed.field("amount", "lending.repayment.amount_not_positive")
    if amount_fen > MAX_AMOUNT_FEN:
        raise ValidationFailed.field(
            "amount", "lending.repayment.amount_too_large", max=format_yuan(_yuan(MAX_AMOUNT_FEN))
        )
    return amount_fen


def parse_amount(text: Any) -> int:
    """A yuan amount as sent by a client ("1234.56") → fen; floats and >2 decimals refused."""
    from decimal import InvalidOperation

    if text is None or (isinstance(text, str) and not text.strip()):
        raise ValidationFailed.field("amount", "field.required")
    if isinstance(text, float | bool):
        raise ValidationFailed.field("amount", "lending.repayment.amount_invalid")
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed.field("amount", "lending.repayment.amount_invalid") from None
    if not value.is_finite():
        raise ValidationFailed.field("amount", "lending.repayment.amount_invalid")
    if value > Decimal(MAX_AMOUNT_FEN) / 100:
        return clean_amount_fen(MAX_AMOUNT_FEN + 1)
    if value <= 0:  # before quantize: "-1e30" has too many digits to quantize (a 500 once)
        return clean_amount_fen(0)
    if value != value.quantize(Decimal("0.01")):
        raise ValidationFailed.field("amount", "lending.too_many_decimals", max=2)
    return clean_amount_fen(int(value * 100))


def clean_common(
    loan: Loan, *, value_date: Any, channel: Any, reference: Any
) -> tuple[date, str, str]:
    errors: dict[str, str] = {}
    if not isinstance(value_date, date):
        errors["value_date"] = message("lending.repayment.value_date_invalid")
    else:
        today = get_business_date()
        if value_date > today:
            errors["value_date"] = message(
                "lending.repayment.value_date_future", {"date": today.isoformat()}
            )
        elif value_date < loan.start_date:
            errors["value_date"] = message(
                "lending.repayment.value_date_before_start", {"date": loan.start_date.isoformat()}
            )
    if channel not in CHANNELS:
        errors["channel"] = message("lending.choice_invalid", {"choices": ", ".join(CHANNELS)})
    reference = reference if isinstance(reference, str) else ""
    reference = reference.strip()
    if len(reference) > MAX_REFERENCE:
        errors["reference"] = message("field.too_long", {"max": MAX_REFERENCE})
    if errors:
        raise ValidationFailed(errors)
    return value_date, channel, reference


def ensure_open(loan: Loan) -> None:
    if loan.status in (Loan.Status.CLOSED, Loan.Status.WRITTEN_OFF):
        raise Conflict(
            "lending.repayment.loan_not_open",
            params={"status": loan.get_status_display()},
            details={"status": loan.status},
        )


def clean_key(key: str | None) -> str | None:
    from loandesk.lending.loans import _KEY

    key = (key or "").strip() or None
    if key is not None and not _KEY.match(key):
        raise ValidationFailed.field("idempotency_key", "lending.idempotency_key_invalid")
    return key


def fingerprint(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def existing(key: str, request_hash: str) -> Repayment | None:
    found = Repayment.objects.select_related("loan").filter(idempotency_key=key).first()
    if found is None:
        return None
    if found.request_hash != request_hash:
        raise Conflict(
            "lending.repayment.idempotency_conflict",
            details={"repayment_id": found.pk, "loan_id": found.loan_id},
        )
    found.replayed = True  # type: ignore[attr-defined]
    return found


# --- events -----------------------------------------------------------------------------------


def posted_payload(loan: Loan, rep: Repayment) -> dict[str, Any]:
    return {
        "repayment_id": rep.pk,
        "loan_id": loan.pk,
        "contract_no": loan.contract_no,
        "customer_id": loan.customer_id,
        "owner_id": loan.owner_id,
        "department_id": loan.department_id,
        "amount_fen": rep.amount_fen,
        "value_date": rep.value_date.isoformat(),
        "channel": rep.channel,
        "reference": rep.reference,
        "principal_fen": rep.principal_fen,
        "interest_fen": rep.interest_fen,
        "fee_fen": rep.fee_fen,
        "penalty_fen": rep.penalty_fen,
        "credit_fen": rep.credit_fen,
        "prepayment": rep.kind != Repayment.Kind.REPAYMENT,
        "kind": rep.kind,
        "source": rep.source,
    }


def publish_closed(loan: Loan, closed_on: date) -> None:
    outbox.publish(
        TOPIC_CLOSED,
        payload={
            "loan_id": loan.pk,
            "contract_no": loan.contract_no,
            "customer_id": loan.customer_id,
            "closed_on": closed_on.isoformat(),
        },
        aggregate_type="lending.loan",
        aggregate_id=loan.pk,
    )


def publish_events(loan: Loan, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
    for topic, payload in events:
        outbox.publish(topic, payload=payload, aggregate_type="lending.loan", aggregate_id=loan.pk)


# --- posting ----------------------------------------------------------------------------------


def needs_replay(
    loan: Loan, rows: Sequence[Installment], value_date: date, posted: Sequence[Repayment]
) -> bool:
    """A posting can go at the end of the chain unless a later repayment or penalty posting
    already looked past its value date."""
    if posted and posted[-1].value_date > value_date:
        return True
    return any(
        getattr(r, "_posting_cache", None) is not None
        and r._posting_cache.through > value_date  # type: ignore[attr-defined]
        and not settled(r)
        for r in rows
    )


def book(
    *,
    actor: User,
    loan_id: int,
    rep: Repayment,
    request: HttpRequest | None,
) -> Repayment:
    """Lock, apply (or replay), save and publish one new repayment. Caller holds a transaction."""
    from loandesk.customers.services import add_timeline_event

    loan, rows = lock_loan(loan_id)
    ensure_open(loan)
    before = {r.pk: _snapshot(r) for r in rows}
    posted = chain(loan)
    try:
        if needs_replay(loan, rows, rep.value_date, posted):
            ordered = sorted([*posted, rep], key=lambda r: (r.value_date, r.pk or 10**18))
            result = replay(loan, rows, ordered, fresh=rep)
            split = result.splits[0]
            _normalise_statuses(rows, before, loan.grace_days)
            before = {}  # the replay wrote pristine rows: save every row
        else:
            split = apply(loan, rows, rep, fresh=True)
            result = Replay(splits={}, events=[])
    except Refused as refused:
        raise refused.error from None
    except FinanceInputError as exc:
        raise ValidationFailed.field("amount", exc.code, **exc.message_params) from None
    save_split(rep, split)
    rep.save()
    write_allocations(rep, split)
    save_rows(rows, before)
    closed = settle_loan(loan, rows)
    loan.save(update_fields=_LOAN_FIELDS)
    outbox.publish(
        TOPIC_POSTED,
        payload=posted_payload(loan, rep),
        aggregate_type="lending.loan",
        aggregate_id=loan.pk,
    )
    publish_events(loan, result.events)
    if closed:
        publish_closed(loan, rep.value_date)
    add_timeline_event(
        customer=loan.customer,
        kind="repayment_posted",
        summary_code=(
            "lending.timeline.repayment_posted"
            if rep.kind == Repayment.Kind.REPAYMENT
            else "lending.timeline.prepayment_posted"
        ),
        params={
            "amount": format_yuan(_yuan(rep.amount_fen)),
            "contract_no": loan.contract_no,
            "date": rep.value_date.isoformat(),
            "channel": rep.get_channel_display(),
        },
        actor=actor,
        ref_type="lending.repayment",
        ref_id=rep.pk,
    )
    audit.record(
        action="repayment.post",
        actor=actor,
        target=rep,
        target_label=f"{loan.contract_no} {rep.value_date}",
        changes={"amount": [None, str(_yuan(rep.amount_fen))]},
        extra={
            "loan_id": loan.pk,
            "kind": rep.kind,
            "channel": rep.channel,
            "reference": rep.reference,
            "split": {c: split.total(c) for c in COMPONENTS},
            "credit_fen": split.credit,
            "idempotency_key": rep.idempotency_key,
            "source": rep.source,
            "reallocated": [e[1]["repayment_id"] for e in result.events],
        },
        request=request,
    )
    rep.replayed = False  # type: ignore[attr-defined]
    return rep


def post_once(
    *,
    actor: User,
    loan_id: int,
    build: Any,
    request_fields: dict[str, Any],
    idempotency_key: str | None,
    request: HttpRequest | None,
) -> Repayment:
    """Exactly-once wrapper: `build(loan)` validates and returns the unsaved Repayment."""
    key = clean_key(idempotency_key)
    request_hash = fingerprint({"loan_id": loan_id, **request_fields}) if key else ""
    if key:
        found = existing(key, request_hash)
        if found is not None:
            return found
    try:
        with transaction.atomic():
            loan = Loan.objects.select_related("product").get(pk=loan_id)
            rep = build(loan)
            rep.idempotency_key = key
            rep.request_hash = request_hash
            return book(actor=actor, loan_id=loan_id, rep=rep, request=request)
    except IntegrityError:
        if not key:
            raise
        # Lost the race on the key: the savepoint rolled back, the winner has committed.
        found = existing(key, request_hash)
        if found is None:
            raise
        return found


def post_repayment(
    *,
    actor: User,
    loan_id: int,
    amount_fen: int,
    value_date: date,
    channel: str,
    reference: str = "",
    idempotency_key: str | None = None,
    source: str = "manual",
    request: HttpRequest | None = None,
) -> Repayment:
    """Post a repayment on a loan in the actor's data scope (lending.post_repayment).

    The amount goes to what is due on the value date in the product's order; anything left is
    kept as credit (product overpayment `credit`) or refused (`prepay`: use a prepayment).
    Returns the Repayment with `replayed` (True: the idempotency key had been used for this
    same request, nothing was written)."""
    require_perm(actor, POST_PERM)
    loan = loan_for(actor=actor, loan_id=loan_id)
    amount_fen = clean_amount_fen(amount_fen)
    value_date, channel, reference = clean_common(
        loan, value_date=value_date, channel=channel, reference=reference
    )
    source = (source or "manual")[:30]

    def build(loan: Loan) -> Repayment:
        return Repayment(
            loan=loan,
            kind=Repayment.Kind.REPAYMENT,
            amount_fen=amount_fen,
            value_date=value_date,
            channel=channel,
            reference=reference,
            source=source,
            created_by=actor,
        )

    return post_once(
        actor=actor,
        loan_id=loan.pk,
        build=build,
        request_fields={
            "kind": "repayment",
            "amount_fen": amount_fen,
            "value_date": value_date.isoformat(),
            "channel": channel,
            "reference": reference,
        },
        idempotency_key=idempotency_key,
        request=request,
    )


# --- reversal (红冲) --------------------------------------------------------------------------


def reverse_repayment(
    *,
    actor: User,
    repayment_id: int,
    reason: str,
    request: HttpRequest | None = None,
) -> Repayment:
    """Reverse a repayment (lending.reverse_repayment): it stays on record, marked reversed,
    and the loan is replayed without it, re-allocating every later repayment."""
    from loandesk.customers.services import add_timeline_event
    from loandesk.lending.repayment_reads import repayment_for

    require_perm(actor, REVERSE_PERM)
    rep = repayment_for(actor=actor, repayment_id=repayment_id)
    reason = (reason if isinstance(reason, str) else "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "field.required")
    if len(reason) > MAX_REASON:
        raise ValidationFailed.field("reason", "field.too_long", max=MAX_REASON)
    with transaction.atomic():
        loan, rows = lock_loan(rep.loan_id)
        rep = Repayment.objects.select_for_update().get(pk=rep.pk)
        if rep.status == Repayment.Status.REVERSED:
            raise Conflict("lending.repayment.already_reversed", details={"repayment_id": rep.pk})
        if loan.status == Loan.Status.WRITTEN_OFF:
            raise Conflict(
                "lending.repayment.loan_not_open",
                params={"status": loan.get_status_display()},
                details={"status": loan.status},
            )
        before = {r.pk: _snapshot(r) for r in rows}
        undone = {c: getattr(rep, f"{c}_fen") for c in COMPONENTS} | {"credit": rep.credit_fen}
        today = get_business_date()
        rep.status = Repayment.Status.REVERSED
        rep.reversed_by = actor
        rep.reversed_at = timezone.now()
        rep.reversed_on = today
        rep.reversal_reason = reason
        rep.save(
            update_fields=["status", "reversed_by", "reversed_at", "reversed_on", "reversal_reason"]
        )
        result = replay(loan, rows, chain(loan))
        _normalise_statuses(rows, before, loan.grace_days)
        save_rows(rows, {})
        closed = settle_loan(loan, rows)
        loan.save(update_fields=_LOAN_FIELDS)
        outbox.publish(
            TOPIC_REVERSED,
            payload={
                "repayment_id": rep.pk,
                "loan_id": loan.pk,
                "contract_no": loan.contract_no,
                "customer_id": loan.customer_id,
                "value_date": today.isoformat(),
                "original_value_date": rep.value_date.isoformat(),
                "reason": reason,
                **{f"{c}_fen": undone[c] for c in COMPONENTS},
                "credit_fen": undone["credit"],
                "amount_fen": rep.amount_fen,
            },
            aggregate_type="lending.loan",
            aggregate_id=loan.pk,
        )
        publish_events(loan, result.events)
        if closed:
            publish_closed(loan, today)
        add_timeline_event(
            customer=loan.customer,
            kind="repayment_reversed",
            summary_code="lending.timeline.repayment_reversed",
            params={
                "amount": format_yuan(_yuan(rep.amount_fen)),
                "contract_no": loan.contract_no,
                "date": rep.value_date.isoformat(),
                "reason": reason,
            },
            actor=actor,
            ref_type="lending.repayment",
            ref_id=rep.pk,
        )
        audit.record(
            action="repayment.reverse",
            actor=actor,
            target=rep,
            target_label=f"{loan.contract_no} {rep.value_date}",
            changes={"status": ["posted", "reversed"]},
            extra={
                "loan_id": loan.pk,
                "reason": reason,
                "undone": undone,
                "reallocated": [e[1]["repayment_id"] for e in result.events],
            },
            request=request,
        )
    return rep
