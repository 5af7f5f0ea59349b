"""Rule engine writes: designing rules, firing them (events, date-relative, cron), retrying.

A firing is one (rule, record, occurrence); its key (`engine.firing_key`) is unique in the
RuleFiring table, so an outbox event delivered twice, two schedulers racing or a catch-up over
a window already half-scanned fire nothing twice. The firing row and its actions' writes
commit together; a failing action rolls back every action of that firing (a savepoint) and
leaves the firing `failed` with the error, for the retry button.
"""

from __future__ import annotations

import json
import logging
import time as _time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.errors import Conflict, LoanDeskError, NotFound, ValidationFailed
from loandesk.core.expression import ConditionError
from loandesk.core.i18n import message
from loandesk.core.models import OutboxEvent
from loandesk.rules import engine, records, registry
from loandesk.rules.models import Rule, RuleFiring
from loandesk.rules.permissions import DESIGN

logger = logging.getLogger(__name__)

MAX_ACTIONS = 20
MAX_JSON = 20_000
SCAN_SPAN = timedelta(days=1)  # catch-up is committed one day at a time
MAX_SPANS_PER_SCAN = 62  # a longer outage continues on the next scheduler tick
LOAD_BATCH = 500


# ---- validation ------------------------------------------------------------------------------


def _invalid(where: str, code: str, /, **params: Any) -> ValidationFailed:
    return ValidationFailed({where: message(code, params)})


def _from_rule_error(exc: engine.RuleError) -> ValidationFailed:
    if exc.code.startswith("condition."):
        detail = message(exc.code, exc.params)
        return _invalid("condition", "rules.condition_invalid", detail=detail)
    return _invalid(exc.where, exc.code, **exc.params)


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))


