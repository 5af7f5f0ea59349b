"""The pure scoring core: golden results, validation issues, and properties (hypothesis)."""

import copy
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loandesk.risk import scoring
from loandesk.risk.demo import DEFAULT_SCORECARD

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
TODAY = date(2026, 3, 1)


def run(definition: dict[str, Any], inputs: dict[str, Any], lang: str = "zh-CN") -> dict[str, Any]:
    card = scoring.compile_definition(definition)
    return scoring.evaluate(card, inputs, code="t", version=3, now=NOW, lang=lang, today=TODAY)


GOOD = {
    "amount": "100000",
    "term_months": 12,
    "annual_rate": "6",
    "monthly_income": "30000",
    "birth_date": date(1985, 6, 1),
    "credit_level": "A",
    "tags": [],
    "applications_30d": 0,
    "existing_loans_outstanding": Decimal("0.00"),
}


# --- golden -------------------------------------------------------------------------------------


def test_golden_good_applicant_on_the_default_card() -> None:
    result = run(DEFAULT_SCORECARD, GOOD)
    # 100000 over 12 months at 6 %: 8606.64 a month → 28.69 % of 30000.
    assert result["factors"] == {
        "age": "40",
        "debt_to_income": "28.69",
        "amount_to_annual_income": "0.28",
        "credit_level": "A",
        "blacklisted": "no",
        "applications_30d": "0",
        "existing_loans_outstanding": "0.00",
    }
    points = {r["code"]: r["points"] for r in result["reasons"]}
    assert points == {
        "age": 40,
        "debt_to_income": 60,
        "amount_income": 30,
        "credit_level": 80,
        "blacklist": 0,
        "applications_30d": 0,
        "outstanding": 20,
    }
    assert result["score"] == 830
    assert result["grade"] == "A"
    assert result["decision"] == "approve"
    assert result["decision_label"] == "建议通过"
    assert result["scorecard"] == "t" and result["version"] == 3
    assert result["evaluated_at"] == NOW.isoformat()
    assert result["reasons"][0] == {
        "code": "age",
        "label": "年龄",
        "points": 40,
        "detail": "年龄适中,收入稳定(40 岁)",
    }
    assert set(result) == {
        "scorecard",
        "version",
        "score",
        "grade",
        "decision",
        "decision_label",
        "reasons",
        "factors",
        "evaluated_at",
    }


def test_english_labels() -> None:
    result = run(DEFAULT_SCORECARD, GOOD, lang="en-US")
    assert result["decision_label"] == "Approve"
    assert result["reasons"][1]["label"] == "Debt-to-income ratio"
    assert result["reasons"][1]["detail"] == "Payment below 30% of income (28.69%)"


def test_blacklist_tag_forces_reject_whatever_the_score() -> None:
    result = run(DEFAULT_SCORECARD, {**GOOD, "tags": ["VIP", "黑名单"]})
    assert result["factors"]["blacklisted"] == "yes"
    assert result["decision"] == "reject"
    assert result["decision_label"] == "建议拒绝"
    hit = next(r for r in result["reasons"] if r["code"] == "blacklist")
    assert hit["points"] == -300 and hit["detail"].startswith("命中黑名单")


def test_missing_inputs_are_reasons_not_crashes() -> None:
    result = run(DEFAULT_SCORECARD, {})
    assert all(v is None for v in result["factors"].values())
    by_code = {r["code"]: r for r in result["reasons"]}
    assert by_code["age"]["detail"] == "无法确定年龄(缺少出生日期)"
    assert by_code["age"]["points"] == -20
    assert by_code["credit_level"]["detail"] == "缺少数据"
    assert result["score"] == 600 - 20 - 40 - 20
    assert (result["grade"], result["decision"]) == ("D", "reject")


