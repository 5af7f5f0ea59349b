"""Drop FollowUp(customer)'s own index (fu_customer_created (customer, -created_at, -id)
leads with it) and, on PostgreSQL, the LIKE twins of two keys only ever looked up whole: the
ID number's blind index and a document's content hash."""

import django.db.models.deletion
from django.db import migrations, models

from loandesk.core.migration_ops import ColumnIndex, drop_column_indexes, postgresql_only


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_sqlite_name_grams_short_positions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="followup",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="follow_ups",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[
                drop_column_indexes(
                    [
                        ColumnIndex(
                            "customers_followup",
                            "customers_followup_customer_id_7f9864ed",
                            "customer_id",
                        ),
                    ]
                )
            ],
        ),
        # The lookup indexes stay; only their LIKE 'x%' twins go (PostgreSQL only).
        postgresql_only(
            'DROP INDEX IF EXISTS "customers_customer_id_number_bidx_277506da_like"',
            'CREATE INDEX "customers_customer_id_number_bidx_277506da_like" ON "customers_customer" ("id_number_bidx" varchar_pattern_ops)',
        ),
        postgresql_only(
            'DROP INDEX IF EXISTS "customers_document_sha256_899856a7_like"',
            'CREATE INDEX "customers_document_sha256_899856a7_like" ON "customers_document" ("sha256" varchar_pattern_ops)',
        ),
    ]
