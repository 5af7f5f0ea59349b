"""Form schemas: design-time checks and compilation for the submission pipeline (plain Python).

`analyse(schema)` walks a draft once, returning every problem it finds (each with the field key,
a path, a message code and, for formulas, the character position) and — when there are none —
a `CompiledForm`: fields with parsed settings, compiled formulas and the evaluation order, so a
submission does no parsing at all. Published versions are compiled once per process and cached
by version id (they never change).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from loandesk.core import expression
from loandesk.forms.fieldtypes import (
    TYPES,
    VALIDATION_NAMES,
    AmountCapitalType,
    FieldDef,
    FieldError,
    FormulaType,
    LookupType,
    RelationType,
    SchemaError,
    SerialType,
    SubtableType,
    formula_kind,
)

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
KEY_MAX = 40
# Built-in record attributes: list columns and sorts use these names, so fields cannot.
BUILTIN_COLUMNS = ("serial_no", "owner", "created_at", "updated_at")
RESERVED_KEYS = frozenset(
    {*BUILTIN_COLUMNS, "id", "form", "version", "data", "sms_code", "website"}
)
FIELD_PROPERTIES = frozenset(
    {
        "key", "type", "label", "label_en", "placeholder", "help", "required", "default",
        "validation", "options", "formula", "visible_when", "permissions", "indexed", "internal",
        "settings", "children", "ui",
    }
)  # fmt: skip
CHILD_PROPERTIES = FIELD_PROPERTIES - {"permissions", "indexed", "internal", "children"}
SCHEMA_PROPERTIES = frozenset({"fields", "list_columns", "customer_fields", "ui"})
CUSTOMER_FIELD_TYPES = {"name": ("text",), "id_number": ("id_number",), "phone": ("phone",)}
CUSTOMER_LOOKUP_FIELDS = frozenset({"label", "name"})
MODES = ("hidden", "readonly", "editable")
HIDDEN, READONLY, EDITABLE = MODES
MAX_FIELDS = 300
MAX_OPTIONS = 500
MAX_LIST_COLUMNS = 12
# Key-field columns per kind on the record table (see docs/adr/0003-form-record-index.md).
INDEX_SLOTS = {"text": 8, "number": 6, "date": 4}


@dataclass
class Problem:
    key: str  # the field key ("" for the form itself); "sub.child" inside sub-tables
    path: str  # where in the schema, e.g. "fields[3].validation.min"
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    position: int | None = None  # character offset inside a formula
    # The expression engine's own error behind a formula or condition problem.
    cause_code: str = ""
    cause_params: dict[str, Any] = field(default_factory=dict)


@dataclass
class CompiledForm:
    fields: list[FieldDef]  # top level, schema order, layout included
    order: list[FieldDef]  # value fields in evaluation order
    by_key: dict[str, FieldDef]
    list_columns: list[str]
    customer_fields: dict[str, str]
    raw: dict[str, Any]
    serial: FieldDef | None = None
    unique: list[FieldDef] = field(default_factory=list)

    def value_fields(self) -> list[FieldDef]:
        return [f for f in self.fields if not f.type.layout]

    def walk(self) -> Iterator[tuple[FieldDef | None, FieldDef]]:
        """(parent sub-table or None, field) for every value field, children included."""
        for f in self.value_fields():
            yield None, f
            for child in f.children:
                if not child.type.layout:
                    yield f, child


RelatedFields = Callable[[str], "set[str] | None"]


class _Analyser:
    def __init__(self, schema: Any, *, code: str, related_fields: RelatedFields | None) -> None:
        self.schema = schema
        self.code = code
        self.related_fields = related_fields
        self.problems: list[Problem] = []
        self.today = date.today()

    def add(self, key: str, path: str, code: str, /, **params: Any) -> None:
        self.problems.append(Problem(key, path, code, params))

    # --- fields --------------------------------------------------------------------------

    def build(self, raw: Any, path: str, *, child_of: str | None) -> FieldDef | None:
        label_key = f"{child_of}.{raw.get('key')}" if child_of and isinstance(raw, dict) else ""
        if not isinstance(raw, dict):
            self.add("", path, "forms.schema.not_object")
            return None
        key = raw.get("key")
        shown = (label_key or key) if isinstance(key, str) else ""
        if not isinstance(key, str) or not KEY_RE.match(key):
            self.add(shown, f"{path}.key", "forms.schema.key_invalid", max=KEY_MAX)
            return None
        if key in RESERVED_KEYS:
            self.add(shown, f"{path}.key", "forms.schema.key_reserved", key=key)
            return None
        type_name = raw.get("type")
        ftype = TYPES.get(type_name) if isinstance(type_name, str) else None
        if ftype is None:
            self.add(shown, f"{path}.type", "forms.schema.type_unknown", type=str(type_name))
            return None
        allowed = CHILD_PROPERTIES if child_of else FIELD_PROPERTIES
        for name in raw:
            if name not in allowed:
                self.add(shown, f"{path}.{name}", "forms.schema.unknown_property", name=name)
        label = raw.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 100:
            self.add(shown, f"{path}.label", "forms.schema.label_missing")
            label = key
        f = FieldDef(key=key, type=ftype, label=label.strip(), raw=raw)
        f.label_en = self.string(raw, "label_en", shown, path)
        for flag in ("required", "indexed", "internal"):
            value = raw.get(flag, False)
            if not isinstance(value, bool):
                self.add(shown, f"{path}.{flag}", "forms.schema.bad_value", name=flag)
                value = False
            setattr(f, flag, value)
        f.validation = self.mapping(raw, "validation", shown, path, ftype.validation)
        f.settings = self.mapping(raw, "settings", shown, path, ftype.settings)
        f.unique = f.validation.get("unique") is True
        if f.unique:
            if child_of or ftype.index_kind is None:
                self.add(shown, f"{path}.validation.unique", "forms.schema.unique_not_supported")
            f.indexed = True
        if f.indexed and ftype.index_kind is None and not isinstance(ftype, FormulaType):
            self.add(shown, f"{path}.indexed", "forms.schema.index_not_supported")
            f.indexed = False
        self.options(f, shown, path)
        self.permissions(f, shown, path)
        try:
            ftype.prepare(f)
        except SchemaError as exc:
            self.add(shown, f"{path}.{exc.where}", exc.code, **exc.params)
        if "visible_when" in raw and raw["visible_when"] is not None:
            f.visible_when = raw["visible_when"]
        if ftype.input and not ftype.layout and "default" in raw and raw["default"] is not None:
            try:
                f.extra["default"] = ftype.clean(raw["default"], f, self.today)
            except FieldError:
                self.add(shown, f"{path}.default", "forms.schema.bad_value", name="default")
        if isinstance(ftype, FormulaType):
            text = raw.get("formula")
            if not isinstance(text, str) or not text.strip():
                self.add(shown, f"{path}.formula", "forms.schema.formula_missing")
            else:
                f.formula_text = text.strip()
        if isinstance(ftype, SubtableType):
            self.children(f, shown, path)
        elif "children" in raw:
            self.add(shown, f"{path}.children", "forms.schema.unknown_property", name="children")
        return f

    def string(self, raw: dict[str, Any], name: str, shown: str, path: str) -> str:
        value = raw.get(name, "")
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > 500:
            self.add(shown, f"{path}.{name}", "forms.schema.bad_value", name=name)
            return ""
        return value

    def mapping(
        self, raw: dict[str, Any], name: str, shown: str, path: str, allowed: Iterable[str]
    ) -> dict[str, Any]:
        value = raw.get(name) or {}
        if not isinstance(value, dict):
            self.add(shown, f"{path}.{name}", "forms.schema.not_object")
            return {}
        allowed = set(allowed)
        for item in value:
            if item not in allowed:
                known = item in VALIDATION_NAMES if name == "validation" else False
                code = "forms.schema.bad_value" if known else "forms.schema.unknown_property"
                self.add(shown, f"{path}.{name}.{item}", code, name=item)
        return {k: v for k, v in value.items() if k in allowed}

    def options(self, f: FieldDef, shown: str, path: str) -> None:
        raw = f.raw.get("options")
        if not f.type.has_options:
            if raw:
                self.add(shown, f"{path}.options", "forms.schema.unknown_property", name="options")
            return
        if not isinstance(raw, list) or not raw:
            self.add(shown, f"{path}.options", "forms.schema.options_missing")
            return
        seen: set[str] = set()
        for i, option in enumerate(raw[:MAX_OPTIONS]):
            where = f"{path}.options[{i}]"
            if (
                not isinstance(option, dict)
                or not isinstance(option.get("value"), str)
                or not option["value"].strip()
                or len(option["value"]) > 100
                or "," in option["value"]
                or not isinstance(option.get("label"), str)
                or not option["label"].strip()
            ):
                self.add(shown, where, "forms.schema.option_invalid")
                continue
            if option["value"] in seen:
                self.add(shown, where, "forms.schema.option_duplicate", value=option["value"])
                continue
            seen.add(option["value"])
            clean = {"value": option["value"], "label": option["label"]}
            if isinstance(option.get("label_en"), str) and option["label_en"]:
                clean["label_en"] = option["label_en"]
            f.options.append(clean)
        if len(raw) > MAX_OPTIONS:
            self.add(shown, f"{path}.options", "forms.schema.bad_value", name="options")
        f.option_values = frozenset(seen)

    def permissions(self, f: FieldDef, shown: str, path: str) -> None:
        raw = f.raw.get("permissions") or {}
        if not isinstance(raw, dict):
            self.add(shown, f"{path}.permissions", "forms.schema.not_object")
            return
        for role, mode in raw.items():
            if not isinstance(role, str) or mode not in MODES:
                self.add(shown, f"{path}.permissions", "forms.schema.permission_mode")
                return
        f.permissions = dict(raw)

    def children(self, f: FieldDef, shown: str, path: str) -> None:
        raw = f.raw.get("children")
        if not isinstance(raw, list) or not raw:
            self.add(shown, f"{path}.children", "forms.schema.children_missing")
            return
        seen: set[str] = set()
        for i, child_raw in enumerate(raw):
            where = f"{path}.children[{i}]"
            child = self.build(child_raw, where, child_of=f.key)
            if child is None:
                continue
            if not child.type.allowed_in_subtable:
                name = f"{f.key}.{child.key}"
                self.add(name, f"{where}.type", "forms.schema.child_type", type=child.type.name)
                continue
            if child.key in seen:
                name = f"{f.key}.{child.key}"
                self.add(name, f"{where}.key", "forms.schema.key_duplicate", key=child.key)
                continue
            seen.add(child.key)
            f.children.append(child)

    # --- the whole form ------------------------------------------------------------------

    def run(self) -> CompiledForm | None:
        schema = self.schema
        if not isinstance(schema, dict):
            self.add("", "", "forms.schema.not_object")
            return None
        for name in schema:
            if name not in SCHEMA_PROPERTIES:
                self.add("", name, "forms.schema.unknown_property", name=name)
        raw_fields = schema.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            self.add("", "fields", "forms.schema.fields_missing")
            return None
        fields: list[FieldDef] = []
        by_key: dict[str, FieldDef] = {}
        total = 0
        for i, raw in enumerate(raw_fields):
            f = self.build(raw, f"fields[{i}]", child_of=None)
            if f is None:
                continue
            total += 1 + len(f.children)
            if f.key in by_key:
                self.add(f.key, f"fields[{i}].key", "forms.schema.key_duplicate", key=f.key)
                continue
            by_key[f.key] = f
            fields.append(f)
        if total > MAX_FIELDS:
            self.add("", "fields", "forms.schema.too_many_fields", max=MAX_FIELDS)
        for f in fields:
            for child in f.children:
                if child.key in by_key:
                    name = f"{f.key}.{child.key}"
                    self.add(name, "fields", "forms.schema.key_duplicate", key=child.key)
        serials = [f for f in fields if isinstance(f.type, SerialType)]
        for extra in serials[1:]:
            self.add(extra.key, "fields", "forms.schema.serial_multiple")
        self.references(fields, by_key)
        order = self.dependencies(fields, by_key)
        list_columns = self.list_columns(schema.get("list_columns"), by_key)
        customer_fields = self.customer_fields(schema.get("customer_fields"), by_key)
        self.index_capacity(fields)
        if self.problems:
            return None
        return CompiledForm(
            fields=fields,
            order=order,
            by_key=by_key,
            list_columns=list_columns,
            customer_fields=customer_fields,
            raw=schema,
            serial=serials[0] if serials else None,
            unique=[f for f in fields if f.unique],
        )

    def references(self, fields: list[FieldDef], by_key: dict[str, FieldDef]) -> None:
        """Formulas, conditions, sources and lookups, checked against the fields in scope."""
        top_formula = {f.key for f in fields if formula_kind(f) not in (None, "rows")}
        subtables = {
            f.key: {c.key for c in f.children if formula_kind(c) not in (None, "rows")}
            for f in fields
            if f.children
        }
        top_all = {f.key for f in fields if not f.type.layout}
        for f in fields:
            self.field_references(f, f.key, top_formula, subtables, top_all, by_key)
            scope_formula = top_formula | {c.key for c in f.children if formula_kind(c)}
            scope_all = top_all | {c.key for c in f.children if not c.type.layout}
            scope_by_key = {**by_key, **{c.key: c for c in f.children}}
            for child in f.children:
                self.field_references(
                    child, f"{f.key}.{child.key}", scope_formula, {}, scope_all, scope_by_key
                )

    def field_references(
        self,
        f: FieldDef,
        shown: str,
        formula_names: set[str],
        subtables: dict[str, set[str]],
        all_names: set[str],
        by_key: dict[str, FieldDef],
    ) -> None:
        deps: set[str] = set()
        if f.formula_text:
            try:
                f.formula = expression.check_formula(f.formula_text, formula_names, subtables)
            except expression.FormulaError as exc:
                position = getattr(exc, "position", None)
                self.problems.append(
                    Problem(
                        shown,
                        f"{shown}.formula",
                        "forms.schema.formula",
                        {"position": position},
                        position,
                        exc.code,
                        dict(getattr(exc, "params", None) or {}),
                    )
                )
            else:
                deps |= {ref.split(".", 1)[0] for ref in f.formula.references}
        if f.visible_when is not None:
            try:
                expression.check_condition(f.visible_when, all_names)
            except expression.ConditionError as exc:
                self.problems.append(
                    Problem(
                        shown,
                        f"{shown}.visible_when",
                        "forms.schema.condition",
                        cause_code=exc.code,
                        cause_params=dict(getattr(exc, "params", None) or {}),
                    )
                )
            else:
                refs = {
                    str(ref).split(".", 1)[0] for ref in expression.condition_fields(f.visible_when)
                }
                deps |= refs
                f.extra["condition_keys"] = tuple(sorted(refs))
        if isinstance(f.type, AmountCapitalType):
            source = by_key.get(f.settings.get("source", ""))
            money_like = source is not None and (
                source.type.name == "money"
                or (
                    isinstance(source.type, FormulaType)
                    and source.settings.get("result_type") in ("money", "number")
                )
            )
            if not money_like:
                self.add(shown, f"{shown}.settings.source", "forms.schema.source_invalid")
            else:
                deps.add(f.settings["source"])
        if isinstance(f.type, LookupType):
            self.lookup(f, shown, by_key)
            deps.add(str(f.settings.get("relation")))
        if isinstance(f.type, RelationType) and f.settings.get("target") == "record":
            related = self.related(str(f.settings.get("form")))
            if related is None:
                form_code = f.settings.get("form")
                self.add(
                    shown, f"{shown}.settings.form", "forms.schema.relation_form", form=form_code
                )
        f.deps = frozenset(deps)

    def related(self, code: str) -> set[str] | None:
        if code == self.code:
            fields = self.schema.get("fields") if isinstance(self.schema, dict) else None
            return {
                str(f["key"])
                for f in fields or []
                if isinstance(f, dict) and isinstance(f.get("key"), str)
            }
        return self.related_fields(code) if self.related_fields else None

    def lookup(self, f: FieldDef, shown: str, by_key: dict[str, FieldDef]) -> None:
        relation = by_key.get(str(f.settings.get("relation")))
        if relation is None or not isinstance(relation.type, RelationType):
            self.add(shown, f"{shown}.settings.relation", "forms.schema.lookup_relation")
            return
        f.extra["relation_field"] = relation
        looked = f.settings.get("field", "label")
        if relation.settings.get("target", "customer") == "customer":
            if looked not in CUSTOMER_LOOKUP_FIELDS:
                self.add(
                    shown, f"{shown}.settings.field", "forms.schema.lookup_field", field=looked
                )
            return
        related = self.related(str(relation.settings.get("form")))
        if related is not None and looked != "label" and looked not in related:
            self.add(shown, f"{shown}.settings.field", "forms.schema.lookup_field", field=looked)

    def dependencies(self, fields: list[FieldDef], by_key: dict[str, FieldDef]) -> list[FieldDef]:
        """Evaluation order (schema order where free); a cycle is a problem."""
        for f in fields:
            if f.children:
                child_keys = {c.key for c in f.children}
                outer: set[str] = set()
                for child in f.children:
                    outer |= child.deps - child_keys
                    child.deps = child.deps & child_keys
                f.deps = f.deps | outer
                f.order = self.ordered(f.children, f"{f.key}.")
        return self.ordered([f for f in fields if not f.type.layout], "")

    def ordered(self, fields: list[FieldDef], prefix: str) -> list[FieldDef]:
        keys = {f.key for f in fields}
        pending = {f.key: {d for d in f.deps if d in keys} for f in fields}
        position = {f.key: i for i, f in enumerate(fields)}
        by_key = {f.key: f for f in fields}
        done: list[FieldDef] = []
        while pending:
            ready = sorted((k for k, deps in pending.items() if not deps), key=position.__getitem__)
            if not ready:
                cycle = _find_cycle(pending)
                path = " → ".join(prefix + k for k in cycle)
                self.add(prefix + cycle[0], "fields", "forms.schema.cycle", path=path)
                return done + [by_key[k] for k in sorted(pending, key=position.__getitem__)]
            for k in ready:
                done.append(by_key[k])
                del pending[k]
            for deps in pending.values():
                deps.difference_update(ready)
        return done

    def list_columns(self, raw: Any, by_key: dict[str, FieldDef]) -> list[str]:
        if raw is None:  # default: the serial number and the first few simple fields
            picked = [
                f.key
                for f in by_key.values()
                if not f.children and not f.type.layout and f.type.name != "serial"
            ]
            has_serial = any(f.type.name == "serial" for f in by_key.values())
            return (["serial_no"] if has_serial else []) + picked[:5]
        if not isinstance(raw, list) or len(raw) > MAX_LIST_COLUMNS:
            self.add("", "list_columns", "forms.schema.bad_value", name="list_columns")
            return []
        out = []
        for key in raw:
            known = key in BUILTIN_COLUMNS or (
                key in by_key and not by_key[key].type.layout and not by_key[key].children
            )
            if not isinstance(key, str) or not known:
                self.add("", "list_columns", "forms.schema.list_column", key=str(key))
            elif key not in out:
                out.append(key)
        return out

    def customer_fields(self, raw: Any, by_key: dict[str, FieldDef]) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.add("", "customer_fields", "forms.schema.not_object")
            return {}
        out: dict[str, str] = {}
        before = len(self.problems)
        for role, key in raw.items():
            f = by_key.get(key) if isinstance(key, str) else None
            if role == "relation":
                ok = f is not None and isinstance(f.type, RelationType)
                ok = ok and f is not None and f.settings.get("target", "customer") == "customer"
            else:
                ok = f is not None and f.type.name in CUSTOMER_FIELD_TYPES.get(role, ())
            if not ok:
                self.add("", f"customer_fields.{role}", "forms.schema.public_mapping", key=str(key))
            else:
                out[role] = str(key)
        if len(self.problems) == before and not {"name", "relation"} <= set(out):
            self.add("", "customer_fields", "forms.schema.public_mapping", key="name/relation")
        return out

    def index_capacity(self, fields: list[FieldDef]) -> None:
        counts: dict[str, int] = {}
        for f in fields:
            if f.indexed and f.type.name != "serial":
                kind = f.type.index_kind_of(f)
                if kind is None:
                    self.add(f.key, f.key, "forms.schema.index_not_supported")
                    continue
                counts[kind] = counts.get(kind, 0) + 1
        for kind, count in counts.items():
            if count > INDEX_SLOTS[kind]:
                self.add("", "fields", "forms.schema.index_full", kind=kind, max=INDEX_SLOTS[kind])


def _find_cycle(pending: dict[str, set[str]]) -> list[str]:
    start = next(iter(sorted(pending)))
    seen: list[str] = []
    node = start
    while node not in seen:
        seen.append(node)
        node = sorted(pending[node])[0]
    return [*seen[seen.index(node) :], node]


def analyse(
    schema: Any, *, code: str = "", related_fields: RelatedFields | None = None
) -> tuple[CompiledForm | None, list[Problem]]:
    analyser = _Analyser(schema, code=code, related_fields=related_fields)
    compiled = analyser.run()
    return compiled, analyser.problems


class SchemaInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} schema problems")
        self.problems = problems


def compile_schema(
    schema: Any, *, code: str = "", related_fields: RelatedFields | None = None
) -> CompiledForm:
    compiled, problems = analyse(schema, code=code, related_fields=related_fields)
    if compiled is None:
        raise SchemaInvalid(problems)
    return compiled