def clean_rule(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a rule as the designer sends it; the cleaned values (422 on the first problem
    of each field)."""
    name = str(data.get("name") or "").strip()
    if not name:
        raise _invalid("name", "rules.name_required")
    if len(name) > 100:
        raise _invalid("name", "field.too_long", max=100)
    description = str(data.get("description") or "").strip()
    if len(description) > 500:
        raise _invalid("description", "field.too_long", max=500)
    trigger_type = data.get("trigger_type")
    if trigger_type not in engine.TRIGGER_TYPES:
        raise _invalid("trigger_type", "rules.trigger_type_invalid")
    type_key = str(data.get("record_type") or "")
    rtype = records.record_type(type_key) if type_key else None
    if type_key and rtype is None:
        raise _invalid("record_type", "rules.record_type_invalid")
    if rtype is None and trigger_type != "cron":
        raise _invalid("record_type", "rules.record_type_required")
    form_code = str(data.get("form_code") or "") if rtype is not None and rtype.needs_form else ""
    if rtype is not None and rtype.needs_form:
        from loandesk.forms.models import FormDefinition

        if not FormDefinition.objects.filter(
            code=form_code, current_version__isnull=False
        ).exists():
            raise _invalid("form_code", "rules.form_invalid")
    fields = rtype.field_map(form_code) if rtype is not None else {}
    trigger_settings = data.get("trigger")
    if _json_size(trigger_settings) > 2000:
        raise _invalid("trigger", "rules.too_large", max=2000)
    try:
        trigger = engine.parse_trigger(
            str(trigger_type),
            trigger_settings,
            fields=fields,
            date_fields=rtype.date_fields(form_code) if rtype is not None else (),
            topics=rtype.topics if rtype is not None else (),
        )
    except engine.RuleError as exc:
        raise _from_rule_error(exc) from None
    condition = data.get("condition")
    if condition in ({}, ""):
        condition = None
    if condition is not None:
        if not isinstance(condition, dict | bool):
            raise _invalid("condition", "rules.condition_invalid", detail="JSON")
        if _json_size(condition) > MAX_JSON:
            raise _invalid("condition", "rules.too_large", max=MAX_JSON)
        try:
            engine.check_rule_condition(condition, set(fields) | {"id"})
        except engine.RuleError as exc:
            raise _from_rule_error(exc) from None
    actions = clean_actions(data.get("actions"), type_key, form_code)
    return {
        "name": name,
        "description": description,
        "record_type": type_key,
        "form_code": form_code,
        "trigger_type": trigger_type,
        "trigger": _stored_trigger(trigger),
        "condition": condition,
        "actions": actions,
    }


def _stored_trigger(trigger: engine.Trigger) -> dict[str, Any]:
    if isinstance(trigger, engine.EventTrigger):
        out: dict[str, Any] = {"kind": trigger.kind}
        if trigger.kind == "field_changed":
            out["field"] = trigger.field
            if trigger.has_to:
                out["to"] = trigger.to
        if trigger.kind == "event":
            out["topic"] = trigger.topic
        return out
    if isinstance(trigger, engine.DateTrigger):
        return {"field": trigger.field, "days": trigger.days, "at": trigger.at.strftime("%H:%M")}
    return {"cron": trigger.expr}


def clean_actions(raw: Any, record_type: str, form_code: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ACTIONS:
        raise _invalid("actions", "rules.actions_invalid", max=MAX_ACTIONS)
    if _json_size(raw) > MAX_JSON:
        raise _invalid("actions", "rules.too_large", max=MAX_JSON)
    out = []
    for i, item in enumerate(raw):
        where = f"actions.{i}"
        if not isinstance(item, Mapping):
            raise _invalid(where, "rules.action_name_invalid")
        name = item.get("action")
        if not isinstance(name, str) or not name or len(name) > 60:
            raise _invalid(where, "rules.action_name_invalid")
        params = item.get("params") or {}
        if not isinstance(params, Mapping):
            raise _invalid(where, "rules.param_invalid", param="params")
        try:
            spec = registry.get_action(name)
        except registry.UnknownAction:
            # Saved as written: the app that provides it may not be installed yet; running it
            # fails the firing with "unknown action".
            out.append({"action": name, "params": dict(params)})
            continue
        if spec.record_types and record_type not in spec.record_types:
            raise _invalid(where, "rules.action_type_mismatch", action=name)
        cleaned = _clean_params(spec, params, where, record_type, form_code)
        if name == "update_fields":
            _check_update(cleaned, f"{where}.fields", record_type, form_code)
        out.append({"action": name, "params": cleaned})
    return out


def _check_update(params: Mapping[str, Any], where: str, record_type: str, form: str) -> None:
    from loandesk.rules.actions import check_update_fields, update_target

    target = update_target(record_type, params.get("target"))
    try:
        check_update_fields(
            params.get("fields") or {}, target, form if target == record_type else ""
        )
    except LoanDeskError as exc:
        raise ValidationFailed({where: exc.message}) from None


def _clean_params(
    spec: registry.ActionSpec,
    params: Mapping[str, Any],
    where: str,
    record_type: str,
    form_code: str,
) -> dict[str, Any]:
    known = {p.key: p for p in spec.params}
    for key in params:
        if key not in known:
            raise _invalid(where, "rules.param_unknown", param=str(key)[:40])
    out: dict[str, Any] = {}
    for p in spec.params:
        value = params.get(p.key, p.default)
        if value in (None, "", [], {}):
            if p.required:
                raise _invalid(f"{where}.{p.key}", "rules.param_required", param=p.label_zh)
            if value is not None:
                out[p.key] = value
            continue
        out[p.key] = _clean_param(p, value, f"{where}.{p.key}", record_type, form_code)
    return out


def _clean_param(
    p: registry.ParamSpec, value: Any, where: str, record_type: str, form_code: str
) -> Any:
    bad = _invalid(where, "rules.param_invalid", param=p.label_zh)
    if p.type in ("text", "textarea", "template", "field", "role", "form"):
        if not isinstance(value, str) or len(value) > 2000:
            raise bad
        if p.type == "form":
            from loandesk.forms.models import FormDefinition

            if not FormDefinition.objects.filter(
                code=value, current_version__isnull=False
            ).exists():
                raise _invalid(where, "rules.form_invalid")
        return value
    if p.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 1e12:
            raise bad
        return value
    if p.type == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if p.type in ("user", "department"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
        if p.type == "user" and not User.objects.filter(pk=value, is_active=True).exists():
            raise _invalid(where, "rules.user_invalid")
        if p.type == "department":
            from loandesk.accounts.models import Department

            if not Department.objects.filter(pk=value).exists():
                raise bad
        return value
    if p.type in ("choice", "multichoice"):
        allowed = {o[0] for o in p.options}
        values = value if p.type == "multichoice" else [value]
        if not isinstance(values, list) or any(
            not isinstance(v, str) or (allowed and v not in allowed) for v in values
        ):
            raise bad
        return value
    if p.type == "fields":
        if not isinstance(value, Mapping) or len(value) > 50:
            raise bad
        return dict(value)
    # json: anything JSON (size already checked)
    return value


# ---- designing -------------------------------------------------------------------------------


def _get_rule(rule_id: int, *, lock: bool = False) -> Rule:
    qs = Rule.objects.all()
    if lock:
        qs = qs.select_for_update()
    rule = qs.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound()
    return rule


def _audit_view(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "record_type": rule.record_type,
        "form_code": rule.form_code,
        "trigger_type": rule.trigger_type,
        # JSON text: audit.diff sorts lists, and lists of objects do not sort
        "trigger": json.dumps(rule.trigger, ensure_ascii=False, sort_keys=True),
        "condition": json.dumps(rule.condition, ensure_ascii=False, sort_keys=True),
        "actions": json.dumps(rule.actions, ensure_ascii=False, sort_keys=True),
    }


@transaction.atomic
def create_rule(*, actor: User, data: Mapping[str, Any], code: str | None = None) -> Rule:
    require_perm(actor, DESIGN)
    cleaned = clean_rule(data)
    enabled = bool(data.get("enabled", False))
    rule = Rule.objects.create(
        **cleaned,
        code=code,
        enabled=enabled,
        watermark=timezone.now() if enabled else None,
        run_as=actor,
        created_by=actor,
        updated_by=actor,
    )
    audit.record(
        action="rules.rule.create",
        actor=actor,
        target=rule,
        target_label=rule.name,
        changes=audit.diff({}, _audit_view(rule)),
    )
    return rule


@transaction.atomic
def update_rule(*, actor: User, rule_id: int, data: Mapping[str, Any]) -> Rule:
    """Replace the rule's design. The rule then runs as the saving user."""
    require_perm(actor, DESIGN)
    rule = _get_rule(rule_id, lock=True)
    before = _audit_view(rule)
    cleaned = clean_rule(data)
    trigger_changed = (cleaned["trigger_type"], cleaned["trigger"]) != (
        rule.trigger_type,
        rule.trigger,
    )
    for key, value in cleaned.items():
        setattr(rule, key, value)
    if "enabled" in data:
        _set_enabled(rule, bool(data["enabled"]))
    if trigger_changed and rule.enabled:
        rule.watermark = timezone.now()  # a new schedule starts now, it does not replay history
    rule.run_as = actor
    rule.updated_by = actor
    rule.save()
    audit.record(
        action="rules.rule.update",
        actor=actor,
        target=rule,
        target_label=rule.name,
        changes=audit.diff(before, _audit_view(rule)),
    )
    return rule


def _set_enabled(rule: Rule, enabled: bool) -> None:
    if enabled and not rule.enabled:
        # Scheduled triggers fire from now on; what fell due while the rule was off is not
        # replayed (catch-up covers the scheduler being down, not the rule being off).
        rule.watermark = timezone.now()
    rule.enabled = enabled


@transaction.atomic
def set_enabled(*, actor: User, rule_id: int, enabled: bool) -> Rule:
    require_perm(actor, DESIGN)
    rule = _get_rule(rule_id, lock=True)
    if rule.enabled == enabled:
        return rule
    _set_enabled(rule, enabled)
    rule.updated_by = actor
    rule.save(update_fields=["enabled", "watermark", "updated_by", "updated_at"])
    audit.record(
        action="rules.rule.enable" if enabled else "rules.rule.disable",
        actor=actor,
        target=rule,
        target_label=rule.name,
        changes={"enabled": [not enabled, enabled]},
    )
    return rule


@transaction.atomic
def delete_rule(*, actor: User, rule_id: int) -> None:
    require_perm(actor, DESIGN)
    rule = _get_rule(rule_id, lock=True)
    audit.record(
        action="rules.rule.delete",
        actor=actor,
        target=rule,
        target_label=rule.name,
        changes=audit.diff(_audit_view(rule), {}),
    )
    rule.delete()


# ---- firing ----------------------------------------------------------------------------------


def spec_of(rule: Rule) -> engine.RuleSpec | None:
    """The rule's trigger as the engine sees it (None when its stored settings no longer parse,
    e.g. a form field was removed: the rule then fires nothing)."""
    rtype = records.record_type(rule.record_type) if rule.record_type else None
    try:
        trigger = engine.parse_trigger(
            rule.trigger_type,
            rule.trigger,
            fields=rtype.field_map(rule.form_code) if rtype else {},
            date_fields=rtype.date_fields(rule.form_code) if rtype else (),
            topics=rtype.topics if rtype else (),
        )
    except engine.RuleError:
        logger.warning("rule %s has a trigger that no longer parses", rule.pk)
        return None
    return engine.RuleSpec(rule.pk, rule.record_type, trigger, rule.condition)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, LoanDeskError):
        fields = exc.details.get("fields") if isinstance(exc.details, dict) else None
        if fields:
            return f"{exc.message}: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
        return exc.message
    if isinstance(exc, registry.UnknownAction):
        return message("rules.unknown_action", {"action": exc.args[0] if exc.args else ""})
    if isinstance(exc, ConditionError):
        return message("rules.condition_error", {"detail": message(exc.code, exc.params)})
    return repr(exc)[:500]


