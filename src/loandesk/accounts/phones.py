"""Mainland mobile numbers: validation and the blind index used to find them."""

import phonenumbers

from loandesk.core.crypto import blind_index


def normalize_mobile(value: str) -> str | None:
    """'+86 138-0013-8000' → '13800138000'; None when it is not a valid CN mobile number."""
    raw = value.strip()
    if not raw or len(raw) > 32:
        return None
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return str(parsed.national_number)


def phone_index(mobile: str) -> str:
    return blind_index(mobile, purpose="phone")
