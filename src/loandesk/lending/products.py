"""Loan products: validation, admin writes, the product quote, and the schedule a product builds.

The API speaks yuan and percent (Decimal strings); the table stores fen. `clean_product` turns a
payload into model values or raises one ValidationFailed naming every bad field, so an admin sees
all problems of the form at once.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from loandesk.accounts.models import User
from loandesk.accounts.scoping import require_perm
from loandesk.core import audit
from loandesk.core.errors import NotFound, ValidationFailed
from loandesk.core.i18n import message
from loandesk.core.money import FEN, fen_to_yuan, format_yuan
from loandesk.core.services import get_business_date
from loandesk.lending.calculator import lpr_one_year, translate_warning
from loandesk.lending.calendar import working_day_calendar
from loandesk.lending.finance import (
    DayCount,
    FeeKind,
    FinanceInputError,
    Frequency,
    InterestPeriod,
    Method,
    ScheduleInput,
    ScheduleResult,
    build_schedule,
    cap_rate,
    disclosed_apr,
    schedule_to_dict,
)
from loandesk.lending.finance.allocation import Component, Overpayment, Strategy
from loandesk.lending.finance.caps import CapLine, CapPolicy
from loandesk.lending.finance.rounding import percent_str
from loandesk.lending.models import Product

MANAGE_PERM = "lending.manage_products"
MAX_AMOUNT = Decimal(10_000_000_000)  # the loan-math limit on one principal, in yuan
MAX_PERIODS = 600
MAX_RATE = Decimal(100)
ZERO = Decimal(0)
MAX_UPFRONT_FEE = Decimal(50)  # percent of the amount, deducted from the payout
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")

# Fields in API units, in the order the admin form shows them.
FIELDS = (
    "code",
    "name",
    "method",
    "frequency",
    "interest_period",
    "day_count",
    "min_amount",
    "max_amount",
    "min_periods",
    "max_periods",
    "min_rate",
    "max_rate",
    "installment_multiple",
    "holiday_shift",
    "penalty_rate_multiplier",
    "grace_days",
    "compound_penalty",
    "allocation_order",
    "allocation_strategy",
    "overpayment",
    "upfront_fee_percent",
    "period_fee_kind",
    "period_fee",
    "prepayment_fee_percent",
    "cap_line",
    "cap_policy",
    "active",
)
REQUIRED = (
    "code",
    "name",
    "method",
    "min_amount",
    "max_amount",
    "min_periods",
    "max_periods",
    "min_rate",
    "max_rate",
)
CHOICES: dict[str, tuple[str, ...]] = {
    "method": tuple(m.value for m in Method),
    "frequency": tuple(f.value for f in Frequency),
    "interest_period": tuple(p.value for p in InterestPeriod),
    "day_count": tuple(d.value for d in DayCount),
    "allocation_strategy": tuple(s.value for s in Strategy),
    "overpayment": tuple(o.value for o in Overpayment),
    "period_fee_kind": tuple(k.value for k in FeeKind),
    "cap_line": tuple(c.value for c in CapLine),
    "cap_policy": tuple(p.value for p in CapPolicy),
}
COMPONENTS = tuple(c.value for c in Component)


# --- reading values -------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(code)


def _decimal(value: Any, *, places: int, low: Decimal, high: Decimal) -> Decimal:
    if isinstance(value, bool | float) or value is None:
        raise _Bad("lending.number_invalid")
    try:
        result = Decimal(str(value).strip().replace(",", "")) if value != "" else None
    except InvalidOperation:
        result = None
    if result is None or not result.is_finite():
        raise _Bad("lending.number_invalid")
    if result < low or result > high:
        raise _Bad("lending.value_out_of_range", min=_plain(low), max=_plain(high))
    if result != result.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):
        raise _Bad("lending.too_many_decimals", max=places)
    return result


def _integer(value: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise _Bad("lending.integer_invalid")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _Bad("lending.integer_invalid")
    if value < low or value > high:
        raise _Bad("lending.value_out_of_range", min=low, max=high)
    return value


def _plain(value: Decimal) -> str:
    """12.0000 → "12", 0.0100 → "0.01": a bound as people write it."""
    return format(value.normalize(), "f")


def _yuan(fen: int) -> str:
    return str(fen_to_yuan(fen))


def rate_text(value: Decimal) -> str:
    """A stored percentage for the API: at least two decimals, no trailing zeros beyond them."""
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _clean_one(name: str, value: Any) -> Any:
    """One field in API units → its model column(s) as {column: value}."""
    if name == "code":
        if not isinstance(value, str) or not _CODE.match(value.strip()):
            raise _Bad("lending.product.code_invalid")
        return {"code": value.strip()}
    if name == "name":
        text = value.strip() if isinstance(value, str) else ""
        if not text or len(text) > 100:
            raise _Bad("lending.product.name_invalid")
        return {"name": text}
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise _Bad("lending.choice_invalid", choices=", ".join(CHOICES[name]))
        return {name: value}
    if name in ("min_amount", "max_amount"):
        amount = _decimal(value, places=2, low=FEN, high=MAX_AMOUNT)
        return {f"{name}_fen": int(amount * 100)}
    if name in ("min_periods", "max_periods"):
        return {name: _integer(value, low=1, high=MAX_PERIODS)}
    if name in ("min_rate", "max_rate", "prepayment_fee_percent"):
        return {name: _decimal(value, places=4, low=Decimal(0), high=MAX_RATE)}
    if name == "upfront_fee_percent":
        return {name: _decimal(value, places=4, low=ZERO, high=MAX_UPFRONT_FEE)}
    if name == "installment_multiple":
        multiple = _decimal(value, places=2, low=FEN, high=Decimal(10000))
        return {"installment_multiple_fen": int(multiple * 100)}
    if name == "penalty_rate_multiplier":
        return {name: _decimal(value, places=2, low=Decimal(0), high=Decimal(10))}
    if name == "grace_days":
        return {name: _integer(value, low=0, high=90)}
    if name in ("holiday_shift", "compound_penalty", "active"):
        if not isinstance(value, bool):
            raise _Bad("lending.boolean_invalid")
        return {name: value}
    if name == "allocation_order":
        if (
            not isinstance(value, list | tuple)
            or len(value) != len(COMPONENTS)
            or sorted(value) != sorted(COMPONENTS)
        ):
            raise _Bad("lending.product.allocation_order_invalid")
        return {name: list(value)}
    raise AssertionError(name)  # pragma: no cover


def clean_product(data: Mapping[str, Any], *, instance: Product | None = None) -> dict[str, Any]:
    """Validate a full payload (create) or a partial one (update of `instance`) and return the
    model values to set. Raises ValidationFailed naming every bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name not in data or name == "period_fee":
            continue
        value = data[name]
        if value is None:
            if name in REQUIRED:
                errors[name] = message("field.required")
            continue
        try:
            values.update(_clean_one(name, value))
        except _Bad as bad:
            errors[name] = message(bad.code, bad.params)
    if instance is None:
        for name in REQUIRED:
            if data.get(name) is None and name not in errors:
                errors[name] = message("field.required")
    if instance is not None and "code" in values and values["code"] != instance.code:
        errors["code"] = message("lending.product.code_immutable")

    # The per-period fee is yuan or percent depending on its kind.
    kind = values.get("period_fee_kind") or (
        instance.period_fee_kind if instance else FeeKind.FIXED.value
    )
    if data.get("period_fee") is not None and "period_fee_kind" not in errors:
        try:
            if kind == FeeKind.PERCENT:
                percent = _decimal(data["period_fee"], places=4, low=Decimal(0), high=MAX_RATE)
                values.update(period_fee_percent=percent, period_fee_fen=0)
            else:
                amount = _decimal(data["period_fee"], places=2, low=Decimal(0), high=MAX_AMOUNT)
                values.update(period_fee_fen=int(amount * 100), period_fee_percent=Decimal(0))
        except _Bad as bad:
            errors["period_fee"] = message(bad.code, bad.params)
    elif "period_fee_kind" in values and instance is not None and kind != instance.period_fee_kind:
        values.update(period_fee_fen=0, period_fee_percent=Decimal(0))

    def current(column: str) -> Any:
        if column in values:
            return values[column]
        return getattr(instance, column) if instance is not None else None

    for low, high, field, code in (
        ("min_amount_fen", "max_amount_fen", "max_amount", "lending.product.max_below_min"),
        ("min_periods", "max_periods", "max_periods", "lending.product.max_below_min"),
        ("min_rate", "max_rate", "max_rate", "lending.product.max_below_min"),
    ):
        lo, hi = current(low), current(high)
        if lo is not None and hi is not None and hi < lo and field not in errors:
            bound = _yuan(lo) if low.endswith("_fen") else lo
            errors[field] = message(code, {"min": bound})
    if errors:
        raise ValidationFailed(errors)
    return values


