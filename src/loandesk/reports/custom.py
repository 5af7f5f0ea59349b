"""Admin-defined metrics over form records: count / sum / avg / distinct of a key field, with
filters on key fields. Key fields live in indexed slot columns of forms_record (ADR 0003), so
these metrics aggregate and filter with plain SQL like the built-in ones."""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from loandesk.accounts.scoping import ScopeSpec
from loandesk.core.errors import ValidationFailed
from loandesk.reports.metrics import Metric, Source

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains")
# Key fields whose column holds a keyed hash, not the value: they cannot be compared.
HASHED_TYPES = ("phone", "id_number", "bank_card")
NUMBER_TYPES = ("number", "money", "percent", "rating", "slider", "formula")
# How a metric's value is shown: counts for count/distinct; sums and averages as a plain number,
# yuan (the slot holds yuan; the engine carries fen) or a percent.
VALUE_UNITS = ("number", "money", "percent")
PREVIEW_KEY = "_preview"  # never a valid saved key (services._KEY), so it cannot collide
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _fields(schema: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def walk(items: Any) -> None:
        for item in items or []:
            if isinstance(item, dict) and item.get("key"):
                out.setdefault(str(item["key"]), item)
                if item.get("type") != "subtable":
                    walk(item.get("fields"))

    walk((schema or {}).get("fields") if isinstance(schema, dict) else None)
    return out


def form_fields(form: Any) -> dict[str, dict[str, Any]]:
    version = form.current_version
    return _fields(version.schema if version else {})


def key_fields(form: Any) -> list[dict[str, Any]]:
    """The form's key fields usable in metrics: {key, label, label_en, type, slot}."""
    fields = form_fields(form)
    out = []
    for key, slot in (form.index_slots or {}).items():
        f = fields.get(key, {})
        if f.get("type") in HASHED_TYPES:
            continue
        out.append(
            {
                "key": key,
                "label": f.get("label", key),
                "label_en": f.get("label_en", "") or key,
                "type": f.get("type", ""),
                "slot": slot,
                # Choices of select/radio fields, for the filter builder's value picker.
                "options": [
                    {
                        "value": str(o.get("value")),
                        "label": str(o.get("label") or o.get("value")),
                        "label_en": str(o.get("label_en") or o.get("label") or o.get("value")),
                    }
                    for o in f.get("options") or []
                    if isinstance(o, dict) and o.get("value") not in (None, "")
                ][:200],
            }
        )
    return out


def _slot(form: Any, key: str, name: str = "field") -> tuple[str, dict[str, Any]]:
    slot = (form.index_slots or {}).get(key)
    field = form_fields(form).get(key, {})
    if not slot or field.get("type") in HASHED_TYPES:
        raise ValidationFailed.field(name, "reports.field_not_indexed", field=key[:64])
    return str(slot), field


def _coerce(slot: str, value: Any, name: str) -> Any:
    if slot.startswith("k_n"):
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise ValidationFailed.field(name, "reports.filter_not_number")
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValidationFailed.field(name, "reports.filter_not_number") from None
        if not number.is_finite() or abs(number) >= Decimal("1e15"):
            raise ValidationFailed.field(name, "reports.filter_not_number")
        return number
    if slot.startswith("k_d"):
        text = str(value) if isinstance(value, str) else ""
        try:
            if not _ISO_DATE.match(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            raise ValidationFailed.field(name, "reports.filter_not_date") from None
    if not isinstance(value, str | int) or isinstance(value, bool) or len(str(value)) > 255:
        raise ValidationFailed.field(name, "reports.bad_filter", key=name)
    return str(value)


def filters_q(form: Any, filters: Any) -> Q:
    """Q over slot columns for [{field, op, value}], validated."""
    if filters in (None, []):
        return Q()
    if not isinstance(filters, list) or len(filters) > 20:
        raise ValidationFailed.field("filters", "reports.bad_filter", key="filters")
    q = Q()
    for i, item in enumerate(filters):
        name = f"filters[{i}]"
        if not isinstance(item, dict):
            raise ValidationFailed.field(name, "reports.bad_filter", key=name)
        op = item.get("op", "eq")
        if op not in OPERATORS:
            raise ValidationFailed.field(name, "reports.bad_operator", op=str(op)[:20])
        slot, _ = _slot(form, str(item.get("field", "")), name)
        value = item.get("value")
        if op == "in":
            if not isinstance(value, list) or not value or len(value) > 200:
                raise ValidationFailed.field(name, "reports.bad_filter", key=name)
            q &= Q(**{f"{slot}__in": [_coerce(slot, v, name) for v in value]})
        elif op == "contains":
            if not slot.startswith("k_t"):
                raise ValidationFailed.field(name, "reports.bad_operator", op=op)
            q &= Q(**{f"{slot}__contains": _coerce(slot, value, name)})
        elif op == "ne":
            q &= ~Q(**{slot: _coerce(slot, value, name)})
        elif op == "eq":
            q &= Q(**{slot: _coerce(slot, value, name)})
        else:
            q &= Q(**{f"{slot}__{op}": _coerce(slot, value, name)})
    return q


def build_metric(row: Any) -> Metric:
    """The Metric of a CustomMetric row (its form, aggregation, field and filters)."""
    form = row.form
    where = filters_q(form, row.filters)
    form_id = form.pk
    source = Source(
        f"form:{form_id}",
        "forms.Record",
        ScopeSpec(),
        "created_at",
        dims={"channel": "customer__source_channel", "region": "customer__province_code"},
        base=lambda: Q(form_id=form_id) & where,
        records="records",
    )
    agg = row.aggregation
    unit = row.unit or "count"
    if agg == "count":
        parts: Any = lambda: {"v": Count("pk")}  # noqa: E731
        value: Any = lambda p: p.get("v") or 0  # noqa: E731
    else:
        slot, _ = _slot(form, row.field)
        scale = 100 if unit == "money" else 1  # slots hold yuan; money metrics carry fen
        if agg == "distinct":
            parts = lambda: {"v": Count(slot, distinct=True)}  # noqa: E731
            value = lambda p: p.get("v") or 0  # noqa: E731
        elif agg == "sum":
            parts = lambda: {"v": Sum(slot)}  # noqa: E731
            value = lambda p: Decimal(str(p.get("v") or 0)) * scale  # noqa: E731
        else:
            parts = lambda: {"s": Sum(slot), "n": Count(slot)}  # noqa: E731
            value = lambda p: (  # noqa: E731
                Decimal(str(p["s"])) * scale / p["n"] if p.get("n") else None
            )
    return Metric(
        key=f"custom.{row.key}",
        label_zh=row.label,
        label_en=row.label_en or row.label,
        unit=unit,
        source=source.key,
        parts=parts,
        value=value,
        default_dimension="time",
        default_chart="line",
        group="custom",
        custom_source=source,
        additive=agg != "distinct",
    )


# Metrics being previewed (not saved): resolve_metric finds them here first.
_TRANSIENT: ContextVar[Mapping[str, Metric] | None] = ContextVar("reports_transient", default=None)


@contextmanager
def transient_metric(metric: Metric) -> Iterator[None]:
    """Makes an unsaved metric resolvable by its key while the block runs (the preview)."""
    token = _TRANSIENT.set({**(_TRANSIENT.get() or {}), metric.key: metric})
    try:
        yield
    finally:
        _TRANSIENT.reset(token)


def custom_metric(key: str) -> Metric | None:
    from loandesk.reports.models import CustomMetric

    found = (_TRANSIENT.get() or {}).get(f"custom.{key}")
    if found is not None:
        return found

    row = CustomMetric.objects.select_related("form__current_version").filter(key=key).first()
    return build_metric(row) if row is not None else None


def default_unit(aggregation: str, field: Mapping[str, Any]) -> str:
    if aggregation in ("count", "distinct"):
        return "count"
    return {"money": "money", "percent": "percent"}.get(str(field.get("type")), "number")


def clean_metric(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validates a custom metric's definition (all but its key): label, form, aggregation,
    field, filters, unit. Raises ValidationFailed naming the field; writes nothing."""
    from loandesk.core.i18n import message
    from loandesk.forms.models import FormDefinition
    from loandesk.reports.models import CustomMetric

    label = str(data.get("label") or "").strip()
    if not label or len(label) > 100:
        raise ValidationFailed.field("label", "reports.name_required")
    code = str(data.get("form") or "")
    form = (
        FormDefinition.objects.select_related("current_version")
        .filter(code=code, is_active=True, current_version__isnull=False)
        .first()
    )
    if form is None:
        raise ValidationFailed.field("form", "reports.unknown_form", code=code[:50])
    aggregation = data.get("aggregation")
    if aggregation not in CustomMetric.Aggregation.values:
        raise ValidationFailed.field("aggregation", "reports.bad_aggregation")
    field = str(data.get("field") or "")
    spec: dict[str, Any] = {}
    if aggregation != "count":
        if not field:
            raise ValidationFailed.field("field", "reports.field_required")
        slot, spec = _slot(form, field)
        # A relation (customer id) also sits in a number slot: only real numbers add up.
        number = slot.startswith("k_n") and spec.get("type") in NUMBER_TYPES
        if aggregation in ("sum", "avg") and not number:
            raise ValidationFailed.field(
                "field", "reports.field_not_number", agg=message(f"reports.agg_{aggregation}")
            )
    else:
        field = ""
    unit = data.get("unit") or default_unit(str(aggregation), spec)
    allowed = ("count",) if aggregation in ("count", "distinct") else VALUE_UNITS
    if unit not in allowed:
        raise ValidationFailed.field("unit", "reports.bad_unit")
    filters = data.get("filters") or []
    filters_q(form, filters)  # validates
    return {
        "label": label,
        "label_en": str(data.get("label_en") or "").strip()[:100],
        "form": form,
        "aggregation": aggregation,
        "field": field,
        "filters": [
            {"field": str(f["field"]), "op": f.get("op", "eq"), "value": f.get("value")}
            for f in filters
        ],
        "unit": unit,
    }
