"""Risk writes: scorecard create/update, the preview (试算), and the automated flow step.

Scorecards are admin configuration (permission `risk.manage_scorecards`); every change is
validated by the pure core (risk.scoring), bumps the version and is audited. The flow action
`risk_scorecard` stores one ScoreResult per (instance_id, step_id), so a re-run step returns
the first result.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.errors import Conflict, NotFound, ValidationFailed
from loandesk.core.i18n import current_language, message
from loandesk.customers.models import Customer
from loandesk.customers.selectors import customer_for
from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed
from loandesk.forms.models import Record
from loandesk.risk import scoring
from loandesk.risk.inputs import (
    APPLICATION_FORM,
    application_inputs,
    customer_id_of,
    customer_inputs,
)
from loandesk.risk.models import Scorecard, ScoreResult
from loandesk.risk.permissions import MANAGE_SCORECARDS

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
AUDITED = ("code", "name", "description", "definition", "is_active", "version")
DEFAULT_SCORECARD = "default"


# --- validation -------------------------------------------------------------------------------


def definition_errors(issues: list[scoring.Issue]) -> dict[str, str]:
    """{"definition.rules.2.bands.1.min": message}: the editor maps each path to its spot."""
    out: dict[str, str] = {}
    for issue in issues:
        key = f"definition.{issue.path}" if issue.path else "definition"
        out.setdefault(key, message(issue.code, issue.params))
    return out


def compile_or_422(definition: Any) -> scoring.Scorecard:
    try:
        return scoring.compile_definition(definition)
    except scoring.ScorecardInvalid as invalid:
        raise ValidationFailed(
            definition_errors(invalid.issues), code="risk.scorecard_invalid"
        ) from None


def _clean(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if creating:
        code = data.get("code")
        if not isinstance(code, str) or not _CODE.match(code.strip()):
            errors["code"] = message("risk.code_invalid")
        else:
            values["code"] = code.strip()
    if "name" in data or creating:
        name = data.get("name")
        text = name.strip() if isinstance(name, str) else ""
        if not text or len(text) > 100:
            errors["name"] = message("risk.name_invalid")
        else:
            values["name"] = text
    if data.get("description") is not None:
        description = str(data["description"]).strip()
        if len(description) > 500:
            errors["description"] = message("risk.description_too_long")
        else:
            values["description"] = description
    if data.get("is_active") is not None:
        values["is_active"] = bool(data["is_active"])
    if "definition" in data or creating:
        try:
            scoring.compile_definition(data.get("definition"))
            values["definition"] = data.get("definition")
        except scoring.ScorecardInvalid as invalid:
            errors.update(definition_errors(invalid.issues))
    if errors:
        code = "risk.scorecard_invalid" if any(k.startswith("definition") for k in errors) else None
        raise ValidationFailed(errors, code=code)
    return values


# --- scorecards -------------------------------------------------------------------------------


@transaction.atomic
def create_scorecard(*, actor: User, data: Mapping[str, Any]) -> Scorecard:
    require_perm(actor, MANAGE_SCORECARDS)
    values = _clean(data, creating=True)
    if Scorecard.objects.filter(code=values["code"]).exists():
        raise ValidationFailed.field("code", "risk.code_taken")
    now = timezone.now()
    try:
        with transaction.atomic():
            card = Scorecard.objects.create(
                **values, created_by=actor, updated_by=actor, created_at=now, updated_at=now
            )
    except IntegrityError:
        raise ValidationFailed.field("code", "risk.code_taken") from None
    audit.record_change(
        actor=actor, instance=card, before=None, after=audit.snapshot(card, AUDITED)
    )
    return card


@transaction.atomic
def update_scorecard(
    *, actor: User, code: str, data: Mapping[str, Any], expected_version: int | None = None
) -> Scorecard:
    """Partial update. `expected_version` (the version the editor loaded) guards against
    overwriting someone else's change: a mismatch is a 409."""
    require_perm(actor, MANAGE_SCORECARDS)
    card = Scorecard.objects.select_for_update().filter(code=code).first()
    if card is None:
        raise NotFound()
    if "code" in data and data["code"] not in (None, card.code):
        raise ValidationFailed.field("code", "risk.code_immutable")
    if expected_version is not None and expected_version != card.version:
        raise Conflict("risk.version_conflict", params={"version": card.version})
    values = _clean(data, creating=False)
    before = audit.snapshot(card, AUDITED)
    changed = {k: v for k, v in values.items() if getattr(card, k) != v}
    if not changed:
        return card
    for key, value in changed.items():
        setattr(card, key, value)
    card.version += 1
    card.updated_by = actor
    card.updated_at = timezone.now()
    card.save()
    audit.record_change(
        actor=actor, instance=card, before=before, after=audit.snapshot(card, AUDITED)
    )
    return card


# --- evaluation -------------------------------------------------------------------------------

