"""PostgreSQL: keep planner statistics for the common name characters.

The default statistics target (100) keeps ~100 most-common grams, so a frequent given-name
character (磊, 伟 …, tens of thousands of customers at 1M) is estimated at a few hundred rows and
the list query picks a nested loop that reads 30,000 rows. 5,000 most-common values cover the
characters that matter. SQLite has no such knob (its planner uses the index, not a histogram).
"""

from django.db import migrations


def _set_target(target: int):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE customers_customernamegram ALTER COLUMN gram SET STATISTICS {target}"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_name_grams_import_progress")]

    operations = [migrations.RunPython(_set_target(5000), _set_target(-1))]
