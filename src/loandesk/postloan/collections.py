"""Collections (催收) writes: open, assign, escalate, act, promise, close; teams.

Cases are opened by the rule engine (action ``open_collection_case``), by a manager, or by
calling `open_case` directly; a loan has at most one open case (a conditional unique
constraint, and the loan row is locked while opening, so parallel openings return the same
case). Collectors are chosen by the team's strategy: round robin over the team's active
members through a cursor persisted on the team row (incremented under that row's lock, so
parallel openings stay fair), the loan's owner, or a fixed user. Promises to pay are decided
by the COB step ``collections`` (postloan/cob.py) the day after their date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.accounts.scoping import has_perm, require_perm, user_permissions
from loandesk.core import audit, outbox
from loandesk.core.errors import Conflict, NotFound, ValidationFailed
from loandesk.core.models import OutboxEvent
from loandesk.core.money import fen_to_yuan, yuan_to_fen
from loandesk.core.services import get_business_date
from loandesk.lending.models import Installment, Loan
from loandesk.postloan.models import (
    OPEN_CASE_STATUSES,
    CollectionAction,
    CollectionCase,
    CollectionTeam,
    PromiseToPay,
)
from loandesk.postloan.permissions import COLLECTIONS_MANAGE, COLLECTIONS_WORK

TOPIC_OPENED = "collections.case_opened"
TOPIC_UPDATED = "collections.case_updated"
TOPIC_BROKEN = "collections.promise_broken"

ASSIGN_TEAM = "team"
ASSIGN_OWNER = "owner"
ASSIGN_CHOICES = (ASSIGN_TEAM, ASSIGN_OWNER)

MANUAL_KINDS = ("call", "sms", "visit", "letter")
RESULTS = tuple(CollectionAction.Result.values)
MAX_NOTE = 1000
MAX_PROMISE_DAYS = 90
MAX_TEAM_MEMBERS = 200

LIVE = (Loan.Status.ACTIVE, Loan.Status.OVERDUE)
PAID_SUM = (
    F("paid_principal_fen") + F("paid_interest_fen") + F("paid_fee_fen") + F("paid_penalty_fen")
)
UNPAID = (
    F("principal_fen")
    + F("interest_fen")
    + F("fee_fen")
    + F("penalty_fen")
    - F("paid_principal_fen")
    - F("paid_interest_fen")
    - F("paid_fee_fen")
    - F("paid_penalty_fen")
)

# Priority: up to 1,000 points for the overdue amount (one per full 1,000 yuan) and up to
# 1,000 for days past due (ten per day, capped at 100 days). COB's SQL uses the same formula.
AMOUNT_POINT_FEN = 100_000
AMOUNT_POINTS_MAX = 1_000
DPD_POINTS_PER_DAY = 10
DPD_CAP = 100


def priority_score(overdue_fen: int, dpd: int) -> int:
    amount = min(max(overdue_fen, 0) // AMOUNT_POINT_FEN, AMOUNT_POINTS_MAX)
    return amount + DPD_POINTS_PER_DAY * min(max(dpd, 0), DPD_CAP)


def loan_paid_fen(loan_id: int) -> int:
    """Everything paid on the loan so far (all installments, all components)."""
    total = Installment.objects.filter(loan_id=loan_id).aggregate(s=Sum(PAID_SUM))["s"]
    return int(total or 0)


def overdue_fen_of(loan_id: int, on: date) -> int:
    """Unpaid principal, interest, fee and posted penalty of installments due on or before `on`."""
    total = (
        Installment.objects.filter(loan_id=loan_id, due_date__lte=on)
        .exclude(status=Installment.Status.PAID)
        .aggregate(s=Sum(UNPAID))["s"]
    )
    return max(int(total or 0), 0)


def outstanding_fen_of(loan_id: int) -> int:
    total = (
        Installment.objects.filter(loan_id=loan_id)
        .exclude(status=Installment.Status.PAID)
        .aggregate(s=Sum(UNPAID))["s"]
    )
    return max(int(total or 0), 0)


def _user_label(user: User | None) -> str:
    if user is None:
        return ""
    return user.full_name or user.get_username()


def _payload(case: CollectionCase, **extra: Any) -> dict[str, Any]:
    return {
        "case_id": case.pk,
        "loan_id": case.loan_id,
        "customer_id": case.customer_id,
        "collector_id": case.collector_id,
        "team_id": case.team_id,
        "department_id": case.department_id,
        "status": case.status,
        "bucket": case.bucket,
        "dpd": case.dpd,
        "overdue_fen": case.overdue_fen,
        **extra,
    }


def _publish(topic: str, case: CollectionCase, **extra: Any) -> OutboxEvent:
    return outbox.publish(
        topic,
        payload=_payload(case, **extra),
        aggregate_type="postloan.collectioncase",
        aggregate_id=case.pk,
    )


def _system(
    case: CollectionCase, event: str, *, by: User | None = None, note: str = "", **params: Any
) -> CollectionAction:
    return CollectionAction.objects.create(
        case=case,
        kind=CollectionAction.Kind.SYSTEM,
        event=event,
        params=params,
        note=note,
        at=timezone.now(),
        by=by if by is not None and by.is_authenticated else None,
    )


def _clean_note(note: str | None, field: str = "note") -> str:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailed.field(field, "field.too_long", max=MAX_NOTE)
    return text


# --- routing and assignment ----------------------------------------------------------------------


def route_team(bucket: str, *, after_order: int | None = None) -> CollectionTeam | None:
    """The active team serving `bucket` with the lowest escalation order (after `after_order`
    when given). Teams store bucket codes as a JSON list, so the match is done in Python
    over the (few) active teams: JSON containment differs between SQLite and PostgreSQL."""
    teams = CollectionTeam.objects.filter(active=True).order_by("escalation_order", "id")
    if after_order is not None:
        teams = teams.filter(escalation_order__gt=after_order)
    for team in teams:
        if bucket in (team.buckets or []):
            return team
    return None


def next_team(current: CollectionTeam | None, bucket: str) -> CollectionTeam | None:
    """Escalation target: a later team serving the bucket, else simply the next team."""
    order = current.escalation_order if current is not None else -1
    found = route_team(bucket, after_order=order)
    if found is not None:
        return found
    return (
        CollectionTeam.objects.filter(active=True, escalation_order__gt=order)
        .exclude(pk=current.pk if current else 0)
        .order_by("escalation_order", "id")
        .first()
    )


def active_members(team: CollectionTeam) -> list[User]:
    return list(team.members.filter(is_active=True).order_by("id"))


def _round_robin(team_id: int) -> User | None:
    """The next member in turn. Locks the team row: concurrent openings take turns."""
    team = CollectionTeam.objects.select_for_update().get(pk=team_id)
    members = active_members(team)
    if not members:
        return None
    chosen = members[team.rr_cursor % len(members)]
    CollectionTeam.objects.filter(pk=team.pk).update(rr_cursor=F("rr_cursor") + 1)
    return chosen


def pick_collector(team: CollectionTeam | None, loan: Loan, assign_to: str) -> User | None:
    if assign_to == ASSIGN_OWNER or team is None:
        return loan.owner
    if team.strategy == CollectionTeam.Strategy.OWNER:
        return loan.owner
    if team.strategy == CollectionTeam.Strategy.FIXED:
        if team.fixed_user is not None and team.fixed_user.is_active:
            return team.fixed_user
        members = active_members(team)
        return members[0] if members else None
    return _round_robin(team.pk)


# --- opening -------------------------------------------------------------------------------------


def open_case_of(loan_id: int) -> CollectionCase | None:
    return CollectionCase.objects.filter(loan_id=loan_id, status__in=OPEN_CASE_STATUSES).first()


def open_case(
    *,
    loan: Loan | int,
    actor: User | None = None,
    team: CollectionTeam | None = None,
    assign_to: str = ASSIGN_TEAM,
    source: str = "manual",
    note: str = "",
) -> tuple[CollectionCase, bool]:
    """Open the loan's collection case, or return its open one: (case, created).

    No permission check (the rule engine, COB and tests call this); `request_open_case` is
    the checked entry point for people. The loan row is locked first (then the team row),
    always in that order, so parallel openings of one loan wait and then find the case."""
    if assign_to not in ASSIGN_CHOICES:
        raise ValidationFailed.field("assign_to", "field.choice")
    loan_id = loan if isinstance(loan, int) else loan.pk
    with transaction.atomic():
        locked = (
            Loan.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(pk=loan_id)
            .first()
        )
        if locked is None:
            raise NotFound()
        existing = open_case_of(loan_id)
        if existing is not None:
            return existing, False
        if locked.status not in LIVE:
            raise Conflict("postloan.collections.loan_not_live")
        if team is None:  # with assign_to=owner the team is still recorded (for escalation)
            team = route_team(locked.bucket)
        on = get_business_date()
        overdue = overdue_fen_of(loan_id, on)
        try:
            with transaction.atomic():
                collector = pick_collector(team, locked, assign_to)
                case = CollectionCase.objects.create(
                    loan=locked,
                    customer_id=locked.customer_id,
                    collector=collector,
                    team=team,
                    department_id=locked.department_id,
                    opened_bucket=locked.bucket,
                    opened_dpd=locked.days_past_due,
                    bucket=locked.bucket,
                    dpd=locked.days_past_due,
                    overdue_fen=overdue,
                    priority=priority_score(overdue, locked.days_past_due),
                    source=source[:20],
                    opened_by=actor if actor is not None and actor.is_authenticated else None,
                )
        except IntegrityError:
            # SQLite has no row locks: a parallel opening may win the unique constraint.
            existing = open_case_of(loan_id)
            if existing is None:
                raise
            return existing, False
        _system(
            case,
            "opened",
            by=actor,
            note=_clean_note(note),
            team=team.name if team else "",
            collector=_user_label(collector),
            bucket=case.bucket,
            dpd=case.dpd,
        )
        audit.record(
            action="collections.case.open",
            actor=actor,
            actor_username="" if actor else source,
            target=case,
            target_label=locked.contract_no,
            extra={"loan_id": loan_id, "team_id": team.pk if team else None, "source": source},
        )
        _publish(TOPIC_OPENED, case, source=source, contract_no=locked.contract_no)
    return case, True


def request_open_case(
    *, actor: User, loan_id: int, team_id: int | None = None, assign_to: str = ASSIGN_TEAM
) -> tuple[CollectionCase, bool]:
    """A manager opens a case for a loan in their data scope."""
    from loandesk.accounts.scoping import get_scoped
    from loandesk.lending.loans import LOAN_SCOPE

    require_perm(actor, COLLECTIONS_MANAGE)
    loan = get_scoped(Loan.objects.all(), actor, LOAN_SCOPE, loan_id)
    team = _team(team_id, "team_id") if team_id is not None else None
    return open_case(loan=loan, actor=actor, team=team, assign_to=assign_to, source="manual")


def _team(team_id: int, field: str) -> CollectionTeam:
    team = CollectionTeam.objects.filter(pk=team_id, active=True).first()
    if team is None:
        raise ValidationFailed.field(field, "postloan.collections.team_unknown")
    return team


def _lock_open(case: CollectionCase) -> CollectionCase:
    """The case row locked (loan first, like `open_case`), refusing closed cases."""
    Loan.objects.select_for_update().filter(pk=case.loan_id).first()
    locked = CollectionCase.objects.select_for_update().get(pk=case.pk)
    if not locked.is_open:
        raise Conflict("postloan.collections.case_closed")
    return locked


# --- escalation and reassignment -----------------------------------------------------------------


def escalate_case(
    *,
    case: CollectionCase,
    actor: User | None = None,
    team: CollectionTeam | None = None,
    idempotent: bool = False,
    note: str = "",
) -> bool:
    """Move the case to `team` or the next team (bucket routing first, then the escalation
    order), with a collector by that team's strategy. With `idempotent` (the rule action, which
    may fire again) nothing happens, instead of an error, while the current team still serves
    the loan's bucket or is already the target. Returns whether the case moved."""
    with transaction.atomic():
        locked = _lock_open(case)
        loan = Loan.objects.select_related("owner").get(pk=locked.loan_id)
        current = locked.team
        if team is None:
            if idempotent and current is not None and loan.bucket in current.buckets:
                return False
            target = next_team(current, loan.bucket)
            if target is None:
                if idempotent:
                    return False
                raise Conflict("postloan.collections.no_next_team")
        else:
            target = team
        if current is not None and target.pk == current.pk:
            if idempotent:
                return False
            raise ValidationFailed.field("team_id", "postloan.collections.same_team")
        collector = pick_collector(target, loan, ASSIGN_TEAM)
        before = (_user_label(locked.collector), current.name if current else "")
        locked.team = target
        locked.collector = collector
        locked.bucket = loan.bucket
        locked.dpd = loan.days_past_due
        locked.save(update_fields=["team", "collector", "bucket", "dpd", "updated_at"])
        _system(
            locked,
            "escalated",
            by=actor,
            note=_clean_note(note),
            from_team=before[1],
            to_team=target.name,
            from_collector=before[0],
            to_collector=_user_label(collector),
            bucket=loan.bucket,
        )
        audit.record(
            action="collections.case.escalate",
            actor=actor,
            actor_username="" if actor else "rules",
            target=locked,
            changes={
                "team": [before[1], target.name],
                "collector": [before[0], _user_label(collector)],
            },
        )
        _publish(TOPIC_UPDATED, locked, change="escalated")
    case.refresh_from_db()
    return True


