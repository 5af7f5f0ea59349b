"""Money: exact yuan ↔ fen conversion, display formatting and 大写金额 for contracts."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loandesk.core.money import (
    MAX_YUAN,
    fen_to_yuan,
    format_yuan,
    round_fen,
    to_chinese_capital,
    yuan_to_fen,
)

MAX_FEN = int(MAX_YUAN * 100)
fens = st.integers(min_value=-MAX_FEN, max_value=MAX_FEN)


# --- yuan_to_fen / fen_to_yuan ------------------------------------------------------------


@given(fens)
def test_fen_round_trips_through_yuan(fen: int) -> None:
    yuan = fen_to_yuan(fen)
    assert isinstance(yuan, Decimal)
    assert yuan.as_tuple().exponent == -2  # always exactly two decimals
    assert yuan_to_fen(yuan) == fen
    assert yuan_to_fen(str(yuan)) == fen


@given(st.integers(min_value=-int(MAX_YUAN), max_value=int(MAX_YUAN)))
def test_whole_yuan_ints_are_exact(yuan: int) -> None:
    assert yuan_to_fen(yuan) == yuan * 100


@pytest.mark.parametrize(
    ("amount", "fen"),
    [
        ("0", 0),
        ("0.01", 1),
        ("-0.01", -1),
        ("1234.56", 123456),
        ("1234.5", 123450),
        (Decimal("1234.560000"), 123456),  # trailing zeros are not sub-fen
        ("1e2", 10000),
        (7, 700),
        (str(MAX_YUAN), MAX_FEN),
        (f"-{MAX_YUAN}", -MAX_FEN),
    ],
)
def test_yuan_to_fen_examples(amount: object, fen: int) -> None:
    assert yuan_to_fen(amount) == fen  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [0.1, 1.0, 0.0, True, False])
def test_floats_and_bools_are_refused(amount: object) -> None:
    with pytest.raises(TypeError):
        yuan_to_fen(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["0.001", "1.005", "-0.009", Decimal("12.345"), "1e-30"])
def test_sub_fen_amounts_are_refused_not_rounded(amount: object) -> None:
    with pytest.raises(ValueError, match="two decimals"):
        yuan_to_fen(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity", Decimal("NaN")])
def test_non_finite_amounts_are_refused(amount: object) -> None:
    with pytest.raises(ValueError, match="finite"):
        yuan_to_fen(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "amount",
    [
        MAX_YUAN + Decimal("0.01"),
        -MAX_YUAN - 1,
        "1e12",
        "1e30",  # used to escape as decimal.InvalidOperation from quantize()
        Decimal("-1E+40"),
        10**20,
    ],
)
def test_out_of_range_amounts_are_refused(amount: object) -> None:
    with pytest.raises(ValueError, match="out of range"):
        yuan_to_fen(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["", "abc", "1,000", "¥5", "1.2.3"])
def test_garbage_is_a_value_error(amount: str) -> None:
    with pytest.raises(ValueError, match="not an amount"):
        yuan_to_fen(amount)


def test_fen_to_yuan_examples() -> None:
    assert fen_to_yuan(0) == Decimal("0.00")
    assert str(fen_to_yuan(0)) == "0.00"
    assert str(fen_to_yuan(1)) == "0.01"
    assert str(fen_to_yuan(-150)) == "-1.50"
    assert str(fen_to_yuan(123456)) == "1234.56"


def test_round_fen_rounds_half_up() -> None:
    assert round_fen(Decimal("0.005")) == Decimal("0.01")
    assert round_fen(Decimal("0.0049")) == Decimal("0.00")
    assert round_fen(Decimal("2.675")) == Decimal("2.68")
    assert round_fen(Decimal("-0.005")) == Decimal("-0.01")


# --- format_yuan --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1234.56"), "¥1,234.56"),
        (Decimal("0"), "¥0.00"),
        (0, "¥0.00"),
        (Decimal("-1234.5"), "-¥1,234.50"),
        (Decimal("1000000"), "¥1,000,000.00"),
        (Decimal("0.005"), "¥0.01"),
        (Decimal("-0.001"), "¥0.00"),  # rounds to zero: no "-¥0.00"
        (Decimal("999.999"), "¥1,000.00"),
        (12, "¥12.00"),
    ],
)
def test_format_yuan(amount: Decimal | int, text: str) -> None:
    assert format_yuan(amount) == text


def test_format_yuan_symbol() -> None:
    assert format_yuan(Decimal("5"), symbol="") == "5.00"
    assert format_yuan(Decimal("-5"), symbol="RMB ") == "-RMB 5.00"


# --- 大写金额 -----------------------------------------------------------------------------
# PBoC《正确填写票据和结算凭证的基本规定》: 整 after 元 (optional after 角, never after 分);
# 零 for inner zeros, one 零 for a run of them; 零 after 元 when 角 is 0 but 分 is not;
# amounts under one yuan start at 角/分 (no 零元).

GOLDEN = [
    ("0", "零元整"),
    ("1", "壹元整"),
    ("10", "壹拾元整"),
    ("11", "壹拾壹元整"),
    ("100.5", "壹佰元伍角"),
    ("1005.07", "壹仟零伍元零柒分"),
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ("1409.50", "壹仟肆佰零玖元伍角"),  # the regulation's own example
    ("6007.14", "陆仟零柒元壹角肆分"),  # the regulation's own example
    ("16409.02", "壹万陆仟肆佰零玖元零贰分"),  # the regulation's own example
    ("325.04", "叁佰贰拾伍元零肆分"),  # the regulation's own example
    ("100000", "壹拾万元整"),
    ("100010", "壹拾万零壹拾元整"),
    ("1000000", "壹佰万元整"),
    ("10000001", "壹仟万零壹元整"),
    ("100000000", "壹亿元整"),
    ("105000000", "壹亿零伍佰万元整"),
    ("100001000", "壹亿零壹仟元整"),
    ("10100000", "壹仟零壹拾万元整"),
    ("1000000000000", "壹万亿元整"),
    ("0.05", "伍分"),
    ("0.5", "伍角"),
    ("0.55", "伍角伍分"),
    ("-3.2", "负叁元贰角"),
]


@pytest.mark.parametrize(("amount", "text"), GOLDEN)
def test_chinese_capital_golden(amount: str, text: str) -> None:
    assert to_chinese_capital(amount) == text
    assert to_chinese_capital(Decimal(amount)) == text


def test_chinese_capital_accepts_int_and_rounds_to_fen() -> None:
    assert to_chinese_capital(20) == "贰拾元整"
    assert to_chinese_capital("0.005") == "壹分"
    assert to_chinese_capital("0.004") == "零元整"


@pytest.mark.parametrize("amount", ["1e16", "-1e16", "1e30", "NaN", "Infinity"])
def test_chinese_capital_out_of_range(amount: str) -> None:
    with pytest.raises(ValueError):
        to_chinese_capital(amount)


_DIGIT_CHARS = set("零壹贰叁肆伍陆柒捌玖")
_ALLOWED_CHARS = _DIGIT_CHARS | set("拾佰仟万亿元角分整负")


@given(st.integers(min_value=0, max_value=10**16 - 1))
def test_chinese_capital_properties(fen: int) -> None:
    text = to_chinese_capital(fen_to_yuan(fen))
    assert "零零" not in text
    assert text.endswith(("整", "分", "角"))
    assert set(text) <= _ALLOWED_CHARS
    assert not text.startswith("零") or text == "零元整"
    # 整 closes whole-yuan amounts only; 分 is written exactly when there are fen.
    assert text.endswith("整") == (fen % 100 == 0)
    assert text.endswith("分") == (fen % 10 != 0)
    # 元 appears exactly when there is at least one whole yuan (or the amount is zero).
    assert ("元" in text) == (fen >= 100 or fen == 0)


@given(st.integers(min_value=1, max_value=10**12))
def test_chinese_capital_of_negative_is_prefixed(fen: int) -> None:
    assert to_chinese_capital(-fen_to_yuan(fen)) == "负" + to_chinese_capital(fen_to_yuan(fen))


def _parse_capital(text: str) -> int:
    """Independent reader of 大写金额 back into fen, to check the writer round-trips."""
    digits = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
    small = {"拾": 10, "佰": 100, "仟": 1000}
    yuan_text, _, rest = text.partition("元") if "元" in text else ("", "", text)
    total = 0
    section = 0
    number = 0
    i = 0
    while i < len(yuan_text):
        ch = yuan_text[i]
        if ch in digits:
            number = digits[ch]
        elif ch in small:
            section += number * small[ch]
            number = 0
        elif ch == "万" and yuan_text[i + 1 : i + 2] == "亿":
            total += (section + number) * 10**12
            section = number = 0
            i += 1
        elif ch == "亿":
            total += (section + number) * 10**8
            section = number = 0
        elif ch == "万":
            total += (section + number) * 10**4
            section = number = 0
        i += 1
    fen = (total + section + number) * 100
    for j, ch in enumerate(rest):
        if ch == "角":
            fen += digits[rest[j - 1]] * 10
        elif ch == "分":
            fen += digits[rest[j - 1]]
    return fen


@given(st.integers(min_value=0, max_value=10**16 - 1))
def test_chinese_capital_reads_back_to_the_same_amount(fen: int) -> None:
    assert _parse_capital(to_chinese_capital(fen_to_yuan(fen))) == fen
