"""The one audit helper every app uses for logins, denials, record changes and PII reveals."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import HttpRequest

from loandesk.core.models import AuditEntry


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return sorted(_plain(v) for v in value)
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values as JSON-safe data, for diffing before and after a change."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value changed."""
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {
        k: [before.get(k), after.get(k)]
        for k in keys
        if _plain(before.get(k)) != _plain(after.get(k))
    }


def target_type_of(instance: models.Model) -> str:
    return f"{instance._meta.app_label}.{instance._meta.model_name}"


def record(
    *,
    action: str,
    actor: Any = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_label: str = "",
    changes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_username: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        **entry_values(
            action=action,
            actor=actor,
            target=target,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
            changes=changes,
            extra=extra,
            request=request,
            actor_username=actor_username,
        )
    )


def entry_values(
    *,
    action: str,
    actor: Any = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str | int = "",
    target_label: str = "",
    changes: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_username: str = "",
) -> dict[str, Any]:
    """The audit row `record` writes, as {attname: value} without `at` (set when inserted):
    for a caller that batches its writes (the flow commands) and inserts the row itself."""
    if target is not None:
        target_type = target_type or target_type_of(target)
        target_id = target_id or target.pk
        target_label = target_label or str(target)[:200]
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return {
        "actor_id": user.pk if user else None,
        "actor_username": (user.get_username() if user else actor_username)[:150],
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "target_label": target_label[:200],
        "ip": client_ip(request),
        "changes": dict(changes or {}),
        "extra": dict(extra or {}),
    }


def record_change(
    *,
    actor: Any,
    instance: models.Model,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    request: HttpRequest | None = None,
) -> AuditEntry | None:
    """record.create / record.update / record.delete with the field diff; no-op updates skip."""
    if before is None:
        action, changes = "record.create", diff({}, after or {})
    elif after is None:
        action, changes = "record.delete", diff(before, {})
    else:
        action, changes = "record.update", diff(before, after)
        if not changes:
            return None
    return record(action=action, actor=actor, target=instance, changes=changes, request=request)