def request_escalate(
    *, actor: User, case: CollectionCase, team_id: int | None = None, note: str = ""
) -> CollectionCase:
    require_perm(actor, COLLECTIONS_MANAGE)
    team = _team(team_id, "team_id") if team_id is not None else None
    escalate_case(case=case, actor=actor, team=team, note=note)
    return case


def may_collect(user: User) -> bool:
    perms = user_permissions(user)
    return user.is_superuser or bool({COLLECTIONS_WORK, COLLECTIONS_MANAGE} & perms)


def reassign_case(
    *,
    actor: User,
    case: CollectionCase,
    collector_id: int,
    team_id: int | None = None,
    note: str = "",
) -> CollectionCase:
    """A manager hands the case to another collector (and optionally another team)."""
    require_perm(actor, COLLECTIONS_MANAGE)
    collector = User.objects.filter(pk=collector_id, is_active=True).first()
    if collector is None or not may_collect(collector):
        raise ValidationFailed.field("collector_id", "postloan.collections.not_a_collector")
    team = _team(team_id, "team_id") if team_id is not None else None
    with transaction.atomic():
        locked = _lock_open(case)
        before = (_user_label(locked.collector), locked.team.name if locked.team else "")
        if locked.collector_id == collector.pk and (team is None or team.pk == locked.team_id):
            raise ValidationFailed.field("collector_id", "postloan.collections.same_collector")
        locked.collector = collector
        if team is not None:
            locked.team = team
        locked.save(update_fields=["collector", "team", "updated_at"])
        after_team = locked.team.name if locked.team else ""
        _system(
            locked,
            "reassigned",
            by=actor,
            note=_clean_note(note),
            from_collector=before[0],
            to_collector=_user_label(collector),
            from_team=before[1],
            to_team=after_team,
        )
        audit.record(
            action="collections.case.reassign",
            actor=actor,
            target=locked,
            changes={
                "collector": [before[0], _user_label(collector)],
                "team": [before[1], after_team],
            },
        )
        _publish(TOPIC_UPDATED, locked, change="reassigned")
    case.refresh_from_db()
    return case


