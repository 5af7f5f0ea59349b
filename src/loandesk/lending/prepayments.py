"""Prepayment (提前还款): the payoff quote, partial prepayment with a new schedule, full payoff.

Both run through the repayment engine (lending.repayments): a prepayment is a Repayment of kind
`partial_prepayment` or `full_prepayment` in the loan's chain, so a 红冲 before it replays it.
The money first settles what is due on the value date (as any repayment), then:

* full: `lending.finance.prepayment.payoff_quote` on the current period (the first installment
  due after the value date): its opening principal, the interest and fee accrued to the value
  date, and the prepayment fee. That installment is rewritten to exactly those amounts and paid;
  every later installment becomes zero and paid; the loan closes.
* partial: `partial_prepayment` gives the interest share and fee of the prepaid principal and
  the new schedule from the current installment on (keep_term / keep_installment). The current
  installment carries the prepaid principal, the interest share and the fee (paid now) on top of
  its new amounts; the installments after it are rewritten; those the new schedule no longer
  needs become zero and paid. Principal over all installments still sums to the loan's principal.

A prepayment needs the current installment untouched (nothing paid on it): one prepayment per
period. In a replay (a 红冲 of an earlier repayment) a prepayment that no longer fits — arrears
appeared, or the money no longer covers it — is kept as credit instead, never refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.errors import Conflict, ValidationFailed
from loandesk.core.i18n import message
from loandesk.core.money import fen_to_yuan, format_yuan
from loandesk.core.services import get_business_date
from loandesk.lending.calendar import working_day_calendar
from loandesk.lending.finance.enums import DayCount, FeeKind, Frequency, InterestPeriod, Method
from loandesk.lending.finance.errors import FinanceInputError
from loandesk.lending.finance.prepayment import (
    PrepaymentMode,
    PrepaymentResult,
    partial_prepayment,
    payoff_quote,
)
from loandesk.lending.finance.types import (
    ScheduleInput,
    ScheduleResult,
    ScheduleRow,
    ScheduleTotals,
)
from loandesk.lending.loans import loan_for
from loandesk.lending.models import Installment, Loan, Repayment
from loandesk.lending.repayments import (
    POST_PERM,
    Refused,
    Split,
    clean_common,
    ensure_open,
    owed,
    post_once,
    save_baseline,
    settled,
    terms_of,
)

MODES = tuple(m.value for m in PrepaymentMode)


def _y(fen: int) -> Decimal:
    return fen_to_yuan(fen)


def _fen(amount: Decimal) -> int:
    return int(amount * 100)


def schedule_input(loan: Loan) -> ScheduleInput:
    """The loan-math input the loan was priced with (from the loan and its terms snapshot)."""
    t = loan.terms or {}
    shift = bool(t.get("holiday_shift", False))
    return ScheduleInput(
        principal=_y(loan.principal_fen),
        annual_rate=loan.annual_rate.normalize(),
        periods=loan.periods,
        start=loan.start_date,
        first_due=None if shift else loan.first_due_date,
        method=Method(loan.method),
        frequency=Frequency(loan.frequency),
        interest_period=InterestPeriod(t.get("interest_period", "period")),
        day_count=DayCount(t.get("day_count", "act/365")),
        installment_multiple=Decimal(str(t.get("installment_multiple", "0.01"))),
        holiday_shift=shift,
        calendar=working_day_calendar() if shift else None,
        period_fee=Decimal(str(t.get("period_fee", "0"))),
        period_fee_kind=FeeKind(t.get("period_fee_kind", "fixed")),
    )


def _row(inst: Installment) -> ScheduleRow:
    principal, interest, fee = _y(inst.principal_fen), _y(inst.interest_fen), _y(inst.fee_fen)
    opening = _y(inst.opening_principal_fen)
    return ScheduleRow(
        seq=inst.seq,
        due_date=inst.due_date,
        days=inst.days,
        opening_balance=opening,
        principal=principal,
        interest=interest,
        fee=fee,
        total=principal + interest + fee,
        closing_balance=opening - principal,
        accrued_interest=interest,
    )


def schedule_of(loan: Loan, rows: list[Installment], current: int) -> ScheduleResult:
    """The loan's schedule as the finance library sees it, from the stored rows.

    `installment` (keep_installment of equal_installment) is the current installment, and
    row `grace` carries the current principal part (equal_principal): after an earlier
    prepayment these are what "keep the installment" means."""
    srows = [_row(r) for r in rows]
    inp = schedule_input(loan)
    cur = srows[current]
    grace = min(inp.grace_periods, len(srows) - 1)
    srows[grace] = srows[grace]._replace(principal=cur.principal)
    zero = Decimal(0)
    return ScheduleResult(
        input=inp,
        rows=tuple(srows),
        totals=ScheduleTotals(zero, zero, zero, zero),
        installment=cur.principal + cur.interest,
    )


def current_index(rows: list[Installment], on: date) -> int | None:
    """The current period: the first installment due after `on`."""
    return next((k for k, r in enumerate(rows) if r.due_date > on), None)


def _untouched(inst: Installment) -> bool:
    return not (
        inst.paid_principal_fen or inst.paid_interest_fen or inst.paid_fee_fen
    ) and not settled(inst)


def _payoff(loan: Loan, rows: list[Installment], on: date) -> tuple[int, Any] | None:
    """(index of the current row, PayoffQuote of it) or None when nothing is left to prepay."""
    k = current_index(rows, on)
    if k is None or not _untouched(rows[k]):
        return None
    start = rows[k - 1].due_date if k else loan.start_date
    sched = schedule_of(loan, rows, k)
    # Only the current row and later: rows due on or before `on` are settled by now.
    tail_input = replace(
        sched.input,
        start=start,
        first_due=rows[k].due_date,
        due_day=None,
        periods=len(rows) - k,
        grace_periods=0,
        interest_grace_periods=0,
    )
    tail = replace(sched, rows=sched.rows[k:], input=tail_input)
    quote = payoff_quote(tail, on, prepayment_fee_percent=terms_of(loan)["prepayment_fee_percent"])
    return k, quote


def _partial(
    loan: Loan, rows: list[Installment], on: date, principal_fen: int, mode: str
) -> tuple[int, PrepaymentResult] | None:
    k = current_index(rows, on)
    if k is None or not _untouched(rows[k]):
        return None
    sched = schedule_of(loan, rows, k)
    result = partial_prepayment(
        sched,
        on,
        _y(principal_fen),
        mode=mode,
        prepayment_fee_percent=terms_of(loan)["prepayment_fee_percent"],
    )
    return k, result


def _pay(inst: Installment, split: Split, **parts: int) -> None:
    for component, fen in parts.items():
        setattr(inst, f"paid_{component}_fen", getattr(inst, f"paid_{component}_fen") + fen)
        split.add(inst, component, fen)


def _zero_from(rows: list[Installment], start: int) -> None:
    for inst in rows[start:]:
        inst.principal_fen = inst.interest_fen = inst.fee_fen = 0
        inst.opening_principal_fen = 0
        inst.paid_principal_fen = inst.paid_interest_fen = inst.paid_fee_fen = 0


def _arrears(rows: list[Installment], on: date) -> bool:
    return any(r.due_date <= on and not settled(r) for r in rows)


def apply_prepayment(
    loan: Loan,
    rows: list[Installment],
    rep: Repayment,
    left: int,
    split: Split,
    *,
    fresh: bool,
) -> int:
    """Apply the prepayment part of `rep` with `left` fen (what is due is settled already);
    returns the fen left over (credit)."""
    on = rep.value_date

    def refuse(code: str, **params: Any) -> int:
        if fresh:
            raise Refused(ValidationFailed.field("amount", code, **params))
        return left

    if _arrears(rows, on):
        return refuse("lending.prepayment.arrears")
    if rep.kind == Repayment.Kind.FULL_PREPAYMENT:
        found = _payoff(loan, rows, on)
        if found is None:
            return refuse("lending.prepayment.nothing_to_prepay")
        k, quote = found
        total = _fen(quote.total)
        if total > left:
            return refuse("lending.prepayment.amount_short", total=format_yuan(quote.total))
        save_baseline(loan, rows)
        cur = rows[k]
        cur.principal_fen = _fen(quote.principal)
        cur.interest_fen = _fen(quote.interest)
        cur.fee_fen = _fen(quote.fee + quote.prepayment_fee)
        _zero_from(rows, k + 1)
        _pay(
            cur,
            split,
            principal=cur.principal_fen,
            interest=cur.interest_fen,
            fee=cur.fee_fen,
        )
        return left - total
    found_partial = _partial(loan, rows, on, rep.prepay_principal_fen, rep.prepayment_mode)
    if found_partial is None:
        return refuse("lending.prepayment.nothing_to_prepay")
    k, result = found_partial
    total = _fen(result.total_paid)
    if total > left:
        return refuse("lending.prepayment.amount_short", total=format_yuan(result.total_paid))
    save_baseline(loan, rows)
    new_rows = result.new_schedule.rows
    for offset, new in enumerate(new_rows):
        inst = rows[k + offset]
        if inst.seq != new.seq:  # the library numbers from the current seq: never differs
            raise AssertionError("prepayment schedule out of step")
        inst.due_date = new.due_date
        inst.days = new.days
        inst.principal_fen = _fen(new.principal)
        inst.interest_fen = _fen(new.interest)
        inst.fee_fen = _fen(new.fee)
        if offset:
            inst.opening_principal_fen = _fen(new.opening_balance)
    _zero_from(rows, k + len(new_rows))
    cur = rows[k]
    prepaid = _fen(result.principal_prepaid)
    interest = _fen(result.interest_due)
    fee = _fen(result.prepayment_fee)
    # The current row keeps its opening balance: opening - (new principal + prepaid) is the
    # new closing balance, and principal over all rows still sums to the loan's principal.
    cur.principal_fen += prepaid
    cur.interest_fen += interest
    cur.fee_fen += fee
    _pay(cur, split, principal=prepaid, interest=interest, fee=fee)
    return left - total


# --- quotes -----------------------------------------------------------------------------------


def _due_now(loan: Loan, on: date) -> dict[str, int]:
    from loandesk.postloan.selectors import amount_owed_today

    owed_now = amount_owed_today(loan, on)
    return {
        "principal": owed_now.principal_fen,
        "interest": owed_now.interest_fen,
        "fee": owed_now.fee_fen,
        "penalty": owed_now.penalty_fen,
        "total": owed_now.total_fen,
    }


def _rows_after_due(loan: Loan, on: date) -> list[Installment]:
    """The rows as they will be once what is due on `on` is paid (for the quote)."""
    rows = list(Installment.objects.filter(loan=loan).order_by("seq"))
    for inst in rows:
        if inst.due_date <= on:
            for component in ("principal", "interest", "fee"):
                setattr(inst, f"paid_{component}_fen", getattr(inst, f"{component}_fen"))
            inst.paid_penalty_fen = inst.penalty_fen
    return rows


def clean_quote_date(loan: Loan, on: Any) -> date:
    today = get_business_date()
    on = on or today
    if not isinstance(on, date):
        raise ValidationFailed.field("date", "lending.repayment.value_date_invalid")
    if on > today:
        raise ValidationFailed.field("date", "lending.repayment.value_date_future", date=today)
    if on < loan.start_date:
        raise ValidationFailed.field(
            "date", "lending.repayment.value_date_before_start", date=loan.start_date
        )
    return on


def clean_mode(mode: Any) -> str:
    if mode not in MODES:
        raise ValidationFailed.field("mode", "lending.choice_invalid", choices=", ".join(MODES))
    return str(mode)


def quote(
    *,
    actor: User,
    loan_id: int,
    on: date | None = None,
    principal_fen: int | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """What a full payoff costs on `on` and, given a principal, what a partial prepayment costs
    and the schedule after it. Amounts in yuan strings."""
    loan = loan_for(actor=actor, loan_id=loan_id)
    ensure_open(loan)
    on = clean_quote_date(loan, on)
    due = _due_now(loan, on)
    rows = _rows_after_due(loan, on)
    out: dict[str, Any] = {
        "as_of": on,
        "loan_id": loan.pk,
        "contract_no": loan.contract_no,
        "due": {k: str(_y(v)) for k, v in due.items()},
        "payoff": None,
        "partial": None,
        "modes": [m for m in MODES if _mode_allowed(loan, m)],
        "prepayment_fee_percent": str(terms_of(loan)["prepayment_fee_percent"].normalize()),
    }
    try:
        found = _payoff(loan, rows, on)
    except FinanceInputError as exc:
        raise ValidationFailed.field("date", exc.code, **exc.message_params) from None
    if found is not None:
        _, q = found
        out["payoff"] = {
            "principal": str(q.principal),
            "interest": str(q.interest),
            "fee": str(q.fee),
            "prepayment_fee": str(q.prepayment_fee),
            "total": str(q.total + _y(due["total"])),
            "prepaid_principal": str(q.prepaid_principal),
        }
        out["max_partial_principal"] = str(q.principal - Decimal("0.01"))
    if principal_fen is not None:
        mode = clean_mode(mode or PrepaymentMode.KEEP_TERM.value)
        try:
            part = _partial(loan, rows, on, principal_fen, mode)
        except FinanceInputError as exc:
            raise ValidationFailed.field(
                "principal" if exc.field == "amount" else exc.field,
                exc.code,
                **exc.message_params,
            ) from None
        if part is not None:
            _, res = part
            out["partial"] = {
                "mode": mode,
                "principal": str(res.principal_prepaid),
                "interest": str(res.interest_due),
                "prepayment_fee": str(res.prepayment_fee),
                "total": str(res.total_paid + _y(due["total"])),
                "schedule": [
                    {
                        "seq": r.seq,
                        "due_date": r.due_date,
                        "principal": str(r.principal),
                        "interest": str(r.interest),
                        "fee": str(r.fee),
                        "total": str(r.total),
                    }
                    for r in res.new_schedule.rows
                ],
            }
    return out


def _mode_allowed(loan: Loan, mode: str) -> bool:
    if mode == PrepaymentMode.KEEP_TERM.value:
        return True
    return loan.method in (Method.EQUAL_INSTALLMENT.value, Method.EQUAL_PRINCIPAL.value) and (
        loan.frequency != Frequency.DAILY.value
    )


# --- posting ----------------------------------------------------------------------------------


def post_prepayment(
    *,
    actor: User,
    loan_id: int,
    full: bool,
    value_date: date,
    channel: str,
    reference: str = "",
    principal_fen: int | None = None,
    mode: str | None = None,
    expected_amount_fen: int | None = None,
    idempotency_key: str | None = None,
    source: str = "manual",
    request: HttpRequest | None = None,
) -> Repayment:
    """Post a full payoff or a partial prepayment (lending.post_repayment). The amount is the
    quote on the value date; `expected_amount_fen` (the quote the user confirmed) must match it,
    else 409 `lending.prepayment.quote_changed`."""
    from loandesk.lending.repayments import clean_amount_fen

    require_perm(actor, POST_PERM)
    loan = loan_for(actor=actor, loan_id=loan_id)
    ensure_open(loan)
    value_date, channel, reference = clean_common(
        loan, value_date=value_date, channel=channel, reference=reference
    )
    errors: dict[str, str] = {}
    if not full:
        if principal_fen is None:
            errors["principal"] = message("field.required")
        else:
            principal_fen = clean_amount_fen(principal_fen)
        if mode not in MODES:
            errors["mode"] = message("lending.choice_invalid", {"choices": ", ".join(MODES)})
        elif not _mode_allowed(loan, str(mode)):
            errors["mode"] = message(
                "finance.prepayment_mode_not_supported", {"method": loan.method}
            )
    if errors:
        raise ValidationFailed(errors)
    if expected_amount_fen is not None:
        expected_amount_fen = clean_amount_fen(expected_amount_fen)
    q = quote(
        actor=actor,
        loan_id=loan.pk,
        on=value_date,
        principal_fen=None if full else principal_fen,
        mode=None if full else mode,
    )
    part = q["payoff"] if full else q["partial"]
    if part is None:
        raise Conflict("lending.prepayment.nothing_to_prepay")
    amount_fen = _fen(Decimal(part["total"]))
    if expected_amount_fen is not None and expected_amount_fen != amount_fen:
        raise Conflict(
            "lending.prepayment.quote_changed",
            params={"total": format_yuan(_y(amount_fen))},
            details={"total": part["total"]},
        )
    kind = Repayment.Kind.FULL_PREPAYMENT if full else Repayment.Kind.PARTIAL_PREPAYMENT

    def build(locked: Loan) -> Repayment:
        return Repayment(
            loan=locked,
            kind=kind,
            prepayment_mode="" if full else str(mode),
            prepay_principal_fen=0 if full else int(principal_fen or 0),
            amount_fen=amount_fen,
            value_date=value_date,
            channel=channel,
            reference=reference,
            source=(source or "manual")[:30],
            created_by=actor,
        )

    return post_once(
        actor=actor,
        loan_id=loan.pk,
        build=build,
        request_fields={
            "kind": kind,
            "mode": mode if not full else "",
            "principal_fen": principal_fen if not full else None,
            "value_date": value_date.isoformat(),
            "channel": channel,
            "reference": reference,
            "expected_amount_fen": expected_amount_fen,
        },
        idempotency_key=idempotency_key,
        request=request,
    )


__all__ = ["apply_prepayment", "owed", "post_prepayment", "quote", "schedule_of"]
