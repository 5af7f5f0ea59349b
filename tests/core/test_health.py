"""The health endpoint: public, and says which database and business date are in use."""

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from loandesk import __version__
from loandesk.core import selectors


@pytest.mark.django_db
def test_health_without_login(anon: Any) -> None:
    from datetime import datetime

    response = anon.get("health")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"status", "database", "version", "business_date"}
    assert body["status"] == "ok"
    assert body["database"] in ("sqlite", "postgresql")
    assert body["database"] == connection.vendor
    assert body["version"] == __version__
    assert body["business_date"] == datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert response["Cache-Control"] == "no-store"


def test_database_vendor_matches_connection() -> None:
    assert selectors.database_vendor() == connection.vendor


def test_health_for_logged_in_user(client_for: Any) -> None:
    assert client_for("officer1").get("health").json()["status"] == "ok"