# --- actions and promises ------------------------------------------------------------------------


def _require_worker(actor: User) -> None:
    if not has_perm(actor, COLLECTIONS_MANAGE):
        require_perm(actor, COLLECTIONS_WORK)


def log_action(
    *,
    actor: User,
    case: CollectionCase,
    kind: str,
    result: str,
    note: str = "",
    next_action_at: datetime | None = None,
) -> CollectionAction:
    """A collector records a call / SMS / visit / letter and its result."""
    _require_worker(actor)
    errors: dict[str, str] = {}
    from loandesk.core.i18n import message

    if kind not in MANUAL_KINDS:
        errors["kind"] = message("field.choice")
    if result not in RESULTS:
        errors["result"] = message("field.choice")
    now = timezone.now()
    if next_action_at is not None:
        if timezone.is_naive(next_action_at):
            next_action_at = timezone.make_aware(next_action_at)
        if next_action_at < now - timedelta(minutes=5) or next_action_at > now + timedelta(
            days=366
        ):
            errors["next_action_at"] = message("postloan.collections.next_action_range")
    if errors:
        raise ValidationFailed(errors)
    text = _clean_note(note)
    with transaction.atomic():
        locked = _lock_open(case)
        action = CollectionAction.objects.create(
            case=locked, kind=kind, result=result, note=text, at=now, by=actor
        )
        locked.last_action_at = now
        locked.last_result = result
        if next_action_at is not None:
            locked.next_action_at = next_action_at
        locked.save(update_fields=["last_action_at", "last_result", "next_action_at", "updated_at"])
        _publish(TOPIC_UPDATED, locked, change="action", kind=kind, result=result)
    return action


