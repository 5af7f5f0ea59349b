"""The repayment endpoints: status codes, idempotency over HTTP, scope, bad input → 4xx."""

from datetime import date
from typing import Any

import pytest

from loandesk.lending.models import Loan, Repayment
from tests.postloan.conftest import START, make_loan, set_date

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 20)


@pytest.fixture
def loan(lending: dict[str, Any]) -> Loan:
    set_date(START)
    made = make_loan(lending)
    set_date(TODAY)
    return made


def body(**over: Any) -> dict[str, Any]:
    return {"amount": "888.88", "value_date": "2026-02-10", "channel": "wechat", **over}


def test_post_list_detail_reverse(client_for: Any, loan: Loan) -> None:
    finance = client_for("finance")
    url = f"lending/loans/{loan.pk}/repayments"
    created = finance.post(url, body(), HTTP_IDEMPOTENCY_KEY="web-key-000001")
    assert created.status_code == 201, created.json()
    rep = created.json()
    assert rep["amount"] == "888.88" and rep["interest"] == "888.88"
    assert rep["allocations"][0]["seq"] == 1 and rep["replayed"] is False
    again = finance.post(url, body(), HTTP_IDEMPOTENCY_KEY="web-key-000001")
    assert again.status_code == 200 and again.json()["id"] == rep["id"]
    assert again.json()["replayed"] is True
    conflict = finance.post(url, body(amount="1"), HTTP_IDEMPOTENCY_KEY="web-key-000001")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "lending.repayment.idempotency_conflict"
    listed = finance.get(url).json()
    assert [r["id"] for r in listed["items"]] == [rep["id"]] and listed["credit"] == "0.00"
    assert finance.get(f"lending/repayments/{rep['id']}").json()["channel"] == "wechat"
    page = finance.get("lending/repayments", {"q": loan.contract_no, "channel": "wechat"}).json()
    assert page["count"] == 1
    assert finance.get("lending/repayments", {"reversed": "true"}).json()["count"] == 0
    by_customer = finance.get("lending/repayments", {"customer_id": loan.customer_id}).json()
    assert by_customer["count"] == 1
    missing_reason = finance.post(f"lending/repayments/{rep['id']}/reverse", {"reason": ""})
    assert missing_reason.status_code == 422
    reversed_ = finance.post(f"lending/repayments/{rep['id']}/reverse", {"reason": "金额录错"})
    assert reversed_.status_code == 200 and reversed_.json()["status"] == "reversed"
    assert reversed_.json()["reversal_reason"] == "金额录错"
    twice = finance.post(f"lending/repayments/{rep['id']}/reverse", {"reason": "再次"})
    assert twice.status_code == 409


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "999999999999999"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": None}, "amount"),
        ({"value_date": "2026-03-21"}, "value_date"),
        ({"value_date": "2025-01-01"}, "value_date"),
        ({"channel": ""}, "channel"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(
    client_for: Any, loan: Loan, over: dict[str, Any], field: str
) -> None:
    finance = client_for("finance")
    answer = finance.post(f"lending/loans/{loan.pk}/repayments", body(**over))
    assert answer.status_code == 422, answer.json()
    assert field in answer.json()["details"]["fields"]
    assert Repayment.objects.count() == 0


def test_wrong_types_and_unknown_fields_are_422(client_for: Any, loan: Loan) -> None:
    finance = client_for("finance")
    url = f"lending/loans/{loan.pk}/repayments"
    assert finance.post(url, body(value_date="yesterday")).status_code == 422
    assert finance.post(url, body(extra="x")).status_code == 422
    assert finance.post(url, "not json").status_code in (400, 422)
    assert Repayment.objects.count() == 0


def test_english_messages(client_for: Any, loan: Loan) -> None:
    finance = client_for("finance")
    finance.language = "en-US"
    answer = finance.post(f"lending/loans/{loan.pk}/repayments", body(amount="0"))
    assert answer.json()["details"]["fields"]["amount"] == "The amount must be above 0"


def test_scope_over_http(client_for: Any, loan: Loan) -> None:
    finance = client_for("finance")
    rep = finance.post(f"lending/loans/{loan.pk}/repayments", body()).json()
    officer1, officer2 = client_for("officer1"), client_for("officer2")
    denied = officer1.post(f"lending/loans/{loan.pk}/repayments", body())
    assert denied.status_code == 403
    assert officer1.get(f"lending/loans/{loan.pk}/repayments").status_code == 200
    assert officer2.get(f"lending/loans/{loan.pk}/repayments").status_code == 404
    assert officer2.get(f"lending/repayments/{rep['id']}").status_code == 404
    assert officer2.get("lending/repayments").json()["count"] == 0
    assert officer2.post(f"lending/loans/{loan.pk}/repayments", body()).status_code == 403
    assert finance.post("lending/loans/999999/repayments", body()).status_code == 404
    assert (
        officer1.post(f"lending/repayments/{rep['id']}/reverse", {"reason": "x"}).status_code == 403
    )
    assert Repayment.objects.count() == 1


def test_payoff_quote_and_prepayments(client_for: Any, loan: Loan) -> None:
    finance = client_for("finance")
    url = f"lending/loans/{loan.pk}/payoff-quote"
    quote = finance.get(url, {"date": "2026-03-20"}).json()
    assert quote["due"]["total"] != "0.00" and quote["payoff"] is not None
    partial = finance.get(url, {"date": "2026-03-20", "principal": "10000", "mode": "keep_term"})
    assert partial.status_code == 200 and partial.json()["partial"]["principal"] == "10000.00"
    assert finance.get(url, {"principal": "1.001"}).status_code == 422
    assert finance.get(url, {"date": "2026-04-01"}).status_code == 422
    total = partial.json()["partial"]["total"]
    post = finance.post(
        f"lending/loans/{loan.pk}/prepayments",
        {
            "full": False,
            "principal": "10000",
            "mode": "keep_term",
            "amount": total,
            "value_date": "2026-03-20",
            "channel": "bank_transfer",
        },
        HTTP_IDEMPOTENCY_KEY="prepay-key-0001",
    )
    assert post.status_code == 201, post.json()
    assert post.json()["kind"] == "partial_prepayment" and post.json()["amount"] == total
    # One prepayment per period: the current installment already carries one.
    assert finance.get(url).json()["payoff"] is None
    closed = finance.post(f"lending/loans/{loan.pk}/prepayments", {"full": True, "channel": "cash"})
    assert closed.status_code == 409
    assert client_for("officer2").get(url).status_code == 404
