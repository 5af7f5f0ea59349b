"""Drop four single-column indexes that a composite index already leads with: every approval
writes these rows, and each index is one more insert (or, for a status update, one more entry)
per row. FlowTask(instance) and FlowTimer(instance) / FlowHistory(instance) are served by their
(instance, …) unique constraints, FlowTask(user) by the inbox index (user, status, due_at)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from loandesk.core.migration_ops import ColumnIndex, drop_column_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="flowhistory",
                    name="instance",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="history",
                        to="flows.flowinstance",
                    ),
                ),
                migrations.AlterField(
                    model_name="flowtask",
                    name="instance",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tasks",
                        to="flows.flowinstance",
                    ),
                ),
                migrations.AlterField(
                    model_name="flowtask",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="flowtimer",
                    name="instance",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="timers",
                        to="flows.flowinstance",
                    ),
                ),
            ],
            database_operations=[
                drop_column_indexes(
                    [
                        ColumnIndex(
                            "flows_flowhistory",
                            "flows_flowhistory_instance_id_7754ed97",
                            "instance_id",
                        ),
                        ColumnIndex(
                            "flows_flowtask", "flows_flowtask_instance_id_9785156d", "instance_id"
                        ),
                        ColumnIndex("flows_flowtask", "flows_flowtask_user_id_c4d58d78", "user_id"),
                        ColumnIndex(
                            "flows_flowtimer",
                            "flows_flowtimer_instance_id_d98d52d1",
                            "instance_id",
                        ),
                    ]
                )
            ],
        ),
    ]
