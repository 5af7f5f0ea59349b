"""Binding parameters into PostgreSQL SQL text, fast, for the common types.

A flow transition sends its row writes as one multi-statement query (flows.services._Writes),
so its parameters are bound on the client. psycopg's `mogrify` goes through its adapter
machinery for every value (~50 µs per statement, a fifth of an approval's CPU); this formats
the values a transition writes (None, bool, int, str, aware datetimes, dates, UUIDs, JSON)
directly and leaves everything else to psycopg.

Quoting a string as '…' with doubled quotes is exact only with
`standard_conforming_strings = on` (backslashes are then plain characters) and a UTF-8 client
encoding; `usable(conn)` checks both, and the caller falls back to `mogrify` otherwise. No
Django imports: plain Python, tested against a real PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from psycopg.types.json import Jsonb

# Each query's text split at its %s placeholders, by query (the statements are few and fixed).
_SPLIT: dict[str, list[str] | None] = {}


def usable(pg_connection: Any) -> bool:
    """True when this psycopg connection reads '…' strings as written (see the module doc)."""
    info = pg_connection.info
    return info.parameter_status("standard_conforming_strings") == "on" and info.encoding == "utf-8"


def _text(value: str) -> str | None:
    if "\x00" in value:
        return None  # PostgreSQL text cannot hold NUL: psycopg raises its own error
    # The leading space keeps a template's preceding E or U& from making it an escape string.
    return " '" + value.replace("'", "''") + "'"


def _datetime(value: datetime) -> str | None:
    if value.tzinfo is None or value.utcoffset() is None:
        return None  # naive: psycopg decides (timestamp without time zone)
    return " '" + value.isoformat() + "'::timestamptz"


def _json(value: Jsonb) -> str | None:
    if value.dumps is None:
        return None  # psycopg's own dumps (set_json_dumps may have changed it) decides
    text = value.dumps(value.obj)
    if not isinstance(text, str):
        return None
    quoted = _text(text)
    return None if quoted is None else quoted + "::jsonb"


def literal(value: Any) -> str | None:
    """`value` as a PostgreSQL literal, or None when psycopg must bind it."""
    kind = type(value)
    if value is None:
        return "NULL"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        # A space before a minus sign: "x - -1" must not become "x --1", a comment.
        return str(value) if value >= 0 else f" {value}"
    if kind is str:
        return _text(value)
    if kind is datetime:
        return _datetime(value)
    if kind is date:
        return " '" + value.isoformat() + "'::date"
    if kind is uuid.UUID:
        return " '" + str(value) + "'::uuid"
    if kind is Jsonb:
        return _json(value)
    # Subclasses: text choices (str enums) and psycopg's Int4/Int8 wrappers, which Django's
    # integer fields hand over; their plain value is what psycopg would send.
    if isinstance(value, str):
        return _text(str.__str__(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return literal(int(value))
    return None


def _split(sql: str) -> list[str] | None:
    try:
        return _SPLIT[sql]
    except KeyError:
        pass
    # Only plain %s placeholders: %% and %(name)s are left to psycopg.
    parts = sql.split("%s")
    found = parts if sum(p.count("%") for p in parts) == 0 else None
    if len(_SPLIT) < 10_000:
        _SPLIT[sql] = found
    return found


def bind(sql: str, params: Sequence[Any]) -> str | None:
    """`sql` with its %s placeholders replaced by `params` as literals, or None when a value
    (or the query's shape) needs psycopg."""
    parts = _split(sql)
    if type(params) not in (list, tuple) or parts is None or len(parts) != len(params) + 1:
        return None
    out = [parts[0]]
    for value, part in zip(params, parts[1:], strict=True):
        text = literal(value)
        if text is None:
            return None
        out.append(text)
        out.append(part)
    return "".join(out)
