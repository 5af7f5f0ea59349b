"""The functions other engines call: find_or_create_customer (public links), get_customer and
customer_label."""

from typing import Any

import pytest

from loandesk.core.errors import NotFound, ValidationFailed
from loandesk.core.models import OutboxEvent
from loandesk.customers.models import Customer
from loandesk.customers.selectors import customer_label, get_customer
from loandesk.customers.services import find_or_create_customer, merge_customers
from tests.customers.conftest import new_id_number, new_phone
from tests.factories import make_role, make_user


def test_find_or_create_by_id_number_or_phone(demo: Any) -> None:
    owner = demo["users"]["officer1"]
    id_number, phone = new_id_number(), new_phone()
    customer, created = find_or_create_customer(
        actor=None, owner=owner, name="链接客户", id_number=id_number, phone=phone,
        source_channel="public_link",
    )  # fmt: skip
    assert created and customer.owner == owner and customer.department == owner.department
    assert customer.source_channel == "public_link" and customer.kind == "individual"
    assert customer.created_by is None
    assert OutboxEvent.objects.filter(topic="customer.created").count() == 1
    line = customer.timeline.get()
    assert line.summary_code == "customers.timeline.created_by_link"

    same, created = find_or_create_customer(
        actor=None, owner=demo["users"]["officer2"], name="别名", id_number=id_number.lower(),
        phone=None, source_channel="public_link",
    )  # fmt: skip
    assert not created and same.pk == customer.pk
    by_phone, created = find_or_create_customer(
        actor=None, owner=owner, name="链接客户", id_number=None, phone=f"+86{phone}",
        source_channel="public_link",
    )  # fmt: skip
    assert not created and by_phone.pk == customer.pk


def test_find_or_create_follows_merges(demo: Any) -> None:
    admin = demo["users"]["admin"]
    owner = demo["users"]["officer1"]
    phone = new_phone()
    a, _ = find_or_create_customer(
        actor=None, owner=owner, name="甲", id_number=new_id_number(), phone=None,
        source_channel="public_link",
    )  # fmt: skip
    b, _ = find_or_create_customer(
        actor=None, owner=owner, name="甲", id_number=new_id_number(), phone=phone,
        source_channel="public_link",
    )  # fmt: skip
    merge_customers(actor=admin, survivor=a, duplicate=b)
    found, created = find_or_create_customer(
        actor=None, owner=owner, name="甲", id_number=None, phone=phone, source_channel="x"
    )
    assert not created and found.pk == a.pk


def test_find_or_create_validates(demo: Any) -> None:
    owner = demo["users"]["officer1"]
    with pytest.raises(ValidationFailed) as exc:
        find_or_create_customer(
            actor=None, owner=owner, name="坏", id_number="123", phone=None, source_channel="x"
        )
    assert "id_number" in exc.value.details["fields"]
    with pytest.raises(ValidationFailed) as exc:
        find_or_create_customer(
            actor=None, owner=owner, name="坏", id_number=None, phone=None, source_channel="x"
        )
    assert "phone" in exc.value.details["fields"]
    assert not Customer.objects.filter(name="坏").exists()


def test_get_customer_is_scoped(demo: Any) -> None:
    users = demo["users"]
    theirs = Customer.objects.filter(owner=users["officer2"]).first()
    mine = Customer.objects.filter(owner=users["officer1"]).first()
    assert theirs is not None and mine is not None
    assert get_customer(actor=users["officer1"], customer_id=mine.pk) == mine
    with pytest.raises(NotFound):
        get_customer(actor=users["officer1"], customer_id=theirs.pk)
    with pytest.raises(NotFound):
        get_customer(actor=users["collector"], customer_id=mine.pk)  # view, but not in scope
    no_view = make_user(department=users["officer1"].department, roles=[make_role()])
    with pytest.raises(NotFound):
        get_customer(actor=no_view, customer_id=mine.pk)  # no customers.view
    with pytest.raises(NotFound):
        get_customer(actor=users["admin"], customer_id=10**9)


def test_customer_label_is_masked(demo: Any) -> None:
    owner = demo["users"]["officer1"]
    phone = new_phone()
    customer, _ = find_or_create_customer(
        actor=None, owner=owner, name="标签客户", id_number=None, phone=phone, source_channel="x"
    )
    assert customer_label(customer) == f"标签客户 {phone[:3]}****{phone[-4:]}"
    company = Customer.objects.filter(kind="enterprise").first()
    assert company is not None and customer_label(company) == f"{company.name} {company.uscc}"
