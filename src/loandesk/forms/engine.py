"""The submission pipeline (plain Python): one function for the app, public links, live
evaluation and `validate_form_data`.

For each field in dependency order: evaluate its visibility condition (a hidden field is neither
required nor stored, whatever the client sent) → take its value by the caller's field permission
(editable: from the input; read-only or hidden: the old value) → normalise and validate it by type,
or compute it (formulas, 大写金额, looked-up values) → required check → reference check (through
the resolver, which knows the database and the actor's data scope). Sub-table rows run the same
steps per cell. Nothing is written here; the service stores the outcome when it has no errors.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from loandesk.core.expression import evaluate_condition
from loandesk.forms.fieldtypes import (
    AmountCapitalType,
    FieldDef,
    FieldError,
    FormulaType,
    LookupType,
    SerialType,
    is_empty,
)
from loandesk.forms.schema import EDITABLE, READONLY, CompiledForm

logger = logging.getLogger(__name__)

# Types whose values point at other rows; the resolver checks them.
REFERENCE_TYPES = frozenset({"user", "department", "relation", "image", "attachment", "signature"})


class Resolver(Protocol):
    def check(self, f: FieldDef, value: Any, old: Any) -> FieldError | None:
        """Is the referenced user/department/customer/record/upload there and visible?"""

    def lookup(self, f: FieldDef, relation: FieldDef, ref: Any) -> Any:
        """The value a lookup field shows for the related object `ref`."""


@dataclass
class Outcome:
    data: dict[str, Any] = field(default_factory=dict)  # stored values, empty ones left out
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    visible: dict[str, bool] = field(default_factory=dict)


class _Run:
    def __init__(
        self,
        form: CompiledForm,
        raw: Mapping[str, Any],
        *,
        old: Mapping[str, Any] | None,
        modes: Mapping[str, str],
        partial: bool,
        resolver: Resolver | None,
        today: date,
        check_references: bool,
    ) -> None:
        self.form = form
        self.raw = raw
        self.old = old
        self.modes = modes
        self.partial = partial
        self.resolver = resolver
        self.today = today
        self.check_references = check_references and resolver is not None
        self.out = Outcome()

    def error(self, path: str, code: str, params: dict[str, Any] | None = None) -> None:
        self.out.errors.setdefault(path, (code, params or {}))

    def visible(self, f: FieldDef, conds: Mapping[str, Any]) -> bool:
        if f.visible_when is None:
            return True
        # Only the fields the condition reads: the engine converts its data to JSON values.
        data = {key: conds.get(key) for key in f.extra.get("condition_keys", ())}
        try:
            return evaluate_condition(f.visible_when, data)
        except Exception:  # a condition that cannot be evaluated hides nothing it guards
            logger.debug("condition of %s failed", f.key, exc_info=True)
            return False

    def derive(
        self,
        f: FieldDef,
        typed: Mapping[str, Any],
        stored: Mapping[str, Any],
        old_value: Any,
    ) -> Any:
        ftype = f.type
        if isinstance(ftype, FormulaType):
            if f.formula is None:
                return None
            try:
                result = f.formula.evaluate(typed, today=self.today)
                return ftype.from_result(result, f)
            except Exception:  # empty inputs, division by zero…: the result is simply empty
                logger.debug("formula %s failed", f.key, exc_info=True)
                return None
        if isinstance(ftype, AmountCapitalType):
            return ftype.compute(typed.get(f.settings["source"]))
        if isinstance(ftype, LookupType):
            relation: FieldDef | None = f.extra.get("relation_field")
            ref = stored.get(relation.key) if relation is not None else None
            if relation is None or ref is None or self.resolver is None:
                return None
            return self.resolver.lookup(f, relation, ref)
        if isinstance(ftype, SerialType):
            return old_value  # assigned by the service when the record is first stored
        return None

    def take(
        self,
        f: FieldDef,
        path: str,
        raw: Mapping[str, Any],
        old: Mapping[str, Any] | None,
        mode: str,
    ) -> tuple[bool, Any]:
        """(keep going?, value) for an input field: from the input, the old data or the default."""
        old_value = old.get(f.key) if old is not None else None
        if mode != EDITABLE:
            return True, old_value if old is not None else f.extra.get("default")
        if f.key not in raw:
            if old is not None:
                return True, old_value
            if self.partial:
                return False, None
            return True, f.extra.get("default")
        value = raw[f.key]
        ftype = f.type
        if old_value is not None and ftype.pii and value == ftype.mask(old_value):
            return True, old_value  # the masked value sent back unchanged
        try:
            return True, ftype.clean(value, f, self.today)
        except FieldError as exc:
            self.error(path, exc.code, exc.params)
            return False, None

    def field(
        self,
        f: FieldDef,
        path: str,
        raw: Mapping[str, Any],
        old: Mapping[str, Any] | None,
        mode: str,
        typed: dict[str, Any],
        conds: dict[str, Any],
        stored: dict[str, Any],
    ) -> None:
        ftype = f.type
        old_value = old.get(f.key) if old is not None else None
        typed_rows: list[dict[str, Any]] = []
        if ftype.derived:
            value = self.derive(f, typed, stored, old_value)
        elif ftype.has_children:
            result = self.rows(f, path, raw, old, mode, typed, conds)
            if result is None:
                return
            value, typed_rows = result
        else:
            keep, value = self.take(f, path, raw, old, mode)
            if not keep:
                return
            if f.required and mode == EDITABLE and ftype.is_blank(value):
                self.error(path, ftype.required_code)
                return
            if (
                self.resolver is not None
                and self.check_references
                and value is not None
                and ftype.name in REFERENCE_TYPES
                and value != old_value
            ):
                problem = self.resolver.check(f, value, old_value)
                if problem is not None:
                    self.error(path, problem.code, problem.params)
                    return
        if value is None or (isinstance(value, list | dict) and not value):
            typed[f.key] = None
            conds[f.key] = None
            return
        stored[f.key] = value
        if ftype.has_children:
            typed[f.key] = typed_rows
            conds[f.key] = value
        else:
            typed[f.key] = ftype.typed(value, f)
            conds[f.key] = ftype.cond(value, f)

    def rows(
        self,
        f: FieldDef,
        path: str,
        raw: Mapping[str, Any],
        old: Mapping[str, Any] | None,
        mode: str,
        typed: dict[str, Any],
        conds: dict[str, Any],
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        """Sub-table rows: each cell through the same steps, errors at "key[i].child"."""
        old_rows = (old or {}).get(f.key) or []
        from_input = mode == EDITABLE and f.key in raw
        if from_input:
            source = raw[f.key]
        elif old is None and mode == EDITABLE and self.partial:
            return None
        else:
            source = old_rows if old is not None else []
        if source is None:
            source = []
        if not isinstance(source, list):
            self.error(path, "forms.field.rows")
            return None
        max_rows = f.extra.get("max_rows", 50)
        if len(source) > max_rows:
            self.error(path, "forms.field.rows_too_many", {"max": max_rows})
            return None
        inputs = [c for c in f.children if c.type.input and not c.type.layout]
        rows_out: list[dict[str, Any]] = []
        typed_rows: list[dict[str, Any]] = []
        for i, row in enumerate(source):
            if not isinstance(row, dict):
                self.error(f"{path}[{i}]", "forms.field.row")
                continue
            if from_input:
                if all(is_empty(row.get(c.key)) for c in inputs):
                    continue  # an empty row the phone left behind
                cells: Mapping[str, Any] = {c.key: row.get(c.key) for c in inputs}
                old_row = (
                    old_rows[i] if i < len(old_rows) and isinstance(old_rows[i], dict) else None
                )
                cell_mode = EDITABLE
            else:
                cells, old_row, cell_mode = {}, row, READONLY
            row_typed: dict[str, Any] = dict(typed)
            row_conds: dict[str, Any] = dict(conds)
            row_stored: dict[str, Any] = {}
            for child in f.order:
                child_path = f"{path}[{i}].{child.key}"
                if child.visible_when is not None:
                    shown = self.visible(child, row_conds)
                    self.out.visible[child_path] = shown
                    if not shown:
                        row_typed[child.key] = None
                        row_conds[child.key] = None
                        continue
                self.field(
                    child, child_path, cells, old_row, cell_mode, row_typed, row_conds, row_stored
                )
            if row_stored:
                rows_out.append(row_stored)
                typed_rows.append({c.key: row_typed.get(c.key) for c in f.children})
        min_rows = max(f.extra.get("min_rows", 0), 1 if f.required else 0)
        if mode == EDITABLE and len(rows_out) < min_rows:
            if f.extra.get("min_rows", 0):
                self.error(path, "forms.field.rows_too_few", {"min": min_rows})
            else:
                self.error(path, "field.required")
        return rows_out, typed_rows

    def run(self) -> Outcome:
        typed: dict[str, Any] = {}
        conds: dict[str, Any] = {}
        for f in self.form.order:
            visible = self.visible(f, conds)
            self.out.visible[f.key] = visible
            if not visible:
                typed[f.key] = None
                conds[f.key] = None
                continue
            mode = self.modes.get(f.key, EDITABLE)
            self.field(f, f.key, self.raw, self.old, mode, typed, conds, self.out.data)
        data = self.out.data
        self.out.data = {f.key: data[f.key] for f in self.form.fields if f.key in data}
        return self.out


def process(
    form: CompiledForm,
    raw: Mapping[str, Any],
    *,
    today: date,
    old: Mapping[str, Any] | None = None,
    modes: Mapping[str, str] | None = None,
    partial: bool = False,
    resolver: Resolver | None = None,
    check_references: bool = True,
) -> Outcome:
    """Validate and normalise one submission; `old` is the stored data when editing."""
    if not isinstance(raw, Mapping):
        return Outcome(errors={"data": ("forms.field.object", {})})
    run = _Run(
        form,
        raw,
        old=old,
        modes=modes or {},
        partial=partial,
        resolver=resolver,
        today=today,
        check_references=check_references,
    )
    return run.run()
