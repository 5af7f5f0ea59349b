"""The 360 view's counts for the tabs later apps fill (applications, loans, repayments,
collections): each counts the customer's rows the caller may see, as its tab lists them."""

from datetime import date
from typing import Any

from loandesk.flows.models import FlowInstance
from loandesk.lending import repayments
from loandesk.postloan import collections
from loandesk.postloan.models import CollectionCase
from tests.factories import PASSWORD, ApiClient, make_role, make_user
from tests.postloan.conftest import set_date


def _counts(client_for: Any, username: str, customer_id: int) -> dict[str, int] | None:
    response = client_for(username).get(f"customers/{customer_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.content
    return dict(response.json()["counts"])


def test_counts_follow_the_customers_loans_repayments_and_cases(
    book: dict[str, Any], client_for: Any
) -> None:
    c1 = book["c1"]
    mine = [loan for loan in book["loans"] if loan.customer_id == c1.pk]
    assert len(mine) == 4
    before = _counts(client_for, "officer1", c1.pk)
    assert before is not None
    assert (before["loans"], before["repayments"], before["collections"]) == (4, 0, 0)

    set_date(date(2026, 2, 20))
    finance = book["users"]["finance"]
    for loan in mine[:2]:
        repayments.post_repayment(
            actor=finance, loan_id=loan.pk, amount_fen=10_000, value_date=date(2026, 2, 20),
            channel="bank_transfer",
        )  # fmt: skip
    collections.open_case(loan=mine[0])
    for username in ("officer1", "admin", "manager"):
        counts = _counts(client_for, username, c1.pk)
        assert counts is not None, username
        assert (counts["loans"], counts["repayments"], counts["collections"]) == (4, 2, 1)
        assert counts["applications"] == FlowInstance.objects.filter(customer=c1).count()
    # officer2 does not see officer1's customer at all.
    assert _counts(client_for, "officer2", c1.pk) is None


def test_a_role_that_may_not_see_loans_counts_none(book: dict[str, Any]) -> None:
    """A customer viewer without lending.view_loans sees the customer but no loan rows, so
    its counts are 0 where the tabs would list nothing."""
    c1 = book["c1"]
    set_date(date(2026, 2, 20))
    repayments.post_repayment(
        actor=book["users"]["finance"], loan_id=book["loans"][0].pk, amount_fen=10_000,
        value_date=date(2026, 2, 20), channel="bank_transfer",
    )  # fmt: skip
    viewer = make_user(roles=[make_role(data_scope="all", permissions=["customers.view"])])
    client = ApiClient()
    client.login_as(viewer.username, PASSWORD)
    response = client.get(f"customers/{c1.pk}")
    assert response.status_code == 200, response.content
    counts = response.json()["counts"]
    assert (counts["loans"], counts["repayments"]) == (0, 0)
    assert counts["collections"] == CollectionCase.objects.filter(customer=c1).count()
