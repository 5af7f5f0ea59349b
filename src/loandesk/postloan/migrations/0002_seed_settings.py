"""Seed the default delinquency buckets and five-category thresholds (reversible)."""

from typing import Any

from django.db import migrations

BUCKETS = [("M0", 0, 0), ("M1", 1, 30), ("M2", 31, 60), ("M3", 61, 90), ("M3+", 91, None)]
THRESHOLDS = [
    ("normal", 0),
    ("special_mention", 1),
    ("substandard", 91),
    ("doubtful", 181),
    ("loss", 361),
]


def seed(apps: Any, schema_editor: Any) -> None:
    bucket = apps.get_model("postloan", "DelinquencyBucket")
    threshold = apps.get_model("postloan", "ClassificationThreshold")
    if not bucket.objects.exists():
        bucket.objects.bulk_create(
            [bucket(code=c, min_dpd=lo, max_dpd=hi) for c, lo, hi in BUCKETS]
        )
    if not threshold.objects.exists():
        threshold.objects.bulk_create(
            [threshold(classification=c, min_dpd=lo) for c, lo in THRESHOLDS]
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("postloan", "DelinquencyBucket").objects.all().delete()
    apps.get_model("postloan", "ClassificationThreshold").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("postloan", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
