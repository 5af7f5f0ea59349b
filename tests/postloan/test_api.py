"""The COB API, command and schedule: authorization, bad input, 409 while running."""

from datetime import UTC, date, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from loandesk.core.services import get_business_date
from loandesk.postloan import cob, schedule
from loandesk.postloan.models import CobRun, DelinquencyBucket
from loandesk.postloan.tasks import run_cob_task
from tests.postloan.conftest import START, set_date

pytestmark = pytest.mark.django_db


def test_anonymous_gets_401_and_an_officer_403(
    book: dict[str, Any], anon: Any, client_for: Any
) -> None:
    assert anon.get("/api/v1/postloan/cob").status_code == 401
    assert anon.post("/api/v1/postloan/cob/runs", {}).status_code == 401
    officer = client_for("officer1")
    calls: list[tuple[str, str, Any]] = [
        ("get", "/api/v1/postloan/cob", None),
        ("post", "/api/v1/postloan/cob/runs", {}),
        ("get", "/api/v1/postloan/settings", None),
        ("put", "/api/v1/postloan/settings/buckets", {"buckets": []}),
    ]
    for method, path, body in calls:
        res = getattr(officer, method)(path, body) if body is not None else officer.get(path)
        assert res.status_code == 403, path
        assert res.json()["message"] == "没有权限执行此操作"


def test_finance_runs_cob_but_may_not_edit_settings(book: dict[str, Any], client_for: Any) -> None:
    finance = client_for("finance")
    res = finance.get("/api/v1/postloan/cob")
    assert res.status_code == 200
    body = res.json()
    assert body["business_date"] == body["next_date"] == START.isoformat()
    assert finance.get("/api/v1/postloan/settings").status_code == 200
    res = finance.put(
        "/api/v1/postloan/settings/thresholds",
        {"thresholds": [{"classification": "normal", "min_dpd": 0}]},
    )
    assert res.status_code == 403