def test_value_outside_every_band_scores_zero_with_a_reason() -> None:
    definition = {
        "base_score": 100,
        "rules": [
            {
                "code": "amt",
                "label": "金额",
                "factor": "amount",
                "bands": [{"min": "0", "max": "1000", "points": 5, "reason": "小额"}],
            }
        ],
        "grades": [{"grade": "X", "min": None, "decision": "review"}],
    }
    result = run(definition, {"amount": "5000"})
    assert result["reasons"][0]["points"] == 0
    assert "未落入任何区间" in result["reasons"][0]["detail"]
    assert result["score"] == 100


def test_debt_ratio_of_the_form_is_used_when_the_payment_is_unknown() -> None:
    factors = scoring.compute_factors({"debt_ratio": "45.5"}, TODAY)
    assert factors["debt_to_income"] == Decimal("45.50")


def test_household_income_beats_the_applicant_income() -> None:
    factors = scoring.compute_factors(
        {"monthly_payment": "5000", "monthly_income": "10000", "household_income": "20000"}, TODAY
    )
    assert factors["debt_to_income"] == Decimal("25.00")


def test_age_counts_full_years() -> None:
    assert scoring.full_years(date(2000, 3, 2), TODAY) == 25
    assert scoring.full_years(date(2000, 3, 1), TODAY) == 26


def test_monthly_payment_zero_rate_and_rounding() -> None:
    assert scoring.monthly_payment(Decimal(1200), Decimal(0), 12) == Decimal("100.00")
    assert scoring.monthly_payment(Decimal(100000), Decimal(6), 12) == Decimal("8606.64")


# --- validation ---------------------------------------------------------------------------------


def issues(definition: Any) -> dict[str, str]:
    return {i.path: i.code for i in scoring.validate_definition(definition)}


def test_the_default_card_is_valid() -> None:
    assert issues(DEFAULT_SCORECARD) == {}


def test_gap_and_overlap_point_at_the_band() -> None:
    d = copy.deepcopy(DEFAULT_SCORECARD)
    d["rules"][0]["bands"][2]["min"] = "24"  # gap after band 2 (ends at 23)
    d["rules"][1]["bands"][1]["min"] = "20"  # overlaps band 1 (ends at 30)
    assert issues(d) == {
        "rules.0.bands.2.min": "risk.def.bands_gap",
        "rules.1.bands.1.min": "risk.def.bands_overlap",
    }


def test_every_problem_is_reported() -> None:
    d = {
        "base_score": -5,
        "rules": [
            {"code": "Bad", "label": "", "factor": "nope", "bands": []},
            {
                "code": "lvl",
                "label": "等级",
                "factor": "credit_level",
                "bands": [
                    {"values": ["A", "Z"], "points": 1, "reason": "x"},
                    {"values": ["A"], "points": 2000, "reason": "y", "force": "maybe"},
                ],
            },
            {
                "code": "lvl",
                "label": "重复",
                "factor": "age",
                "bands": [{"min": "30", "max": "20", "points": 1, "reason": "z", "extra": 1}],
            },
        ],
        "grades": [
            {"grade": "A", "min": 500, "decision": "approve"},
            {"grade": "A", "min": 600, "decision": "ok"},
            {"grade": "C", "min": 1, "decision": "reject"},
        ],
    }
    assert issues(d) == {
        "base_score": "risk.def.range",
        "rules.0.code": "risk.def.bad_code",
        "rules.0.label": "risk.def.required",
        "rules.0.factor": "risk.def.unknown_factor",
        "rules.0.bands": "risk.def.no_bands",
        "rules.1.bands.0.values": "risk.def.bad_value",
        "rules.1.bands.1.points": "risk.def.range",
        "rules.1.bands.1.force": "risk.def.choice",
        "rules.1.bands.1.values": "risk.def.value_twice",
        "rules.2.code": "risk.def.code_twice",
        "rules.2.bands.0.extra": "risk.def.unknown_key",
        "rules.2.bands.0.max": "risk.def.min_not_below_max",
        "grades.1.grade": "risk.def.grade_twice",
        "grades.1.min": "risk.def.grades_not_descending",
        "grades.1.decision": "risk.def.choice",
        "grades.2.min": "risk.def.last_grade_open",
    }


