"""Drop indexes that another index already covers: Repayment(loan) is served by
repayment_loan_chain (loan, value_date, id) and RepaymentAllocation(repayment) by the
(repayment, seq) unique constraint; the idempotency key is only ever looked up whole, so its
LIKE twin (PostgreSQL) goes too. Each is one write fewer per posted repayment and allocation,
and one build fewer after a bulk load."""

import django.db.models.deletion
from django.db import migrations, models

from loandesk.core.migration_ops import ColumnIndex, drop_column_indexes, postgresql_only


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0009_loan_fillfactor"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="repayment",
                    name="loan",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="repayments",
                        to="lending.loan",
                    ),
                ),
                migrations.AlterField(
                    model_name="repaymentallocation",
                    name="repayment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="allocations",
                        to="lending.repayment",
                    ),
                ),
            ],
            database_operations=[
                drop_column_indexes(
                    [
                        ColumnIndex(
                            "lending_repayment", "lending_repayment_loan_id_9a45d64c", "loan_id"
                        ),
                        ColumnIndex(
                            "lending_repaymentallocation",
                            "lending_repaymentallocation_repayment_id_75a63f62",
                            "repayment_id",
                        ),
                    ]
                )
            ],
        ),
        # The unique/lookup index stays; only its LIKE 'x%' twin goes (PostgreSQL only).
        postgresql_only(
            'DROP INDEX IF EXISTS "lending_repayment_idempotency_key_a7d0ebc1_like"',
            'CREATE INDEX "lending_repayment_idempotency_key_a7d0ebc1_like" ON "lending_repayment" ("idempotency_key" varchar_pattern_ops)',
        ),
    ]
