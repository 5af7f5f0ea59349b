"""Demo portfolio: ~30 loans over the demo customers, repaid through the repayment service.

Relative to the business date D (deterministic for a given D): loans disbursed 1–12 months
before D across the three demo products; most paid on every due date, several stopped paying
at different points (1 to 90+ days past due, two beyond M3), a few paid off (one by a full
prepayment), one partial prepayment and one 红冲. Then COB closes D − 1, so installment states,
days past due, buckets, classification and the portfolio snapshot are what COB says.

Idempotent: every loan and repayment carries a fixed idempotency key, and COB runs only when
this call created loans. Collections, rules and reports demos build on it.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings

from loandesk.accounts.models import User
from loandesk.core.services import get_business_date
from loandesk.lending import loans, prepayments, repayments
from loandesk.lending.models import Disbursement, Installment, Loan, Product, Repayment

KEY = "demo-portfolio"
CHANNELS = ("bank_transfer", "wechat", "alipay", "deduction", "bank_transfer", "cash")


@dataclass(frozen=True)
class Plan:
    product: str
    amount: str
    periods: int
    rate: str
    months_back: int
    # "current": pays every due date; ("late", days): stops paying so that about `days` are
    # past due on D; "closed": pays everything; "payoff": full prepayment after 2 periods;
    # "partial": a partial prepayment after 2 periods; "reversal": a payment later reversed.
    profile: str
    late_days: int = 0
    pay_late_days: int = 0  # pays each installment this many days after its due date


PLANS: tuple[Plan, ...] = (
    Plan("consumer", "50000", 12, "12", 6, "current"),
    Plan("consumer", "80000", 12, "10.8", 9, "current", pay_late_days=2),
    Plan("consumer", "30000", 6, "14.4", 3, "current"),
    Plan("consumer", "120000", 24, "9.6", 11, "current"),
    Plan("consumer", "20000", 6, "15", 2, "current"),
    Plan("consumer", "60000", 12, "12", 7, "late", late_days=5),
    Plan("consumer", "45000", 12, "13.2", 8, "late", late_days=20),
    Plan("consumer", "100000", 18, "11", 10, "late", late_days=45),
    Plan("consumer", "35000", 12, "16", 9, "late", late_days=75),
    Plan("consumer", "70000", 12, "12", 12, "late", late_days=120),
    Plan("consumer", "25000", 3, "12", 5, "closed"),
    Plan("consumer", "40000", 12, "12", 5, "payoff"),
    Plan("consumer", "90000", 12, "10", 4, "partial"),
    Plan("consumer", "55000", 12, "12", 4, "reversal"),
    Plan("consumer", "15000", 6, "18", 1, "current"),
    Plan("sme_operating", "300000", 12, "8.5", 6, "current"),
    Plan("sme_operating", "500000", 24, "7.2", 12, "current", pay_late_days=3),
    Plan("sme_operating", "200000", 12, "9", 3, "current"),
    Plan("sme_operating", "150000", 6, "10", 8, "closed"),
    Plan("sme_operating", "400000", 12, "8", 9, "late", late_days=35),
    Plan("sme_operating", "250000", 18, "9.5", 11, "late", late_days=100),
    Plan("sme_operating", "600000", 36, "6.5", 2, "current"),
    Plan("sme_operating", "180000", 12, "11", 5, "late", late_days=12),
    Plan("short_bridge", "100000", 3, "12", 2, "current"),
    Plan("short_bridge", "50000", 1, "14", 2, "closed"),
    Plan("short_bridge", "200000", 6, "10", 4, "current"),
    Plan("short_bridge", "80000", 3, "15", 5, "late", late_days=60),
    Plan("short_bridge", "30000", 12, "16", 7, "current"),
    Plan("short_bridge", "120000", 2, "12", 1, "current"),
    Plan("consumer", "65000", 12, "12", 3, "late", late_days=2),
)


def months_before(d: date, months: int, day: int) -> date:
    """The date `months` before `d`, on `day` (clamped to the month's length)."""
    y, m = d.year, d.month - months
    while m <= 0:
        m += 12
        y -= 1
    return date(y, m, min(day, _calendar.monthrange(y, m)[1]))


def _owed(loan: Loan, on: date) -> int:
    from loandesk.postloan.selectors import amount_owed_today

    return amount_owed_today(loan, on).total_fen


def _pay(finance: User, loan: Loan, n: int, k: int, on: date, amount_fen: int) -> None:
    if amount_fen <= 0:
        return
    repayments.post_repayment(
        actor=finance,
        loan_id=loan.pk,
        amount_fen=amount_fen,
        value_date=on,
        channel=CHANNELS[(n + k) % len(CHANNELS)],
        reference=f"DEMO{n:02d}{k:03d}",
        idempotency_key=f"{KEY}-{n:02d}-rp-{k:03d}",
        source="demo",
    )


def _repay(finance: User, loan: Loan, plan: Plan, n: int, last_open: date) -> None:
    """Post the plan's repayments in date order, each the exact amount owed that day."""
    rows = list(Installment.objects.filter(loan=loan).order_by("seq"))
    stop = None
    if plan.profile == "late":
        # The first unpaid installment: the one due closest to `late_days` ago (and past the
        # grace, so that it is overdue).
        target = last_open - timedelta(days=plan.late_days)
        overdue = [r.due_date for r in rows if (last_open - r.due_date).days > loan.grace_days]
        stop = min(overdue, key=lambda d: abs((d - target).days), default=None)
    for k, inst in enumerate(rows, start=1):
        pay_on = inst.due_date + timedelta(days=plan.pay_late_days)
        if pay_on > last_open or (stop is not None and inst.due_date >= stop):
            break
        if plan.profile in ("payoff", "partial") and k == 3:
            break
        _pay(finance, loan, n, k, pay_on, _owed(loan, pay_on))
        if plan.profile == "reversal" and k == 2:
            # A payment registered twice by mistake, then reversed (红冲).
            dup = f"{KEY}-{n:02d}-dup"
            rep = repayments.post_repayment(
                actor=finance,
                loan_id=loan.pk,
                amount_fen=rows[k].principal_fen // 3 or 100,
                value_date=pay_on,
                channel="cash",
                reference="DUPLICATE",
                idempotency_key=dup,
                source="demo",
            )
            if rep.status == Repayment.Status.POSTED:
                repayments.reverse_repayment(
                    actor=finance, repayment_id=rep.pk, reason="重复登记,红冲"
                )
    if plan.profile in ("payoff", "partial") and len(rows) > 3:
        on = min(rows[1].due_date + timedelta(days=10), last_open)
        prepayments.post_prepayment(
            actor=finance,
            loan_id=loan.pk,
            full=plan.profile == "payoff",
            principal_fen=None if plan.profile == "payoff" else loan.principal_fen // 4,
            mode=None if plan.profile == "payoff" else "keep_term",
            value_date=on,
            channel="bank_transfer",
            reference=f"DEMO{n:02d}PRE",
            idempotency_key=f"{KEY}-{n:02d}-pre",
            source="demo",
        )
        if plan.profile == "partial":
            for k, inst in enumerate(
                Installment.objects.filter(loan=loan, seq__gt=2).order_by("seq"), start=3
            ):
                if inst.due_date > last_open:
                    break
                _pay(finance, loan, n, k, inst.due_date, _owed(loan, inst.due_date))


def seed_portfolio(context: dict[str, Any]) -> int:
    """Create the demo portfolio (idempotent); returns the number of loans created."""
    from loandesk.customers.models import Customer
    from loandesk.postloan import cob

    users: dict[str, User] = context.get("users") or {
        u.username: u for u in User.objects.filter(username__in=["finance"])
    }
    finance = users.get("finance") or User.objects.filter(username="finance").first()
    products = {p.code: p for p in Product.objects.filter(code__in={p.product for p in PLANS})}
    customers = list(
        Customer.objects.filter(
            owner__username__in=["officer1", "officer2"], status=Customer.Status.ACTIVE
        ).order_by("id")
    )
    if finance is None or len(products) < 3 or not customers:
        return 0
    today = get_business_date()
    last_open = today - timedelta(days=1)
    created = 0
    for n, plan in enumerate(PLANS):
        key = f"{KEY}-{n:02d}"
        customer = customers[(n * 7) % len(customers)]
        start = months_before(today, plan.months_back, 1 + (n * 3) % 28)
        found = Disbursement.objects.filter(idempotency_key=key).select_related("loan").first()
        if found is not None:
            continue
        loan, made = loans.disburse_once(
            actor=finance,
            customer_id=customer.pk,
            product_id=products[plan.product].pk,
            amount=plan.amount,
            periods=plan.periods,
            annual_rate=plan.rate,
            start=start,
            account_name=customer.name,
            account_number=f"62220202{n:02d}00112233",
            bank_name="中国工商银行",
            idempotency_key=key,
        )
        created += int(made)
        _repay(finance, loan, plan, n, last_open)
    if created:
        # Bring statuses, days past due and buckets up to date: close the day before D.
        cob.run_day(last_open, trigger="demo")
    return created


def seed(context: dict[str, Any]) -> int:
    """Registered demo step; tests that want the portfolio call `seed_portfolio` themselves."""
    if not getattr(
        settings,
        "LOANDESK_DEMO_PORTFOLIO",
        getattr(settings, "LOANDESK_DEMO_FLOW_SAMPLES", True),
    ):
        return 0
    return seed_portfolio(context)
