"""Post-loan reads: COB runs and settings, and what a loan owes on the business date."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.errors import NotFound
from loandesk.core.money import fen_to_yuan
from loandesk.core.services import get_business_date
from loandesk.lending.models import Installment, Loan
from loandesk.postloan import cob
from loandesk.postloan.models import CobRun, PenaltyPosting
from loandesk.postloan.permissions import MANAGE_SETTINGS, RUN_COB


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

        return {
            "on": self.on,
            "principal": y(self.principal_fen),
            "interest": y(self.interest_fen),
            "fee": y(self.fee_fen),
            "penalty": y(self.penalty_fen),
            "total": y(self.total_fen),
            "installments": [
                {
                    "seq": i.seq,
                    "due_date": i.due_date,
                    "principal": y(i.principal_fen),
                    "interest": y(i.interest_fen),
                    "fee": y(i.fee_fen),
                    "penalty": y(i.penalty_fen),
                    "total": y(i.total_fen),
                }
                for i in self.installments
            ],
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
