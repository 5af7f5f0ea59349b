"""Disbursement: the loan and its schedule to the fen, exactly once, with its events."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loandesk.core.errors import Conflict, PermissionDenied, ValidationFailed
from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.core.services import get_business_date
from loandesk.customers.models import Customer, TimelineEvent
from loandesk.lending import loans
from loandesk.lending.finance import build_schedule
from loandesk.lending.models import ContractCounter, Disbursement, Installment, Loan, Product
from loandesk.lending.products import Terms, price, schedule_input
from tests.lending.conftest import disburse_body, make_product, service_kwargs

METHODS = ["equal_installment", "equal_principal", "interest_only", "bullet", "flat"]


def _disburse(lending: dict[str, Any], **overrides: Any) -> Loan:
    body = disburse_body(lending["c1"], lending["products"]["consumer"], **overrides)
    return loans.disburse(actor=lending["users"]["finance"], **service_kwargs(body))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("amount", "periods", "rate"),
    [("100000", 12, "12"), ("33333.33", 7, "7.35"), ("10000.01", 36, "17.99"), ("1000000", 1, "6")],
)
def test_installments_sum_exactly_to_the_principal(
    lending: dict[str, Any], method: str, amount: str, periods: int, rate: str
) -> None:
    product = make_product(method=method, max_amount_fen=10**9)
    body = disburse_body(lending["c1"], product, amount=amount, periods=periods, annual_rate=rate)
    loan = loans.disburse(actor=lending["users"]["finance"], **service_kwargs(body))
    principal_fen = int(Decimal(amount) * 100)
    assert loan.principal_fen == principal_fen
    assert loan.outstanding_principal_fen == principal_fen
    rows = list(Installment.objects.filter(loan=loan).order_by("seq"))
    assert sum(r.principal_fen for r in rows) == principal_fen
    expected = 1 if method == "bullet" else periods
    assert [r.seq for r in rows] == list(range(1, expected + 1))
    # Row by row what the loan-math library computes for the same input, in fen.
    result = build_schedule(schedule_input(product, _terms(body)))
    assert [(r.due_date, r.principal_fen, r.interest_fen, r.fee_fen) for r in rows] == [
        (s.due_date, int(s.principal * 100), int(s.interest * 100), int(s.fee * 100))
        for s in result.rows
    ]
    assert loan.first_due_date == rows[0].due_date
    assert loan.maturity_date == rows[-1].due_date
    assert all(r.status == Installment.Status.PENDING and r.paid_fen == 0 for r in rows)


def test_long_bullet_loans_fit_the_columns(lending: dict[str, Any]) -> None:
    """600 quarters in one row: the row spans ~55,000 days, beyond a small integer."""
    product = make_product(
        method="bullet", frequency="quarterly", max_periods=600, cap_policy="flag", max_rate=100
    )
    body = disburse_body(lending["c1"], product, periods=600, annual_rate="100")
    loan = loans.disburse(actor=lending["users"]["finance"], **service_kwargs(body))
    row = loan.installments.get()
    assert row.days > 50_000
    assert row.principal_fen == loan.principal_fen
    assert loan.apr > 0


def _terms(body: dict[str, Any]) -> Terms:
    return Terms(
        amount=Decimal(body["amount"]),
        periods=int(body["periods"]),
        annual_rate=Decimal(body["annual_rate"]),
        start=date.fromisoformat(body["start"]),
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(METHODS),
    fen=st.integers(min_value=100_000, max_value=500_000_000),
    periods=st.integers(min_value=1, max_value=60),
    rate=st.decimals(min_value=0, max_value=36, places=2),
    multiple=st.sampled_from([1, 100, 1000]),
    frequency=st.sampled_from(["monthly", "quarterly", "weekly", "biweekly"]),
)
def test_any_schedule_a_product_builds_converts_to_fen_exactly(
    method: str, fen: int, periods: int, rate: Decimal, multiple: int, frequency: str
) -> None:
    """The pure part of disbursement (no database): price + conversion to Installment rows."""
    product = Product(
        code="p",
        name="p",
        method=method,
        frequency=frequency,
        min_amount_fen=1,
        max_amount_fen=10**12,
        min_periods=1,
        max_periods=600,
        min_rate=Decimal(0),
        max_rate=Decimal(100),
        installment_multiple_fen=multiple,
        cap_line="36",
        cap_policy="flag",
    )
    terms = Terms(Decimal(fen) / 100, periods, rate, date(2026, 1, 31))
    rows = loans._installments(price(product, terms))
    assert sum(r.principal_fen for r in rows) == fen
    assert all(r.principal_fen >= 0 and r.interest_fen >= 0 for r in rows)


def test_disbursement_writes_the_loan_the_events_and_the_audit(lending: dict[str, Any]) -> None:
    finance = lending["users"]["finance"]
    customer: Customer = lending["c1"]
    loan = _disburse(lending, source_record_id=42)
    today = get_business_date()
    assert loan.contract_no == f"HT{today:%Y%m%d}0001"
    assert loan.customer_id == customer.pk
    assert loan.owner_id == customer.owner_id
    assert loan.department_id == customer.department_id
    assert loan.created_by_id == finance.pk
    assert (loan.periods, loan.annual_rate, loan.method) == (12, Decimal(12), "equal_installment")
    assert loan.apr == Decimal("12.00")
    assert loan.cap_rate == Decimal("24.00") and loan.cap_exceeded is False
    assert loan.penalty_rate == Decimal("18.0000")  # 12 % x 1.5
    assert loan.grace_days == 3
    assert loan.status == Loan.Status.ACTIVE and loan.bucket == "M0"
    assert loan.classification == Loan.Classification.NORMAL
    assert loan.source_record_id == 42
    assert loan.terms["allocation_order"] == ["penalty", "fee", "interest", "principal"]
    assert loan.terms["cap_line"] == "24"

    disbursement = Disbursement.objects.get(loan=loan)
    assert (disbursement.amount_fen, disbursement.upfront_fee_fen) == (10_000_000, 0)
    assert disbursement.net_amount_fen == 10_000_000
    assert disbursement.value_date == date(2026, 11, 28)
    assert disbursement.account_number == "6222020200112233445"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_number FROM lending_disbursement WHERE id = %s", [disbursement.pk]
        )
        raw = cursor.fetchone()[0]
    assert raw.startswith("v1:") and "6222020200112233445" not in raw

    event = OutboxEvent.objects.get(topic="loan.disbursed")
    assert event.aggregate_type == "lending.loan" and event.aggregate_id == str(loan.pk)
    assert event.payload["contract_no"] == loan.contract_no
    assert event.payload["principal"] == "100000.00"
    assert event.payload["principal_fen"] == 10_000_000
    assert event.payload["customer_id"] == customer.pk
    assert event.payload["source_record_id"] == 42

    line = TimelineEvent.objects.get(customer=customer, kind="loan_disbursed")
    assert line.ref_type == "lending.loan" and line.ref_id == str(loan.pk)
    assert line.actor_id == finance.pk
    from loandesk.core.i18n import message

    assert message(line.summary_code, line.params) == (
        f"放款 ¥100,000.00(个人消费贷,12 期),合同号 {loan.contract_no}"
    )

    entry = AuditEntry.objects.get(action="loan.disburse")
    assert entry.actor_id == finance.pk
    assert entry.target_id == str(loan.pk)
    assert entry.extra["account_number"] == "**** **** **** 3445"
    assert "6222020200112233445" not in str(entry.extra)
    assert ContractCounter.objects.get(day=today).last == 1


def test_contract_numbers_count_up_per_business_date(lending: dict[str, Any]) -> None:
    from loandesk.core.services import set_business_date

    admin = lending["users"]["admin"]
    set_business_date(actor=admin, new_date=date(2031, 3, 9))
    first = _disburse(lending)
    second = _disburse(lending)
    set_business_date(actor=admin, new_date=date(2031, 3, 10))
    third = _disburse(lending)
    assert [first.contract_no, second.contract_no, third.contract_no] == [
        "HT203103090001",
        "HT203103090002",
        "HT203103100001",
    ]


def test_start_defaults_to_the_business_date(lending: dict[str, Any]) -> None:
    from loandesk.core.services import set_business_date

    set_business_date(actor=lending["users"]["admin"], new_date=date(2031, 1, 15))
    loan = _disburse(lending, start=None)
    assert loan.start_date == date(2031, 1, 15)
    assert loan.first_due_date == date(2031, 2, 15)


def test_explicit_first_due_and_upfront_fee(lending: dict[str, Any]) -> None:
    product = make_product(upfront_fee_percent=Decimal("1.5"), period_fee_fen=500)
    body = disburse_body(lending["c1"], product, first_due="2027-01-10", amount="20000")
    loan = loans.disburse(actor=lending["users"]["finance"], **service_kwargs(body))
    assert loan.first_due_date == date(2027, 1, 10)
    disbursement = loan.disbursement
    assert (disbursement.upfront_fee_fen, disbursement.net_amount_fen) == (30_000, 1_970_000)
    assert {r.fee_fen for r in loan.installments.all()} == {500}
    assert loan.apr > Decimal(12)


def test_cap_flagged_loan_is_marked(lending: dict[str, Any]) -> None:
    sme = lending["products"]["sme_operating"]
    body = disburse_body(lending["c1"], sme, annual_rate="15", amount="100000")
    loan = loans.disburse(actor=lending["users"]["finance"], **service_kwargs(body))
    assert loan.cap_exceeded is True
    assert loan.apr == Decimal("15.00") and loan.cap_rate == Decimal("12.00")
    assert OutboxEvent.objects.get(topic="loan.disbursed").payload["cap_exceeded"] is True


def test_cap_refused_loan_is_not_written(lending: dict[str, Any]) -> None:
    product = make_product(cap_line="judicial", cap_policy="refuse")
    body = disburse_body(lending["c1"], product, annual_rate="13")
    with pytest.raises(ValidationFailed) as info:
        loans.disburse(actor=lending["users"]["finance"], **service_kwargs(body))
    assert info.value.code == "lending.apr_above_cap"
    assert "annual_rate" in info.value.details["fields"]
    assert not Loan.objects.exists() and not OutboxEvent.objects.filter(topic="loan.disbursed")


# --- exactly once ----------------------------------------------------------------------------


def test_same_key_same_terms_returns_the_same_loan(lending: dict[str, Any]) -> None:
    body = disburse_body(lending["c1"], lending["products"]["consumer"])
    finance = lending["users"]["finance"]
    first, created = loans.disburse_once(actor=finance, **service_kwargs(body))
    again, created_again = loans.disburse_once(actor=finance, **service_kwargs(body))
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Loan.objects.count() == 1 and Installment.objects.count() == 12
    assert OutboxEvent.objects.filter(topic="loan.disbursed").count() == 1
    assert TimelineEvent.objects.filter(kind="loan_disbursed").count() == 1
    assert AuditEntry.objects.filter(action="loan.disburse").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "100000.01"},
        {"periods": 24},
        {"annual_rate": "12.5"},
        {"start": "2026-11-29"},
        {"account_number": "6222020200112233446"},
        {"product": "short_bridge"},
        {"customer": "other"},
    ],
)
def test_same_key_other_terms_is_a_conflict(
    lending: dict[str, Any], change: dict[str, str]
) -> None:
    body = disburse_body(lending["c1"], lending["products"]["consumer"])
    finance = lending["users"]["finance"]
    first = loans.disburse(actor=finance, **service_kwargs(body))
    other = dict(body)
    if "product" in change:
        other["product_id"] = lending["products"][change["product"]].pk
    elif "customer" in change:
        other["customer_id"] = (
            (Customer.objects.filter(owner__username="officer1").exclude(pk=body["customer_id"]))
            .first()
            .pk
        )
    else:
        other.update(change)
    with pytest.raises(Conflict) as info:
        loans.disburse(actor=finance, **service_kwargs(other))
    assert info.value.code == "lending.idempotency_conflict"
    assert info.value.details == {"contract_no": first.contract_no}
    assert Loan.objects.count() == 1


def test_a_failed_request_does_not_spend_the_key(lending: dict[str, Any]) -> None:
    body = disburse_body(lending["c1"], lending["products"]["consumer"], periods=99)
    finance = lending["users"]["finance"]
    with pytest.raises(ValidationFailed):
        loans.disburse(actor=finance, **service_kwargs(body))
    loan = loans.disburse(actor=finance, **service_kwargs({**body, "periods": 12}))
    assert loan.periods == 12


def test_losing_the_race_inside_the_transaction_returns_the_winner(
    lending: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that passed the first key check but lost the insert (the unique index fired)
    rolls back its savepoint and answers with the loan that won."""
    body = disburse_body(lending["c1"], lending["products"]["consumer"])
    finance = lending["users"]["finance"]
    winner = loans.disburse(actor=finance, **service_kwargs(body))
    calls = {"n": 0}
    real = loans._existing

    def blind_first(key: str) -> Disbursement | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(key)

    monkeypatch.setattr(loans, "_existing", blind_first)
    loan, created = loans.disburse_once(actor=finance, **service_kwargs(body))
    assert (loan.pk, created) == (winner.pk, False)
    assert Loan.objects.count() == 1 and Installment.objects.count() == 12
    assert ContractCounter.objects.get().last == 1  # the loser's number was rolled back too
    with pytest.raises(Conflict):
        calls["n"] = 0
        loans.disburse_once(actor=finance, **service_kwargs({**body, "periods": 6}))


