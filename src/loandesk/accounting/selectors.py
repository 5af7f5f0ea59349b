"""Accounting reads: the chart, the posting map and the journal by period."""

import re
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet, Sum

from loandesk.accounting.ledger import COMPONENTS
from loandesk.accounting.models import Account, JournalEntry, JournalLine, PostingRule
from loandesk.accounting.permissions import EXPORT, MANAGE
from loandesk.accounts.models import User
from loandesk.accounts.scoping import has_perm, require_perm
from loandesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from loandesk.core.i18n import EN, current_language
from loandesk.core.money import fen_to_yuan

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def money(fen: int | None) -> str:
    return str(fen_to_yuan(fen or 0))


def require_reader(actor: User) -> None:
    """The chart is read by whoever manages it or exports vouchers against it."""
    if not (has_perm(actor, MANAGE) or has_perm(actor, EXPORT)):
        raise PermissionDenied(details={"permission": EXPORT})


def clean_period(period: str | None) -> str:
    value = (period or "").strip()
    if not _PERIOD.match(value):
        raise ValidationFailed.field("period", "accounting.period_invalid")
    return value


def account_name(account: Account) -> str:
    return account.name_en if current_language() == EN and account.name_en else account.name


def account_out(a: Account) -> dict[str, Any]:
    return {
        "id": a.pk,
        "code": a.code,
        "name": a.name,
        "name_en": a.name_en,
        "type": a.type,
        "parent_code": a.parent.code if a.parent_id and a.parent else None,
        "active": a.active,
    }


def chart(*, actor: User) -> list[dict[str, Any]]:
    require_reader(actor)
    return [account_out(a) for a in Account.objects.select_related("parent").order_by("code")]


def posting_rules(*, actor: User) -> list[dict[str, Any]]:
    require_reader(actor)
    lang_en = current_language() == EN
    rules = {
        r.component: r
        for r in PostingRule.objects.select_related("debit_account", "credit_account")
    }
    out = []
    for component, (zh, en) in COMPONENTS.items():
        rule = rules.get(component)
        out.append(
            {
                "component": component,
                "label": en if lang_en else zh,
                "debit": account_out(rule.debit_account) if rule else None,
                "credit": account_out(rule.credit_account) if rule else None,
            }
        )
    return out


def _entries(period: str) -> QuerySet[JournalEntry]:
    return (
        JournalEntry.objects.filter(period=period)
        .select_related("customer")
        .prefetch_related(Prefetch("lines", queryset=JournalLine.objects.select_related("account")))
        .order_by("voucher_no")
    )


def line_out(line: JournalLine) -> dict[str, Any]:
    return {
        "line_no": line.line_no,
        "account_code": line.account.code,
        "account_name": account_name(line.account),
        "debit": money(line.debit_fen),
        "credit": money(line.credit_fen),
    }


def entry_out(e: JournalEntry) -> dict[str, Any]:
    lines = list(e.lines.all())
    debit = sum(x.debit_fen for x in lines)
    credit = sum(x.credit_fen for x in lines)
    return {
        "id": e.pk,
        "date": e.date,
        "period": e.period,
        "voucher": f"{e.voucher_word}-{e.voucher_no}",
        "voucher_no": e.voucher_no,
        "topic": e.source_topic,
        "description": e.description,
        "contract_no": e.contract_no,
        "loan_id": e.loan_id,
        "customer": {"id": e.customer_id, "name": e.customer.name} if e.customer else None,
        "total_debit": money(debit),
        "total_credit": money(credit),
        "balanced": debit == credit == e.total_debit_fen == e.total_credit_fen,
        "off_books": {k: money(v) for k, v in (e.memo or {}).get("off_books", {}).items()},
        "lines": [line_out(x) for x in lines],
    }


def journal(*, actor: User, period: str) -> QuerySet[JournalEntry]:
    require_perm(actor, EXPORT)
    return _entries(clean_period(period))


def journal_summary(*, actor: User, period: str) -> dict[str, Any]:
    require_perm(actor, EXPORT)
    period = clean_period(period)
    totals = JournalLine.objects.filter(entry__period=period).aggregate(
        d=Sum("debit_fen"), c=Sum("credit_fen")
    )
    debit, credit = int(totals["d"] or 0), int(totals["c"] or 0)
    return {
        "period": period,
        "entries": JournalEntry.objects.filter(period=period).count(),
        "total_debit": money(debit),
        "total_credit": money(credit),
        "balanced": debit == credit,
    }


def entry_detail(*, actor: User, entry_id: int) -> dict[str, Any]:
    require_perm(actor, EXPORT)
    entry = (
        JournalEntry.objects.select_related("customer")
        .prefetch_related(Prefetch("lines", queryset=JournalLine.objects.select_related("account")))
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        raise NotFound()
    return entry_out(entry)


def period_entries(period: str) -> list[JournalEntry]:
    return list(_entries(period))


def this_period(today: date) -> str:
    return f"{today:%Y-%m}"
