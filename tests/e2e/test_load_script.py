"""The load test's script (bench/load) cannot rot: it runs for a few seconds against a real
server on a fresh SQLite demo database, every screen of the officer's day is requested and no
request fails its checks. (The measurement itself runs on PostgreSQL with `make load`.)"""

import socket
from pathlib import Path

from bench.load.__main__ import run

from tests.e2e.conftest import copy_demo_var_dir

# One request of each screen of the day (the dashboard's widget queries vary by chart type).
SCREENS = [
    "GET / (app shell)",
    "POST /auth/login",
    "GET /auth/me",
    "GET /flows/inbox/counts",
    "GET /notify/unread-count",
    "GET /customers/follow-ups/todo",
    "GET /customers",
    "GET /customers?q= (name)",
    "GET /customers?q= (pinyin)",
    "GET /customers?q= (phone)",
    "GET /customers/{id}",
    "POST /customers/{id}/follow-ups",
    "GET /flows/inbox/todo",
    "GET /flows/instances/{id}",
    "POST /flows/instances/{id}/act (approve)",
    "GET /reports/dashboards",
    "GET /reports/dashboards/{id}",
    "POST /reports/query (kpi)",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_load_script_runs_every_screen_without_failures(
    tmp_path: Path, demo_var_dir: Path
) -> None:
    data = copy_demo_var_dir(demo_var_dir, tmp_path / "data")  # migrated and seeded

    result = run(
        scale="demo",
        users=5,
        duration=10,
        workers=1,
        task_workers=1,
        spawn_rate=5,
        think="0.5,1",
        database_url=f"sqlite:///{data / 'loandesk.sqlite3'}",
        keys=str(data),
        port=_free_port(),
        save=False,
        quiet=True,
        smoke=True,
        run_dir=tmp_path / "run",
    )

    rows = {r["operation"]: r for r in result["rows"]}
    assert result["accounts"].keys() == {"officer1", "officer2", "manager", "risk", "gm"}
    missing = [name for name in SCREENS if rows.get(name, {}).get("requests", 0) == 0]
    assert not missing, f"never requested: {missing}"
    failed = {name: r["failures"] for name, r in rows.items() if r["failures"]}
    assert not failed, (failed, result["failures"])
    assert rows["Aggregated"]["requests"] == sum(
        r["requests"] for name, r in rows.items() if name != "Aggregated"
    )