def test_request_run_enqueues_and_a_second_request_is_409(
    book: dict[str, Any], client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    finance = client_for("finance")
    with django_capture_on_commit_callbacks(execute=True):
        res = finance.post("/api/v1/postloan/cob/runs", {"until": "2026-01-12"})
    assert res.status_code == 202, res.json()
    assert res.json()["status"] == "queued" and res.json()["business_date"] == "2026-01-10"
    assert DBTaskResult.objects.filter(task_path__endswith="run_cob_task").count() == 1
    again = finance.post("/api/v1/postloan/cob/runs", {})
    assert again.status_code == 409
    assert again.json()["code"] == "postloan.cob_running"
    # The worker's side of it: the task closes the dates and moves the business date.
    assert run_cob_task.call(until="2026-01-12", trigger="api") == 3
    assert get_business_date() == date(2026, 1, 13)
    overview = finance.get("/api/v1/postloan/cob").json()
    assert not overview["running"]
    latest = overview["runs"][0]
    assert latest["business_date"] == "2026-01-12" and latest["status"] == "done"
    assert [s["step"] for s in latest["steps"]] == list(cob.STEPS)
    assert all(s["status"] == "done" for s in latest["steps"])
    run = finance.get(f"/api/v1/postloan/cob/runs/{latest['id']}")
    assert run.status_code == 200 and run.json()["id"] == latest["id"]
    assert finance.get("/api/v1/postloan/cob/runs/999999").status_code == 404


def test_bad_run_input_is_4xx_in_the_users_language(book: dict[str, Any], client_for: Any) -> None:
    admin = client_for("admin")
    res = admin.post("/api/v1/postloan/cob/runs", {"until": "2026-01-01"})
    assert res.status_code == 422
    assert res.json()["details"]["fields"]["until"] == "追赶日期不能早于开始日期"
    res = admin.post("/api/v1/postloan/cob/runs", {"until": "2099-01-01"})
    assert res.status_code == 422 and "之后的日期" in res.json()["details"]["fields"]["until"]
    assert admin.post("/api/v1/postloan/cob/runs", {"until": "not a date"}).status_code == 422
    assert admin.post("/api/v1/postloan/cob/runs", {"workers": 0}).status_code == 422
    en = client_for("admin")
    en.language = "en-US"
    res = en.post("/api/v1/postloan/cob/runs", {"until": "2026-01-01"})
    assert (
        res.json()["details"]["fields"]["until"]
        == "The catch-up date cannot be before the start date"
    )
    assert CobRun.objects.count() == 0


def test_settings_are_validated_and_used_by_the_next_run(
    book: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    gap = [{"code": "M0", "min_dpd": 0, "max_dpd": 0}, {"code": "X", "min_dpd": 5, "max_dpd": None}]
    res = admin.put("/api/v1/postloan/settings/buckets", {"buckets": gap})
    assert res.status_code == 422
    assert "必须连续" in res.json()["details"]["fields"]["buckets"]
    assert admin.put("/api/v1/postloan/settings/buckets", {"buckets": "x"}).status_code == 422
    two = [
        {"code": "M0", "min_dpd": 0, "max_dpd": 0},
        {"code": "BAD", "min_dpd": 1, "max_dpd": None},
    ]
    res = admin.put("/api/v1/postloan/settings/buckets", {"buckets": two})
    assert res.status_code == 200
    assert [b["code"] for b in res.json()["buckets"]] == ["M0", "BAD"]
    assert DelinquencyBucket.objects.count() == 2
    cob.run_cob(until=date(2026, 2, 20))
    from loandesk.lending.models import Loan

    assert set(Loan.objects.values_list("bucket", flat=True)) == {"BAD"}
    bad = [{"classification": "normal", "min_dpd": 0}] * 5
    assert admin.put("/api/v1/postloan/settings/thresholds", {"thresholds": bad}).status_code == 422


def test_owed_today_is_scoped(book: dict[str, Any], client_for: Any) -> None:
    loan = book["loans"][0]
    set_date(date(2026, 2, 20))
    res = client_for("officer1").get(f"/api/v1/postloan/loans/{loan.pk}/owed-today")
    assert res.status_code == 200
    assert res.json()["penalty"] == "39.42"
    assert res.json()["current_period"]["seq"] == 2  # installment 1 is due, 2 is next
    assert (
        client_for("officer2").get(f"/api/v1/postloan/loans/{loan.pk}/owed-today").status_code
        == 404
    )


def test_command_closes_dates_and_refuses_bad_input(book: dict[str, Any]) -> None:
    out = StringIO()
    call_command("cob", "--until", "2026-01-12", stdout=out)
    assert out.getvalue().count(": done") == 3
    assert get_business_date() == date(2026, 1, 13)
    out = StringIO()
    call_command("cob", "--date", "2026-01-11", stdout=out)
    assert "nothing to run" in out.getvalue()
    with pytest.raises(CommandError, match="2026-01-13"):
        call_command("cob", "--date", "2026-01-20")
    with pytest.raises(CommandError, match="not a date"):
        call_command("cob", "--date", "tomorrow")


def test_schedule_enqueues_once_a_day_after_half_past_midnight(book: dict[str, Any]) -> None:
    set_date(date(2026, 11, 20))
    before = datetime(2026, 11, 27, 16, 20, tzinfo=UTC)  # 00:20 in Shanghai
    after = datetime(2026, 11, 27, 16, 31, tzinfo=UTC)  # 00:31 in Shanghai
    assert schedule.tick(before) is False
    assert schedule.tick(after) is True
    assert schedule.tick(after) is False
    task = DBTaskResult.objects.get(task_path__endswith="run_cob_task")
    assert task.args_kwargs["kwargs"]["until"] == "2026-11-27"


def test_scheduled_run_uses_the_configured_partitions(book: dict[str, Any], settings: Any) -> None:
    settings.LOANDESK_COB_WORKERS = 3
    set_date(date(2026, 11, 20))
    assert schedule.tick(datetime(2026, 11, 27, 16, 31, tzinfo=UTC)) is True
    task = DBTaskResult.objects.get(task_path__endswith="run_cob_task")
    assert task.args_kwargs["kwargs"]["workers"] == 3
