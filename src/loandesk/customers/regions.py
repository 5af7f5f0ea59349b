"""Administrative divisions (GB/T 2260): 6-digit codes ↔ current names.

The table ships with python-stdnum (`stdnum/cn/loc.dat`, the same data its resident-ID check
uses), so nothing is downloaded at run time. Codes the table does not know (new districts) are
still accepted when their format is consistent; names are then taken as the caller sent them.
"""

import re
from functools import lru_cache
from pathlib import Path

import stdnum

_LINE = re.compile(r'^(\s*)(\d+)\s+(province|county)="(.*)"\s*$')
_PERIOD = re.compile(r"^\[(\d*)-(\d*)\](.*)$")
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _current_name(raw: str) -> str | None:
    """'[1990-]南山区' → 南山区; an entry whose last period has ended → None."""
    for part in reversed(raw.split(",")):
        match = _PERIOD.match(part)
        if match is None:
            return part
        if not match.group(2):
            return match.group(3)
    return None


@lru_cache(maxsize=1)
def table() -> dict[str, str]:
    """{code: name} for provinces (110000), prefectures (440300) and counties (440305)."""
    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    names: dict[str, str] = {}
    province = ""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            match = _LINE.match(line)
            if match is None:
                continue
            _, digits, kind, raw = match.groups()
            if kind == "province":
                province = digits
                names[f"{province}0000"] = raw
                continue
            name = _current_name(raw)
            if name and len(digits) == 4 and digits != "0000":
                names[province + digits] = name
    for code, name in list(names.items()):
        # 市辖区 / 县 are placeholders for municipalities: the city is the province itself.
        if name in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
            names[code] = names.get(code[:2] + "0000", name)
    return names


def name_of(code: str) -> str | None:
    return table().get(code)


def valid_code_format(code: str, level: str) -> bool:
    if not re.fullmatch(r"\d{6}", code or ""):
        return False
    if level == "province":
        return code.endswith("0000")
    if level == "city":
        return code.endswith("00") and not code.endswith("0000")
    return not code.endswith("00")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _match(name: str, candidates: dict[str, str]) -> str | None:
    if not name:
        return None
    for code, candidate in candidates.items():
        if candidate == name:
            return code
    short = _short(name)
    found = [code for code, candidate in candidates.items() if _short(candidate) == short]
    return found[0] if len(found) == 1 else None


@lru_cache(maxsize=4096)
def codes_for_names(province: str, city: str, district: str) -> tuple[str, str, str]:
    """Best-effort codes for names from a spreadsheet; '' where a name is unknown or ambiguous."""
    names = table()
    provinces = {c: n for c, n in names.items() if c.endswith("0000")}
    p = _match(province, provinces) or ""
    c = d = ""
    if p:
        cities = {
            code: n
            for code, n in names.items()
            if code.startswith(p[:2]) and code.endswith("00") and not code.endswith("0000")
        }
        c = _match(city, cities) or ""
        if not c and city and _short(city) == _short(province):
            c = next((code for code, n in cities.items() if n == provinces[p]), "")
        scope = c[:4] if c else p[:2]
        districts = {
            code: n
            for code, n in names.items()
            if code.startswith(scope) and not code.endswith("00")
        }
        d = _match(district, districts) or ""
        if d and not c:
            c_code = d[:4] + "00"
            c = c_code if c_code in names else ""
    return p, c, d
