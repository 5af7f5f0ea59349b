"""How record data is kept: PII values encrypted in place, masked on the way out, hidden fields
left out, and key fields copied to the record's indexed columns."""

from collections.abc import Callable, Mapping
from typing import Any

from loandesk.forms.fieldtypes import FieldDef
from loandesk.forms.models import ALL_SLOTS
from loandesk.forms.schema import HIDDEN, CompiledForm


def _map_pii(
    form: CompiledForm, data: Mapping[str, Any], fn: Callable[[FieldDef, Any], Any]
) -> dict[str, Any]:
    out = dict(data)
    for parent, f in form.walk():
        if not f.type.pii:
            continue
        if parent is None:
            if out.get(f.key) is not None:
                out[f.key] = fn(f, out[f.key])
            continue
        rows = out.get(parent.key)
        if not isinstance(rows, list):
            continue
        new_rows = []
        for row in rows:
            if isinstance(row, dict) and row.get(f.key) is not None:
                row = {**row, f.key: fn(f, row[f.key])}
            new_rows.append(row)
        out[parent.key] = new_rows
    return out


def seal(form: CompiledForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """Plain data → stored data (PII encrypted)."""
    return _map_pii(form, data, lambda f, v: f.type.to_storage(v))


def unseal(form: CompiledForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored data → plain data."""
    return _map_pii(form, data, lambda f, v: f.type.from_storage(v))


def masked(form: CompiledForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """Plain data with PII masked (what every reader gets unless they reveal a value)."""
    return _map_pii(form, data, lambda f, v: f.type.mask(v))


def without_hidden(data: Mapping[str, Any], modes: Mapping[str, str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if modes.get(k) != HIDDEN}


def pii_value(form: CompiledForm, data: Mapping[str, Any], path: str) -> tuple[FieldDef, Any]:
    """The plain value at "key" or "sub[2].child" when that field is PII; KeyError otherwise."""
    if "[" in path:
        head, _, rest = path.partition("[")
        index_text, _, child_key = rest.partition("].")
        parent = form.by_key[head]
        child = next(c for c in parent.children if c.key == child_key)
        rows = data.get(head) or []
        index = int(index_text)
        if not child.type.pii or not 0 <= index < len(rows):
            raise KeyError(path)
        return child, rows[index].get(child_key)
    f = form.by_key[path]
    if not f.type.pii:
        raise KeyError(path)
    return f, data.get(path)


def slot_values(
    form: CompiledForm, data: Mapping[str, Any], slots: Mapping[str, str]
) -> dict[str, Any]:
    """Every key-field column of the record: the value of the field it holds, or None."""
    out: dict[str, Any] = dict.fromkeys(ALL_SLOTS)
    for key, slot in slots.items():
        f = form.by_key.get(key)
        if f is not None and slot in out:
            out[slot] = f.type.index(data.get(key), f)
    return out