def _context(
    rule: Rule,
    *,
    key: str,
    record_id: int | None,
    values: Mapping[str, Any],
    occurred_at: datetime,
    dry_run: bool,
    extra: Mapping[str, Any] | None = None,
) -> registry.ActionContext:
    return registry.ActionContext(
        rule_id=rule.pk or 0,
        rule_name=rule.name,
        firing_key=key,
        record_type=rule.record_type,
        record_id=record_id,
        # JSON-friendly: money as yuan text, dates ISO (what message templates print)
        record=records.values_json(values),
        occurred_at=occurred_at,
        dry_run=dry_run,
        extra={
            "actor_id": rule.run_as_id,
            "trigger_type": rule.trigger_type,
            **(extra or {}),
        },
    )


def run_actions(
    actions: Sequence[Mapping[str, Any]], ctx: registry.ActionContext
) -> tuple[list[dict[str, Any]], str]:
    """Run the actions in order inside one savepoint: all or none. (results, error text)."""
    results: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            for item in actions:
                name = str(item.get("action"))
                try:
                    spec = registry.get_action(name)
                    result = spec.run(ctx, dict(item.get("params") or {}))
                except Exception as exc:
                    results.append({"action": name, "ok": False, "error": _error_text(exc)})
                    raise
                results.append({"action": name, "ok": True, "result": _jsonable(result)})
    except Exception as exc:
        for r in results[:-1]:
            r["rolled_back"] = True
        return results, _error_text(exc)
    return results, ""


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def fire(
    rule: Rule,
    *,
    record_id: int | None,
    values: Mapping[str, Any],
    occurrence: str,
    occurred_at: datetime,
    label: str = "",
    extra: Mapping[str, Any] | None = None,
) -> RuleFiring | None:
    """Fire `rule` once for (record, occurrence); None when that firing already exists."""
    key = engine.firing_key(rule.pk, rule.record_type, record_id, occurrence)
    started = timezone.now()
    try:
        with transaction.atomic():
            firing = RuleFiring.objects.create(
                rule=rule,
                key=key,
                record_type=rule.record_type,
                record_id=record_id,
                record_label=label[:200],
                trigger_type=rule.trigger_type,
                occurrence=occurrence,
                occurred_at=occurred_at,
                started_at=started,
            )
    except IntegrityError:
        return None  # fired before: the idempotency key at work
    clock = _time.perf_counter()
    ctx = _context(
        rule,
        key=key,
        record_id=record_id,
        values=values,
        occurred_at=occurred_at,
        dry_run=False,
        extra=extra,
    )
    results, error = run_actions(rule.actions, ctx)
    firing.results = results
    firing.error = error
    firing.status = RuleFiring.Status.FAILED if error else RuleFiring.Status.DONE
    firing.finished_at = timezone.now()
    firing.duration_ms = min(int((_time.perf_counter() - clock) * 1000), 2**31 - 1)
    firing.save(update_fields=["results", "error", "status", "finished_at", "duration_ms"])
    return firing