def test_a_value_in_two_bands_is_refused() -> None:
    d = copy.deepcopy(DEFAULT_SCORECARD)
    d["rules"][3]["bands"][1]["values"] = ["B", "A"]
    assert issues(d) == {"rules.3.bands.1.values": "risk.def.value_twice"}


@pytest.mark.parametrize("bad", [None, [], "x", {"rules": "x"}])
def test_not_a_definition(bad: Any) -> None:
    with pytest.raises(scoring.ScorecardInvalid):
        scoring.compile_definition(bad)


# --- properties ---------------------------------------------------------------------------------

NUMBER_FACTORS = [c for c, f in scoring.FACTORS.items() if f.kind == "number"]
CHOICE_FACTORS = [c for c, f in scoring.FACTORS.items() if f.kind == "choice"]
points_st = st.integers(-scoring.MAX_POINTS, scoring.MAX_POINTS)
force_st = st.sampled_from([None, None, None, "review", "reject"])


@st.composite
def number_rule(draw: Any, i: int) -> dict[str, Any]:
    cuts = sorted(draw(st.sets(st.integers(0, 500), min_size=1, max_size=6)))
    bounds: list[int | None] = [draw(st.sampled_from([None, cuts[0]])), *cuts[1:]]
    bounds.append(draw(st.sampled_from([None, cuts[-1] + 10])))
    bands = []
    for low, high in itertools.pairwise(bounds):
        bands.append(
            {
                "min": None if low is None else str(low),
                "max": None if high is None else str(high),
                "points": draw(points_st),
                "reason": f"b{len(bands)}",
                "force": draw(force_st),
            }
        )
    return {
        "code": f"r{i}",
        "label": f"规则{i}",
        "factor": draw(st.sampled_from(NUMBER_FACTORS)),
        "bands": bands,
        "missing": {"points": draw(points_st), "force": draw(force_st)},
    }


@st.composite
def choice_rule(draw: Any, i: int) -> dict[str, Any]:
    factor = draw(st.sampled_from(CHOICE_FACTORS))
    values = list(scoring.FACTORS[factor].choices)
    chosen = draw(st.permutations(values))
    k = draw(st.integers(1, len(values)))
    groups = [chosen[j::k] for j in range(k)]
    return {
        "code": f"r{i}",
        "label": f"规则{i}",
        "factor": factor,
        "bands": [
            {"values": g, "points": draw(points_st), "reason": "c", "force": draw(force_st)}
            for g in groups
            if g
        ],
    }


@st.composite
def definitions(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 6))
    rules = [draw(st.one_of(number_rule(i), choice_rule(i))) for i in range(n)]
    lows = sorted(draw(st.sets(st.integers(-3000, 5000), max_size=4)), reverse=True)
    grades = [
        {"grade": f"G{j}", "min": low, "decision": draw(st.sampled_from(scoring.DECISIONS))}
        for j, low in enumerate(lows)
    ]
    grades.append({"grade": "Z", "min": None, "decision": draw(st.sampled_from(scoring.DECISIONS))})
    return {"base_score": draw(st.integers(0, 2000)), "rules": rules, "grades": grades}


inputs_st = st.fixed_dictionaries(
    {},
    optional={
        "amount": st.integers(0, 10_000_000).map(str),
        "term_months": st.integers(1, 360),
        "annual_rate": st.decimals("0", "36", places=2).map(str),
        "monthly_income": st.integers(0, 200_000).map(str),
        "household_income": st.integers(0, 400_000).map(str),
        "age": st.integers(0, 100),
        "credit_level": st.sampled_from(scoring.CREDIT_LEVELS),
        "tags": st.lists(st.sampled_from(["VIP", "黑名单", "blacklist", "x"]), max_size=3),
        "applications_30d": st.integers(0, 20),
        "existing_loans_outstanding": st.decimals("0", "5000000", places=2),
        "debt_ratio": st.decimals("0", "300", places=2).map(str),
    },
)


