"""Real processes against a real database, for the fault tests (kill -9, restarts).

A subprocess cannot see the test process's uncommitted data, nor SQLite's in-memory test
database, so the fault tests build their data in the test database (committed:
``django_db(transaction=True)``), then copy it into a scratch database that subprocesses open
by URL: ``CREATE DATABASE … TEMPLATE`` on PostgreSQL, SQLite's online backup into a file on
SQLite. Each copy is read back with a plain driver connection (``Scratch.rows``), so the test
process's own Django connection stays on the test database.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[1]


class Scratch:
    """One scratch database: its URL for subprocesses and a driver connection for reading."""

    def __init__(self, url: str, *, pg: dict[str, Any] | None, path: Path | None) -> None:
        self.url, self._pg, self.path = url, pg, path
        self._conn: Any = None

    @property
    def vendor(self) -> str:
        return "postgresql" if self._pg is not None else "sqlite"

    def _connect(self) -> Any:
        if self._conn is None:
            if self._pg is not None:
                self._conn = psycopg.connect(**self._pg, autocommit=True)
            else:
                self._conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None)
        return self._conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query (``%s`` placeholders on both engines) and return every row."""
        conn = self._connect()
        if self._pg is None:
            sql = sql.replace("%s", "?")
        cur = conn.cursor()
        try:
            cur.execute(sql, tuple(params))
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
        finally:
            cur.close()

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.rows(sql, params)[0][0]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _pg_params(name: str) -> dict[str, Any]:
    s = connection.settings_dict
    out = {"dbname": name, "user": s.get("USER") or "postgres", "host": s.get("HOST") or None}
    if s.get("PORT"):
        out["port"] = int(s["PORT"])
    if s.get("PASSWORD"):
        out["password"] = s["PASSWORD"]
    return out


def _pg_url(params: dict[str, Any]) -> str:
    auth = quote(params["user"], safe="")
    if params.get("password"):
        auth += ":" + quote(params["password"], safe="")
    host = params.get("host") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{auth}@{host}{port}/{params['dbname']}"


@contextmanager
def scratch_copies(tmp: Path) -> Iterator[Callable[[str], Scratch]]:
    """copy(suffix) → a Scratch copy of the test database as it is committed now; every copy
    is dropped at exit."""
    made: list[Scratch] = []
    pg_names: list[str] = []
    source = str(connection.settings_dict["NAME"])

    def copy(suffix: str) -> Scratch:
        if connection.vendor == "postgresql":
            name = f"{source}_{suffix}"[:63]
            # A template must have no other session: close ours (Django reopens it on use).
            connections.close_all()
            with psycopg.connect(**_pg_params("postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            pg_names.append(name)
            params = _pg_params(name)
            db = Scratch(_pg_url(params), pg=params, path=None)
        else:
            path = tmp / f"{suffix}.sqlite3"
            connection.ensure_connection()
            target = sqlite3.connect(str(path))
            connection.connection.backup(target)  # the whole database, committed state
            target.close()
            db = Scratch(f"sqlite:///{path}", pg=None, path=path)
        made.append(db)
        return db

    try:
        yield copy
    finally:
        for db in made:
            db.close()
        if pg_names:
            with psycopg.connect(**_pg_params("postgres"), autocommit=True) as admin:
                for name in pg_names:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def env_for(db: Scratch, **extra: str) -> dict[str, str]:
    """The environment of a LoanDesk process on `db`: this checkout's code, the test run's
    var dir (its keys decrypt the copied rows), quiet logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DATABASE_URL": db.url,
            "LOANDESK_VAR_DIR": str(settings.VAR_DIR),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "loandesk.settings",
            "LOANDESK_LOG_LEVEL": "WARNING",
            **extra,
        }
    )
    return env


def manage(*args: str) -> list[str]:
    return [sys.executable, "-m", "loandesk.manage", *args]


def spawn(cmd: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `cmd` in a process group of its own (so kill -9 reaches forked workers too)."""
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            list(cmd), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _live_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that still run (zombies, dead but not yet reaped, excluded)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(entry.name))
    return out


def kill9(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it forked; return once none of them runs."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _live_members(proc.pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"process group {proc.pid} survived SIGKILL")
        time.sleep(0.01)


def run(cmd: Sequence[str], env: dict[str, str], log: Path, timeout: float = 120) -> None:
    """Run `cmd` to completion; fail with its log when it exits non-zero."""
    proc = spawn(cmd, env, log)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill9(proc)
        raise
    if code != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {code}:\n{log.read_text()[-4000:]}")
