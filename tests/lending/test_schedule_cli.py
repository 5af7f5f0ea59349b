import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_cli_json_matches_the_documented_shape() -> None:
    out = StringIO()
    call_command(
        "schedule",
        "--principal=12000",
        "--annual-rate=6",
        "--periods=12",
        "--method=equal_installment",
        "--start=2026-01-10",
        "--json",
        stdout=out,
    )
    body = json.loads(out.getvalue())
    assert body["installment"] == "1032.80"
    assert body["rows"][0]["balance"] == "11027.20"
    assert body["apr"] == "6.00"
    assert len(body["rows"]) == 12


@pytest.mark.django_db
def test_cli_table_and_errors() -> None:
    out = StringIO()
    call_command(
        "schedule",
        "--principal=12000",
        "--annual-rate=6",
        "--periods=12",
        "--start=2026-01-10",
        stdout=out,
    )
    text = out.getvalue()
    assert "2026-02-10" in text and "972.80" in text and "APR 6.00%" in text
    with pytest.raises(CommandError, match="principal"):
        call_command("schedule", "--principal=0", "--annual-rate=6", "--periods=12")
