"""Drop the installment table's own index on loan_id: the (loan_id, seq) unique constraint's
index serves every lookup by loan, and each of COB's status updates paid for one more index.

Written as a plain DROP INDEX (state change separately): Django's AlterField would rebuild the
whole table on SQLite, which at millions of installments takes minutes."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "lending_installment_loan_id_525e73b2"  # Django's name for the FK index


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0007_installment_overdue_by_loan"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="installment",
                    name="loan",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="installments",
                        to="lending.loan",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "lending_installment" ("loan_id")',
                ),
            ],
        ),
    ]
