"""The flow history lives in its rows only (ADR 0015).

Until now every instance's state JSON repeated its whole history (also kept as FlowHistory
rows): ~45 % of a finished loan application's state, rewritten with every decision and growing
with every round. The rows gain the two fields the timeline needs that only the state had (the
node's `visit` and the submission `round`), filled from the states; then each state drops its
`history` for `history_seq` (the last event's number). The way back rebuilds each state's
history from the rows.
"""

from collections.abc import Iterator
from typing import Any

from django.db import migrations, models

BATCH = 500


def _batches(FlowInstance: Any) -> Iterator[list[Any]]:
    last = 0
    while True:
        batch = list(
            FlowInstance.objects.filter(pk__gt=last).order_by("pk").only("pk", "state")[:BATCH]
        )
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def history_to_rows(apps: Any, schema_editor: Any) -> None:
    FlowInstance = apps.get_model("flows", "FlowInstance")
    FlowHistory = apps.get_model("flows", "FlowHistory")
    for batch in _batches(FlowInstance):
        where: dict[tuple[int, int], tuple[int | None, int]] = {}
        changed = []
        for inst in batch:
            state = inst.state
            if not isinstance(state, dict) or "history" not in state:
                continue
            events = state.pop("history")
            for event in events:
                where[(inst.pk, event["seq"])] = (event.get("visit"), event.get("round", 1))
            state["history_seq"] = max((e["seq"] for e in events), default=0)
            changed.append(inst)
        rows = []
        for row in FlowHistory.objects.filter(instance_id__in=[i.pk for i in changed]).only(
            "pk", "instance_id", "seq"
        ):
            found = where.get((row.instance_id, row.seq))
            if found is not None:
                row.visit, row.round = found
                rows.append(row)
        FlowHistory.objects.bulk_update(rows, ["visit", "round"], batch_size=1000)
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
    for batch in _batches(FlowInstance):
        changed = [i for i in batch if isinstance(i.state, dict) and "history" not in i.state]
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
    dependencies = [
        ("flows", "0005_instance_state_lz4"),
    ]

    operations = [
        migrations.AddField(
            model_name="flowhistory",
            name="visit",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="flowhistory",
            name="round",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.RunPython(history_to_rows, rows_to_history, elidable=False),
    ]
