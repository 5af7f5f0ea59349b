"""Calculator, holiday-calendar, product and loan endpoints (thin: parse, call, return)."""

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Header, Query, Router, Status

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.pagination import Page, PageParams, paginate
from loandesk.lending import calculator, calendar, loans, products
from loandesk.lending.schemas import (
    CalendarYearIn,
    CalendarYearOut,
    CompareOut,
    DisbursementIn,
    LoanFilter,
    LoanListItem,
    LoanOut,
    PayoffIn,
    PayoffOut,
    ProductFilter,
    ProductIn,
    ProductOut,
    QuoteIn,
    QuoteOut,
    ScheduleIn,
    ScheduleOut,
    ScheduleParams,
)

calculator_router = Router(tags=["calculator"])
calendar_router = Router(tags=["lending"])
lending_router = Router(tags=["lending"])


def _params(payload: ScheduleParams) -> dict[str, Any]:
    return payload.dict(exclude_none=True)


@calculator_router.post("/schedule", response=ScheduleOut)
def schedule(request: HttpRequest, payload: ScheduleIn) -> dict[str, Any]:
    return calculator.schedule(_params(payload))


@calculator_router.post("/compare", response=CompareOut)
def compare(request: HttpRequest, payload: ScheduleParams) -> dict[str, Any]:
    return calculator.compare(_params(payload))


@calculator_router.post("/payoff-quote", response=PayoffOut)
def payoff_quote(request: HttpRequest, payload: PayoffIn) -> dict[str, str]:
    return calculator.payoff(_params(payload), payload.as_of, payload.prepayment_fee_percent)


@calendar_router.get("/calendar/years", response=list[CalendarYearOut])
def calendar_years(request: HttpRequest) -> list[dict[str, Any]]:
    return calendar.years_overview()


@calendar_router.put("/calendar/years/{year}", response=CalendarYearOut)
def set_calendar_year(request: HttpRequest, year: int, payload: CalendarYearIn) -> dict[str, Any]:
    require_perm(request.user, "lending.manage_calendar")  # type: ignore[arg-type]
    calendar.set_year(
        actor=request.user,
        year=year,
        holidays=[(d.date, d.name) for d in payload.holidays],
        workdays=[(d.date, d.name) for d in payload.workdays],
    )
    return next(y for y in calendar.years_overview() if y["year"] == year)


@calendar_router.delete("/calendar/years/{year}", response={204: None})
def delete_calendar_year(request: HttpRequest, year: int) -> Status[None]:
    require_perm(request.user, "lending.manage_calendar")  # type: ignore[arg-type]
    calendar.delete_year(actor=request.user, year=year)
    return Status(204, None)


# --- products (/lending/products) -------------------------------------------------------------


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@lending_router.get("/products", response=list[ProductOut])
def list_products(request: HttpRequest, filters: Query[ProductFilter]) -> list[dict[str, Any]]:
    return [products.product_out(p) for p in products.list_products(active=filters.active)]


@lending_router.post("/products", response={201: ProductOut})
def create_product(request: HttpRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    product = products.create_product(actor=_actor(request), data=payload.dict(exclude_unset=True))
    return Status(201, products.product_out(product))


@lending_router.get("/products/{product_id}", response=ProductOut)
def get_product(request: HttpRequest, product_id: int) -> dict[str, Any]:
    return products.product_out(products.get_product(product_id))


@lending_router.patch("/products/{product_id}", response=ProductOut)
def patch_product(request: HttpRequest, product_id: int, payload: ProductIn) -> dict[str, Any]:
    product = products.update_product(
        actor=_actor(request), product_id=product_id, data=payload.dict(exclude_unset=True)
    )
    return products.product_out(product)


@lending_router.post("/products/{product_id}/quote", response=QuoteOut)
def quote(request: HttpRequest, product_id: int, payload: QuoteIn) -> dict[str, Any]:
    return products.quote(product_id=product_id, **payload.dict())


# --- disbursements and loans (/lending/disbursements, /lending/loans) -------------------------


@lending_router.post("/disbursements", response={200: LoanOut, 201: LoanOut})
def disburse(
    request: HttpRequest,
    payload: DisbursementIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Status[dict[str, Any]]:
    """201 with the new loan; 200 with the same loan when the key was seen with these terms."""
    data = payload.dict()
    key = loans.clean_key(idempotency_key, data.pop("idempotency_key"))
    loan, created = loans.disburse_once(
        actor=_actor(request), idempotency_key=key, request=request, **data
    )
    return Status(201 if created else 200, loans.loan_detail(loans.with_relations(loan)))


@lending_router.get("/loans", response=Page[LoanListItem])
def list_loans(
    request: HttpRequest, filters: Query[LoanFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = loans.search_loans(actor=_actor(request), **filters.dict())
    result = paginate(qs, page)
    result["items"] = loans.loan_rows(result["items"])
    return result


@lending_router.get("/loans/{loan_id}", response=LoanOut)
def get_loan(request: HttpRequest, loan_id: int) -> dict[str, Any]:
    return loans.loan_detail(loans.loan_for(actor=_actor(request), loan_id=loan_id))
