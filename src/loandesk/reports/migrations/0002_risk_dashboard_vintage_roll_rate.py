"""Adds the vintage and roll-rate charts to a risk dashboard seeded before they existed (once:
widgets are matched by id, and a later deletion by an admin is not undone by re-seeding)."""

from typing import Any

from django.db import migrations

YEAR = {"preset": "last_12_months"}
WIDGETS = [
    {
        "id": "v1",
        "title": "账龄分析 Vintage(M1+ / M3+)",
        "chart": "vintage",
        "query": {"period": YEAR},
        "x": 0,
        "y": 14,
        "w": 12,
        "h": 5,
    },
    {
        "id": "v2",
        "title": "迁徙率矩阵",
        "chart": "roll_rate",
        "query": {"period": YEAR},
        "x": 0,
        "y": 19,
        "w": 12,
        "h": 5,
    },
]


def add_widgets(apps: Any, schema_editor: Any) -> None:
    Dashboard = apps.get_model("reports", "Dashboard")
    for dashboard in Dashboard.objects.filter(code="risk"):
        widgets = list(dashboard.widgets or [])
        have = {w.get("id") for w in widgets if isinstance(w, dict)}
        bottom = max(
            (w.get("y", 0) + w.get("h", 0) for w in widgets if isinstance(w, dict)), default=0
        )
        added = [{**w, "y": bottom + (w["y"] - 14)} for w in WIDGETS if w["id"] not in have]
        if added:
            dashboard.widgets = widgets + added
            dashboard.save(update_fields=["widgets"])


def remove_widgets(apps: Any, schema_editor: Any) -> None:
    Dashboard = apps.get_model("reports", "Dashboard")
    for dashboard in Dashboard.objects.filter(code="risk"):
        dashboard.widgets = [
            w
            for w in dashboard.widgets or []
            if not (isinstance(w, dict) and w.get("chart") in ("vintage", "roll_rate"))
        ]
        dashboard.save(update_fields=["widgets"])


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(add_widgets, remove_widgets)]
