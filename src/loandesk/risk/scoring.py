"""The scorecard core: plain Python, no Django, no I/O, no clock.

A scorecard is a base score plus ordered rules. Each rule reads one *factor* (a value derived
from the application and the customer, see FACTORS) and holds bands; the first (and only) band
the value falls in gives the rule's points and a reason. The total picks a grade, the grade a
decision; a band (or the rule's "missing" answer) may force `review` or `reject` whatever the
total (hard rules such as a blacklist hit).

Definition JSON (stored on `risk.Scorecard.definition`, validated by `compile_definition`):

    {"base_score": 600,
     "rules": [
       {"code": "age", "label": "年龄", "label_en": "Age", "factor": "age",
        "bands": [{"min": null, "max": "18", "points": 0, "reason": "未满 18 周岁",
                   "reason_en": "Under 18", "force": "reject"},
                  {"min": "18", "max": null, "points": 20, "reason": "成年"}],
        "missing": {"points": -20, "reason": "无法确定年龄", "force": "review"}},
       {"code": "credit", "label": "信用等级", "factor": "credit_level",
        "bands": [{"values": ["A"], "points": 80, "reason": "信用优良"}, ...]}],
     "grades": [{"grade": "A", "min": 700, "decision": "approve"}, ...,
                {"grade": "D", "min": null, "decision": "reject"}]}

- Number bands are half-open, `min <= value < max`; null is unbounded. Listed in ascending
  order, each band's `min` equals the previous band's `max` (no gaps, no overlaps); values
  outside the first/last band's bounds match nothing (0 points, "no band" reason).
- Choice bands list `values`; a value may appear in one band only.
- Grades are listed from the highest `min` down, strictly descending; the last has `min: null`
  and catches every remaining score.
- Every bad spot is reported as an Issue with a dotted path (`rules.2.bands.1.min`), so the
  editor can point at the offending rule and band.

`evaluate(card, inputs, ...)` returns the result dict approvers see; missing inputs become a
reason (the rule's `missing` answer), never an exception.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ZH = "zh-CN"
EN = "en-US"

DECISIONS = ("approve", "review", "reject")
FORCES = ("review", "reject")
_SEVERITY = {"approve": 0, "review": 1, "reject": 2}
DECISION_LABELS = {
    "approve": ("建议通过", "Approve"),
    "review": ("人工复核", "Manual review"),
    "reject": ("建议拒绝", "Reject"),
}

CREDIT_LEVELS = ("A", "B", "C", "watch", "blacklist", "none")
BLACKLIST_TAGS = ("黑名单", "blacklist")

MAX_RULES = 30
MAX_BANDS = 20
MAX_GRADES = 10
MAX_POINTS = 1000
MAX_BASE = 10000
MAX_TEXT = 100
LIMIT = Decimal("1e12")  # bounds beyond any amount or ratio a scorecard needs
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_GRADE = re.compile(r"^[A-Za-z0-9+\-]{1,10}$")
TWO = Decimal("0.01")


# --- factors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    code: str
    label_zh: str
    label_en: str
    kind: str  # "number" | "choice"
    unit: str = ""  # "years", "percent", "times", "yuan", "months", "count"
    choices: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.label_en if lang == EN else self.label_zh

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label": self.label_zh,
            "label_en": self.label_en,
            "kind": self.kind,
            "unit": self.unit,
            "choices": list(self.choices),
        }


FACTORS: dict[str, Factor] = {
    f.code: f
    for f in (
        Factor("age", "年龄", "Age", "number", "years"),
        Factor("debt_to_income", "月供收入比", "Debt-to-income ratio", "number", "percent"),
        Factor(
            "amount_to_annual_income",
            "贷款金额/家庭年收入",
            "Amount to annual household income",
            "number",
            "times",
        ),
        Factor("credit_level", "信用等级", "Credit level", "choice", "", CREDIT_LEVELS),
        Factor("blacklisted", "命中黑名单", "Blacklist hit", "choice", "", ("yes", "no")),
        Factor(
            "applications_30d", "近 30 天申请次数", "Applications in 30 days", "number", "count"
        ),
        Factor("monthly_income", "申请人月收入", "Applicant's monthly income", "number", "yuan"),
        Factor("household_income", "家庭月收入", "Household monthly income", "number", "yuan"),
        Factor("term_months", "期限(月)", "Term (months)", "number", "months"),
        Factor("amount", "申请金额", "Amount", "number", "yuan"),
        Factor("annual_rate", "年利率", "Annual rate", "number", "percent"),
        Factor(
            "existing_loans_outstanding",
            "在贷余额",
            "Outstanding loans",
            "number",
            "yuan",
        ),
    )
}


def _dec(value: Any) -> Decimal | None:
    """A finite Decimal from a JSON-ish value, else None. Floats go through their repr."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float | str):
        text = str(value).strip().replace(",", "")
        if not text:
            return None
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    if not result.is_finite() or abs(result) > LIMIT:
        return None
    return result


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def full_years(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def monthly_payment(amount: Decimal, annual_rate: Decimal, term: int) -> Decimal:
    """Equal-installment payment (等额本息) rounded to the fen; annual_rate in percent."""
    if term <= 0:
        raise ValueError("term must be positive")
    r = annual_rate / Decimal(1200)
    if r == 0:
        return (amount / term).quantize(TWO, ROUND_HALF_UP)
    growth = (1 + r) ** term
    return (amount * r * growth / (growth - 1)).quantize(TWO, ROUND_HALF_UP)


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TWO, ROUND_HALF_UP)


