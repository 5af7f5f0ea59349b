"""Loan calculator use cases: the finance library fed with the admin calendar and cap settings.

Read-only (nothing is stored), so these sit beside the selectors; the API and the CLI share them.
"""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings

from loandesk.core.i18n import message
from loandesk.core.services import get_business_date
from loandesk.lending.calendar import working_day_calendar
from loandesk.lending.finance import (
    CapLine,
    FinanceInputError,
    Method,
    ScheduleResult,
    build_schedule,
    cap_rate,
    disclosed_apr,
    parse_schedule_input,
    payoff_quote,
    schedule_to_dict,
)
from loandesk.lending.finance.rounding import percent_str

_WARNING = re.compile(r"^(finance\.[a-z_]+):")
_YEAR = re.compile(r"\b(\d{4})\b")
_CALC_ONLY = ("cap_line", "method", "as_of", "prepayment_fee_percent")


def lpr_one_year() -> Decimal:
    return Decimal(str(settings.LOANDESK_LPR_ONE_YEAR))


def _schedule_params(params: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in params.items() if k not in _CALC_ONLY and v is not None}
    values.setdefault("start", get_business_date())
    return values


def build(params: Mapping[str, Any], method: str | None = None) -> ScheduleResult:
    values = _schedule_params(params)
    values["method"] = method or params.get("method") or Method.EQUAL_INSTALLMENT.value
    calendar = working_day_calendar() if values.get("holiday_shift") else None
    return build_schedule(parse_schedule_input(values, calendar=calendar))


def translate_warning(text: str) -> dict[str, str]:
    match = _WARNING.match(text)
    code = match.group(1) if match else "finance.warning"
    params: dict[str, str] = {}
    if code == "finance.calendar_year_not_covered":
        year = _YEAR.search(text)
        params["year"] = year.group(1) if year else ""
    translated = message(code, params)
    return {"code": code, "message": text if translated == code else translated}


def cap_check(result: ScheduleResult, line: str | None) -> dict[str, Any]:
    cap_line = CapLine(line or CapLine.JUDICIAL.value)
    cap = cap_rate(cap_line, lpr_one_year())
    apr = disclosed_apr(result)
    exceeded = apr > cap
    text = (
        message("finance.apr_above_cap", {"apr": percent_str(apr), "cap": percent_str(cap)})
        if exceeded
        else ""
    )
    return {"line": cap_line.value, "rate": percent_str(cap), "exceeded": exceeded, "message": text}


def schedule(params: Mapping[str, Any]) -> dict[str, Any]:
    result = build(params)
    body = schedule_to_dict(result)
    body["warnings"] = [translate_warning(w) for w in body["warnings"]]
    body["cap"] = cap_check(result, params.get("cap_line"))
    return body


def compare(params: Mapping[str, Any]) -> dict[str, Any]:
    rows = []
    for method in Method:
        result = build(params, method.value)
        data = schedule_to_dict(result)
        rows.append(
            {
                "method": method.value,
                "installment": data["installment"],
                "first_total": data["rows"][0]["total"],
                "last_total": data["rows"][-1]["total"],
                "total_interest": data["totals"]["interest"],
                "total": data["totals"]["total"],
                "apr": data["apr"],
            }
        )
    return {"methods": rows}


def payoff(params: Mapping[str, Any], as_of: date, fee_percent: Any = None) -> dict[str, str]:
    from loandesk.lending.finance.serialize import parse_decimal

    fee = parse_decimal("prepayment_fee_percent", fee_percent) if fee_percent else Decimal(0)
    quote = payoff_quote(build(params), as_of, prepayment_fee_percent=fee)
    return {
        "as_of": quote.as_of.isoformat(),
        "principal": str(quote.principal),
        "interest": str(quote.interest),
        "fee": str(quote.fee),
        "penalty": str(quote.penalty),
        "prepayment_fee": str(quote.prepayment_fee),
        "total": str(quote.total),
    }


def error_fields(exc: FinanceInputError) -> dict[str, str]:
    return {exc.field: message(exc.code, exc.message_params)}
