"""The audit trail: helpers, append-only rows, what gets recorded, and the audit log API."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import RequestFactory

from loandesk.core import audit
from loandesk.core.models import AuditEntry
from tests.factories import ApiClient, make_department, make_user

# --- helpers ------------------------------------------------------------------------------


def test_diff_reports_changed_fields_only() -> None:
    before = {"full_name": "王小明", "email": "a@x.cn", "is_active": True}
    after = {"full_name": "王大明", "email": "a@x.cn", "is_active": False}
    assert audit.diff(before, after) == {
        "full_name": ["王小明", "王大明"],
        "is_active": [True, False],
    }
    assert audit.diff(before, dict(before)) == {}


def test_diff_handles_added_and_removed_keys_in_order() -> None:
    changes = audit.diff({"a": 1, "b": 2}, {"b": 2, "c": 3})
    assert changes == {"a": [1, None], "c": [None, 3]}
    assert list(changes) == ["a", "c"]
    assert audit.diff({}, {"x": "new"}) == {"x": [None, "new"]}
    assert audit.diff({"x": "old"}, {}) == {"x": ["old", None]}


def test_diff_compares_plain_values() -> None:
    # Lists are compared as sets (role ids may come back in any order) …
    assert audit.diff({"roles": [3, 1, 2]}, {"roles": [1, 2, 3]}) == {}
    assert audit.diff({"roles": [1, 2]}, {"roles": [1, 2, 3]}) == {"roles": [[1, 2], [1, 2, 3]]}
    # … and Decimal / date values by their text form.
    assert audit.diff({"amount": Decimal("1.50")}, {"amount": "1.50"}) == {}
    assert audit.diff({"d": date(2026, 1, 2)}, {"d": "2026-01-02"}) == {}


@pytest.mark.django_db
def test_snapshot_is_json_safe() -> None:
    dept = make_department("快照部")
    user = make_user(department=dept, full_name="快照用户")
    snap = audit.snapshot(user, ["username", "full_name", "department", "is_active", "date_joined"])
    assert snap["full_name"] == "快照用户"
    assert snap["department"] == dept.pk  # model instances become their primary key
    assert snap["is_active"] is True
    assert isinstance(snap["date_joined"], str)
    assert datetime.fromisoformat(snap["date_joined"]) == user.date_joined


@pytest.mark.django_db
def test_record_change_actions_and_noop() -> None:
    actor = make_user()
    target = make_user(full_name="旧名")
    created = audit.record_change(actor=actor, instance=target, before=None, after={"a": 1})
    assert created is not None
    assert created.action == "record.create"
    assert created.changes == {"a": [None, 1]}
    assert created.target_type == "accounts.user"
    assert created.target_id == str(target.pk)
    assert created.target_label == "旧名"
    assert created.actor == actor
    assert created.actor_username == actor.username

    deleted = audit.record_change(actor=actor, instance=target, before={"a": 1}, after=None)
    assert deleted is not None
    assert deleted.action == "record.delete"
    assert deleted.changes == {"a": [1, None]}

    count = AuditEntry.objects.count()
    same = {"a": 1}
    assert audit.record_change(actor=actor, instance=target, before=same, after=same) is None
    assert AuditEntry.objects.count() == count


@pytest.mark.django_db
def test_record_takes_ip_and_anonymous_actor() -> None:
    request = RequestFactory().get("/x", REMOTE_ADDR="10.9.8.7")
    entry = audit.record(
        action="auth.login_failed", actor=None, actor_username="ghost", request=request
    )
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_username == "ghost"
    assert entry.ip == "10.9.8.7"
    assert entry.target_label == ""
    assert audit.client_ip(None) is None


@pytest.mark.django_db
def test_entry_values_are_the_row_record_writes() -> None:
    user = make_user("auditor1")
    target = make_department("审计部")
    values = audit.entry_values(
        action="test.done", actor=user, target=target, extra={"n": 1}, changes={"a": [1, 2]}
    )
    entry = audit.record(
        action="test.done", actor=user, target=target, extra={"n": 1}, changes={"a": [1, 2]}
    )
    entry.refresh_from_db()
    assert values == {
        "actor_id": user.pk,
        "actor_username": "auditor1",
        "action": "test.done",
        "target_type": "accounts.department",
        "target_id": str(target.pk),
        "target_label": str(target),
        "ip": None,
        "changes": {"a": [1, 2]},
        "extra": {"n": 1},
    }
    assert {name: getattr(entry, name) for name in values} == values


# --- append-only --------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_entries_are_append_only() -> None:
    entry = audit.record(action="auth.logout", actor_username="someone")
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.action == "auth.logout"


# --- what is recorded ---------------------------------------------------------------------


def _latest(action: str) -> AuditEntry:
    entry = AuditEntry.objects.filter(action=action).order_by("-id").first()
    assert entry is not None, f"no {action} entry"
    return entry


def test_successful_login_is_audited(demo: dict[str, Any]) -> None:
    client = ApiClient(remote_addr="10.0.0.8")
    client.login_as("officer1", settings.LOANDESK_DEMO_PASSWORD)
    entry = _latest("auth.login_success")
    assert entry.actor == demo["users"]["officer1"]
    assert entry.actor_username == "officer1"
    assert entry.ip == "10.0.0.8"
    assert entry.target_type == "accounts.user"


def test_failed_login_is_audited(demo: dict[str, Any]) -> None:
    client = ApiClient(remote_addr="10.0.0.9")
    response = client.post("auth/login", {"username": "officer1", "password": "wrong-password"})
    assert response.status_code == 401
    assert response.json()["code"] == "auth.invalid_credentials"
    entry = _latest("auth.login_failed")
    assert entry.actor is None
    assert entry.actor_username == "officer1"
    assert entry.ip == "10.0.0.9"
    assert not AuditEntry.objects.filter(action="auth.login_success").exists()


def test_failed_login_for_unknown_user_is_audited(db: None) -> None:
    response = ApiClient().post("auth/login", {"username": "nobody", "password": "x"})
    assert response.status_code == 401
    assert _latest("auth.login_failed").actor_username == "nobody"


def test_permission_denial_is_audited(client_for: Any, demo: dict[str, Any]) -> None:
    officer = client_for("officer1")
    response = officer.get("audit/entries")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    entry = _latest("permission_denied")
    assert entry.actor == demo["users"]["officer1"]
    assert entry.actor_username == "officer1"
    assert entry.ip == "127.0.0.1"
    assert entry.extra["path"] == "/api/v1/audit/entries"
    assert entry.extra["method"] == "GET"
    assert entry.extra["code"] == "permission_denied"


def test_denied_write_is_audited_and_changes_nothing(client_for: Any, demo: dict[str, Any]) -> None:
    target = demo["users"]["officer1"]  # inside the manager's department tree, so 403
    manager = client_for("manager")
    response = manager.patch(f"accounts/users/{target.pk}", {"full_name": "篡改"})
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.full_name == "王小明"
    assert not AuditEntry.objects.filter(action="record.update").exists()
    entry = _latest("permission_denied")
    assert entry.actor_username == "manager"
    assert entry.extra["method"] == "PATCH"
    assert entry.extra["path"] == f"/api/v1/accounts/users/{target.pk}"


def test_admin_patch_of_user_records_field_diff(client_for: Any, demo: dict[str, Any]) -> None:
    target = demo["users"]["officer1"]
    admin = client_for("admin")
    response = admin.patch(f"accounts/users/{target.pk}", {"full_name": "王大明"})
    assert response.status_code == 200, response.content
    entry = _latest("record.update")
    assert entry.changes == {"full_name": ["王小明", "王大明"]}
    assert entry.actor == demo["users"]["admin"]
    assert entry.target_type == "accounts.user"
    assert entry.target_id == str(target.pk)
    assert entry.ip == "127.0.0.1"

    # Sending the same value again changes nothing and records nothing.
    count = AuditEntry.objects.filter(action="record.update").count()
    assert admin.patch(f"accounts/users/{target.pk}", {"full_name": "王大明"}).status_code == 200
    assert AuditEntry.objects.filter(action="record.update").count() == count


# --- the audit log API --------------------------------------------------------------------


def test_audit_api_filters_paginates_and_translates(client_for: Any, demo: dict[str, Any]) -> None:
    for _ in range(3):
        client_for("officer1")
    client_for("officer2")
    ApiClient().post("auth/login", {"username": "officer2", "password": "wrong-password"})
    admin = client_for("admin")

    response = admin.get("audit/entries", {"action": "auth.login_success"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 5  # officer1 ×3, officer2, admin
    assert {i["action"] for i in body["items"]} == {"auth.login_success"}
    assert body["items"][0]["actor_username"] == "admin"  # newest first
    assert body["items"][0]["action_label"] == "登录成功"
    assert body["items"][0]["actor"]["username"] == "admin"

    response = admin.get("audit/entries", {"action": "auth.login_success", "q": "officer1"})
    body = response.json()
    assert body["count"] == 3
    assert {i["actor_username"] for i in body["items"]} == {"officer1"}

    response = admin.get(
        "audit/entries", {"action": "auth.login_success", "page_size": 2, "page": 2}
    )
    body = response.json()
    assert body["count"] == 5
    assert body["page"] == 2
    assert body["page_size"] == 2
    assert len(body["items"]) == 2
    last = admin.get("audit/entries", {"action": "auth.login_success", "page_size": 2, "page": 3})
    assert len(last.json()["items"]) == 1

    failed = admin.get("audit/entries", {"action": "auth.login_failed"}).json()
    assert failed["count"] == 1
    assert failed["items"][0]["actor"] is None
    assert failed["items"][0]["action_label"] == "登录失败"

    english = ApiClient(language="en-US")
    english.login_as("admin", settings.LOANDESK_DEMO_PASSWORD)
    body = english.get("audit/entries", {"action": "auth.login_success"}).json()
    assert body["items"][0]["action_label"] == "Logged in"


def test_audit_api_other_filters(client_for: Any, demo: dict[str, Any]) -> None:
    admin = client_for("admin")
    target = demo["users"]["officer1"]
    admin.patch(f"accounts/users/{target.pk}", {"full_name": "王大明"})
    rows = admin.get(
        "audit/entries", {"target_type": "accounts.user", "target_id": str(target.pk)}
    ).json()["items"]
    assert [r["action"] for r in rows] == ["record.update"]
    assert rows[0]["action_label"] == "修改记录"
    assert rows[0]["changes"] == {"full_name": ["王小明", "王大明"]}

    by_actor = admin.get("audit/entries", {"actor_id": demo["users"]["admin"].pk}).json()
    assert by_actor["count"] >= 2
    assert {r["actor_username"] for r in by_actor["items"]} == {"admin"}

    # A q that matches the target label.
    assert admin.get("audit/entries", {"q": "王大明"}).json()["count"] >= 1
    assert admin.get("audit/entries", {"q": "no-such-thing"}).json()["count"] == 0


def test_audit_api_unknown_action_label_falls_back(client_for: Any) -> None:
    audit.record(action="custom.thing", actor_username="robot")
    rows = client_for("admin").get("audit/entries", {"action": "custom.thing"}).json()["items"]
    assert rows[0]["action_label"] == "custom.thing"


def test_audit_api_access(client_for: Any, anon: ApiClient) -> None:
    assert client_for("gm").get("audit/entries").status_code == 200
    assert client_for("manager").get("audit/entries").status_code == 403
    assert anon.get("audit/entries").status_code == 401
    admin = client_for("admin")
    response = admin.get("audit/entries", {"page_size": 1000})
    assert response.status_code == 422
    assert "page_size" in response.json()["details"]["fields"]
    assert admin.get("audit/entries", {"q": "x" * 101}).status_code == 422
