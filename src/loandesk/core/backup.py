"""Database backup and restore: SQLite's online backup API, or pg_dump / pg_restore.

A backup holds the database only. The keys in var/ (or LOANDESK_FIELD_KEYS and friends) are
needed to read the encrypted personal data in it: back them up separately and safely.
"""

import hashlib
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections


class BackupError(RuntimeError):
    pass


def _pg_env(db: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def default_path() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    return settings.VAR_DIR / "backups" / f"loandesk-{stamp}.{suffix}"


def backup(target: Path | None = None) -> Path:
    target = Path(target or default_path())
    target.parent.mkdir(parents=True, exist_ok=True)
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = connection.connection
        dest = sqlite3.connect(str(target))
        try:
            source.backup(dest)  # consistent while the app keeps writing
        finally:
            dest.close()
    elif connection.vendor == "postgresql":
        args, env = _pg_env(db)
        cmd = ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args]
        _run(cmd, env)
    else:
        raise BackupError(f"unsupported database {connection.vendor}")
    return target


def restore(source: Path) -> None:
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        src = sqlite3.connect(str(source))
        try:
            src.backup(connection.connection)  # page-by-page copy into the live database
        finally:
            src.close()
    elif connection.vendor == "postgresql":
        connections.close_all()
        args, env = _pg_env(db)
        cmd = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
        _run([*cmd, *args, str(source)], env)
    else:
        raise BackupError(f"unsupported database {connection.vendor}")


def _run(cmd: list[str], env: dict[str, str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (Debian: postgresql-client)")
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed: {result.stderr.strip()[:2000]}")


def table_fingerprints() -> dict[str, tuple[int, str]]:
    """Row count and a content hash of every table, for comparing a restore with its source."""
    out: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - names come from introspection
            rows = sorted(repr(tuple(row)) for row in cursor.fetchall())
            digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
            out[table] = (len(rows), digest)
    return out
