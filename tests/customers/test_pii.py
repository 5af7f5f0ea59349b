"""PII: encrypted at rest, found by blind index, masked unless customers.view_pii, and every
unmasked view audited (pii.view for responses, pii.reveal for the reveal endpoint)."""

import json
from typing import Any

from django.db import connection

from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.customers.models import BankCard, Customer
from loandesk.customers.profile import id_number_index, phone_index
from tests.customers.conftest import create, new_card, new_id_number, new_phone


def _raw(sql: str, params: list[Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def test_pii_is_encrypted_at_rest(client_for: Any) -> None:
    officer = client_for("officer1")
    id_number, phone, card = new_id_number(), new_phone(), new_card()
    body = create(officer, id_number=id_number, phone=phone, bank_cards=[{"number": card}])
    raw_id, raw_phone, id_bidx, phone_bidx = _raw(
        "SELECT id_number, phone, id_number_bidx, phone_bidx FROM customers_customer WHERE id = %s",
        [body["id"]],
    )
    for raw, plain in ((raw_id, id_number), (raw_phone, phone)):
        assert raw.startswith("v1:") and plain not in raw
    assert id_bidx == id_number_index(id_number) and id_number not in id_bidx
    assert phone_bidx == phone_index(phone)
    (raw_card,) = _raw("SELECT number FROM customers_bankcard WHERE customer_id = %s", [body["id"]])
    assert raw_card.startswith("v1:") and card not in raw_card
    # Python sees plaintext.
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.id_number, customer.phone) == (id_number, phone)
    assert BankCard.objects.get(customer=customer).number == card


def test_masked_for_callers_without_view_pii(client_for: Any) -> None:
    officer = client_for("officer1")
    id_number, phone, card = new_id_number(), new_phone(), new_card()
    body = create(officer, id_number=id_number, phone=phone, bank_cards=[{"number": card}])
    assert body["pii_masked"] is True
    assert body["id_number"] == id_number[:3] + "*" * 11 + id_number[-4:]
    assert body["phone"] == phone[:3] + "****" + phone[-4:]
    assert body["bank_cards"][0]["number"] == "**** **** **** " + card[-4:]
    listed = officer.get("customers", {"q": phone}).json()["items"][0]
    assert listed["phone"] == body["phone"] and listed["id_number"] == body["id_number"]
    assert not AuditEntry.objects.filter(action__startswith="pii.").exists()


def test_unmasked_views_are_audited(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    id_number, phone = new_id_number(), new_phone()
    body = create(officer, id_number=id_number, phone=phone, bank_cards=[{"number": new_card()}])
    manager = client_for("manager")
    detail = manager.get(f"customers/{body['id']}").json()
    assert detail["pii_masked"] is False
    assert (detail["id_number"], detail["phone"]) == (id_number, phone)
    assert "*" not in detail["bank_cards"][0]["number"]
    entry = AuditEntry.objects.get(action="pii.view")
    assert entry.actor == demo["users"]["manager"]
    assert entry.target_id == str(body["id"])
    assert entry.extra["fields"] == ["id_number", "phone", "bank_card"]
    rows = manager.get("customers", {"page_size": 5}).json()["items"]
    assert all("*" not in r["phone"] for r in rows)
    listing = AuditEntry.objects.filter(action="pii.view").order_by("-id").first()
    assert listing is not None and listing.extra["customer_ids"] == [r["id"] for r in rows]


def test_reveal_needs_view_pii_and_is_audited(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    id_number, phone, card = new_id_number(), new_phone(), new_card()
    body = create(officer, id_number=id_number, phone=phone, bank_cards=[{"number": card}])
    path = f"customers/{body['id']}/reveal"
    denied = officer.post(path, {"field": "id_number"})
    assert denied.status_code == 403
    assert not AuditEntry.objects.filter(action="pii.reveal").exists()

    risk = client_for("risk")
    for field, value in (("id_number", id_number), ("phone", phone), ("bank_card", card)):
        response = risk.post(path, {"field": field})
        assert response.status_code == 200, response.content
        assert response.json() == {"field": field, "value": value}
    entries = list(AuditEntry.objects.filter(action="pii.reveal").order_by("id"))
    assert [e.extra["field"] for e in entries] == ["id_number", "phone", "bank_card"]
    assert all(e.actor == demo["users"]["risk"] for e in entries)
    assert all(e.target_type == "customers.customer" for e in entries)
    assert all(e.target_id == str(body["id"]) for e in entries)
    timeline = risk.get(f"customers/{body['id']}/timeline").json()["items"]
    assert [t["kind"] for t in timeline[:3]] == ["reveal", "reveal", "reveal"]
    assert risk.post(path, {"field": "password"}).status_code == 422


def test_owner_may_reveal_own_customers_phone_to_call(client_for: Any, demo: Any) -> None:
    officer = client_for("officer1")
    phone = new_phone()
    body = create(officer, id_number=new_id_number(), phone=phone)
    path = f"customers/{body['id']}/reveal"
    response = officer.post(path, {"field": "phone"})
    assert response.json() == {"field": "phone", "value": phone}
    entry = AuditEntry.objects.get(action="pii.reveal")
    assert entry.actor == demo["users"]["officer1"] and entry.extra["field"] == "phone"
    # Only the phone, and only for the owner.
    assert officer.post(path, {"field": "id_number"}).status_code == 403
    assert client_for("officer2").post(path, {"field": "phone"}).status_code == 404


def test_reveal_bank_card_choice_and_missing_values(client_for: Any) -> None:
    officer = client_for("officer1")
    cards = [new_card(), new_card()]
    body = create(officer, id_number=None, bank_cards=[{"number": c} for c in cards])
    manager = client_for("manager")
    path = f"customers/{body['id']}/reveal"
    choose = manager.post(path, {"field": "bank_card"})
    assert choose.status_code == 422
    assert "bank_card_id" in choose.json()["details"]["fields"]
    second = body["bank_cards"][1]["id"]
    assert (
        manager.post(path, {"field": "bank_card", "bank_card_id": second}).json()["value"]
        == cards[1]
    )
    missing = manager.post(path, {"field": "id_number"})
    assert missing.status_code == 404 and missing.json()["code"] == "customers.no_value"


def test_reveal_outside_scope_is_404(client_for: Any, demo: Any) -> None:
    shanghai = Customer.objects.filter(owner=demo["users"]["officer2"]).first()
    assert shanghai is not None
    response = client_for("manager").post(f"customers/{shanghai.pk}/reveal", {"field": "phone"})
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="pii.reveal").exists()


def test_audit_and_outbox_never_hold_plaintext_pii(client_for: Any) -> None:
    officer = client_for("officer1")
    id_number, phone, card = new_id_number(), new_phone(), new_card()
    body = create(officer, id_number=id_number, phone=phone, bank_cards=[{"number": card}])
    new = new_phone()
    officer.patch(f"customers/{body['id']}", {"phone": new})
    officer.post(f"customers/{body['id']}/bank-cards", {"number": new_card()})
    entries = AuditEntry.objects.filter(target_type__startswith="customers.")
    text = json.dumps([[e.changes, e.extra] for e in entries], ensure_ascii=False)
    events = json.dumps([e.payload for e in OutboxEvent.objects.all()], ensure_ascii=False)
    for plain in (id_number, phone, card, new):
        assert plain not in text and plain not in events
    update = entries.filter(action="record.update").get()
    old, after = update.changes["phone"]
    assert old.startswith(phone[:3] + "****") and after.startswith(new[:3] + "****")
    assert old != after  # a keyed fingerprint tells the values apart even when masks look alike
