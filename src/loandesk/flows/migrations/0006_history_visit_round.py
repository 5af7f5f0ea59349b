"""The history rows gain the node visit and the submission round (ADR 0015): the timeline groups
the acts by visit, and until now only the state's copy of the history held them. `round` has a
database default, so a row written without it (by code older than this) still gets 1."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("flows", "0005_instance_state_lz4"),
    ]

    operations = [
        migrations.AddField(
            model_name="flowhistory",
            name="visit",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="flowhistory",
            name="round",
            field=models.PositiveIntegerField(db_default=1, default=1),
        ),
    ]
