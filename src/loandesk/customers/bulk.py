"""Fast multi-row INSERTs for imports.

Django's bulk_create spends several µs per field value in its generic preparation pipeline; at
100,000 customers × 45 columns (plus tags, cards, timeline, audit, outbox rows) that alone is
most of a minute on this machine. Here each column's conversion is chosen once per model
(encrypt for EncryptedTextField, JSON for JSONField, the backend's datetime adaptation, …) and
the rows go to the driver in bulk: executemany on SQLite, COPY … FROM STDIN on PostgreSQL.

Primary keys are reserved up front so related rows can point at the new customers without
RETURNING: on SQLite from MAX(id) inside the write transaction (which holds the database's write
lock), on PostgreSQL from the table's identity sequence.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.db.models.fields.json import JSONField

from loandesk.core.crypto import EncryptedTextField, encrypt

Converter = Callable[[Any], Any]
CHUNK = 5000


def _converter(field: models.Field[Any, Any]) -> Converter:
    ops = connection.ops
    if isinstance(field, EncryptedTextField):
        return lambda v: encrypt(str(v)) if v not in (None, "") else v
    if isinstance(field, JSONField):
        encoder = field.encoder
        return lambda v: ops.adapt_json_value(v, encoder) if v is not None else None
    if isinstance(field, models.DateTimeField):
        cache: dict[int, Any] = {}

        def datetime_value(v: Any) -> Any:
            if v is None:
                return None
            key = id(v)
            if key not in cache:
                cache.clear()
                cache[key] = ops.adapt_datetimefield_value(v)
            return cache[key]

        return datetime_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.UUIDField):
        return lambda v: v if connection.vendor == "postgresql" or v is None else v.hex
    return lambda v: v


def _columns(
    model: type[models.Model], with_pk: bool
) -> list[tuple[models.Field[Any, Any], Converter]]:
    return [
        (field, _converter(field))
        for field in model._meta.concrete_fields
        if with_pk or not field.primary_key
    ]


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys. Call inside the transaction that inserts them: on SQLite
    they follow MAX(id), which only that transaction's write lock keeps (a bulk load that
    reserves ahead relies on nothing else inserting meanwhile)."""
    if count == 0:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence's name once: inside the nextval() it was looked up in the catalog
            # for every id (~2 % of the machine's CPU in the bench generator's loans phase).
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
            sequence = cursor.fetchone()[0]
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def prepare(
    model: type[models.Model],
    rows: Iterable[Mapping[str, Any]],
    *,
    with_pk: bool = False,
    now: Any = None,
) -> tuple[list[str], Iterator[list[Any]]]:
    """The table's columns and the rows' values converted for the driver (lazily): rows given
    as {attname: python value}; missing fields take their defaults (auto_now / auto_now_add
    fields take `now`)."""
    columns = _columns(model, with_pk)
    defaults: list[Callable[[], Any]] = []
    for field, _ in columns:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults.append(lambda: now)
        else:
            defaults.append(field.get_default)
    names = [field.attname for field, _ in columns]
    prepared = (
        [
            convert(row[name] if name in row else default())
            for name, (_, convert), default in zip(names, columns, defaults, strict=True)
        ]
        for row in rows
    )
    return [field.column for field, _ in columns], prepared


def insert(
    model: type[models.Model],
    rows: Iterable[Mapping[str, Any]],
    *,
    with_pk: bool = False,
    now: Any = None,
    copy: Callable[[str, list[str], list[Sequence[Any]]], int] | None = None,
) -> int:
    """INSERT rows given as {attname: python value} (see `prepare`). PostgreSQL: `copy`, when
    given, writes the prepared rows instead of a COPY on this connection (the bench
    generator's background writer, bench/generate/bulkload.py)."""
    db_columns, prepared = prepare(model, rows, with_pk=with_pk, now=now)
    if connection.vendor == "postgresql":
        if copy is not None:
            return copy(model._meta.db_table, db_columns, list(prepared))
        return _copy(model, db_columns, prepared)
    return execute_many(model, db_columns, prepared)


def execute_many(
    model: type[models.Model], db_columns: Sequence[str], prepared: Iterable[Sequence[Any]]
) -> int:
    """SQLite: INSERTs of prepared rows, CHUNK rows per executemany."""
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608  (names from the model)
        quote(model._meta.db_table),
        ", ".join(quote(c) for c in db_columns),
        ", ".join(["%s"] * len(db_columns)),
    )
    batch: list[Sequence[Any]] = []
    total = 0
    with connection.cursor() as cursor:
        for values in prepared:
            batch.append(values)
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                total += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            total += len(batch)
    return total


def _copy(model: type[models.Model], columns: list[str], rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL: COPY … FROM STDIN (psycopg 3), several times faster than executemany."""
    quote = connection.ops.quote_name
    statement = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
    )
    total = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for values in rows:
            copy.write_row(values)
            total += 1
    return total