# --- admin writes ----------------------------------------------------------------------------

AUDITED = (
    "code",
    "name",
    "method",
    "frequency",
    "interest_period",
    "day_count",
    "min_amount_fen",
    "max_amount_fen",
    "min_periods",
    "max_periods",
    "min_rate",
    "max_rate",
    "installment_multiple_fen",
    "holiday_shift",
    "penalty_rate_multiplier",
    "grace_days",
    "compound_penalty",
    "allocation_order",
    "allocation_strategy",
    "overpayment",
    "upfront_fee_percent",
    "period_fee_kind",
    "period_fee_fen",
    "period_fee_percent",
    "prepayment_fee_percent",
    "cap_line",
    "cap_policy",
    "active",
)


def _snapshot(product: Product) -> dict[str, Any]:
    """Audited values; the allocation order as one string, since its order is the point (the
    audit helper compares lists as sets)."""
    data = audit.snapshot(product, AUDITED)
    data["allocation_order"] = " > ".join(product.allocation_order)
    return data


def _code_taken() -> ValidationFailed:
    return ValidationFailed({"code": message("lending.product.code_taken")})


def create_product(*, actor: User, data: Mapping[str, Any]) -> Product:
    require_perm(actor, MANAGE_PERM)
    values = clean_product(data)
    if Product.objects.filter(code=values["code"]).exists():
        raise _code_taken()
    try:
        with transaction.atomic():
            product = Product.objects.create(**values)
            audit.record_change(
                actor=actor, instance=product, before=None, after=_snapshot(product)
            )
    except IntegrityError:
        raise _code_taken() from None
    return product


