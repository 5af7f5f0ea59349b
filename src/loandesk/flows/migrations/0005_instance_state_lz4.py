"""PostgreSQL: compress the flow instances' state JSON with lz4 instead of pglz.

The state is ~11.5 KB of JSON per application (the engine's truth: tasks, history, step
results), so every stored version goes through TOAST compression, and every approval stores a
new version. pglz costs most of that write: inserting 34,530 states took 8.1 s with pglz and
3.6 s with lz4 (of which ~1.6 s is parsing the JSON), to the same size on disk (session 14,
docs/performance.md). It applies to values written from now on; values already stored stay
readable as they are. Servers built without lz4 (`default_toast_compression` does not offer it)
keep pglz. SQLite stores the JSON as text, uncompressed.
"""

from django.db import migrations

from loandesk.core.migration_ops import postgresql_only

# Both directions only where the server has column compression and lz4 (PostgreSQL 14+
# built with it); elsewhere the forward step did nothing and neither does the way back.
WHERE_LZ4 = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE flows_flowinstance ALTER COLUMN state SET COMPRESSION {method};
    END IF;
END $$
"""


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0004_instance_decided_index"),
    ]

    operations = [
        postgresql_only(WHERE_LZ4.format(method="lz4"), WHERE_LZ4.format(method="DEFAULT")),
    ]
