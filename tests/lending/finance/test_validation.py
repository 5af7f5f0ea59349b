"""Every bad input raises FinanceInputError naming the offending field with a stable code."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from loandesk.lending.finance import (
    CapPolicy,
    DueInstallment,
    FinanceInputError,
    OverdueInstallment,
    PenaltyTerms,
    ScheduleInput,
    accrue_penalty,
    allocate_payment,
    build_schedule,
    check_apr_cap,
    parse_schedule_input,
    partial_prepayment,
)

D = Decimal
BASE: dict[str, Any] = {
    "principal": D(12000),
    "annual_rate": D(6),
    "periods": 12,
    "start": date(2026, 1, 10),
}


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"principal": D(0)}, "principal", "finance.principal_out_of_range"),
        ({"principal": D(-1)}, "principal", "finance.principal_out_of_range"),
        (
            {"principal": D("10000000000.01")},
            "principal",
            "finance.principal_out_of_range",
        ),
        ({"principal": D("1.001")}, "principal", "finance.too_many_decimals"),
        ({"principal": 1.5}, "principal", "finance.float_not_allowed"),
        ({"principal": "12000"}, "principal", "finance.invalid_number"),
        ({"principal": D("NaN")}, "principal", "finance.invalid_number"),
        ({"annual_rate": D("-0.01")}, "annual_rate", "finance.rate_out_of_range"),
        ({"annual_rate": D("1000.01")}, "annual_rate", "finance.rate_out_of_range"),
        ({"annual_rate": D("Infinity")}, "annual_rate", "finance.invalid_number"),
        ({"periods": 0}, "periods", "finance.periods_out_of_range"),
        ({"periods": 601}, "periods", "finance.periods_out_of_range"),
        ({"periods": True}, "periods", "finance.invalid_integer"),
        ({"start": datetime(2026, 1, 10, 9, 0)}, "start", "finance.invalid_date"),
        ({"first_due": date(2026, 1, 10)}, "first_due", "finance.first_due_not_after_start"),
        ({"first_due": date(2026, 1, 9)}, "first_due", "finance.first_due_not_after_start"),
        ({"first_due": date(2026, 6, 10)}, "first_due", "finance.first_due_too_late"),
        (
            {"first_due": date(2026, 2, 11), "due_day": 10},
            "first_due",
            "finance.first_due_not_on_due_day",
        ),
        ({"frequency": "daily", "first_due": date(2026, 1, 20)}, "first_due", None),
        ({"method": "balloon"}, "method", "finance.invalid_choice"),
        ({"day_count": "act/999"}, "day_count", "finance.invalid_choice"),
        ({"frequency": "yearly"}, "frequency", "finance.invalid_choice"),
        ({"interest_period": "hourly"}, "interest_period", "finance.invalid_choice"),
        ({"period_fee_kind": "x"}, "period_fee_kind", "finance.invalid_choice"),
        ({"installment_multiple": D(0)}, "installment_multiple", None),
        ({"installment_multiple": D(-1)}, "installment_multiple", None),
        ({"installment_multiple": D("0.001")}, "installment_multiple", None),
        ({"grace_periods": 12}, "grace_periods", "finance.grace_out_of_range"),
        ({"grace_periods": -1}, "grace_periods", "finance.grace_out_of_range"),
        ({"method": "bullet", "grace_periods": 1}, "grace_periods", "finance.grace_not_applicable"),
        (
            {"grace_periods": 1, "interest_grace_periods": 2},
            "interest_grace_periods",
            "finance.interest_grace_out_of_range",
        ),
        ({"due_day": 0}, "due_day", "finance.due_day_out_of_range"),
        ({"due_day": 32}, "due_day", "finance.due_day_out_of_range"),
        ({"frequency": "weekly", "due_day": 5}, "due_day", "finance.due_day_not_applicable"),
        ({"holiday_shift": "yes"}, "holiday_shift", "finance.invalid_boolean"),
        ({"upfront_fee": D(12000)}, "upfront_fee", "finance.fee_out_of_range"),
        ({"upfront_fee": D(-1)}, "upfront_fee", "finance.fee_out_of_range"),
        ({"period_fee": D(-1)}, "period_fee", "finance.fee_out_of_range"),
        (
            {"period_fee": D(101), "period_fee_kind": "percent"},
            "period_fee",
            "finance.rate_out_of_range",
        ),
    ],
)
def test_schedule_input_validation(changes: dict[str, Any], field: str, code: str | None) -> None:
    with pytest.raises(FinanceInputError) as exc:
        ScheduleInput(**{**BASE, **changes})
    assert exc.value.field == field
    assert exc.value.code.startswith("finance.")
    if code:
        assert exc.value.code == code
    assert all(isinstance(v, str) for v in exc.value.message_params.values())


def test_installment_multiple_larger_than_installment_falls_back_to_fen() -> None:
    r = build_schedule(ScheduleInput(**BASE, installment_multiple=D(5000)))
    assert r.installment == D("1032.80")
    assert len(r.warnings) == 1
    assert r.warnings[0].startswith("finance.installment_multiple_ignored")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"principal": "abc"}, "principal"),
        ({"principal": 100.5}, "principal"),
        ({"principal": None}, "principal"),
        ({"annual_rate": ""}, "annual_rate"),
        ({"periods": "twelve"}, "periods"),
        ({"periods": "12.5"}, "periods"),
        ({"start": "2026-13-01"}, "start"),
        ({"first_due": "tomorrow"}, "first_due"),
        ({"holiday_shift": "maybe"}, "holiday_shift"),
        ({"method": 3}, "method"),
        ({"due_day": "x"}, "due_day"),
        ({"installment_multiple": "0"}, "installment_multiple"),
        ({"grace_period": "1"}, "grace_period"),  # typo: unknown parameter
    ],
)
def test_parse_validation(params: dict[str, Any], field: str) -> None:
    raw: dict[str, object] = {
        "principal": "12000",
        "annual_rate": "6",
        "periods": "12",
        "start": "2026-01-10",
    }
    raw.update(params)
    with pytest.raises(FinanceInputError) as exc:
        parse_schedule_input(raw)
    assert exc.value.field == field


def test_parse_accepts_cli_strings() -> None:
    inp = parse_schedule_input(
        {
            "principal": "12,000.00",
            "annual_rate": "6",
            "periods": "12",
            "start": "2026-01-10",
            "method": "Equal_Installment",
            "holiday_shift": "no",
            "due_day": "",
        }
    )
    assert inp == ScheduleInput(**BASE)


def test_other_validation() -> None:
    cases: list[tuple[Any, str]] = [
        (lambda: PenaltyTerms(contract_rate=D(6), days_in_year=366), "days_in_year"),
        (lambda: PenaltyTerms(contract_rate=D(6), grace_days=-1), "grace_days"),
        (lambda: PenaltyTerms(contract_rate=D(-6)), "contract_rate"),
        (
            lambda: accrue_penalty(
                OverdueInstallment(1, date(2026, 2, 1), D(1)),
                PenaltyTerms(contract_rate=D(6)),
                start=date(2026, 3, 1),
                end=date(2026, 2, 1),
            ),
            "end",
        ),
        (
            lambda: accrue_penalty(
                OverdueInstallment(1, date(2026, 2, 1), D(-1)),
                PenaltyTerms(contract_rate=D(6)),
                end=date(2026, 3, 1),
            ),
            "principal",
        ),
        (lambda: allocate_payment(D(0), []), "amount"),
        (
            lambda: allocate_payment(D(1), [], order=["fee", "fee", "interest", "principal"]),
            "order",
        ),
        (lambda: allocate_payment(D(1), [], order=["fee", "interest"]), "order"),
        (lambda: allocate_payment(D(1), [], strategy="newest_first"), "strategy"),
        (lambda: allocate_payment(D(1), [], overpayment="refund"), "overpayment"),
        (
            lambda: allocate_payment(
                D(1), [DueInstallment(1, date(2026, 1, 1)), DueInstallment(1, date(2026, 2, 1))]
            ),
            "installments",
        ),
        (lambda: DueInstallment(1, date(2026, 1, 1), fee=D(-1)), "fee"),
        (lambda: check_apr_cap(D(5), D(24), policy="warn"), "policy"),
        (lambda: check_apr_cap(D(5), D(-1), policy=CapPolicy.FLAG), "cap"),
    ]
    schedule = build_schedule(ScheduleInput(**BASE))
    cases += [
        (lambda: partial_prepayment(schedule, date(2026, 3, 1), D(12000)), "amount"),
        (lambda: partial_prepayment(schedule, date(2026, 3, 1), D(0)), "amount"),
        (lambda: partial_prepayment(schedule, date(2025, 3, 1), D(10)), "as_of"),
        (lambda: partial_prepayment(schedule, date(2027, 3, 1), D(10)), "as_of"),
        (lambda: partial_prepayment(schedule, date(2026, 3, 1), D(10), mode="x"), "mode"),
        (
            lambda: partial_prepayment(
                schedule, date(2026, 3, 1), D(10), prepayment_fee_percent=D(101)
            ),
            "prepayment_fee_percent",
        ),
    ]
    for call, field in cases:
        with pytest.raises(FinanceInputError) as exc:
            call()
        assert exc.value.field == field, (field, exc.value)
