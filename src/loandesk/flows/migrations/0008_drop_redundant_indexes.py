"""Drop single-column indexes that a composite index already leads with: FlowInstance(version)
is served by flows_inst_version (version, started_at), FlowInstance(initiator) by flows_inst_mine
(initiator, status, started_at) and FlowStepRun(instance) by the (instance, step_id) unique
constraint. One write fewer per started application and step run."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from loandesk.core.migration_ops import ColumnIndex, drop_column_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0007_history_out_of_state"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="flowinstance",
                    name="version",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="instances",
                        to="flows.flowversion",
                    ),
                ),
                migrations.AlterField(
                    model_name="flowinstance",
                    name="initiator",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="flowsteprun",
                    name="instance",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="step_runs",
                        to="flows.flowinstance",
                    ),
                ),
            ],
            database_operations=[
                drop_column_indexes(
                    [
                        ColumnIndex(
                            "flows_flowinstance",
                            "flows_flowinstance_version_id_e7f1e5ea",
                            "version_id",
                        ),
                        ColumnIndex(
                            "flows_flowinstance",
                            "flows_flowinstance_initiator_id_e63dec8a",
                            "initiator_id",
                        ),
                        ColumnIndex(
                            "flows_flowsteprun",
                            "flows_flowsteprun_instance_id_95b7fb6b",
                            "instance_id",
                        ),
                    ]
                )
            ],
        ),
    ]
