"""Drop Record(customer)'s own index: forms_rec_customer (customer, -created_at) leads with
it. One write fewer per record."""

import django.db.models.deletion
from django.db import migrations, models

from loandesk.core.migration_ops import ColumnIndex, drop_column_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("forms", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="record",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        db_index=False,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="form_records",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[
                drop_column_indexes(
                    [
                        ColumnIndex(
                            "forms_record", "forms_record_customer_id_37c15702", "customer_id"
                        ),
                    ]
                )
            ],
        ),
    ]
