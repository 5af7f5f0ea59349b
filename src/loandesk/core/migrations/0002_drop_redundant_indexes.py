"""Drop indexes nothing reads: OutboxEvent(topic) (the dispatcher and the admin list go by
status; two indexes on PostgreSQL with the LIKE twin) and AuditEntry(target_type) (the
(target_type, target_id) index leads with it). Each was one more insert for every event and
audit row — several per approval."""

from django.db import migrations, models

from loandesk.core.migration_ops import ColumnIndex, drop_column_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="target_type",
                    field=models.CharField(blank=True, max_length=64),
                ),
                migrations.AlterField(
                    model_name="outboxevent",
                    name="topic",
                    field=models.CharField(max_length=100),
                ),
            ],
            database_operations=[
                drop_column_indexes(
                    [
                        ColumnIndex(
                            "core_auditentry",
                            "core_auditentry_target_type_a4e71cb3",
                            "target_type",
                            like=True,
                        ),
                        ColumnIndex(
                            "core_outboxevent",
                            "core_outboxevent_topic_6512ae7c",
                            "topic",
                            like=True,
                        ),
                    ]
                )
            ],
        ),
    ]
