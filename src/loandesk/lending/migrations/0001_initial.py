from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="CalendarYear",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(unique=True)),
                ("source", models.CharField(choices=[("chinese_calendar", "chinese-calendar"), ("admin", "admin")], max_length=20)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["year"]},
        ),
        migrations.CreateModel(
            name="CalendarDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField(unique=True)),
                ("kind", models.CharField(choices=[("holiday", "节假日"), ("workday", "调休上班")], max_length=10)),
                ("name", models.CharField(blank=True, max_length=50)),
            ],
            options={"ordering": ["date"]},
        ),
    ]
