"""One customer per person: creating an existing ID number or mobile is a 409 that points at the
existing customer (or links to it); admins merge the duplicates that slipped through."""

from typing import Any

from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.customers.models import Customer, Document, FollowUp, Tag
from tests.customers.conftest import create, customer_body, new_card, new_phone, png_bytes, upload


def test_duplicate_id_number_is_409_with_the_existing_customer(client_for: Any) -> None:
    officer = client_for("officer1")
    first = create(officer)
    plain = Customer.objects.get(pk=first["id"])
    response = officer.post("customers", customer_body(id_number=plain.id_number))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "customers.duplicate"
    assert body["details"]["customer_id"] == first["id"]
    assert body["details"]["field"] == "id_number"
    assert body["details"]["accessible"] is True
    assert "身份证号" in body["message"]
    phone_dup = officer.post("customers", customer_body(phone=plain.phone))
    assert phone_dup.status_code == 409
    assert phone_dup.json()["details"] | {} == {
        "customer_id": first["id"],
        "field": "phone",
        "accessible": True,
        "owner_name": "王小明",
    }
    assert Customer.objects.filter(phone_bidx=plain.phone_bidx).count() == 1


def test_on_duplicate_link_returns_the_existing_customer(client_for: Any) -> None:
    officer = client_for("officer1")
    first = create(officer)
    plain = Customer.objects.get(pk=first["id"])
    linked = officer.post(
        "customers", customer_body(phone=plain.phone, name="张伟", on_duplicate="link")
    )
    assert linked.status_code == 200
    assert linked.json()["id"] == first["id"]


def test_duplicate_outside_scope_is_not_linked(client_for: Any, demo: Any) -> None:
    theirs = Customer.objects.filter(owner=demo["users"]["officer2"], kind="individual").first()
    assert theirs is not None
    response = client_for("officer1").post(
        "customers", customer_body(id_number=theirs.id_number, on_duplicate="link")
    )
    assert response.status_code == 409
    details = response.json()["details"]
    assert details["customer_id"] == theirs.pk and details["accessible"] is False
    assert details["owner_name"] == "陈晓燕"  # who to talk to (撞单)


def test_patch_into_someone_elses_phone_is_409(client_for: Any) -> None:
    officer = client_for("officer1")
    a, b = create(officer), create(officer)
    phone_a = Customer.objects.get(pk=a["id"]).phone
    response = officer.patch(f"customers/{b['id']}", {"phone": phone_a})
    assert response.status_code == 409 and response.json()["details"]["customer_id"] == a["id"]
    assert officer.patch(f"customers/{a['id']}", {"phone": phone_a}).status_code == 200


