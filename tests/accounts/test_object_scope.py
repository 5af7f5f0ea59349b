"""Object-level data scope: records outside the caller's scope are 404, never 403."""

from typing import Any

import pytest

from loandesk.accounts.models import User
from loandesk.accounts.scoping import ScopeSpec, scoped
from tests.factories import make_department, make_role, make_user


@pytest.fixture
def branch_admin(demo: Any, client_for: Any) -> Any:
    """A Beijing branch admin: may manage users, scope = Beijing and below."""
    role = make_role(
        data_scope="department_tree",
        permissions=["accounts.view_users", "accounts.manage_users"],
    )
    make_user("bj_admin", department=demo["departments"]["北京分公司"], roles=[role])
    from tests.factories import PASSWORD, ApiClient

    client = ApiClient()
    client.login_as("bj_admin", PASSWORD)
    return client


def test_manager_sees_only_own_branch(demo: Any, client_for: Any) -> None:
    manager = client_for("manager")
    names = {u["username"] for u in manager.get("accounts/users").json()["items"]}
    assert names == {"manager", "officer1"}
    shanghai = demo["users"]["officer2"]
    response = manager.get(f"accounts/users/{shanghai.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_all_scope_sees_everyone(demo: Any, client_for: Any) -> None:
    assert client_for("gm").get("accounts/users").json()["count"] == 8


def test_branch_admin_cannot_touch_other_branch(demo: Any, branch_admin: Any) -> None:
    officer2 = demo["users"]["officer2"]
    response = branch_admin.patch(f"accounts/users/{officer2.pk}", {"full_name": "改名"})
    assert response.status_code == 404
    officer2.refresh_from_db()
    assert officer2.full_name == "陈晓燕"
    officer1 = demo["users"]["officer1"]
    ok = branch_admin.patch(f"accounts/users/{officer1.pk}", {"full_name": "王大明"})
    assert ok.status_code == 200 and ok.json()["full_name"] == "王大明"


def test_branch_admin_cannot_create_users_elsewhere(demo: Any, branch_admin: Any) -> None:
    body = {
        "username": "sneaky",
        "full_name": "越权",
        "department_id": demo["departments"]["上海一组"].pk,
        "password": "Sneaky-Pass-2026",
    }
    response = branch_admin.post("accounts/users", body)
    assert response.status_code == 422
    assert "department_id" in response.json()["details"]["fields"]
    assert not User.objects.filter(username="sneaky").exists()


def test_branch_admin_cannot_grant_more_than_they_hold(demo: Any, branch_admin: Any) -> None:
    from loandesk.accounts.models import Role

    admin_role = Role.objects.get(code="admin")
    officer1 = demo["users"]["officer1"]
    response = branch_admin.patch(f"accounts/users/{officer1.pk}", {"role_ids": [admin_role.pk]})
    assert response.status_code == 403
    assert not officer1.roles.filter(code="admin").exists()


def test_scope_union_of_roles_takes_the_broadest(demo: Any) -> None:
    dept = demo["departments"]["北京一组"]
    user = make_user(department=dept, roles=[make_role(), make_role(data_scope="department")])
    visible = scoped(User.objects.all(), user, ScopeSpec(owner="id", department="department"))
    assert set(visible.values_list("username", flat=True)) == {"officer1", user.username}


def test_department_tree_scope_includes_grandchildren(db: None) -> None:
    root = make_department("根")
    child = make_department("子", root)
    grandchild = make_department("孙", child)
    sibling = make_department("旁", None)
    boss = make_user(department=root, roles=[make_role(data_scope="department_tree")])
    deep = make_user(department=grandchild)
    other = make_user(department=sibling)
    visible = scoped(User.objects.all(), boss, ScopeSpec(owner="id", department="department"))
    assert deep in visible and boss in visible and other not in visible


def test_self_scope_sees_only_self(demo: Any) -> None:
    officer = demo["users"]["officer1"]
    visible = scoped(User.objects.all(), officer, ScopeSpec(owner="id", department="department"))
    assert list(visible) == [officer]
