"""The calculator API: the library's numbers over HTTP, with errors naming the field."""

from typing import Any

import pytest

BASE = {"principal": "12000", "annual_rate": "6", "periods": 12, "start": "2026-01-10"}


def test_schedule_matches_the_documented_example(client_for: Any) -> None:
    body = client_for("officer1").post("calculator/schedule", BASE).json()
    assert body["installment"] == "1032.80"
    first = body["rows"][0]
    assert first == {
        "seq": 1,
        "due_date": "2026-02-10",
        "days": 31,
        "opening_balance": "12000.00",
        "principal": "972.80",
        "interest": "60.00",
        "fee": "0.00",
        "total": "1032.80",
        "balance": "11027.20",
    }
    assert body["totals"]["principal"] == "12000.00"
    assert body["apr"] == "6.00"
    assert body["cap"] == {"line": "judicial", "rate": "12.00", "exceeded": False, "message": ""}


def test_golden_mortgage_vector_over_http(client_for: Any) -> None:
    client = client_for("officer1")
    params = {"principal": "1000000", "annual_rate": "4.9", "periods": 360, "start": "2026-01-10"}
    annuity = client.post("calculator/schedule", params).json()
    assert annuity["installment"] == "5307.27"
    assert annuity["rows"][0]["interest"] == "4083.33"
    assert annuity["rows"][0]["principal"] == "1223.94"
    linear = client.post("calculator/schedule", {**params, "method": "equal_principal"}).json()
    assert [r["total"] for r in linear["rows"][:2]] == ["6861.11", "6849.77"]


def test_cap_exceeded_is_flagged_in_the_users_language(client_for: Any) -> None:
    client = client_for("officer1")
    body = client.post("calculator/schedule", {**BASE, "annual_rate": "36"}).json()
    assert body["cap"]["exceeded"] is True
    assert body["cap"]["message"] == "年化利率 36.00% 超过上限 12.00%"
    client.language = "en-US"
    body = client.post("calculator/schedule", {**BASE, "annual_rate": "36", "cap_line": "36"})
    assert body.json()["cap"] == {"line": "36", "rate": "36.00", "exceeded": False, "message": ""}


def test_holiday_shift_uses_the_admin_calendar_and_warns_for_unknown_years(
    client_for: Any,
) -> None:
    client = client_for("officer1")
    # 2026-10-01 is National Day: the due date moves to the first working day after the break.
    params = {**BASE, "start": "2026-09-01", "periods": 2, "holiday_shift": True}
    body = client.post("calculator/schedule", params).json()
    assert body["rows"][0]["due_date"] == "2026-10-08"  # break is 10-01..10-07
    assert body["rows"][1]["due_date"] == "2026-11-02"  # 11-01 is a Sunday
    assert body["warnings"] == []
    later = client.post("calculator/schedule", {**params, "start": "2027-01-01"}).json()
    assert later["warnings"][0]["code"] == "finance.calendar_year_not_covered"
    assert "2027" in later["warnings"][0]["message"]


def test_compare_returns_the_five_methods(client_for: Any) -> None:
    body = client_for("officer1").post("calculator/compare", BASE).json()
    methods = {m["method"]: m for m in body["methods"]}
    assert set(methods) == {
        "equal_installment",
        "equal_principal",
        "interest_only",
        "bullet",
        "flat",
    }
    assert methods["equal_installment"]["installment"] == "1032.80"
    assert methods["bullet"]["total_interest"] == "720.00"


def test_payoff_quote_on_first_due_date(client_for: Any) -> None:
    body = client_for("officer1").post("calculator/payoff-quote", {**BASE, "as_of": "2026-02-10"})
    assert body.json()["total"] == "12060.00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"principal": "0"}, "principal"),
        ({"principal": "-5"}, "principal"),
        ({"principal": "99999999999999"}, "principal"),
        ({"principal": "abc"}, "principal"),
        ({"annual_rate": "-1"}, "annual_rate"),
        ({"annual_rate": "1000.01"}, "annual_rate"),
        ({"periods": 0}, "periods"),
        ({"periods": 601}, "periods"),
        ({"first_due": "2026-01-01"}, "first_due"),
        ({"method": "magic"}, "method"),
        ({"day_count": "act/999"}, "day_count"),
        ({"cap_line": "50"}, "cap_line"),
        ({"start": "not-a-date"}, "start"),
    ],
)
def test_bad_input_names_the_field(client_for: Any, change: dict[str, Any], field: str) -> None:
    response = client_for("officer1").post("calculator/schedule", {**BASE, **change})
    assert response.status_code == 422, response.content
    assert field in response.json()["details"]["fields"]


def test_calculator_needs_login(anon: Any) -> None:
    assert anon.post("calculator/schedule", BASE).status_code == 401