def _positive(value: Decimal | None) -> Decimal | None:
    return value if value is not None and value > 0 else None


def compute_factors(inputs: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Every factor's value from the raw inputs (None when it cannot be determined).

    Inputs (all optional): amount, term_months, annual_rate, monthly_payment (yuan),
    monthly_income (applicant's), household_income, debt_ratio (percent, the form's own),
    age or birth_date, credit_level, tags (names), blacklisted (bool), applications_30d,
    existing_loans_outstanding (yuan).
    """
    out: dict[str, Any] = {}
    amount = _positive(_dec(inputs.get("amount")))
    term_dec = _dec(inputs.get("term_months"))
    term = int(term_dec) if term_dec is not None and term_dec == int(term_dec) else None
    term = term if term is not None and term > 0 else None
    rate = _dec(inputs.get("annual_rate"))
    rate = rate if rate is not None and rate >= 0 else None
    income = _positive(_dec(inputs.get("monthly_income")))
    household = _positive(_dec(inputs.get("household_income"))) or income
    payment = _positive(_dec(inputs.get("monthly_payment")))
    if payment is None and amount is not None and term is not None and rate is not None:
        payment = monthly_payment(amount, rate, term)

    out["amount"] = _money(amount)
    out["term_months"] = Decimal(term) if term is not None else None
    out["annual_rate"] = rate
    out["monthly_income"] = _money(income)
    out["household_income"] = _money(household)

    dti: Decimal | None = None
    if payment is not None and household is not None:
        dti = (payment * 100 / household).quantize(TWO, ROUND_HALF_UP)
    elif (ratio := _dec(inputs.get("debt_ratio"))) is not None and ratio >= 0:
        dti = ratio.quantize(TWO, ROUND_HALF_UP)
    out["debt_to_income"] = dti
    out["amount_to_annual_income"] = (
        (amount / (household * 12)).quantize(TWO, ROUND_HALF_UP)
        if amount is not None and household is not None
        else None
    )

    age = _dec(inputs.get("age"))
    if age is None and (birth := _date(inputs.get("birth_date"))) is not None:
        age = Decimal(full_years(birth, today))
    out["age"] = age if age is not None and 0 <= age <= 150 else None

    level = inputs.get("credit_level")
    if level is None:
        out["credit_level"] = None
    else:
        level = str(level).strip() or "none"
        out["credit_level"] = level if level in CREDIT_LEVELS else None

    blacklisted = inputs.get("blacklisted")
    tags = inputs.get("tags")
    if isinstance(blacklisted, bool):
        out["blacklisted"] = "yes" if blacklisted else "no"
    elif out["credit_level"] is not None or isinstance(tags, list | tuple):
        hit = out["credit_level"] == "blacklist" or any(
            str(t).strip().lower() in BLACKLIST_TAGS for t in tags or ()
        )
        out["blacklisted"] = "yes" if hit else "no"
    else:
        out["blacklisted"] = None

    count = _dec(inputs.get("applications_30d"))
    out["applications_30d"] = (
        count.to_integral_value() if count is not None and count >= 0 else None
    )
    loans = _dec(inputs.get("existing_loans_outstanding"))
    out["existing_loans_outstanding"] = _money(loans) if loans is not None and loans >= 0 else None
    return out


# --- definitions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    path: str  # dotted: "base_score", "rules.2.bands.1.min", "grades.0.decision"
    code: str
    params: dict[str, str] = field(default_factory=dict)


class ScorecardInvalid(ValueError):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(f"{i.path}: {i.code}" for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Band:
    points: int
    reason_zh: str
    reason_en: str
    force: str | None
    low: Decimal | None = None
    high: Decimal | None = None
    values: tuple[str, ...] = ()

    def reason(self, lang: str) -> str:
        return self.reason_en if lang == EN and self.reason_en else self.reason_zh

    def matches(self, value: Any) -> bool:
        if isinstance(value, Decimal):
            return (self.low is None or value >= self.low) and (
                self.high is None or value < self.high
            )
        return value in self.values


@dataclass(frozen=True)
class Rule:
    code: str
    label_zh: str
    label_en: str
    factor: Factor
    bands: tuple[Band, ...]
    missing: Band

    def label(self, lang: str) -> str:
        return self.label_en if lang == EN and self.label_en else self.label_zh


@dataclass(frozen=True)
class Grade:
    grade: str
    low: int | None
    decision: str


@dataclass(frozen=True)
class Scorecard:
    base_score: int
    rules: tuple[Rule, ...]
    grades: tuple[Grade, ...]

    def grade_for(self, score: int) -> Grade:
        for grade in self.grades:
            if grade.low is None or score >= grade.low:
                return grade
        return self.grades[-1]  # pragma: no cover  (the last grade is the catch-all)


class _Checker:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def bad(self, path: str, issue: str, **params: Any) -> None:
        self.issues.append(Issue(path, f"risk.def.{issue}", {k: str(v) for k, v in params.items()}))

    def integer(self, value: Any, path: str, low: int, high: int, default: int | None) -> int:
        if value is None and default is not None:
            return default
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,6}", value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad(path, "integer")
            return 0
        if not low <= value <= high:
            self.bad(path, "range", min=low, max=high)
            return 0
        return value

    def text(self, value: Any, path: str, *, required: bool, max_len: int = MAX_TEXT) -> str:
        text = value.strip() if isinstance(value, str) else ""
        if value is not None and not isinstance(value, str):
            self.bad(path, "text")
        elif required and not text:
            self.bad(path, "required")
        elif len(text) > max_len:
            self.bad(path, "too_long", max=max_len)
        return text

    def force(self, value: Any, path: str) -> str | None:
        if value in (None, ""):
            return None
        if value not in FORCES:
            self.bad(path, "choice", choices="review, reject")
            return None
        return str(value)

    def bound(self, value: Any, path: str) -> Decimal | None:
        if value is None or value == "":
            return None
        result = _dec(value)
        if result is None:
            self.bad(path, "number")
        return result

    def keys(self, obj: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.bad(f"{path}.{key}" if path else str(key), "unknown_key")


_RULE_KEYS = {"code", "label", "label_en", "factor", "bands", "missing", "ui"}
_BAND_KEYS = {"min", "max", "values", "points", "reason", "reason_en", "force"}
_MISSING_KEYS = {"points", "reason", "reason_en", "force"}
_GRADE_KEYS = {"grade", "min", "decision", "label", "label_en"}
_TOP_KEYS = {"base_score", "rules", "grades"}

_DEFAULT_MISSING = ("缺少数据", "Data missing")


def _band(c: _Checker, raw: Any, path: str, factor: Factor | None) -> Band | None:
    if not isinstance(raw, Mapping):
        c.bad(path, "not_an_object")
        return None
    c.keys(raw, _BAND_KEYS, path)
    points = c.integer(raw.get("points"), f"{path}.points", -MAX_POINTS, MAX_POINTS, None)
    reason = c.text(raw.get("reason"), f"{path}.reason", required=True)
    reason_en = c.text(raw.get("reason_en"), f"{path}.reason_en", required=False)
    force = c.force(raw.get("force"), f"{path}.force")
    if factor is None:
        return None
    if factor.kind == "number":
        if "values" in raw:
            c.bad(f"{path}.values", "unknown_key")
        low = c.bound(raw.get("min"), f"{path}.min")
        high = c.bound(raw.get("max"), f"{path}.max")
        if low is not None and high is not None and low >= high:
            c.bad(f"{path}.max", "min_not_below_max")
        return Band(points, reason, reason_en, force, low=low, high=high)
    for key in ("min", "max"):
        if key in raw:
            c.bad(f"{path}.{key}", "unknown_key")
    values = raw.get("values")
    if not isinstance(values, list | tuple) or not values:
        c.bad(f"{path}.values", "values_required")
        return Band(points, reason, reason_en, force)
    cleaned: list[str] = []
    for value in values:
        if value not in factor.choices:
            c.bad(f"{path}.values", "bad_value", value=value, choices=", ".join(factor.choices))
        elif value not in cleaned:
            cleaned.append(str(value))
    return Band(points, reason, reason_en, force, values=tuple(cleaned))


def _check_bands(c: _Checker, bands: list[tuple[int, Band]], path: str, factor: Factor) -> None:
    if factor.kind == "number":
        for (i, prev), (j, band) in itertools.pairwise(bands):
            bpath = f"{path}.bands.{j}.min"
            if prev.high is None or band.low is None or band.low < prev.high:
                c.bad(bpath, "bands_overlap", previous=i + 1)
            elif band.low > prev.high:
                c.bad(bpath, "bands_gap", previous=i + 1, value=_text(prev.high))
        return
    seen: dict[str, int] = {}
    for i, band in bands:
        for value in band.values:
            if value in seen:
                c.bad(f"{path}.bands.{i}.values", "value_twice", value=value, other=seen[value] + 1)
            else:
                seen[value] = i


def _rule(c: _Checker, raw: Any, path: str) -> Rule | None:
    if not isinstance(raw, Mapping):
        c.bad(path, "not_an_object")
        return None
    c.keys(raw, _RULE_KEYS, path)
    code = raw.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        c.bad(f"{path}.code", "bad_code")
        code = ""
    label = c.text(raw.get("label"), f"{path}.label", required=True, max_len=50)
    label_en = c.text(raw.get("label_en"), f"{path}.label_en", required=False, max_len=50)
    factor_code = raw.get("factor")
    factor = FACTORS.get(factor_code) if isinstance(factor_code, str) else None
    if factor is None:
        c.bad(f"{path}.factor", "unknown_factor")
    raw_bands = raw.get("bands")
    bands: list[tuple[int, Band]] = []
    if not isinstance(raw_bands, list) or not raw_bands:
        c.bad(f"{path}.bands", "no_bands")
    elif len(raw_bands) > MAX_BANDS:
        c.bad(f"{path}.bands", "too_many", max=MAX_BANDS)
    else:
        for i, raw_band in enumerate(raw_bands):
            band = _band(c, raw_band, f"{path}.bands.{i}", factor)
            if band is not None:
                bands.append((i, band))
        if factor is not None and len(bands) == len(raw_bands):
            _check_bands(c, bands, path, factor)
    raw_missing = raw.get("missing")
    missing = Band(0, _DEFAULT_MISSING[0], _DEFAULT_MISSING[1], None)
    if raw_missing is not None:
        mpath = f"{path}.missing"
        if not isinstance(raw_missing, Mapping):
            c.bad(mpath, "not_an_object")
        else:
            c.keys(raw_missing, _MISSING_KEYS, mpath)
            missing = Band(
                c.integer(raw_missing.get("points"), f"{mpath}.points", -MAX_POINTS, MAX_POINTS, 0),
                c.text(raw_missing.get("reason"), f"{mpath}.reason", required=False)
                or _DEFAULT_MISSING[0],
                c.text(raw_missing.get("reason_en"), f"{mpath}.reason_en", required=False)
                or (_DEFAULT_MISSING[1] if not raw_missing.get("reason") else ""),
                c.force(raw_missing.get("force"), f"{mpath}.force"),
            )
    if factor is None:
        return None
    return Rule(code, label, label_en, factor, tuple(b for _, b in bands), missing)


def _grades(c: _Checker, raw: Any) -> list[Grade]:
    if not isinstance(raw, list) or not raw:
        c.bad("grades", "no_grades")
        return []
    if len(raw) > MAX_GRADES:
        c.bad("grades", "too_many", max=MAX_GRADES)
        return []
    grades: list[Grade] = []
    seen: set[str] = set()
    previous: int | None = None
    for i, item in enumerate(raw):
        path = f"grades.{i}"
        if not isinstance(item, Mapping):
            c.bad(path, "not_an_object")
            continue
        c.keys(item, _GRADE_KEYS, path)
        name = item.get("grade")
        if not isinstance(name, str) or not _GRADE.match(name):
            c.bad(f"{path}.grade", "bad_grade")
            name = ""
        elif name in seen:
            c.bad(f"{path}.grade", "grade_twice", grade=name)
        seen.add(str(name))
        last = i == len(raw) - 1
        low: int | None = None
        if last:
            if item.get("min") not in (None, ""):
                c.bad(f"{path}.min", "last_grade_open")
        else:
            low = c.integer(item.get("min"), f"{path}.min", -100000, 100000, None)
            if previous is not None and low >= previous:
                c.bad(f"{path}.min", "grades_not_descending")
            previous = low
        decision = item.get("decision")
        if decision not in DECISIONS:
            c.bad(f"{path}.decision", "choice", choices=", ".join(DECISIONS))
            decision = "review"
        grades.append(Grade(str(name), low, str(decision)))
    return grades


def validate_definition(obj: Any) -> list[Issue]:
    return _compile(obj)[1]


def compile_definition(obj: Any) -> Scorecard:
    """The compiled scorecard, or ScorecardInvalid with every problem found."""
    card, issues = _compile(obj)
    if issues or card is None:
        raise ScorecardInvalid(issues or [Issue("", "risk.def.not_an_object")])
    return card


def _compile(obj: Any) -> tuple[Scorecard | None, list[Issue]]:
    c = _Checker()
    if not isinstance(obj, Mapping):
        c.bad("", "not_an_object")
        return None, c.issues
    c.keys(obj, _TOP_KEYS, "")
    base = c.integer(obj.get("base_score"), "base_score", 0, MAX_BASE, None)
    raw_rules = obj.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list) or not raw_rules:
        c.bad("rules", "no_rules")
    elif len(raw_rules) > MAX_RULES:
        c.bad("rules", "too_many", max=MAX_RULES)
    else:
        codes: dict[str, int] = {}
        for i, raw_rule in enumerate(raw_rules):
            rule = _rule(c, raw_rule, f"rules.{i}")
            code = raw_rule.get("code") if isinstance(raw_rule, Mapping) else None
            if isinstance(code, str) and code in codes:
                c.bad(f"rules.{i}.code", "code_twice", code=code, other=codes[code] + 1)
            elif isinstance(code, str):
                codes[code] = i
            if rule is not None:
                rules.append(rule)
    grades = _grades(c, obj.get("grades"))
    if c.issues:
        return None, c.issues
    return Scorecard(base, tuple(rules), tuple(grades)), []


# --- evaluation -------------------------------------------------------------------------------


def _text(value: Decimal) -> str:
    """40 → "40", 28.69 → "28.69", 0.00 (money) → "0.00"; never exponent notation."""
    exponent = value.as_tuple().exponent
    return format(value, "f") if isinstance(exponent, int) and exponent < 0 else str(int(value))


def _factor_json(value: Any) -> Any:
    return _text(value) if isinstance(value, Decimal) else value


_UNIT_TEXT = {
    "years": ("{v} 岁", "{v} years"),
    "percent": ("{v}%", "{v}%"),
    "times": ("{v} 倍", "{v}×"),
    "yuan": ("{v} 元", "¥{v}"),
    "months": ("{v} 个月", "{v} months"),
    "count": ("{v} 次", "{v}"),
}
_CHOICE_TEXT = {
    "A": ("A", "A"),
    "B": ("B", "B"),
    "C": ("C", "C"),
    "watch": ("关注", "Watch"),
    "blacklist": ("黑名单", "Blacklist"),
    "none": ("未评级", "Not rated"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
}


def value_text(factor: Factor, value: Any, lang: str = ZH) -> str:
    idx = 1 if lang == EN else 0
    if isinstance(value, Decimal):
        pattern = _UNIT_TEXT.get(factor.unit)
        return pattern[idx].format(v=_text(value)) if pattern else _text(value)
    return _CHOICE_TEXT.get(str(value), (str(value), str(value)))[idx]


def evaluate(
    card: Scorecard,
    inputs: Mapping[str, Any],
    *,
    code: str,
    version: int,
    now: datetime,
    lang: str = ZH,
    today: date | None = None,
    factor_values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Score `inputs` on `card`. Deterministic: the same inputs and `now` give the same dict.
    `factor_values` (already computed, e.g. by the caller) skips compute_factors."""
    factors = (
        dict(factor_values)
        if factor_values is not None
        else compute_factors(inputs, today or now.date())
    )
    en = lang == EN
    reasons: list[dict[str, Any]] = []
    forced: list[str] = []
    total = card.base_score
    for rule in card.rules:
        value = factors.get(rule.factor.code)
        band: Band | None
        if value is None:
            band = rule.missing
            detail = rule.missing.reason(lang)
        else:
            band = next((b for b in rule.bands if b.matches(value)), None)
            shown = value_text(rule.factor, value, lang)
            if band is None:
                detail = f"{shown}: no band matches" if en else f"{shown}:未落入任何区间"
            else:
                detail = f"{band.reason(lang)} ({shown})" if en else f"{band.reason(lang)}({shown})"
        points = band.points if band is not None else 0
        if band is not None and band.force:
            forced.append(band.force)
        total += points
        reasons.append(
            {"code": rule.code, "label": rule.label(lang), "points": points, "detail": detail}
        )
    grade = card.grade_for(total)
    decision = max([grade.decision, *forced], key=lambda d: _SEVERITY[d])
    return {
        "scorecard": code,
        "version": version,
        "score": total,
        "grade": grade.grade,
        "decision": decision,
        "decision_label": DECISION_LABELS[decision][1 if en else 0],
        "reasons": reasons,
        "factors": {
            rule.factor.code: _factor_json(factors.get(rule.factor.code)) for rule in card.rules
        },
        "evaluated_at": now.isoformat(),
    }


def factor_catalog() -> list[dict[str, Any]]:
    return [f.as_dict() for f in FACTORS.values()]
