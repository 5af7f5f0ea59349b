"""Cleaning customer profile input into column values — shared by the API, the Excel import,
public links and the demo seeder, so every path accepts and stores the same things.

`clean_fields` never touches the database: it validates and normalises, derives the blind
indexes, gender, birth date and pinyin, and collects every problem per field.
"""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from phonenumbers.phonemetadata import PhoneMetadata

from loandesk.accounts.phones import normalize_mobile
from loandesk.core.crypto import blind_index, mask_bank_card, mask_id_number, mask_phone
from loandesk.core.errors import ValidationFailed
from loandesk.core.i18n import message
from loandesk.core.money import yuan_to_fen
from loandesk.customers import identity, regions
from loandesk.customers.messages import CHOICES

INDIVIDUAL = "individual"
ENTERPRISE = "enterprise"
MAX_INCOME_FEN = 10**13  # 1e11 yuan a month: anything above is a typo

TEXT_LIMITS = {
    "legal_representative": 50,
    "industry": 50,
    "address": 200,
    "employer": 100,
    "remark": 2000,
    "province_name": 30,
    "city_name": 30,
    "district_name": 30,
}
CHOICE_FIELDS = ("marital_status", "education", "credit_level", "source_channel")
REGION_LEVELS = (("province", "province"), ("city", "city"), ("district", "district"))
PROFILE_FIELDS = (
    "name",
    "id_number",
    "phone",
    "uscc",
    *TEXT_LIMITS.keys(),
    "province_code",
    "city_code",
    "district_code",
    "monthly_income",
    *CHOICE_FIELDS,
)


def id_number_index(number: str) -> str:
    return blind_index(number, purpose="customer_id_number")


def phone_index(mobile: str) -> str:
    return blind_index(mobile, purpose="customer_phone")


def bank_card_index(number: str) -> str:
    return blind_index(number, purpose="customer_bank_card")


class Errors:
    """Per-field problems, raised together as one 422 with `details.fields` and `.codes`."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[str, dict[str, Any]]] = {}

    def add(self, field: str, code: str, **params: Any) -> None:
        self.items.setdefault(field, (code, params))

    def add_text(self, field: str, text: str, code: str = "field.invalid") -> None:
        """A message that arrives already translated (e.g. from the form engine)."""
        self.items.setdefault(field, (code, {"__text__": text}))

    def __bool__(self) -> bool:
        return bool(self.items)

    def messages(self) -> dict[str, str]:
        return {
            field: str(params["__text__"]) if "__text__" in params else message(code, params)
            for field, (code, params) in self.items.items()
        }

    def raise_if_any(self) -> None:
        if self.items:
            raise FieldErrors(self)


class FieldErrors(ValidationFailed):
    """422 validation_error; details = {"fields": {field: message}, "codes": {field: code}}."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors.messages())
        self.details["codes"] = {field: code for field, (code, _) in errors.items.items()}


def clean_text(value: Any) -> str:
    return identity.clean_name(str(value), max_length=10_000) if value is not None else ""


def clean_income(value: Any, errors: Errors, field: str = "monthly_income") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float | bool):
        errors.add(field, "customers.income_float")
        return None
    try:
        fen = yuan_to_fen(str(value).strip().replace(",", "") if isinstance(value, str) else value)
    except (ValueError, TypeError):
        errors.add(field, "customers.income_invalid")
        return None
    if fen < 0 or fen > MAX_INCOME_FEN:
        errors.add(field, "customers.income_invalid")
        return None
    return fen


def fen_to_yuan_text(fen: int | None) -> str | None:
    return None if fen is None else str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def clean_fields(
    data: Mapping[str, Any], *, kind: str, errors: Errors, today: date | None = None
) -> dict[str, Any]:
    """Column values for the keys present in `data` (PROFILE_FIELDS); None/"" clears a field."""
    out: dict[str, Any] = {}
    for key, raw in data.items():
        if key == "name":
            name = identity.clean_name(str(raw or ""), max_length=1000)
            if not name:
                errors.add("name", "field.required")
            elif len(name) > 100:
                errors.add("name", "field.too_long", max=100)
            else:
                out["name"] = name
                out["name_pinyin"], out["name_initials"] = identity.name_pinyin(
                    name, person=kind == INDIVIDUAL
                )
        elif key == "id_number":
            _clean_id_number(raw, kind, errors, out, today)
        elif key == "phone":
            _clean_phone(raw, errors, out)
        elif key == "uscc":
            _clean_uscc(raw, kind, errors, out)
        elif key in TEXT_LIMITS:
            text = clean_text(raw)
            if len(text) > TEXT_LIMITS[key]:
                errors.add(key, "field.too_long", max=TEXT_LIMITS[key])
            else:
                out[key] = text
        elif key == "monthly_income":
            out["monthly_income"] = clean_income(raw, errors)
        elif key in CHOICE_FIELDS:
            value = "" if raw is None else str(raw).strip()
            if value and value not in CHOICES[key]:
                errors.add(key, "field.choice")
            else:
                out[key] = value
    if any(f"{level}_code" in data for level, _ in REGION_LEVELS):
        _clean_region(data, errors, out)
    return out


