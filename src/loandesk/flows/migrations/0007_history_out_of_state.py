"""The flow history lives in its rows only (ADR 0015).

Until now every instance's state JSON repeated its whole history (also kept as FlowHistory
rows): ~45 % of a finished loan application's state, rewritten with every decision and growing
with every round. Each state's events fill its rows' `visit` and `round` (migration 0006) — an
event that has no row gets one, so nothing of the history is lost — and the state drops its
`history` for `history_seq` (the last event's number). The way back rebuilds each state's
history from the rows.

Not atomic: one transaction per batch of instances, each locked while it is rewritten, so a
run that stops part-way keeps what it did and a second run goes on from there (a state
already converted is skipped). Run it with the application stopped (docs/deployment.md,
upgrades): code from before ADR 0015 cannot act on a converted state.
"""

from collections.abc import Iterator
from typing import Any

from django.db import migrations, transaction

BATCH = 500


def _batches(FlowInstance: Any) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(
            FlowInstance.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def _locked(FlowInstance: Any, ids: list[int]) -> list[Any]:
    return list(
        FlowInstance.objects.select_for_update().filter(pk__in=ids).order_by("pk").only("state")
    )


def _row(FlowHistory: Any, instance_id: int, event: dict[str, Any], users: set[int]) -> Any:
    actor = str(event.get("actor") or "")
    return FlowHistory(
        instance_id=instance_id,
        seq=event["seq"],
        at=event["at"],
        actor_id=int(actor) if actor.isdigit() and int(actor) in users else None,
        action=event["action"][:30],
        node_id=event.get("node_id") or "",
        visit=event.get("visit"),
        round=event.get("round") or 1,
        engine_task_id=(event.get("task_id") or "")[:160],
        comment=event.get("comment") or "",
        attachments=list(event.get("attachments") or []),
        signature=event.get("signature") or "",
        target=(event.get("target") or "")[:64],
        duration_seconds=event.get("duration_seconds"),
        details=dict(event.get("details") or {}),
    )


def history_to_rows(apps: Any, schema_editor: Any) -> None:
    FlowInstance = apps.get_model("flows", "FlowInstance")
    FlowHistory = apps.get_model("flows", "FlowHistory")
    User = apps.get_model("accounts", "User")
    for ids in _batches(FlowInstance):
        with transaction.atomic():
            changed = [
                i for i in _locked(FlowInstance, ids) if isinstance(i.state, dict)
                and isinstance(i.state.get("history"), list)
            ]  # fmt: skip
            if not changed:
                continue
            rows = {
                (r.instance_id, r.seq): r
                for r in FlowHistory.objects.filter(instance_id__in=[i.pk for i in changed]).only(
                    "pk", "instance_id", "seq", "visit", "round"
                )
            }
            missing: list[tuple[int, dict[str, Any]]] = []
            updated = []
            for inst in changed:
                events = inst.state.pop("history")
                for event in events:
                    row = rows.get((inst.pk, event["seq"]))
                    if row is None:
                        missing.append((inst.pk, event))
                        continue
                    visit, round_ = event.get("visit"), event.get("round") or 1
                    if (row.visit, row.round) != (visit, round_):
                        row.visit, row.round = visit, round_
                        updated.append(row)
                inst.state["history_seq"] = max((e["seq"] for e in events), default=0)
            if missing:
                actors = {
                    int(a)
                    for _, e in missing
                    if (a := str(e.get("actor") or "")).isdigit()
                }  # fmt: skip
                users = set(User.objects.filter(pk__in=actors).values_list("pk", flat=True))
                FlowHistory.objects.bulk_create(
                    [_row(FlowHistory, pk, event, users) for pk, event in missing]
                )
            FlowHistory.objects.bulk_update(updated, ["visit", "round"], batch_size=1000)
            FlowInstance.objects.bulk_update(changed, ["state"], batch_size=BATCH)


def _event(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": str(row.actor_id) if row.actor_id is not None else "system",
        "action": row.action,
        "node_id": row.node_id or None,
        "visit": row.visit,
        "task_id": row.engine_task_id or None,
        "target": row.target or None,
        "comment": row.comment or None,
        "attachments": list(row.attachments or []),
        "signature": row.signature or None,
        "duration_seconds": row.duration_seconds,
        "round": row.round,
        "details": dict(row.details or {}),
    }


def rows_to_history(apps: Any, schema_editor: Any) -> None:
    FlowInstance = apps.get_model("flows", "FlowInstance")
    FlowHistory = apps.get_model("flows", "FlowHistory")
    for ids in _batches(FlowInstance):
        with transaction.atomic():
            changed = [
                i for i in _locked(FlowInstance, ids)
                if isinstance(i.state, dict) and "history" not in i.state
            ]  # fmt: skip
            events: dict[int, list[dict[str, Any]]] = {i.pk: [] for i in changed}
            for row in FlowHistory.objects.filter(instance_id__in=list(events)).order_by(
                "instance_id", "seq"
            ):
                events[row.instance_id].append(_event(row))
            for inst in changed:
                inst.state.pop("history_seq", None)
                inst.state["history"] = events[inst.pk]
            FlowInstance.objects.bulk_update(changed, ["state"], batch_size=BATCH)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("flows", "0006_history_visit_round"),
    ]

    operations = [
        migrations.RunPython(history_to_rows, rows_to_history, elidable=False),
    ]
