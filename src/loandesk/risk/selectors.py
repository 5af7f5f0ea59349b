"""Risk reads. Scorecards are admin configuration (risk.manage_scorecards); score results
are read per customer, within the caller's customer scope (ids outside it answer 404)."""

from typing import Any

from django.db.models import QuerySet

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.errors import NotFound
from loandesk.customers.selectors import customer_for
from loandesk.risk import scoring
from loandesk.risk.models import Scorecard, ScoreResult
from loandesk.risk.permissions import MANAGE_SCORECARDS

MAX_RESULTS = 100


def list_scorecards(*, actor: User) -> QuerySet[Scorecard]:
    require_perm(actor, MANAGE_SCORECARDS)
    return Scorecard.objects.select_related("updated_by").order_by("code")


def get_scorecard(*, actor: User, code: str) -> Scorecard:
    require_perm(actor, MANAGE_SCORECARDS)
    card = Scorecard.objects.select_related("updated_by").filter(code=code).first()
    if card is None:
        raise NotFound()
    return card


def factors(*, actor: User) -> list[dict[str, Any]]:
    require_perm(actor, MANAGE_SCORECARDS)
    return scoring.factor_catalog()


def results_for_customer(*, actor: User, customer_id: int) -> list[ScoreResult]:
    """The customer's score results, newest first (customers.view + the customer in scope)."""
    customer = customer_for(actor, customer_id)
    return list(
        ScoreResult.objects.filter(customer=customer)
        .select_related("scorecard")
        .order_by("-created_at", "-id")[:MAX_RESULTS]
    )


def scorecard_out(card: Scorecard) -> dict[str, Any]:
    user = card.updated_by
    return {
        "code": card.code,
        "name": card.name,
        "description": card.description,
        "definition": card.definition,
        "is_active": card.is_active,
        "version": card.version,
        "rule_count": len(card.definition.get("rules") or [])
        if isinstance(card.definition, dict)
        else 0,
        "updated_at": card.updated_at,
        "updated_by": (user.full_name or user.username) if user is not None else None,
    }


def result_out(row: ScoreResult) -> dict[str, Any]:
    return {
        "id": row.pk,
        "scorecard": row.scorecard.code,
        "scorecard_name": row.scorecard.name,
        "version": row.version,
        "score": row.score,
        "grade": row.grade,
        "decision": row.decision,
        "record_id": row.record_id,
        "instance_id": row.instance_id,
        "step_id": row.step_id,
        "result": row.result,
        "created_at": row.created_at,
    }
