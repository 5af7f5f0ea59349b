"""Every customer write leaves a timeline line, an audit entry with the field diff and an outbox
event, in the same transaction; a refused write leaves none of them."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.customers import services
from loandesk.customers.models import Customer, TimelineEvent
from tests.customers.conftest import create, customer_body


def test_create_and_update_events(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    body = create(officer, name="事件客户", source_channel="referral")
    created = OutboxEvent.objects.get(topic="customer.created")
    assert created.aggregate_type == "customers.customer"
    assert created.aggregate_id == str(body["id"])
    assert created.payload == {
        "customer_id": body["id"],
        "kind": "individual",
        "owner_id": demo["users"]["officer1"].pk,
        "department_id": demo["departments"]["北京一组"].pk,
        "source_channel": "referral",
    }
    audit = AuditEntry.objects.get(action="record.create", target_type="customers.customer")
    assert audit.changes["name"] == [None, "事件客户"]
    assert audit.actor == demo["users"]["officer1"]

    officer.patch(f"customers/{body['id']}", {"remark": "老客户介绍", "credit_level": "A"})
    updated = OutboxEvent.objects.get(topic="customer.updated")
    assert sorted(updated.payload["fields"]) == ["credit_level", "remark"]
    change = AuditEntry.objects.get(action="record.update")
    assert change.changes == {"credit_level": ["", "A"], "remark": ["", "老客户介绍"]}
    line = officer.get(f"customers/{body['id']}/timeline").json()["items"][0]
    assert line["kind"] == "updated" and line["summary"] == "修改资料:信用等级、备注"
    assert line["actor"]["username"] == "officer1"

    # The same values again change nothing: no event, no audit, no timeline line.
    counts = (
        OutboxEvent.objects.count(),
        AuditEntry.objects.count(),
        TimelineEvent.objects.count(),
    )
    officer.patch(f"customers/{body['id']}", {"remark": "老客户介绍"})
    assert counts == (
        OutboxEvent.objects.count(),
        AuditEntry.objects.count(),
        TimelineEvent.objects.count(),
    )


def test_refused_write_leaves_nothing(client_for: Any) -> None:
    officer = client_for("officer1")
    first = create(officer)
    counts = (
        Customer.objects.count(),
        OutboxEvent.objects.count(),
        AuditEntry.objects.count(),
        TimelineEvent.objects.count(),
    )
    plain = Customer.objects.get(pk=first["id"])
    assert officer.post("customers", customer_body(phone=plain.phone)).status_code == 409
    assert officer.post("customers", customer_body(phone="1")).status_code == 422
    assert officer.patch(f"customers/{first['id']}", {"phone": "x"}).status_code == 422
    assert counts == (
        Customer.objects.count(),
        OutboxEvent.objects.count(),
        AuditEntry.objects.count(),
        TimelineEvent.objects.count(),
    )


def test_timeline_is_newest_first_and_paginated(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    body = create(officer)
    customer = Customer.objects.get(pk=body["id"])
    base = timezone.now()
    for n in range(5):
        services.add_timeline_event(
            customer=customer,
            kind="application",
            summary_code="customers.timeline.document",
            params={"name": f"申请{n}"},
            actor=demo["users"]["officer1"],
            ref_type="lending.application",
            ref_id=n,
            at=base + timedelta(minutes=n),
        )
    # Two lines at the same instant keep a stable order (newest id first).
    for n in (5, 6):
        services.add_timeline_event(
            customer=customer,
            kind="application",
            summary_code="customers.timeline.document",
            params={"name": f"申请{n}"},
            at=base + timedelta(minutes=10),
        )
    path = f"customers/{body['id']}/timeline"
    first = officer.get(path, {"page_size": 3}).json()
    assert first["count"] == 8  # 7 + "created"
    assert [i["summary"] for i in first["items"]] == [
        "上传资料:申请6",
        "上传资料:申请5",
        "上传资料:申请4",
    ]
    second = officer.get(path, {"page_size": 3, "page": 2}).json()
    assert [i["ref_id"] for i in second["items"]] == ["3", "2", "1"]
    last = officer.get(path, {"page_size": 3, "page": 3}).json()["items"]
    assert last[-1]["kind"] == "created"
    english = client_for("officer1")
    english.language = "en-US"
    item = english.get(path, {"page_size": 1}).json()["items"][0]
    assert item["summary"] == "Document uploaded: 申请6"


def test_archive_and_restore(client_for: Any) -> None:
    admin = client_for("admin")
    body = create(admin)
    path = f"customers/{body['id']}"
    assert admin.delete(path).status_code == 204
    assert admin.get(path).json()["status"] == "archived"
    blocked = admin.patch(path, {"remark": "x"})
    assert blocked.status_code == 409 and blocked.json()["code"] == "customers.archived"
    assert admin.delete(path).status_code == 409
    restored = admin.post(f"{path}/restore")
    assert restored.status_code == 200 and restored.json()["status"] == "active"
    assert admin.post(f"{path}/restore").status_code == 409
    kinds = [t["kind"] for t in admin.get(f"{path}/timeline").json()["items"]]
    assert kinds[:2] == ["restored", "archived"]
    statuses = [
        e.payload.get("status") for e in OutboxEvent.objects.filter(topic="customer.updated")
    ]
    assert statuses == ["archived", "active"]


def test_detail_header_and_tab_counts(client_for: Any) -> None:
    officer = client_for("officer1")
    body = create(officer, employer="某某公司", monthly_income="9000", marital_status="married")
    detail = officer.get(f"customers/{body['id']}").json()
    assert detail["counts"] == {
        "follow_ups": 0,
        "documents": 0,
        "applications": 0,
        "loans": 0,
        "repayments": 0,
        "collections": 0,
    }
    assert detail["employer"] == "某某公司" and detail["monthly_income"] == "9000.00"
    assert detail["marital_status"] == "married" and detail["age"] is not None
    assert detail["created_by"]["username"] == "officer1" and detail["merged_into"] is None


def test_meta_lists_choices_in_the_callers_language(client_for: Any) -> None:
    client = client_for("officer1")
    zh = client.get("customers/meta").json()
    assert {"value": "watch", "label": "关注"} in zh["credit_level"]
    assert {"value": "blacklist", "label": "黑名单"} in zh["credit_level"]
    client.language = "en-US"
    en = client.get("customers/meta").json()
    assert {"value": "visit", "label": "Visit"} in en["follow_up_kind"]
    assert [c["value"] for c in en["document_kind"]][:2] == ["id_front", "id_back"]
