"""Money: integer fen in the database, Decimal yuan in Python, never float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
MAX_YUAN = Decimal("100000000000")  # 1e11 yuan: beyond any single loan or book a lender holds


def yuan_to_fen(amount: Decimal | int | str) -> int:
    """Exact conversion; refuses sub-fen amounts instead of silently rounding money."""
    if isinstance(amount, float | bool):
        raise TypeError("money must not be a float (or a bool)")
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError("amount must be finite")
    if abs(value) > MAX_YUAN:  # before quantize, which raises InvalidOperation on huge values
        raise ValueError("amount out of range")
    if value != value.quantize(FEN):
        raise ValueError("amount has more than two decimals")
    return int(value * 100)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def round_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(amount: Decimal | int, *, symbol: str = "¥") -> str:
    """¥1,234.56 — the way amounts are shown everywhere."""
    value = round_fen(Decimal(amount))
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value):,.2f}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def _four_digits(group: int) -> str:
    """Read 0..9999 with 零 for inner zeros (e.g. 1005 → 壹仟零伍)."""
    out: list[str] = []
    zero = False
    for pos in range(3, -1, -1):
        digit = group // 10**pos % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[digit] + _SMALL_UNITS[pos])
    return "".join(out)


def to_chinese_capital(amount: Decimal | int | str) -> str:
    """大写金额 as written on contracts and cheques: 1234.56 → 壹仟贰佰叁拾肆元伍角陆分.

    Follows the PBoC rules for filling in bills: 整 after 元 only (¥1409.50 → 壹仟肆佰零玖元伍角),
    never after 分; one 零 for a run of inner zeros; 零 between 元 and 分 when 角 is zero.
    """
    raw = Decimal(amount)
    if not raw.is_finite() or abs(raw) >= 10**16:
        raise ValueError("amount out of range")
    value = round_fen(raw)
    if value < 0:
        return "负" + to_chinese_capital(-value)
    fen_total = int(value * 100)
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if yuan >= 10**16:
        raise ValueError("amount out of range")
    parts: list[str] = []
    if yuan:
        groups = []
        rest = yuan
        while rest:
            groups.append(rest % 10000)
            rest //= 10000
        need_zero = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                need_zero = True
                continue
            if parts and (need_zero or group < 1000):
                parts.append("零")
            parts.append(_four_digits(group) + _BIG_UNITS[index])
            need_zero = False
        parts.append("元")
    if not jiao and not fen:
        return ("".join(parts) or "零元") + "整"
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    elif yuan:
        parts.append("零")
    if fen:
        parts.append(_DIGITS[fen] + "分")
    return "".join(parts)
