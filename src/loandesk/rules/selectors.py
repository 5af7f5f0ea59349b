"""Rule engine reads: rules with their firing counts, the firing log, the designer's catalogue
(record types, fields, actions) and the record picker of "test against a record"."""

from typing import Any

from django.db.models import Count, Q

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.errors import NotFound, ValidationFailed
from loandesk.core.i18n import EN, current_language, message
from loandesk.core.pagination import PageParams, paginate
from loandesk.rules import records, registry
from loandesk.rules.models import Rule, RuleFiring
from loandesk.rules.permissions import DESIGN


def _user(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.full_name or user.get_username()}


def _known_actions() -> set[str]:
    return {a.name for a in registry.all_actions()}


def trigger_labels(rule: Rule) -> dict[str, str]:
    """Display names of what the trigger refers to (field, option, topic), in the caller's
    language, so lists can say 逾期分档 → M2 instead of bucket → M2."""
    en = current_language() == EN
    rtype = records.record_type(rule.record_type) if rule.record_type else None
    out: dict[str, str] = {}
    if rtype is None or not isinstance(rule.trigger, dict):
        return out
    key = rule.trigger.get("field")
    if key:
        f = rtype.field_map(rule.form_code).get(str(key))
        if f is not None:
            out["field"] = f.label_en if en else f.label_zh
            to = rule.trigger.get("to")
            for value, zh, en_label in f.options:
                if to is not None and value == str(to):
                    out["to"] = en_label if en else zh
    topic = rule.trigger.get("topic")
    if topic and topic in rtype.topics:
        zh, en_label = rtype.topics[topic]
        out["topic"] = en_label if en else zh
    return out


def rule_out(rule: Rule, counts: dict[str, int] | None = None, last: Any = None) -> dict:
    known = _known_actions()
    return {
        "id": rule.pk,
        "code": rule.code,
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "record_type": rule.record_type,
        "form_code": rule.form_code,
        "trigger_type": rule.trigger_type,
        "trigger": rule.trigger,
        "condition": rule.condition,
        "actions": rule.actions,
        "watermark": rule.watermark,
        "run_as": _user(rule.run_as),
        "updated_at": rule.updated_at,
        "unknown_actions": [a["action"] for a in rule.actions if a.get("action") not in known],
        "labels": trigger_labels(rule),
        "counts": counts or {"done": 0, "failed": 0},
        "last_firing": last,
    }


def list_rules(*, actor: User) -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    rules = list(
        Rule.objects.select_related("run_as").annotate(
            done=Count("firings", filter=Q(firings__status=RuleFiring.Status.DONE)),
            failed=Count("firings", filter=Q(firings__status=RuleFiring.Status.FAILED)),
        )
    )
    last: dict[int, Any] = {}
    for rule in rules:
        f = RuleFiring.objects.filter(rule=rule).values("id", "status", "created_at").first()
        if f is not None:
            last[rule.pk] = f
    return [
        rule_out(
            r,
            {"done": r.done, "failed": r.failed},
            last.get(r.pk),
        )
        for r in rules
    ]


def get_rule(*, actor: User, rule_id: int) -> dict[str, Any]:
    require_perm(actor, DESIGN)
    rule = Rule.objects.select_related("run_as").filter(pk=rule_id).first()
    if rule is None:
        raise NotFound()
    agg = RuleFiring.objects.filter(rule=rule).aggregate(
        done=Count("id", filter=Q(status=RuleFiring.Status.DONE)),
        failed=Count("id", filter=Q(status=RuleFiring.Status.FAILED)),
    )
    last = RuleFiring.objects.filter(rule=rule).values("id", "status", "created_at").first()
    return rule_out(rule, {"done": agg["done"], "failed": agg["failed"]}, last)


def firing_out(f: RuleFiring) -> dict[str, Any]:
    return {
        "id": f.pk,
        "rule_id": f.rule_id,
        "rule_name": f.rule.name,
        "key": f.key,
        "record_type": f.record_type,
        "record_id": f.record_id,
        "record_label": f.record_label,
        "trigger_type": f.trigger_type,
        "occurrence": f.occurrence,
        "occurred_at": f.occurred_at,
        "status": f.status,
        "results": f.results,
        "error": f.error,
        "attempts": f.attempts,
        "created_at": f.created_at,
        "started_at": f.started_at,
        "finished_at": f.finished_at,
        "duration_ms": f.duration_ms,
    }


def firings(
    *,
    actor: User,
    params: PageParams,
    rule_id: int | None = None,
    status: str | None = None,
    record_type: str | None = None,
    record_id: int | None = None,
) -> dict[str, Any]:
    require_perm(actor, DESIGN)
    qs = RuleFiring.objects.select_related("rule").order_by("-id")
    if rule_id is not None:
        qs = qs.filter(rule_id=rule_id)
    if status:
        if status not in RuleFiring.Status.values:
            raise ValidationFailed({"status": message("field.invalid_choice")})
        qs = qs.filter(status=status)
    if record_type:
        qs = qs.filter(record_type=record_type)
    if record_id is not None:
        qs = qs.filter(record_id=record_id)
    page = paginate(qs, params)
    page["items"] = [firing_out(f) for f in page["items"]]
    return page


def actions_catalogue(*, actor: User) -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    return [
        {
            "name": a.name,
            "label": a.label_zh,
            "label_en": a.label_en,
            "params": [
                {
                    "key": p.key,
                    "label": p.label_zh,
                    "label_en": p.label_en,
                    "type": p.type,
                    "required": p.required,
                    "options": [
                        {"value": v, "label": zh, "label_en": en} for v, zh, en in p.options
                    ],
                    "default": p.default,
                }
                for p in a.params
            ],
            "record_types": list(a.record_types),
        }
        for a in registry.all_actions()
    ]


def record_types(*, actor: User) -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    from loandesk.forms.models import FormDefinition

    forms = [
        {"code": code, "name": name}
        for code, name in FormDefinition.objects.filter(
            current_version__isnull=False, is_active=True
        )
        .order_by("id")
        .values_list("code", "name")
    ]
    return [
        {
            "key": t.key,
            "label": t.label_zh,
            "label_en": t.label_en,
            "needs_form": t.needs_form,
            "topics": [
                {"topic": topic, "label": zh, "label_en": en}
                for topic, (zh, en) in t.topics.items()
            ],
            "forms": forms if t.needs_form else [],
        }
        for t in records.record_types()
    ]


def _type(record_type: str) -> records.RecordType:
    rtype = records.record_type(record_type)
    if rtype is None:
        raise ValidationFailed({"record_type": message("rules.record_type_invalid")})
    return rtype


def fields(*, actor: User, record_type: str, form_code: str = "") -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    return [f.as_dict() for f in _type(record_type).fields(form_code)]


def search_records(
    *, actor: User, record_type: str, form_code: str = "", q: str = ""
) -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    return _type(record_type).search(actor, q[:50], form_code)