# --- who and what may be disbursed ------------------------------------------------------------


def test_disbursing_needs_the_permission(lending: dict[str, Any]) -> None:
    body = disburse_body(lending["c1"], lending["products"]["consumer"])
    with pytest.raises(PermissionDenied):
        loans.disburse(actor=lending["users"]["officer1"], **service_kwargs(body))


def test_customer_outside_the_scope_is_not_found(lending: dict[str, Any]) -> None:
    from tests.factories import make_role, make_user

    role = make_role(
        data_scope="self", permissions=["lending.disburse", "lending.view_loans", "customers.view"]
    )
    teller = make_user(roles=[role], department=lending["departments"]["北京一组"])
    body = disburse_body(lending["c2"], lending["products"]["consumer"])
    with pytest.raises(ValidationFailed) as info:
        loans.disburse(actor=teller, **service_kwargs(body))
    assert info.value.details["fields"] == {"customer_id": "记录不存在或无权访问"}


def test_archived_customers_get_no_loan(lending: dict[str, Any]) -> None:
    Customer.objects.filter(pk=lending["c1"].pk).update(status=Customer.Status.ARCHIVED)
    with pytest.raises(ValidationFailed) as info:
        _disburse(lending)
    assert info.value.details["fields"] == {"customer_id": "客户已归档或已合并,不能放款"}