def record_promise(
    *,
    actor: User,
    case: CollectionCase,
    on: date,
    amount: Decimal | str,
    note: str = "",
) -> PromiseToPay:
    """The customer promises to pay `amount` by `on` (from the business date to 90 days on)."""
    _require_worker(actor)
    from loandesk.core.i18n import message

    errors: dict[str, str] = {}
    today = get_business_date()
    if on < today:
        errors["date"] = message("postloan.collections.promise_date_past", {"today": today})
    elif on > today + timedelta(days=MAX_PROMISE_DAYS):
        errors["date"] = message(
            "postloan.collections.promise_date_far", {"days": MAX_PROMISE_DAYS}
        )
    try:
        fen = yuan_to_fen(amount)
    except (TypeError, ValueError):
        fen = None
        errors["amount"] = message("postloan.collections.amount_invalid")
    if fen is not None and fen <= 0:
        errors["amount"] = message("postloan.collections.amount_invalid")
    if errors:
        raise ValidationFailed(errors)
    assert fen is not None
    text = _clean_note(note)[:200]
    with transaction.atomic():
        locked = _lock_open(case)
        outstanding = outstanding_fen_of(locked.loan_id)
        if fen > outstanding:
            raise ValidationFailed.field(
                "amount",
                "postloan.collections.amount_over_outstanding",
                outstanding=str(fen_to_yuan(outstanding)),
            )
        if locked.promises.filter(status=PromiseToPay.Status.PENDING).exists():
            raise Conflict("postloan.collections.promise_pending")
        promise = PromiseToPay.objects.create(
            case=locked,
            loan_id=locked.loan_id,
            date=on,
            amount_fen=fen,
            paid_before_fen=loan_paid_fen(locked.loan_id),
            created_on=today,
            note=text,
            created_by=actor,
        )
        locked.status = CollectionCase.Status.PROMISED
        locked.promise_date = on
        locked.save(update_fields=["status", "promise_date", "updated_at"])
        _system(
            locked,
            "promise_made",
            by=actor,
            note=text,
            date=on.isoformat(),
            amount=str(fen_to_yuan(fen)),
        )
        _publish(
            TOPIC_UPDATED,
            locked,
            change="promise",
            promise_id=promise.pk,
            promise_date=on.isoformat(),
            amount_fen=fen,
        )
    return promise


