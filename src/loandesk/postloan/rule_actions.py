"""Rule-engine actions of collections: open a case, escalate a case.

Registered from PostloanConfig.ready(). The rule engine calls them inside the firing's
transaction; with `context.dry_run` they only say what they would do and write nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loandesk.lending.models import Loan
from loandesk.postloan import collections
from loandesk.postloan.models import CollectionCase, CollectionTeam
from loandesk.rules.registry import ActionContext, ActionResult, ParamSpec, register_action

RECORD_TYPES = ("loan", "installment", "repayment", "collection_case")


def _loan_id(context: ActionContext) -> int | None:
    record = context.record
    raw = record.get("loan_id")
    if raw is None and context.record_type == "loan":
        raw = record.get("id", context.record_id)
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _team(params: Mapping[str, Any]) -> CollectionTeam | None:
    raw = params.get("team")
    if raw is None or raw == "":
        return None
    try:
        return CollectionTeam.objects.filter(pk=int(raw), active=True).first()
    except (TypeError, ValueError):
        return None


def _name(user: Any) -> str:
    return (user.full_name or user.get_username()) if user is not None else ""


@register_action(
    "open_collection_case",
    label_zh="开催收案件",
    label_en="Open a collection case",
    params=(
        ParamSpec(
            key="assign_to",
            label_zh="分配给",
            label_en="Assign to",
            type="choice",
            required=True,
            options=(
                ("team", "按团队策略", "By the team's strategy"),
                ("owner", "客户经理(贷款归属人)", "The loan's owner"),
            ),
            default="team",
        ),
        ParamSpec(
            key="team",
            label_zh="催收团队(空:按逾期分档路由)",
            label_en="Team (empty: route by bucket)",
            type="number",
        ),
    ),
    record_types=RECORD_TYPES,
)
def open_collection_case(context: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    loan_id = _loan_id(context)
    if loan_id is None:
        return {"ok": False, "reason": "no_loan"}
    loan = Loan.objects.select_related("owner").filter(pk=loan_id).first()
    if loan is None:
        return {"ok": False, "reason": "no_loan", "loan_id": loan_id}
    assign_to = str(params.get("assign_to") or collections.ASSIGN_TEAM)
    if assign_to not in collections.ASSIGN_CHOICES:
        return {"ok": False, "reason": "bad_assign_to", "assign_to": assign_to}
    team = _team(params)
    existing = collections.open_case_of(loan_id)
    if context.dry_run:
        if existing is not None:
            return {"ok": True, "dry_run": True, "case_id": existing.pk, "created": False}
        chosen = team if team is not None else collections.route_team(loan.bucket)
        who = loan.owner if assign_to == collections.ASSIGN_OWNER or chosen is None else None
        return {
            "ok": True,
            "dry_run": True,
            "created": True,
            "loan_id": loan_id,
            "team": chosen.name if chosen else "",
            "collector": _name(who) if who else "",
        }
    if loan.status not in collections.LIVE:
        return {"ok": False, "reason": "loan_not_live", "loan_id": loan_id}
    case, created = collections.open_case(
        loan=loan, team=team, assign_to=assign_to, source="rule", note=context.rule_name[:200]
    )
    return {
        "ok": True,
        "case_id": case.pk,
        "created": created,
        "collector": _name(case.collector),
        "team": case.team.name if case.team else "",
    }


@register_action(
    "escalate_collection_case",
    label_zh="升级催收案件",
    label_en="Escalate the collection case",
    params=(
        ParamSpec(
            key="team",
            label_zh="升级到团队(空:按当前逾期分档)",
            label_en="To team (empty: by the current bucket)",
            type="number",
        ),
    ),
    record_types=RECORD_TYPES,
)
def escalate_collection_case(context: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    case: CollectionCase | None
    if context.record_type == "collection_case" and context.record_id is not None:
        case = CollectionCase.objects.filter(
            pk=context.record_id, status__in=collections.OPEN_CASE_STATUSES
        ).first()
    else:
        loan_id = _loan_id(context)
        case = collections.open_case_of(loan_id) if loan_id is not None else None
    if case is None:
        return {"ok": False, "reason": "no_open_case"}
    team = _team(params)
    if context.dry_run:
        loan = Loan.objects.get(pk=case.loan_id)
        target = team or collections.next_team(case.team, loan.bucket)
        stays = team is None and case.team is not None and loan.bucket in case.team.buckets
        return {
            "ok": True,
            "dry_run": True,
            "case_id": case.pk,
            "moved": bool(target) and not stays,
            "team": target.name if target and not stays else "",
        }
    moved = collections.escalate_case(
        case=case, team=team, idempotent=True, note=context.rule_name[:200]
    )
    return {
        "ok": True,
        "case_id": case.pk,
        "moved": moved,
        "team": case.team.name if case.team else "",
        "collector": _name(case.collector),
    }
