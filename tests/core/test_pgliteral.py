"""Client-side literals for PostgreSQL (core.pgliteral): their shapes, and on a real PostgreSQL
that every literal reads back as the value psycopg itself would have bound."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from django.db import connection, models, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb
from psycopg.types.numeric import Int4, Int8

from loandesk.core import pgliteral


class Color(models.TextChoices):
    RED = "red", "红"


def test_shapes() -> None:
    assert pgliteral.literal(None) == "NULL"
    assert pgliteral.literal(True) == "true" and pgliteral.literal(False) == "false"
    assert pgliteral.literal(42) == "42"
    assert pgliteral.literal(-42) == " -42"  # "x - -42", never "x --42" (a comment)
    assert pgliteral.literal(Int8(-7)) == " -7" and pgliteral.literal(Int4(7)) == "7"
    assert pgliteral.literal("it's") == " 'it''s'"
    assert pgliteral.literal("a\\b") == " 'a\\b'"  # standard_conforming_strings: plain
    assert pgliteral.literal(Color.RED) == " 'red'"
    assert pgliteral.literal(date(2026, 12, 6)) == " '2026-12-06'::date"
    stamp = datetime(2026, 12, 6, 8, 30, 1, 5, tzinfo=UTC)
    assert pgliteral.literal(stamp) == " '2026-12-06T08:30:01.000005+00:00'::timestamptz"
    key = uuid.UUID(int=1)
    assert pgliteral.literal(key) == f" '{key}'::uuid"
    assert pgliteral.literal(Jsonb({"a": "'"}, dumps=json.dumps)) == """ '{"a": "''"}'::jsonb"""


@pytest.mark.parametrize(
    "value",
    [
        "nul\x00inside",  # PostgreSQL text cannot hold it: psycopg reports its own error
        datetime(2026, 12, 6, 8, 30),  # naive: psycopg picks the type
        1.5,
        b"bytes",
        [1, 2],
        object(),
        Jsonb({"a": 1}),  # no dumps of its own: psycopg's (set_json_dumps) decides
    ],
)
def test_values_left_to_psycopg(value: Any) -> None:
    assert pgliteral.literal(value) is None
    assert pgliteral.bind("SELECT %s", [value]) is None


def test_bind() -> None:
    assert pgliteral.bind("UPDATE t SET a = %s WHERE id = %s", ["x", 3]) == (
        "UPDATE t SET a =  'x' WHERE id = 3"
    )
    # Parameter text is never read as a placeholder.
    assert pgliteral.bind("SELECT %s, %s", ["%s", "%%"]) == "SELECT  '%s',  '%%'"
    assert pgliteral.bind("SELECT %s", []) is None  # count mismatch: psycopg raises
    assert pgliteral.bind("SELECT %s, %s", [1]) is None
    assert pgliteral.bind("SELECT '100%%', %s", [1]) is None  # %% is psycopg's to unescape
    assert pgliteral.bind("SELECT %(a)s", [1]) is None
    assert pgliteral.bind("SELECT %s", {"a": 1}) is None  # psycopg refuses a mapping for %s
    assert pgliteral.bind("SELECT %s", "a") is None


# --- against PostgreSQL ----------------------------------------------------------------------

pg_only = pytest.mark.postgres(reason="PostgreSQL literals; SQLite binds natively")

texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    texts,
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30))]
        ),
    ),
    st.dates(),
    st.uuids(),
    st.recursive(
        st.none() | st.booleans() | st.integers(-(10**12), 10**12) | texts,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
        max_leaves=12,
    ).map(lambda obj: Jsonb(obj, dumps=json.dumps)),
)


def _read_back(sql: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pg_only
@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=values)
def test_every_literal_reads_back_as_psycopg_binds_it(value: Any) -> None:
    text = pgliteral.literal(value)
    assert text is not None
    mine = _read_back(f"SELECT {text}")
    theirs = _read_back("SELECT %s", [value])
    assert mine == theirs
    if isinstance(value, Jsonb):
        assert json.loads(mine) == value.obj  # Django reads jsonb as its text
    elif value is not None and not isinstance(value, datetime):
        assert mine == value
    elif isinstance(value, datetime):
        assert mine == value  # the same instant
    if type(value) is int:  # a negative number after a minus is no comment
        assert _read_back(f"SELECT 1::numeric -{text}") == 1 - value


@pg_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE core_auditentry; --",
        "\\'; SELECT 1; --",
        "\\",
        "'",
        "''",
        "$$",
        "E'\\x41'",
        "%s %% %(x)s",
        "王小明的申请 ✅ 𠀀",
        "line\nbreak\ttab\r",
    ],
)
def test_hostile_text_is_data(text: str) -> None:
    assert _read_back(f"SELECT {pgliteral.literal(text)}") == text


@pg_only
@pytest.mark.django_db
def test_not_usable_without_standard_conforming_strings() -> None:
    pg = connection.connection
    assert pgliteral.usable(pg)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL standard_conforming_strings = off")
        assert not pgliteral.usable(pg)
        cursor.execute("SET LOCAL standard_conforming_strings = on")
        assert pgliteral.usable(pg)
