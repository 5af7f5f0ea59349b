"""Migration helpers shared by apps."""

from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import migrations


class ColumnIndex(NamedTuple):
    """A single-column index Django made for `db_index=True` (and, for a text column on
    PostgreSQL, its `_like` twin for LIKE 'x%')."""

    table: str
    name: str
    column: str
    like: bool = False


def drop_column_indexes(indexes: Sequence[ColumnIndex]) -> migrations.RunPython:
    """Drop indexes by name, and re-create them on the way back.

    Paired with the AlterField(db_index=False) as SeparateDatabaseAndState: Django's own
    AlterField would rebuild the whole table on SQLite, which on a big table takes minutes."""

    def drop(apps: Any, schema_editor: Any) -> None:
        pg = schema_editor.connection.vendor == "postgresql"
        for ix in indexes:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{ix.name}"')
            if ix.like and pg:
                schema_editor.execute(f'DROP INDEX IF EXISTS "{ix.name}_like"')

    def create(apps: Any, schema_editor: Any) -> None:
        pg = schema_editor.connection.vendor == "postgresql"
        for ix in indexes:
            schema_editor.execute(f'CREATE INDEX "{ix.name}" ON "{ix.table}" ("{ix.column}")')
            if ix.like and pg:
                schema_editor.execute(
                    f'CREATE INDEX "{ix.name}_like" ON "{ix.table}"'
                    f' ("{ix.column}" varchar_pattern_ops)'
                )

    return migrations.RunPython(drop, create)


def postgresql_only(forward: str, backward: str) -> migrations.RunPython:
    """SQL for PostgreSQL alone (storage settings SQLite has no notion of); a no-op elsewhere."""

    def run(sql: str) -> Any:
        def execute(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql)

        return execute

    return migrations.RunPython(run(forward), run(backward), elidable=False)
