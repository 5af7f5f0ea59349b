"""Object-level data scope: another officer's customers are 404 for every operation, a branch
manager sees the branch, transfers stay inside the caller's scope."""

from typing import Any

import pytest

from loandesk.customers.models import Customer, Document, FollowUp
from tests.customers.conftest import create, new_card, png_bytes, upload


@pytest.fixture
def shanghai_customer(demo: Any) -> Customer:
    customer = Customer.objects.filter(owner=demo["users"]["officer2"], kind="individual").first()
    assert customer is not None
    return customer


def test_officer1_cannot_reach_officer2_customers(
    client_for: Any, shanghai_customer: Customer, media_root: Any
) -> None:
    officer1 = client_for("officer1")
    base = f"customers/{shanghai_customer.pk}"
    attempts = [
        officer1.get(base),
        officer1.patch(base, {"name": "改名"}),
        officer1.get(f"{base}/timeline"),
        officer1.get(f"{base}/follow-ups"),
        officer1.post(f"{base}/follow-ups", {"kind": "call", "content": "越权"}),
        officer1.get(f"{base}/documents"),
        officer1.post(f"{base}/bank-cards", {"number": new_card()}),
        upload(officer1, f"{base}/documents", "a.png", png_bytes(), kind="photo"),
    ]
    for response in attempts:
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
    shanghai_customer.refresh_from_db()
    assert shanghai_customer.name != "改名"
    assert not FollowUp.objects.filter(customer=shanghai_customer, content="越权").exists()
    assert not Document.objects.exists()
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))
    ids = {c["id"] for c in officer1.get("customers", {"page_size": 100}).json()["items"]}
    assert shanghai_customer.pk not in ids


def test_officer_lists_only_own_customers(client_for: Any, demo: Any) -> None:
    rows = client_for("officer1").get("customers", {"page_size": 100}).json()["items"]
    assert rows and {r["owner"]["username"] for r in rows} == {"officer1"}


def test_manager_sees_the_beijing_branch_not_shanghai(
    client_for: Any, demo: Any, shanghai_customer: Customer
) -> None:
    manager = client_for("manager")
    rows = manager.get("customers", {"page_size": 100}).json()["items"]
    assert rows and {r["department"]["name"] for r in rows} <= {
        "北京分公司",
        "北京一组",
        "北京二组",
    }
    beijing = Customer.objects.filter(
        department__path__startswith=demo["departments"]["北京分公司"].path
    )
    assert len(rows) == beijing.filter(status="active").count()
    assert manager.get(f"customers/{shanghai_customer.pk}").status_code == 404
    officer1_customer = Customer.objects.filter(owner=demo["users"]["officer1"]).first()
    assert officer1_customer is not None
    assert manager.get(f"customers/{officer1_customer.pk}").status_code == 200


def test_all_scope_sees_everyone(client_for: Any) -> None:
    total = Customer.objects.filter(status="active").count()
    assert client_for("gm").get("customers").json()["count"] == total


def test_documents_are_bound_to_their_customer(client_for: Any, demo: Any) -> None:
    officer2 = client_for("officer2")
    theirs = create(officer2)
    doc = upload(officer2, f"customers/{theirs['id']}/documents", "a.png", png_bytes()).json()
    officer1 = client_for("officer1")
    mine = create(officer1)
    # Their document through my customer's path: not found.
    response = officer1.get(f"customers/{mine['id']}/documents/{doc['id']}/file")
    assert response.status_code == 404
    # Nor can I attach their photo to my follow-up.
    follow_up = officer1.post(
        f"customers/{mine['id']}/follow-ups",
        {"kind": "visit", "content": "拜访", "photo_ids": [doc["id"]]},
    )
    assert follow_up.status_code == 422
    assert "photo_ids" in follow_up.json()["details"]["fields"]


def test_transfer_stays_inside_the_callers_scope(client_for: Any, demo: Any) -> None:
    users = demo["users"]
    officer1 = client_for("officer1")
    mine = create(officer1)
    path = f"customers/{mine['id']}"
    refused = officer1.patch(path, {"owner_id": users["officer2"].pk})
    assert refused.status_code == 422 and "owner_id" in refused.json()["details"]["fields"]
    manager = client_for("manager")
    assert manager.patch(path, {"owner_id": users["officer2"].pk}).status_code == 422
    moved = manager.patch(path, {"owner_id": users["manager"].pk})
    assert moved.status_code == 200
    assert moved.json()["owner"]["username"] == "manager"
    assert moved.json()["department"]["name"] == "北京分公司"
    # officer1 no longer owns it: 404 from now on.
    assert officer1.get(path).status_code == 404
    admin = client_for("admin")
    to_shanghai = admin.patch(path, {"owner_id": users["officer2"].pk})
    assert to_shanghai.json()["department"]["name"] == "上海一组"
    assert manager.get(path).status_code == 404
    kinds = [t["kind"] for t in admin.get(f"{path}/timeline").json()["items"]]
    assert kinds.count("transferred") == 2


def test_merge_cannot_reach_out_of_scope_duplicates(
    client_for: Any, demo: Any, shanghai_customer: Customer
) -> None:
    from loandesk.accounts.models import Role

    role = Role.objects.get(code="manager")
    role.permissions = [*role.permissions, "customers.merge"]
    role.save()
    manager = client_for("manager")
    mine = create(client_for("officer1"))
    response = manager.post(f"customers/{mine['id']}/merge", {"duplicate_id": shanghai_customer.pk})
    assert response.status_code == 404
    shanghai_customer.refresh_from_db()
    assert shanghai_customer.status == "active"