def _clean_id_number(
    raw: Any, kind: str, errors: Errors, out: dict[str, Any], today: date | None
) -> None:
    value = "" if raw is None else str(raw).strip()
    if not value:
        out.update(id_number="", id_number_bidx=None, gender="", birth_date=None)
        return
    if kind != INDIVIDUAL:
        errors.add("id_number", "customers.not_for_kind")
        return
    try:
        rid = identity.clean_id_number(value, today=today)
    except identity.IdentityError as exc:
        errors.add("id_number", exc.code)
        return
    out.update(
        id_number=rid.number,
        id_number_bidx=id_number_index(rid.number),
        gender=rid.gender,
        birth_date=rid.birth_date,
    )


def _cn_mobile_pattern() -> re.Pattern[str] | None:
    """phonenumbers' own pattern for CN mobile numbers (so it stays as current as the library)."""
    metadata = PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    return re.compile(pattern) if pattern else None


_CN_MOBILE = _cn_mobile_pattern()


def clean_mobile(value: str) -> str | None:
    """normalize_mobile, with a fast path for the common case of 11 plain digits (an import of
    100,000 rows would otherwise spend seconds in phonenumbers.parse)."""
    if len(value) == 11 and value.isdigit() and _CN_MOBILE and _CN_MOBILE.fullmatch(value):
        return value
    return normalize_mobile(value)


def _clean_phone(raw: Any, errors: Errors, out: dict[str, Any]) -> None:
    value = "" if raw is None else str(raw).strip()
    if not value:
        out.update(phone="", phone_bidx=None)
        return
    mobile = clean_mobile(value)
    if mobile is None:
        errors.add("phone", "customers.phone_invalid")
        return
    out.update(phone=mobile, phone_bidx=phone_index(mobile))


def _clean_uscc(raw: Any, kind: str, errors: Errors, out: dict[str, Any]) -> None:
    value = "" if raw is None else str(raw).strip()
    if not value:
        out["uscc"] = None
        return
    if kind != ENTERPRISE:
        errors.add("uscc", "customers.not_for_kind")
        return
    try:
        out["uscc"] = identity.clean_uscc(value)
    except identity.IdentityError as exc:
        errors.add("uscc", exc.code)


def _clean_region(data: Mapping[str, Any], errors: Errors, out: dict[str, Any]) -> None:
    """Codes must nest (110105 ⊂ 110100 ⊂ 110000); known codes fill in missing names."""
    codes: dict[str, str] = {}
    for level, fmt in REGION_LEVELS:
        code = str(data.get(f"{level}_code") or "").strip()
        if code and not regions.valid_code_format(code, fmt):
            errors.add(f"{level}_code", "customers.region_invalid")
            return
        codes[level] = code
    province, city, district = codes["province"], codes["city"], codes["district"]
    if city and (not province or city[:2] != province[:2]):
        errors.add("city_code", "customers.region_invalid")
        return
    if district and (not city or district[:4] != city[:4]):
        errors.add("district_code", "customers.region_invalid")
        return
    for level, _ in REGION_LEVELS:
        code = codes[level]
        out[f"{level}_code"] = code
        given = out.get(f"{level}_name") or clean_text(data.get(f"{level}_name"))
        out[f"{level}_name"] = (given or regions.name_of(code) or "")[:30] if code else given


def region_from_names(out: dict[str, Any]) -> None:
    """For spreadsheets that only have names: look the codes up (best effort)."""
    p, c, d = regions.codes_for_names(
        out.get("province_name", ""), out.get("city_name", ""), out.get("district_name", "")
    )
    out["province_code"], out["city_code"], out["district_code"] = p, c, d


def check_required(values: Mapping[str, Any], kind: str, errors: Errors) -> None:
    """Whole-record rules after cleaning (create) or after applying a patch (update)."""
    if not values.get("name"):
        errors.add("name", "field.required")
    if kind == INDIVIDUAL:
        if not values.get("id_number") and not values.get("phone"):
            errors.add("phone", "customers.contact_required")
    elif not values.get("uscc"):
        errors.add("uscc", "customers.uscc_required")


def fingerprint(bidx: str | None) -> str:
    return f"#{bidx[:8]}" if bidx else ""


def masked_pii(field: str, value: str) -> str:
    if not value:
        return ""
    if field == "id_number":
        return mask_id_number(value)
    if field == "phone":
        return mask_phone(value)
    return mask_bank_card(value)