def _holds(rule: Rule, spec: engine.RuleSpec, values: Mapping[str, Any]) -> bool:
    try:
        return engine.condition_holds(spec.condition, values)
    except ConditionError:
        logger.warning("rule %s condition cannot be evaluated", rule.pk)
        return False


def handle_event(event: OutboxEvent) -> int:
    """Fire the enabled event rules an outbox event matches; returns how many fired."""
    mapped = records.map_event(
        event.topic, event.payload or {}, event.aggregate_type, event.aggregate_id
    )
    if not mapped:
        return 0
    types = {m.record_type for m in mapped}
    rules = list(
        Rule.objects.filter(enabled=True, trigger_type="event", record_type__in=types).order_by(
            "pk"
        )
    )
    if not rules:
        return 0
    fired = 0
    for m in mapped:
        candidates = [
            r
            for r in rules
            if r.record_type == m.record_type and (not r.form_code or r.form_code == m.form_code)
        ]
        specs = {s.id: s for s in (spec_of(r) for r in candidates) if s is not None}
        ev = engine.Event(
            m.record_type, m.kind, event.topic, m.record_id, m.changed, m.new_values or {}
        )
        matching = engine.rules_for_event(specs.values(), ev)
        if not matching:
            continue
        rtype = records.record_type(m.record_type)
        if rtype is None:
            continue
        values = rtype.load_one(m.record_id, m.form_code)
        if values is None:
            continue
        by_id = {r.pk: r for r in candidates}
        for spec in matching:
            rule = by_id[spec.id]
            if not engine.trigger_matches_event(spec.trigger, ev, values):
                continue
            if not _holds(rule, spec, values):
                continue
            firing = fire(
                rule,
                record_id=m.record_id,
                values=values,
                occurrence=engine.event_token(event.pk),
                occurred_at=event.created_at,
                label=rtype.label(values),
                extra={"topic": event.topic, "payload": dict(event.payload or {})},
            )
            fired += firing is not None
    return fired