@settings(max_examples=200, deadline=None)
@given(definition=definitions(), inputs=inputs_st)
def test_score_is_base_plus_points_one_band_per_rule(
    definition: dict[str, Any], inputs: dict[str, Any]
) -> None:
    card = scoring.compile_definition(definition)
    result = scoring.evaluate(card, inputs, code="p", version=1, now=NOW, today=TODAY)
    assert result["score"] == card.base_score + sum(r["points"] for r in result["reasons"])
    assert [r["code"] for r in result["reasons"]] == [r.code for r in card.rules]
    factors = scoring.compute_factors(inputs, TODAY)
    forced: list[str] = []
    for rule, reason in zip(card.rules, result["reasons"], strict=True):
        value = factors[rule.factor.code]
        if value is None:
            assert reason["points"] == rule.missing.points
            forced += [rule.missing.force] if rule.missing.force else []
            continue
        matching = [b for b in rule.bands if b.matches(value)]
        assert len(matching) <= 1  # valid bands never overlap
        assert reason["points"] == (matching[0].points if matching else 0)
        forced += [b.force for b in matching if b.force]
    grade = card.grade_for(result["score"])
    assert result["grade"] == grade.grade
    if "reject" in forced:
        assert result["decision"] == "reject"
    elif "review" in forced:
        assert result["decision"] in ("review", "reject")
        assert result["decision"] == ("reject" if grade.decision == "reject" else "review")
    else:
        assert result["decision"] == grade.decision
    # deterministic
    assert scoring.evaluate(card, inputs, code="p", version=1, now=NOW, today=TODAY) == result


@settings(max_examples=100, deadline=None)
@given(definition=definitions(), data=st.data())
def test_broken_contiguity_is_refused(definition: dict[str, Any], data: Any) -> None:
    number_rules = [
        i
        for i, r in enumerate(definition["rules"])
        if "min" in r["bands"][0] and len(r["bands"]) > 1
    ]
    if not number_rules:
        assert scoring.validate_definition(definition) == []
        return
    i = data.draw(st.sampled_from(number_rules))
    j = data.draw(st.integers(1, len(definition["rules"][i]["bands"]) - 1))
    band = definition["rules"][i]["bands"][j]
    shift = data.draw(st.sampled_from([-1, 1]))
    band["min"] = str(int(band["min"]) + shift)
    if band["max"] is not None and int(band["min"]) >= int(band["max"]):
        band["max"] = str(int(band["min"]) + 1)
        nxt = (
            definition["rules"][i]["bands"][j + 1]
            if j + 1 < len(definition["rules"][i]["bands"])
            else None
        )
        if nxt is not None:
            nxt["min"] = band["max"]
    codes = {x.path: x.code for x in scoring.validate_definition(definition)}
    expected = "risk.def.bands_overlap" if shift < 0 else "risk.def.bands_gap"
    assert codes.get(f"rules.{i}.bands.{j}.min") == expected


@settings(max_examples=100, deadline=None)
@given(definition=definitions(), inputs=inputs_st)
def test_a_hard_reject_band_forces_reject(
    definition: dict[str, Any], inputs: dict[str, Any]
) -> None:
    for rule in definition["rules"]:
        for band in rule["bands"]:
            band["force"] = "reject"
        rule["missing"] = {"points": 0, "force": "reject"}
    card = scoring.compile_definition(definition)
    factors = scoring.compute_factors(inputs, TODAY)
    result = scoring.evaluate(card, inputs, code="p", version=1, now=NOW, today=TODAY)
    hit = any(
        factors[r.factor.code] is None or any(b.matches(factors[r.factor.code]) for b in r.bands)
        for r in card.rules
    )
    if hit:
        assert result["decision"] == "reject"