# --- closing -------------------------------------------------------------------------------------


def _close(
    case: CollectionCase, *, reason: str, actor: User | None, note: str = "", **params: Any
) -> CollectionCase:
    case.status = CollectionCase.Status.CLOSED
    case.close_reason = reason
    case.closed_at = timezone.now()
    case.promise_date = None
    case.save(update_fields=["status", "close_reason", "closed_at", "promise_date", "updated_at"])
    # An open promise cannot be kept or broken any more once the case is closed by payment:
    # the loan is paid, so it counts as kept; a manual / write-off close leaves it broken.
    kept = reason == CollectionCase.CloseReason.PAID
    PromiseToPay.objects.filter(case=case, status=PromiseToPay.Status.PENDING).update(
        status=PromiseToPay.Status.KEPT if kept else PromiseToPay.Status.BROKEN,
        decided_on=get_business_date(),
    )
    _system(case, "closed", by=actor, note=note, reason=reason, **params)
    audit.record(
        action="collections.case.close",
        actor=actor,
        actor_username="" if actor else "system",
        target=case,
        extra={"reason": reason},
    )
    _publish(TOPIC_UPDATED, case, change="closed", reason=reason)
    return case


def close_case(*, actor: User, case: CollectionCase, note: str = "") -> CollectionCase:
    """A manager closes a case by hand (e.g. settled outside the system)."""
    require_perm(actor, COLLECTIONS_MANAGE)
    text = _clean_note(note)
    if not text:
        raise ValidationFailed.field("note", "field.required")
    with transaction.atomic():
        locked = _lock_open(case)
        _close(locked, reason=CollectionCase.CloseReason.MANUAL, actor=actor, note=text)
    case.refresh_from_db()
    return case


