"""The bridge between a flow instance's data and its form record.

The instance data is the record's stored data (PII encrypted, as in the record) plus the results
of automated steps under their `result_key` (``risk``, ``contract``, ``loan``), which are not
form fields and live only in the instance. Approvers' edits, the initiator's resubmission and the
``update_record`` action go through the form engine (validation, normalisation, formulas) and
are written to the record, so the record always reflects the approved terms.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from loandesk.core import audit, outbox
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import message
from loandesk.forms import engine as form_engine
from loandesk.forms import storage
from loandesk.forms.models import Record, Upload
from loandesk.forms.schema import EDITABLE, CompiledForm
from loandesk.forms.services import (
    DbResolver,
    _upload_ids,
    compiled_version,
    customer_relation,
    data_diff,
    field_errors,
    field_modes,
    today,
)

# json-logic view of the data: form values as the form's own conditions see them.


def compiled_of(record: Record) -> CompiledForm:
    return compiled_version(record.version)


def value_keys(compiled: CompiledForm) -> set[str]:
    """Keys of the form's value fields (sections and other layout items hold no data)."""
    return {f.key for f in compiled.value_fields()}


def condition_view(compiled: CompiledForm, data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for f in compiled.value_fields():
        value = data.get(f.key)
        if value is None or f.type.pii or f.type.has_children:
            continue
        # A stored value the type cannot read: conditions see it as stored.
        with contextlib.suppress(TypeError, ValueError, ArithmeticError):
            out[f.key] = f.type.cond(value, f)
    return out


def prepare_edits(
    *,
    record: Record,
    raw: Any,
    actor: Any,
    allowed: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Validate an edit of the record's fields; the changed values, stored form (PII sealed).

    Only keys the user sent and whose normalised value differs count as changes (a client may
    post the whole form back, masked PII included). The actor's form role must allow editing
    each changed field; `allowed` ({key: hidden|read|edit}, default read) is the flow node's
    permission map when the caller checks it here (resubmission) rather than in the engine.
    """
    from loandesk.flows.services import flow_error

    if not isinstance(raw, Mapping):
        raise ValidationFailed({"data": message("field.type", {"expected": "object"})})
    compiled = compiled_of(record)
    old = storage.unseal(compiled, record.data)
    keys = value_keys(compiled)
    known = {k: v for k, v in raw.items() if k in keys}
    unknown = [k for k in raw if k not in keys]
    if unknown:
        raise ValidationFailed({k: message("field.unknown") for k in unknown[:20]})
    outcome = form_engine.process(
        compiled,
        known,
        today=today(),
        old=old,
        partial=True,
        resolver=DbResolver(actor=actor, record=record),
    )
    if outcome.errors:
        raise ValidationFailed(field_errors(outcome.errors))
    new = dict(outcome.data)
    changed = [k for k in known if not compiled.by_key[k].type.derived and new.get(k) != old.get(k)]
    modes = field_modes(compiled, actor)
    for key in changed:
        if modes.get(key, EDITABLE) != EDITABLE:
            raise flow_error("flow.field_not_editable", {"field": _label(compiled, key)})
        if allowed is not None and allowed.get(key, "read") != "edit":
            raise flow_error("flow.field_not_editable", {"field": _label(compiled, key)})
    sealed = storage.seal(compiled, {k: new.get(k) for k in changed})
    return {k: sealed.get(k) for k in changed}


def _label(compiled: CompiledForm, key: str) -> str:
    f = compiled.by_key.get(key)
    return f.label if f is not None else key


def write_changes(
    *, record: Record, changes: Mapping[str, Any], actor: Any, sealed: bool = True
) -> bool:
    """Write form-field changes (stored form when `sealed`) to the record: formulas recomputed,
    key columns and customer link updated, the diff audited and `record.updated` published.
    Keys that are not fields of the record's form are ignored. True when the record changed."""
    compiled = compiled_of(record)
    keys = value_keys(compiled)
    wanted = {k: v for k, v in changes.items() if k in keys}
    if not wanted:
        return False
    plain = storage.unseal(compiled, wanted) if sealed else dict(wanted)
    old = storage.unseal(compiled, record.data)
    outcome = form_engine.process(
        compiled,
        plain,
        today=today(),
        old=old,
        partial=True,
        # Looked-up values (the customer's name) are read as the record's owner sees them.
        resolver=DbResolver(actor=actor or record.owner, record=record),
        check_references=False,
    )
    if outcome.errors:
        raise ValidationFailed(field_errors(outcome.errors))
    new = dict(outcome.data)
    if not data_diff(old, new):
        return False
    form = record.version.form
    record.data = storage.seal(compiled, new)
    if actor is not None and getattr(actor, "pk", None):
        record.updated_by = actor
    relation = customer_relation(compiled)
    record.customer_id = new.get(relation.key) if relation else None
    for slot, value in storage.slot_values(compiled, new, form.index_slots or {}).items():
        setattr(record, slot, value)
    record.save()
    added = _upload_ids(compiled, new) - _upload_ids(compiled, old)
    if added:
        Upload.objects.filter(pk__in=added, record__isnull=True).update(record=record)
    audit.record(
        action="record.update",
        actor=actor,
        actor_username="" if actor is not None else "system:flow",
        target=record,
        target_label=f"{form.name} {record.serial_no or record.pk}",
        changes=data_diff(storage.masked(compiled, old), storage.masked(compiled, new)),
        extra={"via": "flow"},
    )
    outbox.publish(
        "record.updated",
        payload={
            "form": form.code,
            "record_id": record.pk,
            "version": record.version.number,
            "serial_no": record.serial_no,
            "owner_id": record.owner_id,
            "customer_id": record.customer_id,
            "created_via": record.created_via,
            "changed": sorted(data_diff(old, new)),
            "via": "flow",
        },
        aggregate_type="forms.record",
        aggregate_id=record.pk,
    )
    return True


def merged_data(compiled: CompiledForm, state_data: Mapping[str, Any], record: Record) -> dict:
    """The instance data after a record write: the record's fields plus the non-form keys."""
    keys = value_keys(compiled)
    extra = {k: v for k, v in state_data.items() if k not in keys}
    return {**record.data, **extra}


def compiled_of_version(version: Any) -> CompiledForm:
    return compiled_version(version)