# --- over HTTP -------------------------------------------------------------------------------


def test_api_disburse_201_then_200_then_409(client_for: Any, lending: dict[str, Any]) -> None:
    finance = client_for("finance")
    body = disburse_body(lending["c1"], lending["products"]["consumer"])
    key = body.pop("idempotency_key")
    response = finance.post("lending/disbursements", body, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    loan = response.json()
    assert loan["contract_no"].startswith("HT")
    assert loan["principal"] == "100000.00"
    assert loan["disbursement"]["account_number"] == "**** **** **** 3445"
    assert loan["disbursement"]["net_amount"] == "100000.00"
    assert len(loan["installments"]) == 12
    assert loan["totals"]["principal"] == "100000.00"
    assert loan["next_due"] == {"seq": 1, "due_date": "2026-12-28", "amount": "8884.88"}

    again = finance.post("lending/disbursements", body, HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 200
    assert again.json()["id"] == loan["id"]
    # The key may also travel in the body.
    same = finance.post("lending/disbursements", {**body, "idempotency_key": key})
    assert same.status_code == 200 and same.json()["id"] == loan["id"]

    conflict = finance.post(
        "lending/disbursements", {**body, "amount": "90000"}, HTTP_IDEMPOTENCY_KEY=key
    )
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "lending.idempotency_conflict"
    assert conflict.json()["message"] == "该幂等键已用于另一笔条件不同的放款,请刷新后重新发起"
    assert Loan.objects.count() == 1


def test_api_key_problems_are_422(client_for: Any, lending: dict[str, Any]) -> None:
    finance = client_for("finance")
    body = disburse_body(lending["c1"], lending["products"]["consumer"])
    key = body.pop("idempotency_key")
    missing = finance.post("lending/disbursements", body)
    assert missing.status_code == 422
    assert missing.json()["details"]["fields"] == {"idempotency_key": "缺少幂等键(Idempotency-Key)"}
    short = finance.post("lending/disbursements", body, HTTP_IDEMPOTENCY_KEY="abc")
    assert short.json()["details"]["fields"]["idempotency_key"].startswith("幂等键须为")
    mismatch = finance.post(
        "lending/disbursements", {**body, "idempotency_key": key}, HTTP_IDEMPOTENCY_KEY=key + "x"
    )
    assert mismatch.json()["details"]["fields"] == {
        "idempotency_key": "请求头与请求体中的幂等键不一致"
    }
    assert not Loan.objects.exists()


def test_api_validation_names_every_field(client_for: Any, lending: dict[str, Any]) -> None:
    finance = client_for("finance")
    body = disburse_body(
        lending["c1"],
        lending["products"]["consumer"],
        amount="5000",
        periods=48,
        annual_rate="30",
    )
    response = finance.post("lending/disbursements", body)
    assert response.status_code == 422
    assert set(response.json()["details"]["fields"]) == {"amount", "periods", "annual_rate"}
    body = disburse_body(
        lending["c1"], lending["products"]["consumer"], account_number="12ab", account_name=" "
    )
    response = finance.post("lending/disbursements", body)
    assert response.json()["details"]["fields"] == {
        "account_name": "此项为必填项",
        "account_number": "收款账号应为 8–30 位数字",
    }
    body = disburse_body(lending["c1"], lending["products"]["consumer"], product_id=999999)
    response = finance.post("lending/disbursements", body)
    assert response.json()["details"]["fields"] == {"product_id": "记录不存在或无权访问"}
    response = finance.post("lending/disbursements", {**body, "amount": 100000.5})
    assert response.status_code == 422
    assert not Loan.objects.exists()


def test_customer_merge_moves_the_loans(lending: dict[str, Any]) -> None:
    from loandesk.customers import services

    loan = _disburse(lending)
    survivor = (
        Customer.objects.filter(owner__username="officer1", kind="individual")
        .exclude(pk=lending["c1"].pk)
        .first()
    )
    assert survivor is not None
    for hook in services.MERGE_HOOKS:
        hook(survivor, lending["c1"], lending["users"]["admin"])
    loan.refresh_from_db()
    assert loan.customer_id == survivor.pk