def close_for_loan(loan_id: int, *, reason: str, **params: Any) -> CollectionCase | None:
    """Close the loan's open case (system: payoff, write-off); None if it has none."""
    with transaction.atomic():
        Loan.objects.select_for_update().filter(pk=loan_id).first()
        case = (
            CollectionCase.objects.select_for_update()
            .filter(loan_id=loan_id, status__in=OPEN_CASE_STATUSES)
            .first()
        )
        if case is None:
            return None
        return _close(case, reason=reason, actor=None, **params)


def refresh_case(case: CollectionCase) -> CollectionCase:
    """Bring bucket, DPD, overdue amount and priority up to date with the loan."""
    loan = Loan.objects.get(pk=case.loan_id)
    case.bucket = loan.bucket
    case.dpd = loan.days_past_due
    case.overdue_fen = overdue_fen_of(loan.pk, get_business_date())
    case.priority = priority_score(case.overdue_fen, case.dpd)
    case.save(update_fields=["bucket", "dpd", "overdue_fen", "priority", "updated_at"])
    return case


@outbox.handles("loan.closed")
def on_loan_closed(event: OutboxEvent) -> None:
    loan_id = int(event.payload.get("loan_id") or event.aggregate_id)
    close_for_loan(loan_id, reason=CollectionCase.CloseReason.PAID)


@outbox.handles("loan.written_off")
def on_loan_written_off(event: OutboxEvent) -> None:
    loan_id = int(event.payload.get("loan_id") or event.aggregate_id)
    close_for_loan(loan_id, reason=CollectionCase.CloseReason.WRITTEN_OFF)


@outbox.handles("loan.repayment_posted")
def on_repayment_posted(event: OutboxEvent) -> None:
    """A repayment on a loan in collection: note it on the case; when nothing is owed any
    more (the loan is closed or no installment due by the business date is unpaid), close."""
    payload = event.payload
    loan_id = int(payload.get("loan_id") or event.aggregate_id)
    with transaction.atomic():
        Loan.objects.select_for_update().filter(pk=loan_id).first()
        case = (
            CollectionCase.objects.select_for_update()
            .filter(loan_id=loan_id, status__in=OPEN_CASE_STATUSES)
            .first()
        )
        # A repayment from before the case was opened (an old event delivered late) is
        # already in the case's overdue amount: nothing to note.
        if case is None or event.created_at < case.opened_at:
            return
        amount = payload.get("amount_fen")
        params = {
            "amount": str(fen_to_yuan(int(amount))) if amount is not None else "",
            "value_date": str(payload.get("value_date") or ""),
        }
        loan = Loan.objects.get(pk=loan_id)
        refresh_case(case)
        if loan.status == Loan.Status.CLOSED or case.overdue_fen == 0:
            _close(case, reason=CollectionCase.CloseReason.PAID, actor=None, **params)
            return
        _system(case, "repayment", by=None, **params)
        _publish(TOPIC_UPDATED, case, change="repayment", **params)


# --- the customer's phone, for the one-tap call --------------------------------------------------


def reveal_phone(*, actor: User, case: CollectionCase, request: HttpRequest | None = None) -> str:
    """The customer's phone for the assigned collector (or a manager in scope): audited and put
    on the customer's timeline exactly like the customers app's reveal (`pii.reveal`)."""
    from loandesk.customers.services import add_timeline_event

    _require_worker(actor)
    customer = case.customer
    if not customer.phone:
        raise NotFound("customers.no_value")
    audit.record(
        action="pii.reveal",
        actor=actor,
        target=customer,
        extra={"field": "phone", "customer_id": customer.pk, "collection_case_id": case.pk},
        request=request,
    )
    add_timeline_event(
        customer=customer,
        kind="reveal",
        summary_code="customers.timeline.reveal",
        params={"field": "phone"},
        actor=actor,
    )
    return str(customer.phone)


# --- teams ---------------------------------------------------------------------------------------


def _bucket_codes() -> list[str]:
    from loandesk.postloan.cob import current_config

    return [b["code"] for b in current_config()["buckets"]]