@transaction.atomic
def update_product(*, actor: User, product_id: int, data: Mapping[str, Any]) -> Product:
    require_perm(actor, MANAGE_PERM)
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    values = clean_product(data, instance=product)
    before = _snapshot(product)
    for column, value in values.items():
        setattr(product, column, value)
    product.save()
    audit.record_change(actor=actor, instance=product, before=before, after=_snapshot(product))
    return product


# --- reads -----------------------------------------------------------------------------------


def list_products(*, active: bool | None = None) -> QuerySet[Product]:
    """Products are not confidential: every signed-in user may read them (applications, the
    disbursement page and the calculator all offer them)."""
    qs = Product.objects.all()
    if active is not None:
        qs = qs.filter(active=active)
    return qs


def get_product(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound()
    return product


def product_out(product: Product) -> dict[str, Any]:
    percent = product.period_fee_kind == FeeKind.PERCENT
    return {
        "id": product.pk,
        "code": product.code,
        "name": product.name,
        "method": product.method,
        "frequency": product.frequency,
        "interest_period": product.interest_period,
        "day_count": product.day_count,
        "min_amount": _yuan(product.min_amount_fen),
        "max_amount": _yuan(product.max_amount_fen),
        "min_periods": product.min_periods,
        "max_periods": product.max_periods,
        "min_rate": rate_text(product.min_rate),
        "max_rate": rate_text(product.max_rate),
        "installment_multiple": _yuan(product.installment_multiple_fen),
        "holiday_shift": product.holiday_shift,
        "penalty_rate_multiplier": rate_text(product.penalty_rate_multiplier),
        "grace_days": product.grace_days,
        "compound_penalty": product.compound_penalty,
        "allocation_order": list(product.allocation_order),
        "allocation_strategy": product.allocation_strategy,
        "overpayment": product.overpayment,
        "upfront_fee_percent": rate_text(product.upfront_fee_percent),
        "period_fee_kind": product.period_fee_kind,
        "period_fee": rate_text(product.period_fee_percent)
        if percent
        else _yuan(product.period_fee_fen),
        "prepayment_fee_percent": rate_text(product.prepayment_fee_percent),
        "cap_line": product.cap_line,
        "cap_policy": product.cap_policy,
        "cap_rate": percent_str(cap_rate(product.cap_line, lpr_one_year())),
        "active": product.active,
        "updated_at": product.updated_at,
    }


# --- terms, schedule and cap -----------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The borrower's terms in Python units (yuan, percent)."""

    amount: Decimal
    periods: int
    annual_rate: Decimal
    start: date
    first_due: date | None = None


@dataclass(frozen=True)
class Priced:
    """A schedule built for a product, with its cap check (policy already applied)."""

    product: Product
    terms: Terms
    result: ScheduleResult
    upfront_fee: Decimal
    apr: Decimal
    cap: Decimal
    cap_exceeded: bool


_FINANCE_FIELDS = {"principal": "amount"}


def parse_terms(
    *, amount: Any, periods: Any, annual_rate: Any, start: date | None, first_due: date | None
) -> Terms:
    """Typed terms, or a ValidationFailed naming each field that is not a number/date."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    for name, value, reader in (
        ("amount", amount, lambda v: _decimal(v, places=2, low=FEN, high=MAX_AMOUNT)),
        ("periods", periods, lambda v: _integer(v, low=1, high=MAX_PERIODS)),
        (
            "annual_rate",
            annual_rate,
            lambda v: _decimal(v, places=4, low=Decimal(0), high=MAX_RATE),
        ),
    ):
        if value is None or value == "":
            errors[name] = message("field.required")
            continue
        try:
            parsed[name] = reader(value)
        except _Bad as bad:
            errors[name] = message(bad.code, bad.params)
    if errors:
        raise ValidationFailed(errors)
    return Terms(
        amount=parsed["amount"].quantize(FEN),
        periods=parsed["periods"],
        annual_rate=parsed["annual_rate"],
        start=start or get_business_date(),
        first_due=first_due,
    )


def check_terms(product: Product, terms: Terms) -> None:
    """The terms must sit inside the product's ranges, and the product must be on sale."""
    errors: dict[str, str] = {}
    if not product.active:
        errors["product_id"] = message("lending.product_inactive", {"product": product.name})
    amount_fen = int(terms.amount * 100)
    if not product.min_amount_fen <= amount_fen <= product.max_amount_fen:
        errors["amount"] = message(
            "lending.amount_out_of_range",
            {
                "min": format_yuan(fen_to_yuan(product.min_amount_fen)),
                "max": format_yuan(fen_to_yuan(product.max_amount_fen)),
            },
        )
    if not product.min_periods <= terms.periods <= product.max_periods:
        errors["periods"] = message(
            "lending.periods_out_of_range",
            {"min": product.min_periods, "max": product.max_periods},
        )
    if not product.min_rate <= terms.annual_rate <= product.max_rate:
        errors["annual_rate"] = message(
            "lending.rate_out_of_range",
            {"min": rate_text(product.min_rate), "max": rate_text(product.max_rate)},
        )
    if errors:
        raise ValidationFailed(errors)


def schedule_input(product: Product, terms: Terms) -> ScheduleInput:
    """The loan-math input for `terms` under the product's settings (and the admin calendar)."""
    percent_fee = product.period_fee_kind == FeeKind.PERCENT
    upfront = (terms.amount * product.upfront_fee_percent / 100).quantize(FEN, ROUND_HALF_UP)
    return ScheduleInput(
        principal=terms.amount,
        annual_rate=terms.annual_rate.normalize(),
        periods=terms.periods,
        start=terms.start,
        first_due=terms.first_due,
        method=Method(product.method),
        frequency=Frequency(product.frequency),
        interest_period=InterestPeriod(product.interest_period),
        day_count=DayCount(product.day_count),
        installment_multiple=fen_to_yuan(product.installment_multiple_fen),
        holiday_shift=product.holiday_shift,
        calendar=working_day_calendar() if product.holiday_shift else None,
        upfront_fee=upfront,
        period_fee=product.period_fee_percent.normalize()
        if percent_fee
        else fen_to_yuan(product.period_fee_fen),
        period_fee_kind=FeeKind.PERCENT if percent_fee else FeeKind.FIXED,
    )


def _finance_error(exc: FinanceInputError) -> ValidationFailed:
    field = _FINANCE_FIELDS.get(exc.field, exc.field)
    return ValidationFailed({field: message(exc.code, exc.message_params)})


def price(product: Product, terms: Terms) -> Priced:
    """Check the terms, build the schedule and apply the product's APR cap policy:
    `refuse` raises a 422 naming annual_rate; `flag` marks the result as over the cap."""
    check_terms(product, terms)
    try:
        inp = schedule_input(product, terms)
        result = build_schedule(inp)
        apr = disclosed_apr(result)
    except FinanceInputError as exc:
        raise _finance_error(exc) from None
    cap = cap_rate(product.cap_line, lpr_one_year())
    exceeded = apr > cap
    if exceeded and product.cap_policy == CapPolicy.REFUSE:
        params = {"apr": percent_str(apr), "cap": percent_str(cap)}
        raise ValidationFailed(
            {"annual_rate": message("finance.apr_above_cap", params)},
            code="lending.apr_above_cap",
            params=params,
        )
    return Priced(product, terms, result, inp.upfront_fee, apr, cap, exceeded)


def quote_out(priced: Priced) -> dict[str, Any]:
    """The calculator's schedule shape plus the product's cap verdict and the net amount."""
    body = schedule_to_dict(priced.result)
    body["warnings"] = [translate_warning(w) for w in body["warnings"]]
    text = ""
    if priced.cap_exceeded:
        text = message(
            "finance.apr_above_cap",
            {"apr": percent_str(priced.apr), "cap": percent_str(priced.cap)},
        )
        body["warnings"].append({"code": "finance.apr_above_cap", "message": text})
    body["cap"] = {
        "line": priced.product.cap_line,
        "rate": percent_str(priced.cap),
        "exceeded": priced.cap_exceeded,
        "message": text,
        "policy": priced.product.cap_policy,
    }
    body["upfront_fee"] = str(priced.upfront_fee)
    body["net_amount"] = str(priced.terms.amount - priced.upfront_fee)
    body["start"] = priced.terms.start.isoformat()
    return body


def quote(
    *,
    product_id: int,
    amount: Any,
    periods: Any,
    annual_rate: Any,
    start: date | None = None,
    first_due: date | None = None,
) -> dict[str, Any]:
    product = get_product(product_id)
    terms = parse_terms(
        amount=amount, periods=periods, annual_rate=annual_rate, start=start, first_due=first_due
    )
    return quote_out(price(product, terms))


# --- demo ------------------------------------------------------------------------------------

DEMO_PRODUCTS: list[dict[str, Any]] = [
    {
        "code": "consumer",
        "name": "个人消费贷",
        "method": "equal_installment",
        "min_amount": "10000",
        "max_amount": "200000",
        "min_periods": 3,
        "max_periods": 36,
        "min_rate": "7.2",
        "max_rate": "18",
        "cap_line": "24",
        "cap_policy": "refuse",
    },
    {
        "code": "sme_operating",
        "name": "小微经营贷",
        "method": "equal_principal",
        "min_amount": "50000",
        "max_amount": "1000000",
        "min_periods": 6,
        "max_periods": 36,
        "min_rate": "6",
        "max_rate": "15",
        "grace_days": 5,
        "cap_line": "judicial",
        "cap_policy": "flag",
    },
    {
        "code": "short_bridge",
        "name": "短期周转贷",
        "method": "interest_only",
        "min_amount": "10000",
        "max_amount": "500000",
        "min_periods": 1,
        "max_periods": 12,
        "min_rate": "8",
        "max_rate": "18",
        "penalty_rate_multiplier": "1.5",
        "cap_line": "24",
        "cap_policy": "refuse",
    },
]


def seed_demo_products() -> int:
    created = 0
    for spec in DEMO_PRODUCTS:
        if not Product.objects.filter(code=spec["code"]).exists():
            Product.objects.create(**clean_product(spec))
            created += 1
    return created
