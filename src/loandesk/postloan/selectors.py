"""Post-loan reads: COB runs and settings, and what a loan owes on the business date."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When

from loandesk.accounts.models import User
from loandesk.accounts.scoping import ScopeSpec, has_perm, require_perm, scoped
from loandesk.core.errors import NotFound
from loandesk.core.i18n import message
from loandesk.core.money import fen_to_yuan
from loandesk.core.services import get_business_date
from loandesk.customers.profile import masked_pii
from loandesk.lending.models import Installment, Loan
from loandesk.postloan import cob
from loandesk.postloan.models import (
    OPEN_CASE_STATUSES,
    CobRun,
    CollectionAction,
    CollectionCase,
    CollectionTeam,
    PenaltyPosting,
    PromiseToPay,
)
from loandesk.postloan.permissions import (
    COLLECTIONS_MANAGE,
    COLLECTIONS_WORK,
    MANAGE_SETTINGS,
    RUN_COB,
)


@dataclass
class InstallmentOwed:
    seq: int
    due_date: date
    principal_fen: int
    interest_fen: int
    fee_fen: int
    penalty_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen + self.penalty_fen


@dataclass
class OwedToday:
    """What a loan owes on `on`: its due (and overdue) installments' unpaid amounts, with the
    penalty interest accrued to `on` (posted + computed since the last posting)."""

    on: date
    installments: list[InstallmentOwed] = field(default_factory=list)
    # The first unpaid installment not yet due: what 提前还当期 pays (docs/adr/0009).
    current_period: InstallmentOwed | None = None

    def _sum(self, name: str) -> int:
        return sum(getattr(i, name) for i in self.installments)

    @property
    def principal_fen(self) -> int:
        return self._sum("principal_fen")

    @property
    def interest_fen(self) -> int:
        return self._sum("interest_fen")

    @property
    def fee_fen(self) -> int:
        return self._sum("fee_fen")

    @property
    def penalty_fen(self) -> int:
        return self._sum("penalty_fen")

    @property
    def total_fen(self) -> int:
        return self._sum("total_fen")

    def as_dict(self) -> dict[str, Any]:
        def y(fen: int) -> str:
            return str(fen_to_yuan(fen))

        def line(i: InstallmentOwed) -> dict[str, Any]:
            return {
                "seq": i.seq,
                "due_date": i.due_date,
                "principal": y(i.principal_fen),
                "interest": y(i.interest_fen),
                "fee": y(i.fee_fen),
                "penalty": y(i.penalty_fen),
                "total": y(i.total_fen),
            }

        return {
            "on": self.on,
            "principal": y(self.principal_fen),
            "interest": y(self.interest_fen),
            "fee": y(self.fee_fen),
            "penalty": y(self.penalty_fen),
            "total": y(self.total_fen),
            "installments": [line(i) for i in self.installments],
            "current_period": line(self.current_period) if self.current_period else None,
        }


def amount_owed_today(loan: Loan, on: date | None = None) -> OwedToday:
    """Exact principal / interest / fee / penalty owed on the business date (or `on`).

    Independent of whether COB has run: every unpaid installment due on or before the date
    counts, and penalty accrues with lending.finance.penalty from the last posting."""
    on = on or get_business_date()
    rows = list(
        Installment.objects.filter(loan=loan, due_date__lte=on)
        .exclude(status=Installment.Status.PAID)
        .order_by("seq")
    )
    postings = dict(
        PenaltyPosting.objects.filter(installment__in=rows).values_list("installment_id", "through")
    )
    out = OwedToday(on=on)
    for inst in rows:
        accrued = cob.accrued_penalty_fen(inst, loan, through=postings.get(inst.pk), on=on)
        owed = InstallmentOwed(
            seq=inst.seq,
            due_date=inst.due_date,
            principal_fen=inst.principal_fen - inst.paid_principal_fen,
            interest_fen=inst.interest_fen - inst.paid_interest_fen,
            fee_fen=inst.fee_fen - inst.paid_fee_fen,
            penalty_fen=inst.penalty_fen - inst.paid_penalty_fen + accrued,
        )
        if owed.total_fen > 0:
            out.installments.append(owed)
    upcoming = (
        Installment.objects.filter(loan=loan, due_date__gt=on)
        .exclude(status=Installment.Status.PAID)
        .order_by("due_date", "seq")
        .first()
    )
    if upcoming is not None:
        out.current_period = InstallmentOwed(
            seq=upcoming.seq,
            due_date=upcoming.due_date,
            principal_fen=upcoming.principal_fen - upcoming.paid_principal_fen,
            interest_fen=upcoming.interest_fen - upcoming.paid_interest_fen,
            fee_fen=upcoming.fee_fen - upcoming.paid_fee_fen,
            penalty_fen=0,
        )
    return out


def require_cob_reader(actor: User) -> None:
    require_perm(actor, RUN_COB)


def require_settings_reader(actor: User) -> None:
    from loandesk.accounts.scoping import has_perm

    if not has_perm(actor, MANAGE_SETTINGS):
        require_perm(actor, RUN_COB)


def run_out(run: CobRun) -> dict[str, Any]:
    steps = list(run.steps.order_by("order", "partition"))
    by_step: dict[str, dict[str, Any]] = {}
    for s in steps:
        agg = by_step.setdefault(
            s.step,
            {
                "step": s.step,
                "partitions": 0,
                "done": 0,
                "failed": 0,
                "rows": 0,
                "status": "pending",
                "started_at": None,
                "finished_at": None,
            },
        )
        agg["partitions"] += 1
        agg["done"] += s.status == "done"
        agg["failed"] += s.status == "failed"
        agg["rows"] += s.rows
        if s.started_at and (agg["started_at"] is None or s.started_at < agg["started_at"]):
            agg["started_at"] = s.started_at
        if s.finished_at and (agg["finished_at"] is None or s.finished_at > agg["finished_at"]):
            agg["finished_at"] = s.finished_at
        if s.status == "running":
            agg["status"] = "running"
    for agg in by_step.values():
        if agg["failed"]:
            agg["status"] = "failed"
        elif agg["done"] == agg["partitions"]:
            agg["status"] = "done"
        elif agg["status"] != "running" and agg["done"]:
            agg["status"] = "running"
    order = {name: i for i, name in enumerate(cob.STEPS)}
    return {
        "id": run.pk,
        "business_date": run.business_date,
        "status": run.status,
        "trigger": run.trigger,
        "workers": run.workers,
        "attempts": run.attempts,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error.strip().splitlines()[-1] if run.error.strip() else "",
        "steps": sorted(by_step.values(), key=lambda a: order.get(a["step"], 99)),
    }


def cob_overview(*, actor: User, limit: int = 10) -> dict[str, Any]:
    require_cob_reader(actor)
    runs = list(CobRun.objects.order_by("-business_date")[:limit])
    running = cob.in_progress()
    return {
        "business_date": get_business_date(),
        "next_date": cob.next_date(),
        "running": running is not None,
        "runs": [run_out(r) for r in runs],
    }


def cob_run(*, actor: User, run_id: int) -> dict[str, Any]:
    require_cob_reader(actor)
    run = CobRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run_out(run)


def cob_settings(*, actor: User) -> dict[str, Any]:
    require_settings_reader(actor)
    cfg = cob.current_config()
    return {"buckets": cfg["buckets"], "thresholds": cfg["thresholds"]}


# --- collections (催收) -----------------------------------------------------------------------


CASE_SCOPE = ScopeSpec(owner="collector", department="department")
CASE_RELATED = ("loan", "loan__product", "customer", "collector", "team")


def visible_cases(actor: User) -> QuerySet[CollectionCase]:
    """Managers (collections.manage) see the cases in their data scope (the collector's own
    plus their departments' loans); collectors (collections.work) only cases assigned to them."""
    qs = CollectionCase.objects.all()
    if has_perm(actor, COLLECTIONS_MANAGE):
        return scoped(qs, actor, CASE_SCOPE)
    require_perm(actor, COLLECTIONS_WORK)
    return qs.filter(collector=actor)


def case_for(*, actor: User, case_id: int) -> CollectionCase:
    """The case if the caller may see it, else 404 (the id is never confirmed)."""
    found = visible_cases(actor).select_related(*CASE_RELATED).filter(pk=case_id).first()
    if found is None:
        raise NotFound()
    return found


def search_cases(
    *,
    actor: User,
    view: str = "all",
    status: str | None = None,
    bucket: str | None = None,
    collector_id: int | None = None,
    team_id: int | None = None,
    result: str | None = None,
    q: str | None = None,
) -> QuerySet[CollectionCase]:
    """`view="today"`: the caller's own open cases in workbench order — a promise due on or
    before the business date first, then a follow-up due by today, then priority."""
    qs = visible_cases(actor).select_related(*CASE_RELATED)
    if view == "today":
        today = get_business_date()
        return (
            qs.filter(collector=actor, status__in=OPEN_CASE_STATUSES)
            .annotate(
                promise_due=Case(
                    When(promise_date__lte=today, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
            .order_by("-promise_due", "-priority", "-overdue_fen", "id")
        )
    if status == "open":
        qs = qs.filter(status__in=OPEN_CASE_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if bucket:
        qs = qs.filter(bucket=bucket)
    if collector_id is not None:
        qs = qs.filter(collector_id=collector_id or None)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if result:
        qs = qs.filter(last_result=result)
    if q and q.strip():
        text = q.strip()
        qs = qs.filter(Q(loan__contract_no__icontains=text) | Q(customer__name__icontains=text))
    return qs.order_by("-priority", "-overdue_fen", "id")


def owed_today_many(loans: Iterable[Loan], on: date | None = None) -> dict[int, int]:
    """amount_owed_today(...).total_fen for many loans with two queries."""
    on = on or get_business_date()
    by_id = {loan.pk: loan for loan in loans}
    if not by_id:
        return {}
    rows = list(
        Installment.objects.filter(loan_id__in=list(by_id), due_date__lte=on)
        .exclude(status=Installment.Status.PAID)
        .order_by("loan_id", "seq")
    )
    postings = dict(
        PenaltyPosting.objects.filter(installment__in=rows).values_list("installment_id", "through")
    )
    out = dict.fromkeys(by_id, 0)
    for inst in rows:
        loan = by_id[inst.loan_id]
        accrued = cob.accrued_penalty_fen(inst, loan, through=postings.get(inst.pk), on=on)
        owed = inst.total_fen - inst.paid_fen + accrued
        if owed > 0:
            out[inst.loan_id] += owed
    return out


def _yuan(fen: int | None) -> str:
    return str(fen_to_yuan(fen or 0))


def _user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "full_name": user.full_name}


def case_rows(cases: Iterable[CollectionCase]) -> list[dict[str, Any]]:
    """List items; the phone is masked (the one-tap call reveals it, audited)."""
    items = list(cases)
    owed = owed_today_many([c.loan for c in items])
    today = get_business_date()
    return [
        {
            "id": c.pk,
            "status": c.status,
            "close_reason": c.close_reason,
            "loan_id": c.loan_id,
            "contract_no": c.loan.contract_no,
            "customer": {
                "id": c.customer_id,
                "name": c.customer.name,
                "phone": masked_pii("phone", c.customer.phone),
            },
            "collector": _user_ref(c.collector),
            "team": {"id": c.team.pk, "name": c.team.name} if c.team else None,
            "bucket": c.bucket,
            "dpd": c.dpd,
            "opened_bucket": c.opened_bucket,
            "opened_dpd": c.opened_dpd,
            "overdue": _yuan(c.overdue_fen),
            "owed_today": _yuan(owed.get(c.loan_id, 0)),
            "priority": c.priority,
            "promise_date": c.promise_date,
            "promise_due": c.promise_date is not None and c.promise_date <= today,
            "last_result": c.last_result,
            "last_action_at": c.last_action_at,
            "next_action_at": c.next_action_at,
            "opened_at": c.opened_at,
            "closed_at": c.closed_at,
        }
        for c in items
    ]


def action_text(action: CollectionAction) -> str:
    if action.kind != CollectionAction.Kind.SYSTEM:
        return ""
    params = dict(action.params or {})
    if "reason" in params:
        params["reason_label"] = message(f"postloan.collections.reason.{params['reason']}")
    return message(f"postloan.collections.event.{action.event}", params)


def action_rows(actions: Iterable[CollectionAction]) -> list[dict[str, Any]]:
    return [
        {
            "id": a.pk,
            "case_id": a.case_id,
            "kind": a.kind,
            "result": a.result,
            "event": a.event,
            "text": action_text(a),
            "note": a.note,
            "at": a.at,
            "by": _user_ref(a.by),
        }
        for a in actions
    ]


def promise_rows(promises: Iterable[PromiseToPay]) -> list[dict[str, Any]]:
    return [
        {
            "id": p.pk,
            "date": p.date,
            "amount": _yuan(p.amount_fen),
            "paid": _yuan(p.paid_fen),
            "status": p.status,
            "created_on": p.created_on,
            "decided_on": p.decided_on,
            "note": p.note,
        }
        for p in promises
    ]


def case_detail(*, actor: User, case: CollectionCase) -> dict[str, Any]:
    loan = case.loan
    row = case_rows([case])[0]
    owed = amount_owed_today(loan)
    actions = case.actions.select_related("by").order_by("-at", "-id")[:200]
    row.update(
        loan={
            "id": loan.pk,
            "contract_no": loan.contract_no,
            "product": loan.product.name,
            "principal": _yuan(loan.principal_fen),
            "outstanding_principal": _yuan(loan.outstanding_principal_fen),
            "status": loan.status,
            "days_past_due": loan.days_past_due,
            "bucket": loan.bucket,
            "overdue_since": loan.overdue_since,
            "maturity_date": loan.maturity_date,
            "periods": loan.periods,
        },
        owed=owed.as_dict(),
        actions=action_rows(actions),
        promises=promise_rows(case.promises.all()),
        can_manage=has_perm(actor, COLLECTIONS_MANAGE),
        can_work=case.is_open
        and (case.collector_id == actor.pk or has_perm(actor, COLLECTIONS_MANAGE)),
    )
    return row


def collection_summary(*, actor: User) -> dict[str, Any]:
    """Open cases in the caller's scope by bucket, collector and last result: count and
    overdue amount (SQL GROUP BY)."""
    require_perm(actor, COLLECTIONS_MANAGE)
    qs = visible_cases(actor).filter(status__in=OPEN_CASE_STATUSES)

    def grouped(field: str) -> list[dict[str, Any]]:
        rows = qs.values(field).annotate(cases=Count("id"), fen=Sum("overdue_fen")).order_by(field)
        return [{"key": r[field], "cases": r["cases"], "fen": int(r["fen"] or 0)} for r in rows]

    bucket_order = {b["code"]: i for i, b in enumerate(cob.current_config()["buckets"])}
    by_bucket = sorted(grouped("bucket"), key=lambda r: bucket_order.get(r["key"], 99))
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=[r["key"] for r in grouped("collector") if r["key"]])
    }
    by_collector = sorted(grouped("collector"), key=lambda r: -r["fen"])
    by_result = sorted(grouped("last_result"), key=lambda r: -r["cases"])
    total = qs.aggregate(cases=Count("id"), fen=Sum("overdue_fen"))

    def out(rows: list[dict[str, Any]], label: Callable[[Any], str]) -> list[dict[str, Any]]:
        return [
            {
                "key": str(r["key"] or ""),
                "label": label(r["key"]),
                "cases": r["cases"],
                "amount": _yuan(r["fen"]),
            }
            for r in rows
        ]

    result_labels = dict(CollectionAction.Result.choices)
    return {
        "business_date": get_business_date(),
        "cases": int(total["cases"] or 0),
        "amount": _yuan(int(total["fen"] or 0)),
        "promises_due": qs.filter(promise_date__lte=get_business_date()).count(),
        "by_bucket": out(by_bucket, lambda k: str(k)),
        "by_collector": out(
            by_collector,
            lambda k: (users[k].full_name or users[k].get_username()) if k in users else "",
        ),
        "by_result": out(by_result, lambda k: str(result_labels.get(k, "")) if k else ""),
    }


def count_customer_cases(actor: User, customer: Any) -> int:
    """The 360 collections tab's count: every case of the customer (whoever may see the
    customer sees its collection history, as `customer_cases` lists it)."""
    return CollectionCase.objects.filter(customer=customer).count()


def customer_cases(*, actor: User, customer_id: int) -> dict[str, Any]:
    """The customer 360 tab: the customer's cases and their latest actions. Whoever may see the
    customer (customers.view in scope) sees the collection history."""
    from loandesk.customers.selectors import customer_for

    customer = customer_for(actor, customer_id)
    cases = list(
        CollectionCase.objects.filter(customer=customer)
        .select_related(*CASE_RELATED)
        .order_by("-opened_at", "-id")[:50]
    )
    actions = (
        CollectionAction.objects.filter(case__in=cases).select_related("by").order_by("-at", "-id")
    )[:100]
    return {"cases": case_rows(cases), "actions": action_rows(actions)}


def team_rows(teams: Iterable[CollectionTeam]) -> list[dict[str, Any]]:
    items = list(teams)
    open_counts = dict(
        CollectionCase.objects.filter(team__in=items, status__in=OPEN_CASE_STATUSES)
        .values_list("team_id")
        .annotate(n=Count("id"))
    )
    return [
        {
            "id": t.pk,
            "name": t.name,
            "kind": t.kind,
            "strategy": t.strategy,
            "buckets": list(t.buckets or []),
            "members": [_user_ref(m) for m in t.members.order_by("id")],
            "fixed_user": _user_ref(t.fixed_user),
            "escalation_order": t.escalation_order,
            "active": t.active,
            "open_cases": int(open_counts.get(t.pk, 0)),
        }
        for t in items
    ]


def teams(*, actor: User) -> list[dict[str, Any]]:
    if not has_perm(actor, COLLECTIONS_MANAGE):
        require_perm(actor, COLLECTIONS_WORK)
    qs = CollectionTeam.objects.select_related("fixed_user").prefetch_related("members")
    return team_rows(qs.order_by("escalation_order", "id"))


def collectors(*, actor: User) -> list[dict[str, Any]]:
    """Active users who may work cases (for team members and reassignment)."""
    require_perm(actor, COLLECTIONS_MANAGE)
    from loandesk.accounts.models import Role

    codes = [COLLECTIONS_WORK, COLLECTIONS_MANAGE]
    role_ids = [r.pk for r in Role.objects.all() if set(codes) & set(r.permissions or [])]
    users = User.objects.filter(is_active=True).filter(Q(roles__in=role_ids) | Q(is_superuser=True))
    return [
        {"id": u.pk, "username": u.get_username(), "full_name": u.full_name}
        for u in users.distinct().order_by("id")[:500]
    ]


def collections_meta(*, actor: User) -> dict[str, Any]:
    from loandesk.postloan.collections import MAX_PROMISE_DAYS

    """What the collection screens need besides cases: the business date and bucket codes."""
    if not has_perm(actor, COLLECTIONS_MANAGE):
        require_perm(actor, COLLECTIONS_WORK)
    return {
        "business_date": get_business_date(),
        "buckets": [b["code"] for b in cob.current_config()["buckets"]],
        "max_promise_days": MAX_PROMISE_DAYS,
    }