def _clean_team(data: dict[str, Any], *, team: CollectionTeam | None) -> dict[str, Any]:
    from loandesk.core.i18n import message

    errors: dict[str, str] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = message("field.required")
    elif len(name) > 60:
        errors["name"] = message("field.too_long", {"max": 60})
    elif CollectionTeam.objects.filter(name=name).exclude(pk=team.pk if team else 0).exists():
        errors["name"] = message("postloan.collections.team_name_taken")
    kind = data.get("kind") or CollectionTeam.Kind.IN_HOUSE
    if kind not in CollectionTeam.Kind.values:
        errors["kind"] = message("field.choice")
    strategy = data.get("strategy") or CollectionTeam.Strategy.ROUND_ROBIN
    if strategy not in CollectionTeam.Strategy.values:
        errors["strategy"] = message("field.choice")
    known = _bucket_codes()
    buckets = [str(b) for b in (data.get("buckets") or [])]
    unknown = [b for b in buckets if b not in known]
    if unknown:
        errors["buckets"] = message(
            "postloan.collections.bucket_unknown", {"buckets": ", ".join(unknown)}
        )
    member_ids = list(dict.fromkeys(int(m) for m in (data.get("member_ids") or [])))
    members = list(User.objects.filter(pk__in=member_ids, is_active=True))
    if len(members) != len(member_ids):
        errors["member_ids"] = message("postloan.collections.member_unknown")
    elif len(members) > MAX_TEAM_MEMBERS:
        errors["member_ids"] = message("field.too_large", {"max": MAX_TEAM_MEMBERS})
    elif any(not may_collect(m) for m in members):
        errors["member_ids"] = message("postloan.collections.not_a_collector")
    fixed = None
    if data.get("fixed_user_id") is not None:
        fixed = User.objects.filter(pk=data["fixed_user_id"], is_active=True).first()
        if fixed is None or not may_collect(fixed):
            errors["fixed_user_id"] = message("postloan.collections.not_a_collector")
    fixed_missing = strategy == CollectionTeam.Strategy.FIXED and fixed is None
    if fixed_missing and "fixed_user_id" not in errors:
        errors["fixed_user_id"] = message("field.required")
    order = data.get("escalation_order", 0)
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 999:
        errors["escalation_order"] = message("field.too_large", {"max": 999})
    if errors:
        raise ValidationFailed(errors)
    return {
        "name": name,
        "kind": kind,
        "strategy": strategy,
        "buckets": [b for b in known if b in buckets],  # configured order, no duplicates
        "members": members,
        "fixed_user": fixed if strategy == CollectionTeam.Strategy.FIXED else None,
        "escalation_order": order,
        "active": bool(data.get("active", True)),
    }


def _team_snapshot(team: CollectionTeam) -> dict[str, Any]:
    return {
        "name": team.name,
        "kind": team.kind,
        "strategy": team.strategy,
        "buckets": list(team.buckets),
        "members": sorted(team.members.values_list("id", flat=True)),
        "fixed_user": team.fixed_user_id,
        "escalation_order": team.escalation_order,
        "active": team.active,
    }


@transaction.atomic
def save_team(
    *, actor: User, data: dict[str, Any], team: CollectionTeam | None = None
) -> CollectionTeam:
    require_perm(actor, COLLECTIONS_MANAGE)
    clean = _clean_team(data, team=team)
    members = clean.pop("members")
    before = _team_snapshot(team) if team is not None else None
    if team is None:
        team = CollectionTeam.objects.create(**clean)
    else:
        team = CollectionTeam.objects.select_for_update().get(pk=team.pk)
        for key, value in clean.items():
            setattr(team, key, value)
        team.save()
    team.members.set(members)
    audit.record_change(actor=actor, instance=team, before=before, after=_team_snapshot(team))
    return team


def team_for(*, actor: User, team_id: int) -> CollectionTeam:
    require_perm(actor, COLLECTIONS_MANAGE)
    team = CollectionTeam.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound()
    return team


def open_cases_for(loan_ids: Iterable[int]) -> dict[int, CollectionCase]:
    return {
        c.loan_id: c
        for c in CollectionCase.objects.filter(
            loan_id__in=list(loan_ids), status__in=OPEN_CASE_STATUSES
        )
    }


def open_cases_for_overdue(
    *, actor: User | None = None, loans: Sequence[Loan] | None = None, source: str = "manual"
) -> list[CollectionCase]:
    """Open (or find) a case for every overdue loan given (default: all overdue loans)."""
    rows = loans if loans is not None else list(Loan.objects.filter(status=Loan.Status.OVERDUE))
    return [open_case(loan=loan, actor=actor, source=source)[0] for loan in rows]
