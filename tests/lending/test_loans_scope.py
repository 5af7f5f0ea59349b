"""Loan reads: data scope (owner / department tree), filters, and the detail shape."""

from typing import Any

import pytest

from loandesk.lending import loans
from loandesk.lending.models import Installment, Loan
from tests.lending.conftest import disburse_body, service_kwargs


@pytest.fixture
def book(lending: dict[str, Any]) -> dict[str, Any]:
    """Two loans for officer1's customer (北京一组), one for officer2's (上海一组)."""
    finance = lending["users"]["finance"]
    consumer = lending["products"]["consumer"]
    sme = lending["products"]["sme_operating"]

    def make(customer: Any, product: Any, **kw: Any) -> Loan:
        body = disburse_body(customer, product, **kw)
        return loans.disburse(actor=finance, **service_kwargs(body))

    return {
        **lending,
        "b1": make(lending["c1"], consumer),
        "b2": make(lending["c1"], sme, amount="60000", periods=6, annual_rate="8"),
        "s1": make(lending["c2"], consumer, amount="50000"),
    }


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("officer1", {"b1", "b2"}),
        ("officer2", {"s1"}),
        ("manager", {"b1", "b2"}),  # 北京分公司 and below
        ("collector", set()),
        ("finance", {"b1", "b2", "s1"}),
        ("gm", {"b1", "b2", "s1"}),
        ("risk", {"b1", "b2", "s1"}),
        ("admin", {"b1", "b2", "s1"}),
    ],
)
def test_each_role_sees_its_scope(
    client_for: Any, book: dict[str, Any], role: str, sees: set[str]
) -> None:
    client = client_for(role)
    assert _ids(client.get("lending/loans")) == {book[name].pk for name in sees}
    for name in ("b1", "b2", "s1"):
        response = client.get(f"lending/loans/{book[name].pk}")
        if name in sees:
            assert response.status_code == 200
        else:
            assert response.status_code == 404, (role, name)
            assert response.json()["code"] == "not_found"


def test_officer1_cannot_read_officer2s_loan(client_for: Any, book: dict[str, Any]) -> None:
    officer1 = client_for("officer1")
    assert officer1.get(f"lending/loans/{book['s1'].pk}").status_code == 404
    assert _ids(officer1.get("lending/loans", {"customer_id": book["c2"].pk})) == set()
    assert officer1.get("lending/loans/999999").status_code == 404


def test_filters(client_for: Any, book: dict[str, Any]) -> None:
    finance = client_for("finance")
    assert _ids(finance.get("lending/loans", {"customer_id": book["c1"].pk})) == {
        book["b1"].pk,
        book["b2"].pk,
    }
    sme = book["products"]["sme_operating"]
    assert _ids(finance.get("lending/loans", {"product_id": sme.pk})) == {book["b2"].pk}
    assert _ids(finance.get("lending/loans", {"status": "active"})) == {
        book[n].pk for n in ("b1", "b2", "s1")
    }
    assert _ids(finance.get("lending/loans", {"status": "closed"})) == set()
    contract = book["s1"].contract_no
    assert _ids(finance.get("lending/loans", {"q": contract})) == {book["s1"].pk}
    assert _ids(finance.get("lending/loans", {"q": contract[-4:]})) == {book["s1"].pk}
    assert _ids(finance.get("lending/loans", {"q": contract.lower()})) == {book["s1"].pk}
    bad = finance.get("lending/loans", {"status": "lost"})
    assert bad.status_code == 422 and "status" in bad.json()["details"]["fields"]


def test_list_item_shape(client_for: Any, book: dict[str, Any]) -> None:
    page = client_for("finance").get("lending/loans", {"page_size": 2}).json()
    assert page["count"] == 3 and page["page_size"] == 2 and len(page["items"]) == 2
    item = next(
        i
        for i in client_for("finance").get("lending/loans").json()["items"]
        if i["id"] == book["b1"].pk
    )
    assert item["customer"] == {"id": book["c1"].pk, "name": book["c1"].name}
    assert item["product"]["name"] == "个人消费贷"
    assert item["owner"]["username"] == "officer1"
    assert (item["principal"], item["annual_rate"], item["apr"]) == ("100000.00", "12.00", "12.00")
    assert item["outstanding_principal"] == "100000.00"
    assert item["next_due"] == {"seq": 1, "due_date": "2026-12-28", "amount": "8884.88"}


def test_detail_totals_and_next_due(client_for: Any, book: dict[str, Any]) -> None:
    loan = book["b1"]
    # Pretend the first installment was repaid: next due moves on, outstanding shrinks.
    first = Installment.objects.get(loan=loan, seq=1)
    Installment.objects.filter(pk=first.pk).update(
        paid_principal_fen=first.principal_fen,
        paid_interest_fen=first.interest_fen,
        status=Installment.Status.PAID,
    )
    body = client_for("officer1").get(f"lending/loans/{loan.pk}").json()
    assert body["contract_no"] == loan.contract_no
    assert body["department"]["name"] == "北京一组"
    assert body["penalty_rate"] == "18.00" and body["grace_days"] == 3
    assert body["classification"] == "normal" and body["overdue_since"] is None
    rows = body["installments"]
    assert len(rows) == 12 and rows[0]["status"] == "paid" and rows[0]["outstanding"] == "0.00"
    totals = body["totals"]
    assert totals["principal"] == "100000.00"
    assert totals["paid"] == "8884.88"
    total = sum(int(r["total"].replace(".", "")) for r in rows)
    assert totals["total"] == f"{total // 100}.{total % 100:02d}"
    assert body["next_due"]["seq"] == 2 and body["next_due"]["due_date"] == "2027-01-28"
    assert body["disbursement"]["account_number"] == "**** **** **** 3445"
    assert body["disbursement"]["created_by"]["username"] == "finance"
