"""The admin-editable holiday calendar for years chinese-calendar does not know yet."""

from datetime import date
from typing import Any

from loandesk.core.models import AuditEntry
from loandesk.lending.calendar import working_day_calendar

YEAR_2027 = {
    "holidays": [{"date": "2027-01-01", "name": "元旦"}, {"date": "2027-02-08", "name": "春节"}],
    "workdays": [{"date": "2027-02-20", "name": "春节调休"}],
}


def test_seeded_years_come_from_chinese_calendar(client_for: Any) -> None:
    years = client_for("officer1").get("lending/calendar/years").json()
    assert years[0]["year"] == 2004 and years[-1]["year"] == 2026
    assert all(y["source"] == "chinese_calendar" for y in years)
    assert not working_day_calendar().is_working_day(date(2026, 10, 1))


def test_admin_enters_a_new_year(client_for: Any) -> None:
    admin = client_for("admin")
    response = admin.put("lending/calendar/years/2027", YEAR_2027)
    assert response.status_code == 200
    assert response.json()["source"] == "admin"
    calendar = working_day_calendar()
    assert calendar.covers(2027)
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 2, 20))  # a Saturday made a workday
    assert AuditEntry.objects.filter(target_type="lending.calendaryear", target_id="2027").exists()
    # The calculator stops warning for 2027 and shifts around the entered holiday.
    body = admin.post(
        "calculator/schedule",
        {
            "principal": "1000",
            "annual_rate": "6",
            "periods": 1,
            "start": "2027-01-08",
            "holiday_shift": True,
        },
    ).json()
    assert body["warnings"] == []
    assert body["rows"][0]["due_date"] == "2027-02-09"
    assert admin.delete("lending/calendar/years/2027").status_code == 204
    assert not working_day_calendar().covers(2027)


def test_dates_outside_the_year_or_contradicting_are_refused(client_for: Any) -> None:
    admin = client_for("admin")
    wrong_year = {"holidays": [{"date": "2028-01-01"}], "workdays": []}
    assert admin.put("lending/calendar/years/2027", wrong_year).status_code == 422
    clash = {"holidays": [{"date": "2027-01-02"}], "workdays": [{"date": "2027-01-02"}]}
    response = admin.put("lending/calendar/years/2027", clash)
    assert response.status_code == 422
    assert "workdays" in response.json()["details"]["fields"]
    assert not working_day_calendar().covers(2027)


def test_only_calendar_managers_may_edit(client_for: Any) -> None:
    response = client_for("officer1").put("lending/calendar/years/2027", YEAR_2027)
    assert response.status_code == 403


def test_a_year_no_date_can_have_is_refused(client_for: Any) -> None:
    # Found by the API fuzz test: years past 9999 (or below 1) crashed date arithmetic (500).
    admin = client_for("admin")
    empty = {"holidays": [], "workdays": []}
    for year, limit in ((10000, "9999"), (0, "1"), (-5, "1")):
        response = admin.put(f"lending/calendar/years/{year}", empty)
        assert response.status_code == 422, (year, response.content)
        assert limit in response.json()["details"]["fields"]["year"]
        response = admin.delete(f"lending/calendar/years/{year}")
        assert response.status_code == 422, (year, response.content)
    assert admin.put("lending/calendar/years/9999", empty).status_code == 200
