"""Gathering a scorecard's inputs from the database: the customer, the application's values,
recent applications and loans still outstanding. Reads only; no scoping here (the callers
decide who may see what: the preview checks the caller's customer scope, the automated flow
step runs on the flow's own authority)."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Sum

from loandesk.core.money import fen_to_yuan
from loandesk.customers.models import Customer
from loandesk.forms.models import Record
from loandesk.lending.models import Loan

APPLICATION_FORM = "loan_application"
WINDOW = timedelta(days=30)

# loan_application form key → scorecard input
APPLICATION_KEYS = {
    "amount": "amount",
    "term": "term_months",
    "term_months": "term_months",
    "annual_rate": "annual_rate",
    "monthly_payment": "monthly_payment",
    "applicant_income": "monthly_income",
    "household_income": "household_income",
    "debt_ratio": "debt_ratio",
}


def customer_id_of(data: Mapping[str, Any]) -> int | None:
    value = data.get("customer")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def application_inputs(data: Mapping[str, Any]) -> dict[str, Any]:
    """The scorecard inputs found in a loan application's values (missing keys left out)."""
    out: dict[str, Any] = {}
    for key, name in APPLICATION_KEYS.items():
        value = data.get(key)
        if value not in (None, "") and name not in out:
            out[name] = value
    return out


def applications_within(
    customer: Customer, *, now: datetime, form_code: str, exclude_record_id: int | None = None
) -> int:
    """The customer's other applications (records of `form_code`) in the 30 days before `now`."""
    qs = Record.objects.filter(
        customer=customer,
        form__code=form_code,
        created_at__gte=now - WINDOW,
        created_at__lte=now,
    )
    if exclude_record_id is not None:
        qs = qs.exclude(pk=exclude_record_id)
    return qs.count()


def outstanding_principal(customer: Customer) -> Any:
    fen = Loan.objects.filter(
        customer=customer, status__in=[Loan.Status.ACTIVE, Loan.Status.OVERDUE]
    ).aggregate(total=Sum("outstanding_principal_fen"))["total"]
    return fen_to_yuan(int(fen or 0))


def customer_inputs(
    customer: Customer,
    *,
    now: datetime,
    form_code: str = APPLICATION_FORM,
    exclude_record_id: int | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "credit_level": customer.credit_level or "none",
        "tags": [tag.name for tag in customer.tags.all()],
        "applications_30d": applications_within(
            customer, now=now, form_code=form_code, exclude_record_id=exclude_record_id
        ),
        "existing_loans_outstanding": outstanding_principal(customer),
    }
    if customer.birth_date is not None:
        out["birth_date"] = customer.birth_date
    if customer.monthly_income is not None:
        out["monthly_income"] = fen_to_yuan(customer.monthly_income)
    return out
