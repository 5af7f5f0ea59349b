"""Booking: lending events → balanced journal entries through the posting map.

Every event is split into components (``repayment.interest`` = 120.00 …); each component has a
posting rule (debit account, credit account). The component amounts are applied with a sign
(+1 book, −1 reverse), netted per account, and become the entry's lines: debits first. The
entry is written only when its debits equal its credits (asserted here and by a database check)
and carries the source event id, which is UNIQUE — so however often the outbox delivers an
event, it books once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from loandesk.accounting.models import (
    Account,
    JournalEntry,
    JournalLine,
    PostingRule,
    VoucherCounter,
)
from loandesk.core.errors import LoanDeskError
from loandesk.core.money import fen_to_yuan

# component → (zh, en) label. The default chart wires each to a debit and a credit account.
COMPONENTS: dict[str, tuple[str, str]] = {
    "disbursement.principal": ("放款本金", "Disbursed principal"),
    "disbursement.fee": ("放款时扣收的手续费", "Upfront fee withheld at disbursement"),
    "repayment.principal": ("收回本金", "Principal repaid"),
    "repayment.interest": ("利息收入", "Interest received"),
    "repayment.fee": ("手续费收入", "Fee received"),
    "repayment.penalty": ("罚息收入", "Penalty interest received"),
    "repayment.credit": ("溢缴款", "Overpayment held for the customer"),
    "write_off.principal": ("核销本金", "Principal written off"),
}
REPAYMENT_PARTS = ("principal", "interest", "fee", "penalty", "credit")

# Default chart (财政部《企业会计准则——应用指南》numbering, as small lenders use it).
DEFAULT_CHART: list[tuple[str, str, str, str, str | None]] = [
    # code, name, name_en, type, parent code
    ("1001", "库存现金", "Cash on hand", "asset", None),
    ("1002", "银行存款", "Bank deposits", "asset", None),
    ("1132", "应收利息", "Interest receivable", "asset", None),
    ("1221", "其他应收款", "Other receivables", "asset", None),
    ("1303", "贷款", "Loans", "asset", None),
    ("130301", "贷款—本金", "Loans — principal", "asset", "1303"),
    ("1304", "贷款损失准备", "Loan loss provision", "asset", None),
    ("2221", "应交税费", "Taxes payable", "liability", None),
    ("2241", "其他应付款", "Other payables", "liability", None),
    ("224101", "其他应付款—溢缴款", "Other payables — overpayments", "liability", "2241"),
    ("4001", "实收资本", "Paid-in capital", "equity", None),
    ("4103", "本年利润", "Profit for the year", "equity", None),
    ("6011", "利息收入", "Interest income", "income", None),
    ("6021", "手续费及佣金收入", "Fee and commission income", "income", None),
    ("6051", "其他业务收入", "Other operating income", "income", None),
    ("605101", "其他业务收入—罚息", "Other operating income — penalty interest", "income", "6051"),
    ("6602", "管理费用", "Administrative expenses", "expense", None),
    ("6701", "资产减值损失", "Impairment losses", "expense", None),
]
DEFAULT_RULES: dict[str, tuple[str, str]] = {
    "disbursement.principal": ("130301", "1002"),
    "disbursement.fee": ("1002", "6021"),
    "repayment.principal": ("1002", "130301"),
    "repayment.interest": ("1002", "6011"),
    "repayment.fee": ("1002", "6021"),
    "repayment.penalty": ("1002", "605101"),
    "repayment.credit": ("1002", "224101"),
    "write_off.principal": ("1304", "130301"),
}


class BookingError(LoanDeskError):
    """An event that cannot be booked as it is (its handler fails and is retried)."""

    status = 409


@dataclass
class Draft:
    """An entry before it is written: signed amounts per account (+ debit, − credit)."""

    date: date
    description: str
    topic: str
    event_id: uuid.UUID | None
    loan_id: int | None = None
    contract_no: str = ""
    customer_id: int | None = None
    memo: dict[str, Any] = field(default_factory=dict)
    net: dict[int, int] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)

    def apply(self, rules: Mapping[str, PostingRule], component: str, fen: int) -> None:
        """Book `fen` of `component` (negative: the reverse entry)."""
        if fen == 0:
            return
        rule = rules.get(component)
        if rule is None:
            raise BookingError("accounting.missing_rule", params={"component": component})
        for account_id, signed in ((rule.debit_account_id, fen), (rule.credit_account_id, -fen)):
            if account_id not in self.net:
                self.net[account_id] = 0
                self.order.append(account_id)
            self.net[account_id] += signed

    def lines(self) -> list[tuple[int, int, int]]:
        """(account_id, debit_fen, credit_fen), debits first, zero nets dropped."""
        debits = [(a, self.net[a], 0) for a in self.order if self.net[a] > 0]
        credits = [(a, 0, -self.net[a]) for a in self.order if self.net[a] < 0]
        return debits + credits


def rules_by_component() -> dict[str, PostingRule]:
    return {r.component: r for r in PostingRule.objects.all()}


def period_of(day: date) -> str:
    return f"{day:%Y-%m}"


def next_voucher_no(period: str) -> int:
    """The period's next voucher number; call inside the writing transaction (the counter row
    stays locked until it commits, so numbers never repeat)."""
    if not VoucherCounter.objects.filter(period=period).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                VoucherCounter.objects.create(period=period, last=1)
        except IntegrityError:  # another transaction created the period's row first
            VoucherCounter.objects.filter(period=period).update(last=F("last") + 1)
    return int(VoucherCounter.objects.filter(period=period).values_list("last", flat=True).get())


def write(draft: Draft) -> JournalEntry | None:
    """Write a draft as one balanced entry (None when every line nets to zero). Exactly once
    per source event: a second call with the same event id returns the first entry."""
    if draft.event_id is not None:
        existing = JournalEntry.objects.filter(source_event_id=draft.event_id).first()
        if existing is not None:
            return existing
    rows = draft.lines()
    if not rows:
        return None
    debit = sum(r[1] for r in rows)
    credit = sum(r[2] for r in rows)
    if debit != credit:
        raise BookingError(
            "accounting.unbalanced",
            params={"debit": str(fen_to_yuan(debit)), "credit": str(fen_to_yuan(credit))},
        )
    period = period_of(draft.date)
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                date=draft.date,
                period=period,
                voucher_no=next_voucher_no(period),
                source_event_id=draft.event_id,
                source_topic=draft.topic,
                description=draft.description[:200],
                loan_id=draft.loan_id,
                contract_no=draft.contract_no,
                customer_id=draft.customer_id,
                total_debit_fen=debit,
                total_credit_fen=credit,
                memo=draft.memo,
            )
            JournalLine.objects.bulk_create(
                JournalLine(
                    entry=entry,
                    line_no=i,
                    account_id=account_id,
                    debit_fen=d,
                    credit_fen=c,
                    description=draft.description[:200],
                    customer_id=draft.customer_id,
                    loan_id=draft.loan_id,
                )
                for i, (account_id, d, c) in enumerate(rows, start=1)
            )
    except IntegrityError:
        # A concurrent delivery of the same event won the unique source_event_id.
        if draft.event_id is None:
            raise
        return JournalEntry.objects.get(source_event_id=draft.event_id)
    return entry


# --- events → drafts --------------------------------------------------------------------------


def _int(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BookingError("bad_request", details={"field": key})
    return int(value)


def _date(payload: Mapping[str, Any]) -> date:
    return date.fromisoformat(str(payload["value_date"])[:10])


def _draft(event_id: Any, topic: str, payload: Mapping[str, Any], text: str) -> Draft:
    contract_no = str(payload.get("contract_no") or "")
    return Draft(
        date=_date(payload),
        description=f"{text} {contract_no}".strip(),
        topic=topic,
        event_id=uuid.UUID(str(event_id)) if event_id is not None else None,
        loan_id=payload.get("loan_id"),
        contract_no=contract_no,
        customer_id=payload.get("customer_id"),
    )


def draft_for(event_id: Any, topic: str, payload: Mapping[str, Any]) -> Draft | None:
    """The entry an event books (None: a topic that books nothing)."""
    rules = rules_by_component()
    if topic == "loan.disbursed":
        d = _draft(event_id, topic, payload, "放款")
        principal = _int(payload, "principal_fen")
        net = _int(payload, "net_amount_fen") if "net_amount_fen" in payload else principal
        d.apply(rules, "disbursement.principal", principal)
        d.apply(rules, "disbursement.fee", principal - net)
        return d
    if topic in ("loan.repayment_posted", "loan.repayment_reversed"):
        reversed_ = topic == "loan.repayment_reversed"
        d = _draft(event_id, topic, payload, "还款红冲" if reversed_ else "收到还款")
        parts = {p: _int(payload, f"{p}_fen") for p in REPAYMENT_PARTS}
        if not reversed_ and "amount_fen" in payload:
            amount = _int(payload, "amount_fen")
            if sum(parts.values()) != amount:
                raise BookingError(
                    "accounting.components_mismatch",
                    params={
                        "parts": str(fen_to_yuan(sum(parts.values()))),
                        "amount": str(fen_to_yuan(amount)),
                    },
                )
        sign = -1 if reversed_ else 1
        for part, fen in parts.items():
            d.apply(rules, f"repayment.{part}", sign * fen)
        return d
    if topic == "loan.repayment_reallocated":
        d = _draft(event_id, topic, payload, "还款重新分配")
        for part in REPAYMENT_PARTS:
            d.apply(rules, f"repayment.{part}", _int(payload, f"delta_{part}_fen"))
        return d
    if topic == "loan.written_off":
        d = _draft(event_id, topic, payload, "贷款核销")
        d.apply(rules, "write_off.principal", _int(payload, "principal_fen"))
        # Interest, fees and penalty were never booked as income (cash basis): they are kept
        # off the books (表外登记) in the entry's memo, for recovery follow-up.
        d.memo = {
            "off_books": {k: _int(payload, f"{k}_fen") for k in ("interest", "fee", "penalty")}
        }
        return d
    return None


BOOKED_TOPICS = (
    "loan.disbursed",
    "loan.repayment_posted",
    "loan.repayment_reversed",
    "loan.repayment_reallocated",
    "loan.written_off",
)


def book(event_id: Any, topic: str, payload: Mapping[str, Any]) -> JournalEntry | None:
    draft = draft_for(event_id, topic, payload)
    return write(draft) if draft is not None else None


def account_balance_fen(account: Account, entries: Iterable[int] | None = None) -> int:
    """Debit minus credit of an account (and its sub-accounts) over all entries."""
    from django.db.models import Sum

    qs = JournalLine.objects.filter(account__code__startswith=account.code)
    if entries is not None:
        qs = qs.filter(entry_id__in=list(entries))
    totals = qs.aggregate(d=Sum("debit_fen"), c=Sum("credit_fen"))
    return int(totals["d"] or 0) - int(totals["c"] or 0)
