"""Risk test helpers: real customers (through the customer service) and real 贷款申请 records."""

import itertools
from datetime import date
from typing import Any

from loandesk.accounts.models import User
from loandesk.customers import services as customer_services
from loandesk.customers.models import Customer
from loandesk.forms import services as form_services
from loandesk.forms.models import Record
from tests.customers.conftest import new_id_number, new_phone

_seq = itertools.count(500)


def user(username: str) -> User:
    return User.objects.get(username=username)


def make_customer(
    owner: str = "officer1",
    *,
    birth: date = date(1986, 5, 17),
    credit_level: str = "A",
    monthly_income: str | None = "30000",
    tags: list[str] = (),  # type: ignore[assignment]
    name: str = "张伟",
) -> Customer:
    actor = user(owner)
    n = next(_seq)
    tag_ids = []
    for tag_name in tags:
        tag = customer_services.create_tag(actor=user("admin"), name=tag_name)
        tag_ids.append(tag.pk)
    data: dict[str, Any] = {
        "name": name,
        "id_number": new_id_number(n, birth=birth),
        "phone": new_phone(n),
        "credit_level": credit_level,
    }
    if monthly_income is not None:
        data["monthly_income"] = monthly_income
    customer, _ = customer_services.create_customer(actor=actor, data=data, tag_ids=tag_ids)
    return customer


def submit_application(customer: Customer, owner: str = "officer1", **overrides: Any) -> Record:
    data: dict[str, Any] = {
        "customer": customer.pk,
        "product": "consumer",
        "amount": "100000",
        "term": 12,
        "annual_rate": "6",
        "purpose": "consumption",
        "applicant_income": "30000",
    }
    data.update(overrides)
    return form_services.create_record(actor=user(owner), form_code="loan_application", data=data)
