"""Calculator, holiday-calendar, product and loan endpoints (thin: parse, call, return)."""

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Header, Query, Router, Status

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core.money import fen_to_yuan
from loandesk.core.pagination import Page, PageParams, paginate
from loandesk.core.services import get_business_date
from loandesk.lending import (
    calculator,
    calendar,
    loans,
    prepayments,
    products,
    repayment_reads,
    repayments,
)
from loandesk.lending.schemas import (
    CalendarYearIn,
    CalendarYearOut,
    CompareOut,
    DisbursementIn,
    LoanFilter,
    LoanListItem,
    LoanOut,
    LoanRepaymentsOut,
    PayoffIn,
    PayoffOut,
    PayoffQuoteOut,
    PayoffQuoteParams,
    PrepaymentIn,
    ProductFilter,
    ProductIn,
    ProductOut,
    QuoteIn,
    QuoteOut,
    RepaymentFilter,
    RepaymentIn,
    RepaymentOut,
    ReverseIn,
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


# --- repayments, reversal, prepayment ---------------------------------------------------------


def _repayment_key(header: str | None, body: str | None) -> str | None:
    """The optional Idempotency-Key: header or body field (both: they must agree)."""
    from loandesk.core.errors import ValidationFailed

    header, body = (header or "").strip() or None, (body or "").strip() or None
    if header and body and header != body:
        raise ValidationFailed.field("idempotency_key", "lending.idempotency_key_mismatch")
    return header or body


def _parse_optional_amount(value: Any, field: str) -> int | None:
    from loandesk.core.errors import ValidationFailed
    from loandesk.lending.repayments import parse_amount

    if value is None or value == "":
        return None
    try:
        return parse_amount(value)
    except ValidationFailed as exc:
        fields = exc.details.get("fields", {})
        raise ValidationFailed({field: next(iter(fields.values()), "")}) from None


@lending_router.post("/loans/{loan_id}/repayments", response={200: RepaymentOut, 201: RepaymentOut})
def post_repayment(
    request: HttpRequest,
    loan_id: int,
    payload: RepaymentIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Status[dict[str, Any]]:
    """201 with the new repayment and its allocation; 200 with the first one when the
    Idempotency-Key was already used for this same request (409 for a different one)."""
    rep = repayments.post_repayment(
        actor=_actor(request),
        loan_id=loan_id,
        amount_fen=repayments.parse_amount(payload.amount),
        value_date=payload.value_date or get_business_date(),
        channel=payload.channel,
        reference=payload.reference,
        idempotency_key=_repayment_key(idempotency_key, payload.idempotency_key),
        request=request,
    )
    replayed = bool(getattr(rep, "replayed", False))
    return Status(200 if replayed else 201, repayment_reads.repayment_out(rep, allocations=True))


@lending_router.get("/loans/{loan_id}/repayments", response=LoanRepaymentsOut)
def loan_repayments(request: HttpRequest, loan_id: int) -> dict[str, Any]:
    loan = loans.loan_for(actor=_actor(request), loan_id=loan_id)
    items = repayment_reads.search_repayments(actor=_actor(request), loan_id=loan.pk)
    return {
        "items": [
            repayment_reads.repayment_out(r, allocations=True)
            for r in items.prefetch_related("allocations")
        ],
        "credit": str(fen_to_yuan(repayment_reads.loan_credit_fen(loan.pk))),
    }


@lending_router.get("/loans/{loan_id}/payoff-quote", response=PayoffQuoteOut)
def payoff_quote_for_loan(
    request: HttpRequest, loan_id: int, params: Query[PayoffQuoteParams]
) -> dict[str, Any]:
    return prepayments.quote(
        actor=_actor(request),
        loan_id=loan_id,
        on=params.as_of,
        principal_fen=_parse_optional_amount(params.principal, "principal"),
        mode=params.mode,
    )


@lending_router.post(
    "/loans/{loan_id}/prepayments", response={200: RepaymentOut, 201: RepaymentOut}
)
def post_prepayment(
    request: HttpRequest,
    loan_id: int,
    payload: PrepaymentIn,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Status[dict[str, Any]]:
    """A full payoff or a partial prepayment at the quote of the value date."""
    rep = prepayments.post_prepayment(
        actor=_actor(request),
        loan_id=loan_id,
        full=payload.full,
        principal_fen=_parse_optional_amount(payload.principal, "principal"),
        mode=payload.mode,
        expected_amount_fen=_parse_optional_amount(payload.amount, "amount"),
        value_date=payload.value_date or get_business_date(),
        channel=payload.channel,
        reference=payload.reference,
        idempotency_key=_repayment_key(idempotency_key, payload.idempotency_key),
        request=request,
    )
    replayed = bool(getattr(rep, "replayed", False))
    return Status(200 if replayed else 201, repayment_reads.repayment_out(rep, allocations=True))


@lending_router.get("/repayments", response=Page[RepaymentOut])
def list_repayments(
    request: HttpRequest, filters: Query[RepaymentFilter], page: Query[PageParams]
) -> dict[str, Any]:
    qs = repayment_reads.search_repayments(actor=_actor(request), **filters.dict())
    result = paginate(qs, page)
    result["items"] = [repayment_reads.repayment_out(r) for r in result["items"]]
    return result


@lending_router.get("/repayments/{repayment_id}", response=RepaymentOut)
def get_repayment(request: HttpRequest, repayment_id: int) -> dict[str, Any]:
    rep = repayment_reads.repayment_for(actor=_actor(request), repayment_id=repayment_id)
    return repayment_reads.repayment_out(rep, allocations=True)


@lending_router.post("/repayments/{repayment_id}/reverse", response=RepaymentOut)
def reverse_repayment(
    request: HttpRequest, repayment_id: int, payload: ReverseIn
) -> dict[str, Any]:
    rep = repayments.reverse_repayment(
        actor=_actor(request), repayment_id=repayment_id, reason=payload.reason, request=request
    )
    rep = repayment_reads.repayment_for(actor=_actor(request), repayment_id=rep.pk)
    return repayment_reads.repayment_out(rep, allocations=True)
