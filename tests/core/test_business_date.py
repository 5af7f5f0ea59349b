"""The business date (营业日): separate from the wall clock, only moves forward."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from loandesk.core import services
from loandesk.core.errors import ValidationFailed
from loandesk.core.models import AuditEntry, BusinessDate

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


@pytest.fixture
def utc_evening(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """17:30 UTC on 1 March is already 01:30 on 2 March in Shanghai."""
    instant = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


# --- services -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_defaults_to_today_in_shanghai() -> None:
    assert not BusinessDate.objects.exists()
    assert services.today_local() == _shanghai_today()
    assert services.get_business_date() == _shanghai_today()


@pytest.mark.django_db
def test_default_uses_shanghai_not_utc(utc_evening: datetime) -> None:
    assert utc_evening.date() == date(2026, 3, 1)
    assert services.today_local() == date(2026, 3, 2)
    assert services.get_business_date() == date(2026, 3, 2)


@pytest.mark.django_db
def test_set_moves_forward_and_is_audited(utc_evening: datetime) -> None:
    services.set_business_date(actor=None, new_date=date(2026, 3, 5))
    assert services.get_business_date() == date(2026, 3, 5)
    services.set_business_date(actor=None, new_date=date(2026, 3, 5))  # same day is fine
    services.set_business_date(actor=None, new_date=date(2026, 3, 6))
    assert services.get_business_date() == date(2026, 3, 6)
    assert BusinessDate.objects.count() == 1
    entries = list(AuditEntry.objects.filter(action="business_date.set").order_by("id"))
    assert [e.changes["date"] for e in entries] == [
        ["2026-03-02", "2026-03-05"],
        ["2026-03-05", "2026-03-05"],
        ["2026-03-05", "2026-03-06"],
    ]
    assert entries[-1].target_type == "core.businessdate"
    assert entries[-1].target_label == "2026-03-06"
    # The wall clock did not move: the business date is its own thing.
    assert services.today_local() == date(2026, 3, 2)


@pytest.mark.django_db
def test_backwards_is_refused(utc_evening: datetime) -> None:
    services.set_business_date(actor=None, new_date=date(2026, 3, 10))
    with pytest.raises(ValidationFailed) as info:
        services.set_business_date(actor=None, new_date=date(2026, 3, 9))
    assert info.value.status == 422
    assert set(info.value.details["fields"]) == {"date"}
    assert services.get_business_date() == date(2026, 3, 10)
    assert AuditEntry.objects.filter(action="business_date.set").count() == 1


@pytest.mark.django_db
def test_backwards_from_the_default_is_refused(utc_evening: datetime) -> None:
    """Before anything is set the business date is today; an earlier date is still backwards."""
    with pytest.raises(ValidationFailed):
        services.set_business_date(actor=None, new_date=date(2026, 3, 1))
    assert not BusinessDate.objects.exists()


@pytest.mark.django_db
def test_allow_backwards_for_catch_up_and_tests(utc_evening: datetime) -> None:
    services.set_business_date(actor=None, new_date=date(2026, 3, 10))
    services.set_business_date(actor=None, new_date=date(2026, 1, 1), allow_backwards=True)
    assert services.get_business_date() == date(2026, 1, 1)


# --- API ----------------------------------------------------------------------------------


def test_officer_can_read_it(client_for: Any) -> None:
    response = client_for("officer1").get("business-date")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "business_date": _shanghai_today().isoformat(),
        "today": _shanghai_today().isoformat(),
    }


def test_anonymous_cannot_read_it(anon: Any, db: None) -> None:
    assert anon.get("business-date").status_code == 401


def test_admin_moves_it_forward(client_for: Any, demo: dict[str, Any]) -> None:
    admin = client_for("admin")
    target = _shanghai_today() + timedelta(days=3)
    response = admin.put("business-date", {"date": target.isoformat()})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "business_date": target.isoformat(),
        "today": _shanghai_today().isoformat(),
    }
    assert services.get_business_date() == target
    assert client_for("officer1").get("business-date").json()["business_date"] == target.isoformat()

    entry = AuditEntry.objects.get(action="business_date.set")
    assert entry.actor == demo["users"]["admin"]
    assert entry.actor_username == "admin"
    assert entry.changes == {"date": [_shanghai_today().isoformat(), target.isoformat()]}

    # Health shows it too.
    assert admin.get("health").json()["business_date"] == target.isoformat()


def test_admin_cannot_move_it_backwards(client_for: Any) -> None:
    admin = client_for("admin")
    admin.language = "en-US"
    ahead = _shanghai_today() + timedelta(days=5)
    assert admin.put("business-date", {"date": ahead.isoformat()}).status_code == 200
    response = admin.put("business-date", {"date": (ahead - timedelta(days=1)).isoformat()})
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"]["fields"] == {"date": "The business date cannot go back"}
    assert services.get_business_date() == ahead
    assert AuditEntry.objects.filter(action="business_date.set").count() == 1

    response = admin.put("business-date", {"date": "2020-01-01"})
    assert response.status_code == 422
    admin.language = "zh-CN"
    response = admin.put("business-date", {"date": "2020-01-01"})
    assert response.json()["details"]["fields"] == {"date": "营业日不能早于当前营业日"}


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow", "", None, 20260301])
def test_invalid_date_names_the_field(client_for: Any, bad: object) -> None:
    response = client_for("admin").put("business-date", {"date": bad})
    assert response.status_code == 422, response.content
    assert set(response.json()["details"]["fields"]) == {"date"}


def test_only_admins_may_set_it(client_for: Any) -> None:
    target = (_shanghai_today() + timedelta(days=1)).isoformat()
    for username in ("officer1", "manager", "gm"):
        response = client_for(username).put("business-date", {"date": target})
        assert response.status_code == 403, username
        assert response.json()["code"] == "permission_denied"
    assert services.get_business_date() == _shanghai_today()
    assert not AuditEntry.objects.filter(action="business_date.set").exists()
    assert AuditEntry.objects.filter(action="permission_denied").count() == 3
