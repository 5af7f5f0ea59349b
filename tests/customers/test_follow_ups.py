"""Follow-ups (跟进记录): contact history with photos and location; a planned next follow-up
feeds the to-do list until the next contact is recorded."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from loandesk.core.models import OutboxEvent
from loandesk.customers.models import Customer, FollowUp
from tests.customers.conftest import PDF_BYTES, create, jpeg_bytes, upload


def _iso(delta: timedelta) -> str:
    return (timezone.now() + delta).isoformat()


def _todo(client: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("customers/follow-ups/todo", {"page_size": 100, **params})
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_follow_up_with_next_time_feeds_the_todo_list(client_for: Any, demo: Any) -> None:
    FollowUp.objects.all().delete()  # start from an empty to-do list
    officer = client_for("officer1")
    customer = create(officer, name="待跟进")
    path = f"customers/{customer['id']}/follow-ups"
    response = officer.post(
        path,
        {
            "kind": "visit",
            "content": "上门拜访,核实经营场所",
            "latitude": "39.908722",
            "longitude": "116.397499",
            "location_address": "北京市东城区",
            "next_follow_up_at": _iso(timedelta(days=3)),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "visit" and body["author"]["username"] == "officer1"
    assert (body["latitude"], body["longitude"]) == ("39.908722", "116.397499")
    todo = _todo(officer)
    assert [t["customer"]["id"] for t in todo] == [customer["id"]]
    assert todo[0]["overdue"] is False and todo[0]["follow_up_id"] == body["id"]
    assert _todo(officer, within_days=1) == []  # due in 3 days: outside a 1-day horizon
    detail = officer.get(f"customers/{customer['id']}").json()
    assert detail["next_follow_up_at"] is not None and detail["last_follow_up_at"] is not None
    assert detail["counts"]["follow_ups"] == 1

    # The next contact closes the plan; its own next time becomes the to-do.
    officer.post(
        path,
        {"kind": "call", "content": "电话确认材料", "next_follow_up_at": _iso(timedelta(hours=1))},
    )
    todo = _todo(officer)
    assert len(todo) == 1 and todo[0]["content"] == "电话确认材料"
    assert FollowUp.objects.get(pk=body["id"]).closed_at is not None
    listed = officer.get(path).json()["items"]
    assert [f["content"] for f in listed] == ["电话确认材料", "上门拜访,核实经营场所"]
    # A contact without a next time leaves nothing to do.
    officer.post(path, {"kind": "note", "content": "已放款,结束跟进"})
    assert _todo(officer) == []
    assert Customer.objects.get(pk=customer["id"]).next_follow_up_at is None


def test_overdue_and_other_authors(client_for: Any, demo: Any) -> None:
    FollowUp.objects.all().delete()
    officer = client_for("officer1")
    customer = create(officer)
    plan = FollowUp.objects.create(
        customer_id=customer["id"],
        author=demo["users"]["officer1"],
        kind="call",
        content="逾期的计划",
        next_follow_up_at=timezone.now() - timedelta(days=1),
    )
    # As create_follow_up keeps it: the customer's next follow-up is its planned one.
    Customer.objects.filter(pk=customer["id"]).update(next_follow_up_at=plan.next_follow_up_at)
    todo = _todo(officer)
    assert todo[0]["follow_up_id"] == plan.pk and todo[0]["overdue"] is True
    # The manager plans a visit on officer1's customer: both see it (author and owner).
    manager = client_for("manager")
    manager.post(
        f"customers/{customer['id']}/follow-ups",
        {"kind": "visit", "content": "经理陪访", "next_follow_up_at": _iso(timedelta(days=2))},
    )
    assert [t["content"] for t in _todo(officer)] == ["经理陪访"]
    assert [t["content"] for t in _todo(manager)] == ["经理陪访"]
    assert _todo(client_for("officer2")) == []


def test_follow_up_validation(client_for: Any) -> None:
    officer = client_for("officer1")
    customer = create(officer)
    path = f"customers/{customer['id']}/follow-ups"
    cases = [
        ({"kind": "fax", "content": "x"}, "kind"),
        ({"kind": "call", "content": "  "}, "content"),
        (
            {"kind": "call", "content": "x", "next_follow_up_at": _iso(-timedelta(days=1))},
            "next_follow_up_at",
        ),
        ({"kind": "call", "content": "x", "latitude": "39.9"}, "latitude"),
        ({"kind": "call", "content": "x", "latitude": "91", "longitude": "116"}, "latitude"),
        ({"kind": "call", "content": "x", "next_follow_up_at": "明天"}, "next_follow_up_at"),
        ({"kind": "call", "content": "x", "photo_ids": [999999]}, "photo_ids"),
    ]
    for body, field in cases:
        response = officer.post(path, body)
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["details"]["fields"], (body, response.json())
    assert not FollowUp.objects.filter(customer_id=customer["id"]).exists()


def test_photos_are_image_documents_of_the_customer(client_for: Any) -> None:
    officer = client_for("officer1")
    customer = create(officer)
    base = f"customers/{customer['id']}"
    photo = upload(officer, f"{base}/documents", "现场.jpg", jpeg_bytes(), kind="photo").json()
    pdf = upload(officer, f"{base}/documents", "合同.pdf", PDF_BYTES, kind="contract").json()
    refused = officer.post(
        f"{base}/follow-ups", {"kind": "visit", "content": "拜访", "photo_ids": [pdf["id"]]}
    )
    assert refused.status_code == 422
    ok = officer.post(
        f"{base}/follow-ups", {"kind": "visit", "content": "拜访", "photo_ids": [photo["id"]]}
    )
    assert ok.status_code == 201
    photos = ok.json()["photos"]
    assert photos == [
        {
            "id": photo["id"],
            "original_name": "现场.jpg",
            "content_type": "image/jpeg",
            "url": f"/api/v1/customers/{customer['id']}/documents/{photo['id']}/file",
        }
    ]


def test_follow_up_writes_event_and_timeline(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    customer = create(officer)
    response = officer.post(
        f"customers/{customer['id']}/follow-ups",
        {
            "kind": "wechat",
            "content": "微信发送材料清单",
            "next_follow_up_at": _iso(timedelta(days=1)),
        },
    )
    event = OutboxEvent.objects.get(topic="follow_up.created")
    assert event.payload["follow_up_id"] == response.json()["id"]
    assert event.payload["customer_id"] == customer["id"]
    assert event.payload["author_id"] == demo["users"]["officer1"].pk
    assert event.payload["next_follow_up_at"] is not None
    line = officer.get(f"customers/{customer['id']}/timeline").json()["items"][0]
    assert line["kind"] == "follow_up" and line["summary"] == "微信跟进:微信发送材料清单"


def test_todo_follows_the_customer_owner_and_reads_through_indexes(
    client_for: Any, demo: Any
) -> None:
    """An officer (scope: own customers) sees the plans on the customers they own now, not the
    ones they wrote on a customer since handed to a colleague; the query reaches them through
    the owner's customers (cust_owner_next_fu), not an OR of author and owner across a join,
    which scans every open follow-up at scale (docs/performance.md, "Load test")."""
    from loandesk.customers import selectors

    FollowUp.objects.all().delete()
    officer1, officer2 = client_for("officer1"), client_for("officer2")
    kept, handed = create(officer1, name="留下的客户"), create(officer1, name="移交的客户")
    for c in (kept, handed):
        response = officer1.post(
            f"customers/{c['id']}/follow-ups",
            {
                "kind": "call",
                "content": f"回访{c['name']}",
                "next_follow_up_at": _iso(timedelta(days=1)),
            },
        )
        assert response.status_code == 201, response.content
    Customer.objects.filter(pk=handed["id"]).update(owner=demo["users"]["officer2"])

    assert [t["customer"]["id"] for t in _todo(officer1)] == [kept["id"]]
    assert [t["customer"]["id"] for t in _todo(officer2)] == [handed["id"]]
    # The manager (department tree) sees both through the scope, but only their own plans:
    # they wrote none and own neither.
    assert _todo(client_for("manager")) == []
    for username in ("officer1", "manager"):
        user = demo["users"][username]
        sql = str(selectors.todo(actor=user).query)
        assert f'"author_id" = {user.pk} OR' not in sql, sql


def test_todo_count_is_exact_to_99_then_capped_and_pages_go_on(client_for: Any, demo: Any) -> None:
    """At a million customers an officer has tens of thousands of plans due this week: the card
    counts exactly up to 99 and says "99+" above, and the pages keep coming, soonest first."""
    FollowUp.objects.all().delete()
    officer = demo["users"]["officer1"]
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [
            Customer(
                name=f"待跟进{i:03d}",
                owner=officer,
                department=officer.department,
                # Created out of order, so "soonest first" is not the insertion order.
                next_follow_up_at=now + timedelta(hours=1 + (i * 37) % 120),
            )
            for i in range(99)
        ]
    )
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                customer=c,
                author=officer,
                kind="call",
                content="回访",
                next_follow_up_at=c.next_follow_up_at,
                created_at=now,
            )
            for c in customers
        ]
    )
    client = client_for("officer1")

    def page(n: int, size: int = 20) -> dict[str, Any]:
        response = client.get("customers/follow-ups/todo", {"page": n, "page_size": size})
        assert response.status_code == 200, response.content
        return response.json()

    first = page(1)
    assert (first["count"], first["count_capped"]) == (99, False)
    extra = Customer.objects.create(
        name="第一百位", owner=officer, department=officer.department, next_follow_up_at=now
    )
    FollowUp.objects.create(
        customer=extra, author=officer, kind="visit", content="上门", next_follow_up_at=now
    )
    first = page(1)
    assert (first["count"], first["count_capped"]) == (100, True)
    assert first["items"][0]["customer"]["id"] == extra.pk  # due now: first
    seen = [i["next_follow_up_at"] for n in range(1, 6) for i in page(n)["items"]]
    assert len(seen) == 100 and seen == sorted(seen)
    assert page(6)["items"] == []