def test_merge_moves_everything_and_keeps_history(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    survivor = create(officer, name="张伟", phone=None)
    dup_phone = new_phone()
    duplicate = create(
        officer,
        name="张伟",
        id_number=None,
        phone=dup_phone,
        employer="某某公司",
        bank_cards=[{"number": new_card()}],
    )
    tag = Tag.objects.create(name="重复客户")
    officer.patch(f"customers/{duplicate['id']}", {"tag_ids": [tag.pk]})
    officer.post(f"customers/{duplicate['id']}/follow-ups", {"kind": "call", "content": "跟进一次"})
    upload(officer, f"customers/{duplicate['id']}/documents", "a.png", png_bytes())

    assert (
        client_for("manager")
        .post(f"customers/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
        .status_code
        == 403
    )
    admin = client_for("admin")
    response = admin.post(f"customers/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert response.status_code == 200, response.content
    merged = response.json()
    assert merged["phone"] == dup_phone  # taken over (admin sees PII)
    assert merged["employer"] == "某某公司"
    assert [t["name"] for t in merged["tags"]] == ["重复客户"]
    assert len(merged["bank_cards"]) == 1
    assert merged["counts"]["follow_ups"] == 1 and merged["counts"]["documents"] == 1
    assert FollowUp.objects.filter(customer_id=survivor["id"]).count() == 1
    assert Document.objects.filter(customer_id=survivor["id"]).count() == 1

    gone = admin.get(f"customers/{duplicate['id']}").json()
    assert gone["status"] == "merged" and gone["merged_into"]["id"] == survivor["id"]
    patch = admin.patch(f"customers/{duplicate['id']}", {"remark": "x"})
    assert patch.status_code == 409 and patch.json()["code"] == "customers.merged"
    # The merged record's history moved; the survivor's timeline tells the story.
    kinds = [t["kind"] for t in admin.get(f"customers/{survivor['id']}/timeline").json()["items"]]
    assert kinds[0] == "merged" and "follow_up" in kinds and "document" in kinds
    assert kinds.count("created") == 2
    # The phone now leads to the survivor, in search and in dedupe.
    found = admin.get("customers", {"q": dup_phone}).json()["items"]
    assert [c["id"] for c in found] == [survivor["id"]]
    again = admin.post("customers", customer_body(phone=dup_phone))
    assert again.json()["details"]["customer_id"] == survivor["id"]
    # Default list hides merged records; status=merged shows them.
    assert duplicate["id"] not in {c["id"] for c in admin.get("customers").json()["items"]}
    merged_list = admin.get("customers", {"status": "merged"}).json()["items"]
    assert [c["id"] for c in merged_list] == [duplicate["id"]]

    entry = AuditEntry.objects.get(action="customers.merge")
    assert entry.extra == {"survivor_id": survivor["id"], "duplicate_id": duplicate["id"]}
    event = OutboxEvent.objects.get(topic="customer.merged")
    assert event.payload["survivor_id"] == survivor["id"]
    assert event.payload["duplicate_id"] == duplicate["id"]


def test_merge_refuses_self_kind_mismatch_and_merged(client_for: Any) -> None:
    from loandesk.customers import identity

    admin = client_for("admin")
    a, b = create(admin), create(admin)
    self_merge = admin.post(f"customers/{a['id']}/merge", {"duplicate_id": a["id"]})
    assert self_merge.status_code == 422
    company = create(
        admin,
        kind="enterprise",
        name="某公司",
        uscc=identity.make_uscc("91110105MA01XK8T4"),
        id_number=None,
    )
    mixed = admin.post(f"customers/{a['id']}/merge", {"duplicate_id": company["id"]})
    assert mixed.status_code == 422
    assert admin.post(f"customers/{a['id']}/merge", {"duplicate_id": b["id"]}).status_code == 200
    twice = admin.post(f"customers/{a['id']}/merge", {"duplicate_id": b["id"]})
    assert twice.status_code == 409 and twice.json()["code"] == "customers.merge_state"


def test_survivor_can_take_back_a_merged_duplicates_phone(client_for: Any) -> None:
    admin = client_for("admin")
    survivor = create(admin)
    dup_phone = new_phone()
    duplicate = create(admin, phone=dup_phone)
    admin.post(f"customers/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    # The survivor kept its own phone; the duplicate's still leads to it...
    assert [c["id"] for c in admin.get("customers", {"q": dup_phone}).json()["items"]] == [
        survivor["id"]
    ]
    # ...and the survivor can switch to it.
    response = admin.patch(f"customers/{survivor['id']}", {"phone": dup_phone})
    assert response.status_code == 200 and response.json()["phone"] == dup_phone
    assert Customer.objects.get(pk=duplicate["id"]).phone_bidx is None


def test_merge_keeps_one_planned_follow_up_the_soonest(client_for: Any, demo: Any) -> None:
    """Each record had a plan; the survivor keeps the sooner one (one open plan per customer,
    as recording a follow-up keeps it), and the to-do list shows it once, at its time."""
    from datetime import timedelta

    from django.utils import timezone

    FollowUp.objects.all().delete()
    officer = client_for("officer1")
    survivor = create(officer, name="李娜", phone=None)
    duplicate = create(officer, name="李娜", id_number=None, phone=new_phone())
    soon, later = timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=6)
    for customer, when in ((survivor, later), (duplicate, soon)):
        response = officer.post(
            f"customers/{customer['id']}/follow-ups",
            {"kind": "call", "content": "约下次", "next_follow_up_at": when.isoformat()},
        )
        assert response.status_code == 201, response.content
    admin = client_for("admin")
    response = admin.post(f"customers/{survivor['id']}/merge", {"duplicate_id": duplicate["id"]})
    assert response.status_code == 200, response.content
    open_plans = FollowUp.objects.filter(customer_id=survivor["id"], closed_at__isnull=True)
    assert [f.next_follow_up_at for f in open_plans] == [soon]
    assert FollowUp.objects.filter(customer_id=survivor["id"]).count() == 2  # history kept
    todo = officer.get("customers/follow-ups/todo").json()
    assert [(t["customer"]["id"], t["next_follow_up_at"][:16]) for t in todo["items"]] == [
        (survivor["id"], soon.isoformat()[:16])
    ]