# ---- scheduled triggers ----------------------------------------------------------------------


def scan_scheduled(now: datetime | None = None) -> int:
    """The periodic job: fire date-relative and cron occurrences due since each rule's
    watermark. Each day of catch-up commits with the watermark moved past it."""
    now = now or timezone.now()
    fired = 0
    rule_ids = Rule.objects.filter(enabled=True, trigger_type__in=("date", "cron")).values_list(
        "pk", flat=True
    )
    for rule_id in list(rule_ids):
        try:
            fired += scan_rule(rule_id, now)
        except Exception:
            logger.exception("scanning rule %s failed", rule_id)
    return fired


def scan_rule(rule_id: int, now: datetime) -> int:
    fired = 0
    for _ in range(MAX_SPANS_PER_SCAN):
        with transaction.atomic():
            qs = Rule.objects.filter(pk=rule_id, enabled=True)
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True)  # another scheduler has it
            rule = qs.first()
            if rule is None:
                return fired
            if rule.watermark is None:
                rule.watermark = now
                rule.save(update_fields=["watermark"])
                return fired
            start = rule.watermark
            if start >= now:
                return fired
            end = min(now, start + SCAN_SPAN)
            spec = spec_of(rule)
            if spec is not None:
                fired += _scan_window(rule, spec, start, end)
            rule.watermark = end
            rule.save(update_fields=["watermark"])
        if end >= now:
            break
    return fired


def _scan_window(rule: Rule, spec: engine.RuleSpec, start: datetime, end: datetime) -> int:
    rtype = records.record_type(rule.record_type) if rule.record_type else None
    fired = 0
    trigger = spec.trigger
    if isinstance(trigger, engine.DateTrigger):
        if rtype is None:
            return 0
        window = engine.field_dates_for_window(trigger, start, end)
        if window is None:
            return 0
        pairs = rtype.ids_with_date(trigger.field, window[0], window[1], rule.form_code)
        for i in range(0, len(pairs), LOAD_BATCH):
            batch = pairs[i : i + LOAD_BATCH]
            loaded = rtype.load([pk for pk, _ in batch], rule.form_code)
            for pk, day in batch:
                values = loaded.get(pk)
                at = engine.occurrence_at(trigger, day)
                if values is None or not start < at <= end or not _holds(rule, spec, values):
                    continue
                fired += (
                    fire(
                        rule,
                        record_id=pk,
                        values=values,
                        occurrence=engine.occurrence_token(at),
                        occurred_at=at,
                        label=rtype.label(values),
                    )
                    is not None
                )
        return fired
    if isinstance(trigger, engine.CronTrigger):
        for at in trigger.schedule.occurrences(start, end):
            token = engine.occurrence_token(at)
            if rtype is None:
                if _holds(rule, spec, {}):
                    fired += (
                        fire(rule, record_id=None, values={}, occurrence=token, occurred_at=at)
                        is not None
                    )
                continue
            for chunk in records.iter_chunks(rtype.all_ids(rule.form_code), LOAD_BATCH):
                loaded = rtype.load(chunk, rule.form_code)
                for pk in chunk:
                    values = loaded.get(pk)
                    if values is None or not _holds(rule, spec, values):
                        continue
                    fired += (
                        fire(
                            rule,
                            record_id=pk,
                            values=values,
                            occurrence=token,
                            occurred_at=at,
                            label=rtype.label(values),
                        )
                        is not None
                    )
    return fired


