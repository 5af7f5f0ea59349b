"""Fixtures for the product/loan tests: the demo organisation with its customers and products,
and a request body for a disbursement that passes every check."""

import itertools
import uuid
from typing import Any

import pytest

from loandesk.customers.models import Customer
from loandesk.lending.models import Product

_seq = itertools.count(1)


def new_key() -> str:
    return f"test-{uuid.uuid4()}"


def customer_of(username: str) -> Customer:
    """One of the demo customers owned by `username` (officer1: 北京一组, officer2: 上海一组)."""
    customer = (
        Customer.objects.filter(owner__username=username, status=Customer.Status.ACTIVE)
        .order_by("id")
        .first()
    )
    assert customer is not None, f"no demo customer for {username}"
    return customer


def product(code: str = "consumer") -> Product:
    return Product.objects.get(code=code)


def make_product(**overrides: Any) -> Product:
    """A product row straight in the table (the validation path is tested on its own)."""
    n = next(_seq)
    values: dict[str, Any] = {
        "code": f"p{n}",
        "name": f"测试产品{n}",
        "method": "equal_installment",
        "min_amount_fen": 100_000,
        "max_amount_fen": 100_000_000,
        "min_periods": 1,
        "max_periods": 60,
        "min_rate": 0,
        "max_rate": 36,
        "cap_line": "36",
        "cap_policy": "refuse",
    }
    values.update(overrides)
    return Product.objects.create(**values)


def disburse_body(customer: Customer, prod: Product, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer.pk,
        "product_id": prod.pk,
        "amount": "100000",
        "periods": 12,
        "annual_rate": "12",
        "start": "2026-11-28",
        "account_name": customer.name,
        "account_number": "6222020200112233445",
        "bank_name": "中国工商银行北京分行",
        "idempotency_key": new_key(),
    }
    body.update(overrides)
    return body


def service_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    """The API body as keyword arguments of `loans.disburse` (dates parsed)."""
    from datetime import date

    out = dict(body)
    for name in ("start", "first_due"):
        if isinstance(out.get(name), str):
            out[name] = date.fromisoformat(out[name])
    return out


@pytest.fixture
def lending(demo: dict[str, Any]) -> dict[str, Any]:
    """The demo organisation, its customers and the three demo products."""
    return {
        **demo,
        "products": {p.code: p for p in Product.objects.all()},
        "c1": customer_of("officer1"),
        "c2": customer_of("officer2"),
    }
