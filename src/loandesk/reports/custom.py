"""Admin-defined metrics over form records: count / sum / avg / distinct of a key field, with
filters on key fields. Key fields live in indexed slot columns of forms_record (ADR 0003), so
these metrics aggregate and filter with plain SQL like the built-in ones."""

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
            }
        )
    return out


def _slot(form: Any, key: str) -> tuple[str, dict[str, Any]]:
    slot = (form.index_slots or {}).get(key)
    field = form_fields(form).get(key, {})
    if not slot or field.get("type") in HASHED_TYPES:
        raise ValidationFailed.field("field", "reports.field_not_indexed", field=key)
    return str(slot), field


def _coerce(slot: str, value: Any, name: str) -> Any:
    if slot.startswith("k_n"):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            raise ValidationFailed.field(name, "reports.bad_filter", key=name) from None
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
        slot, _ = _slot(form, str(item.get("field", "")))
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
        slot, field = _slot(form, row.field)
        scale = 100 if field.get("type") == "money" else 1  # money slots hold yuan
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


def custom_metric(key: str) -> Metric | None:
    from loandesk.reports.models import CustomMetric

    row = CustomMetric.objects.select_related("form__current_version").filter(key=key).first()
    return build_metric(row) if row is not None else None