# ---- retry and test --------------------------------------------------------------------------


@transaction.atomic
def retry_firing(*, actor: User, firing_id: int) -> RuleFiring:
    """Run a failed firing's actions again (same key, fresh record values)."""
    require_perm(actor, DESIGN)
    firing = (
        RuleFiring.objects.select_for_update().select_related("rule").filter(pk=firing_id).first()
    )
    if firing is None:
        raise NotFound()
    if firing.status != RuleFiring.Status.FAILED:
        raise Conflict("rules.not_failed")
    rule = firing.rule
    values: Mapping[str, Any] | None = {}
    if firing.record_id is not None:
        rtype = records.record_type(firing.record_type)
        values = rtype.load_one(firing.record_id, rule.form_code) if rtype else None
    clock = _time.perf_counter()
    if values is None:
        results: list[dict[str, Any]] = []
        error = message("rules.record_gone")
    else:
        ctx = _context(
            rule,
            key=firing.key,
            record_id=firing.record_id,
            values=values,
            occurred_at=firing.occurred_at,
            dry_run=False,
            extra={"retry": True, "retried_by": actor.pk},
        )
        results, error = run_actions(rule.actions, ctx)
    firing.results = results
    firing.error = error
    firing.status = RuleFiring.Status.FAILED if error else RuleFiring.Status.DONE
    firing.attempts += 1
    firing.finished_at = timezone.now()
    firing.duration_ms = min(int((_time.perf_counter() - clock) * 1000), 2**31 - 1)
    firing.save()
    audit.record(
        action="rules.firing.retry",
        actor=actor,
        target=firing,
        target_label=firing.key,
        extra={"status": firing.status},
    )
    return firing


def test_rule(*, actor: User, data: Mapping[str, Any], record_id: int | None) -> dict[str, Any]:
    """Evaluate a (possibly unsaved) rule against one record the caller may see: the record's
    values, the condition's result and each action's dry run. Writes nothing."""
    require_perm(actor, DESIGN)
    cleaned = clean_rule(data)
    rtype = records.record_type(cleaned["record_type"]) if cleaned["record_type"] else None
    values: dict[str, Any] = {}
    label = ""
    if rtype is not None:
        if record_id is None:
            raise _invalid("record_id", "field.required")
        if not rtype.visible(actor, cleaned["form_code"]).filter(pk=record_id).exists():
            raise NotFound()
        values = rtype.load_one(record_id, cleaned["form_code"]) or {}
        label = rtype.label(values)
    rule = Rule(**cleaned, run_as=actor)
    spec = spec_of(rule)
    assert spec is not None  # cleaned above
    condition: dict[str, Any] = {"result": True, "error": ""}
    try:
        condition["result"] = engine.condition_holds(spec.condition, values)
    except ConditionError as exc:
        condition = {"result": False, "error": _error_text(exc)}
    now = timezone.now()
    ctx = _context(
        rule,
        key=engine.firing_key(0, rule.record_type, record_id, "test"),
        record_id=record_id if rtype is not None else None,
        values=values,
        occurred_at=now,
        dry_run=True,
        extra={"test": True},
    )
    # Belt and braces: dry runs write nothing, and whatever an action might still write is
    # rolled back with this savepoint.
    with transaction.atomic():
        results, error = run_actions(rule.actions, ctx)
        transaction.set_rollback(True)
    return {
        "record": {"id": record_id, "label": label} if rtype is not None else None,
        "values": records.values_json(values),
        "condition": condition,
        "trigger": _trigger_preview(spec, values, now),
        "actions": results,
        "error": error,
        "would_fire": bool(condition["result"]) and not error,
    }


def _trigger_preview(
    spec: engine.RuleSpec, values: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    trigger = spec.trigger
    if isinstance(trigger, engine.DateTrigger):
        day = values.get(trigger.field)
        if day is None or isinstance(day, str):
            try:
                from datetime import date as _date

                day = _date.fromisoformat(day) if isinstance(day, str) else None
            except ValueError:
                day = None
        at = engine.occurrence_at(trigger, day) if day is not None else None
        return {
            "occurrence": at.isoformat() if at else None,
            "future": bool(at and at > now),
        }
    if isinstance(trigger, engine.CronTrigger):
        return {"next": [at.isoformat() for at in trigger.schedule.next_after(now, 3)]}
    return {}
