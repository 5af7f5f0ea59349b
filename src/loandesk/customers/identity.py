"""Identity numbers and names: validation, normalisation and derived values.

Plain Python (no database): the API, the Excel import and the demo seeder all go through these
functions, so a number accepted in one place is accepted everywhere. Each failure carries the
message code the API shows for the field.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from pypinyin import lazy_pinyin
from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError


class IdentityError(ValueError):
    """A value that is not a valid identifier; `code` is the message code for the field."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# First two digits of a resident ID: the province-level division (GB/T 2260).
PROVINCE_PREFIXES = frozenset(
    {
        *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36"),
        *("37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62"),
        *("63", "64", "65", "71", "81", "82", "83"),
    }
)
_SEPARATORS = re.compile(r"[\s\-_.·,，]+")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    gender: str  # "male" | "female"


def clean_id_number(value: str, *, today: date | None = None) -> ResidentId:
    """An 18-digit resident ID: format, province, birth date (not in the future) and checksum.

    The birth place's county code is not checked against a table: new counties appear every
    year and a stale table would reject real customers. 15-digit first-generation numbers
    expired in 2013 and are refused.
    """
    number = _SEPARATORS.sub("", value or "").upper()
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise IdentityError("customers.id_number_invalid")
    if number[:2] not in PROVINCE_PREFIXES:
        raise IdentityError("customers.id_number_invalid")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdentityError("customers.id_number_birth_date") from exc
    if birth.year < 1900 or birth > (today or date.today()):
        raise IdentityError("customers.id_number_birth_date")
    if ric.calc_check_digit(number) != number[17]:
        raise IdentityError("customers.id_number_checksum")
    gender = "male" if int(number[16]) % 2 == 1 else "female"
    return ResidentId(number=number, birth_date=birth, gender=gender)


def make_id_number(region: str, birth: date, sequence: int) -> str:
    """A checksum-valid ID number (for demo data and tests): region 6 digits, sequence 0-999."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def clean_uscc(value: str) -> str:
    """统一社会信用代码: 18 characters with its check character."""
    code = _SEPARATORS.sub("", value or "").upper()
    try:
        return str(uscc.validate(code))
    except StdnumError as exc:
        raise IdentityError("customers.uscc_invalid") from exc


def make_uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


def clean_bank_card(value: str) -> str:
    """A bank card number: 12 to 19 digits passing the Luhn check (UnionPay cards do)."""
    number = _SEPARATORS.sub("", value or "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise IdentityError("customers.bank_card_invalid")
    if not luhn.is_valid(number):
        raise IdentityError("customers.bank_card_invalid")
    return number


def make_bank_card(prefix15_to_18: str) -> str:
    return prefix15_to_18 + luhn.calc_check_digit(prefix15_to_18)


def looks_like_id_number(q: str) -> bool:
    compact = _SEPARATORS.sub("", q).upper()
    return len(compact) == 18 and compact[:17].isdigit() and compact[17] in "0123456789X"


def looks_like_bank_card(q: str) -> bool:
    compact = _SEPARATORS.sub("", q)
    return compact.isdigit() and 12 <= len(compact) <= 19


# --- names ----------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def clean_name(value: str, *, max_length: int = 100) -> str:
    """Trim, collapse inner whitespace, NFKC-normalise (full-width letters → ASCII)."""
    name = unicodedata.normalize("NFKC", value or "")
    name = _CONTROL.sub("", name)
    return _SPACES.sub(" ", name).strip()[:max_length]


# Surnames whose reading differs from the character's most common one (曾 zeng, not ceng).
_SURNAMES = {
    "万俟": ["mo", "qi"],
    "尉迟": ["yu", "chi"],
    "单于": ["chan", "yu"],
    "长孙": ["zhang", "sun"],
    "澹台": ["tan", "tai"],
    "单": ["shan"],
    "曾": ["zeng"],
    "解": ["xie"],
    "仇": ["qiu"],
    "朴": ["piao"],
    "查": ["zha"],
    "区": ["ou"],
    "乐": ["yue"],
    "缪": ["miao"],
    "翟": ["zhai"],
    "盖": ["ge"],
    "种": ["chong"],
    "覃": ["qin"],
    "秘": ["bi"],
    "重": ["chong"],
    "召": ["shao"],
    "繁": ["po"],
    "员": ["yun"],
    "洗": ["xian"],
    "折": ["she"],
    "宿": ["su"],
    "隗": ["wei"],
    "句": ["gou"],
    "阚": ["kan"],
    "纪": ["ji"],
    "沈": ["shen"],
    "藏": ["zang"],
    "黑": ["he"],
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
PINYIN_MAX = 200
INITIALS_MAX = 60


@lru_cache(maxsize=30_000)
def _char_pinyin(ch: str) -> str:
    return lazy_pinyin(ch)[0].lower()


@lru_cache(maxsize=20_000)
def _phrase_pinyin(text: str) -> tuple[str, ...]:
    return tuple(part.lower() for part in lazy_pinyin(text))


def _pinyin_parts(text: str, person: bool) -> list[str]:
    """A person's given name is read character by character (most common reading, cached: an
    import of 100,000 names stays fast); other names go through pypinyin's phrase dictionary
    (重庆 → chongqing, 银行 → yinhang)."""
    if not person:
        return list(_phrase_pinyin(text))
    parts: list[str] = []
    run = ""
    for ch in text:
        if _CJK.match(ch):
            if run:
                parts.append(run)
                run = ""
            parts.append(_char_pinyin(ch))
        else:
            run += ch
    if run:
        parts.append(run)
    return parts


def name_pinyin(name: str, *, person: bool = True) -> tuple[str, str]:
    """(full pinyin, initials), lowercase ASCII: 张伟 → ("zhangwei", "zw"); 曾小贤 → zeng….

    Latin parts stay whole in the full pinyin (TCL科技 → "tclkeji") and give their first letter
    to the initials.
    """
    text = clean_name(name).lower()
    syllables: list[str] = []
    initials: list[str] = []
    rest = text
    if person:
        for surname, reading in _SURNAMES.items():
            if rest.startswith(surname):
                syllables.extend(reading)
                initials.extend(s[0] for s in reading)
                rest = rest[len(surname) :]
                break
    for part in _pinyin_parts(rest, person):  # non-Chinese runs come back unchanged
        part = part.lower()
        if not part.strip():
            continue
        words = [w for w in _NON_ALNUM.split(part) if w]
        syllables.extend(words)
        initials.extend(w[0] for w in words)
    full = "".join(syllables)
    return full[:PINYIN_MAX], "".join(initials)[:INITIALS_MAX]


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def pinyin_query(q: str) -> str:
    """A search string reduced to what the pinyin columns hold ("Zhang Wei" → "zhangwei")."""
    return _NON_ALNUM.sub("", q.lower())