PREVIEW_NUMBERS = (
    "amount",
    "term_months",
    "annual_rate",
    "monthly_payment",
    "monthly_income",
    "household_income",
    "age",
    "applications_30d",
    "existing_loans_outstanding",
)


def _preview_inputs(values: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key in PREVIEW_NUMBERS:
        raw = values.get(key)
        if raw is None or raw == "":
            continue
        number = scoring._dec(raw)
        if number is None or number < 0:
            errors[key] = message("risk.input_invalid")
        else:
            out[key] = number
    level = values.get("credit_level")
    if level not in (None, ""):
        if level not in scoring.CREDIT_LEVELS:
            errors["credit_level"] = message(
                "risk.def.choice", {"choices": ", ".join(scoring.CREDIT_LEVELS)}
            )
        else:
            out["credit_level"] = level
    if values.get("birth_date"):
        out["birth_date"] = values["birth_date"]
    if isinstance(values.get("blacklisted"), bool):
        out["blacklisted"] = values["blacklisted"]
    if errors:
        raise ValidationFailed(errors)
    return out


def preview(
    *,
    actor: User,
    code: str,
    values: Mapping[str, Any],
    definition: Any = None,
) -> dict[str, Any]:
    """试算: score typed-in values (and, with customer_id, that customer's profile, which the
    caller must be able to see) without saving anything. `definition` previews unsaved edits."""
    require_perm(actor, MANAGE_SCORECARDS)
    card = Scorecard.objects.filter(code=code).first()
    if card is None:
        raise NotFound()
    compiled = compile_or_422(card.definition if definition is None else definition)
    typed = _preview_inputs(values)
    now = timezone.now()
    inputs: dict[str, Any] = {}
    customer_id = values.get("customer_id")
    if customer_id is not None:
        customer = customer_for(actor, int(customer_id))
        inputs.update(customer_inputs(customer, now=now))
        if "age" in typed:
            inputs.pop("birth_date", None)
    inputs.update(typed)
    return scoring.evaluate(
        compiled,
        inputs,
        code=card.code,
        version=card.version,
        now=now,
        lang=current_language(),
        today=timezone.localdate(now),
    )


def _record_of(ctx: AutomatedContext) -> Record | None:
    if ctx.record_id is None:
        return None
    return Record.objects.select_related("form").filter(pk=ctx.record_id).first()


def _flow_inputs(
    ctx: AutomatedContext, record: Record | None, now: datetime
) -> tuple[dict[str, Any], Customer | None]:
    customer_id = ctx.customer_id or customer_id_of(ctx.data)
    if customer_id is None and record is not None:
        customer_id = record.customer_id
    customer = (
        Customer.objects.prefetch_related("tags").filter(pk=customer_id).first()
        if customer_id is not None
        else None
    )
    inputs: dict[str, Any] = {}
    if customer is not None:
        form_code = ctx.form_code or (record.form.code if record is not None else APPLICATION_FORM)
        inputs.update(
            customer_inputs(customer, now=now, form_code=form_code, exclude_record_id=ctx.record_id)
        )
    inputs.update(application_inputs(ctx.data))  # the application's own figures win
    return inputs, customer


def run_scorecard_step(ctx: AutomatedContext) -> dict[str, Any]:
    """The `risk_scorecard` automated flow action (params: {"scorecard": code})."""
    existing = ScoreResult.objects.filter(instance_id=ctx.instance_id, step_id=ctx.step_id).first()
    if existing is not None:
        return dict(existing.result)
    code = str(ctx.params.get("scorecard") or DEFAULT_SCORECARD)
    card = Scorecard.objects.filter(code=code, is_active=True).first()
    if card is None:
        raise AutomatedStepFailed("risk.scorecard_missing", {"code": code})
    try:
        compiled = scoring.compile_definition(card.definition)
    except scoring.ScorecardInvalid:
        raise AutomatedStepFailed("risk.scorecard_invalid", {"code": code}) from None
    record = _record_of(ctx)
    inputs, customer = _flow_inputs(ctx, record, ctx.now)
    result = scoring.evaluate(
        compiled,
        inputs,
        code=card.code,
        version=card.version,
        now=ctx.now,
        lang=current_language(),
        today=timezone.localdate(ctx.now),
    )
    try:
        with transaction.atomic():
            ScoreResult.objects.create(
                scorecard=card,
                version=card.version,
                record=record,
                customer=customer,
                instance_id=ctx.instance_id,
                step_id=ctx.step_id,
                score=result["score"],
                grade=result["grade"],
                decision=result["decision"],
                result=result,
                created_by_id=ctx.actor_id,
                created_at=ctx.now,
            )
    except IntegrityError:
        # A concurrent run of the same step stored its result first: return that one.
        stored = ScoreResult.objects.get(instance_id=ctx.instance_id, step_id=ctx.step_id)
        return dict(stored.result)
    return result
