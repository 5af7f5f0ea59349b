"""Collections demo data: three teams (M1, M2, legal) and, for the demo portfolio's overdue
loans, open cases with a few actions and one pending promise, so the collector's workbench
is not empty. Idempotent; with no overdue loans only the teams are made."""

from datetime import timedelta
from typing import Any

from django.db import transaction

from loandesk.core.services import get_business_date
from loandesk.lending.models import Loan
from loandesk.postloan import collections
from loandesk.postloan.models import CollectionAction, CollectionTeam, PromiseToPay

TEAMS: list[dict[str, Any]] = [
    # name, kind, buckets, members (usernames), strategy, fixed user, escalation order
    {
        "name": "M1 催收组",
        "kind": "in_house",
        "buckets": ["M1"],
        "members": ["collector"],
        "strategy": "round_robin",
        "order": 10,
    },
    {
        "name": "M2 催收组",
        "kind": "in_house",
        "buckets": ["M2", "M3"],
        "members": ["collector", "manager"],
        "strategy": "round_robin",
        "order": 20,
    },
    {
        "name": "法务组",
        "kind": "legal",
        "buckets": ["M3+"],
        "members": ["manager"],
        "strategy": "fixed",
        "fixed": "manager",
        "order": 30,
    },
]

MAX_DEMO_CASES = 20
SCRIPT: list[tuple[str, str, str]] = [
    ("call", "no_answer", "上午拨打两次无人接听"),
    ("sms", "other", "已发送还款提醒短信"),
    ("call", "promised", "客户表示本周内还款"),
]


def _teams(users: dict[str, Any]) -> int:
    made = 0
    for spec in TEAMS:
        team, created = CollectionTeam.objects.get_or_create(
            name=spec["name"],
            defaults={
                "kind": spec["kind"],
                "buckets": spec["buckets"],
                "strategy": spec["strategy"],
                "escalation_order": spec["order"],
                "fixed_user": users.get(spec.get("fixed", "")),
            },
        )
        if created:
            team.members.set([users[u] for u in spec["members"] if u in users])
            made += 1
    return made


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    users = context["users"]
    made = _teams(users)
    overdue = list(
        Loan.objects.filter(status=Loan.Status.OVERDUE).order_by("-days_past_due", "id")[
            :MAX_DEMO_CASES
        ]
    )
    collector = users.get("collector")
    today = get_business_date()
    promised = PromiseToPay.objects.filter(case__source="demo").exists()
    for n, loan in enumerate(overdue):
        case, created = collections.open_case(loan=loan, source="demo")
        if not created:
            continue
        made += 1
        by = case.collector or collector
        # Worked right after opening (the case's log and the outbox order stay consistent: a
        # repayment event older than the case is not noted on it).
        start = case.opened_at
        for k, (kind, result, note) in enumerate(SCRIPT[: 1 + n % len(SCRIPT)]):
            at = start + timedelta(seconds=k + 1)
            CollectionAction.objects.create(
                case=case, kind=kind, result=result, note=note, at=at, by=by
            )
            case.last_result, case.last_action_at = result, at
        case.save(update_fields=["last_result", "last_action_at"])
        if not promised and case.collector_id == getattr(collector, "pk", None) and by:
            amount = min(max(case.overdue_fen, 100), collections.outstanding_fen_of(loan.pk))
            if amount > 0:
                collections.record_promise(
                    actor=by,
                    case=case,
                    on=today + timedelta(days=3),
                    amount=_yuan(amount),
                    note="客户承诺三天内还款",
                )
                promised = True
    return made


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
