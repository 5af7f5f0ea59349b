"""Field encryption (AES-GCM, rotatable keys), blind indexes and masking for PII.

Ciphertext format: ``v1:<key id>:<base64(nonce || ciphertext+tag)>``. The first configured key
encrypts; every configured key decrypts, so a new key is rolled out by prepending it and
re-encrypting in the background.
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

PREFIX = "v1"


class CryptoConfigError(RuntimeError):
    pass


@lru_cache(maxsize=4)
def _parse_keys(spec: str) -> tuple[str, dict[str, AESGCM]]:
    keys: dict[str, AESGCM] = {}
    first = ""
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        kid, _, b64 = item.partition(":")
        raw = base64.b64decode(b64)
        if len(raw) != 32 or not kid:
            raise CryptoConfigError("each field key must be 'id:base64(32 bytes)'")
        keys[kid] = AESGCM(raw)
        first = first or kid
    if not keys:
        raise CryptoConfigError("LOANDESK_FIELD_KEYS is empty")
    return first, keys


def _keys() -> tuple[str, dict[str, AESGCM]]:
    return _parse_keys(settings.LOANDESK_FIELD_KEYS)


def encrypt(plaintext: str) -> str:
    kid, keys = _keys()
    nonce = os.urandom(12)
    sealed = keys[kid].encrypt(nonce, plaintext.encode(), kid.encode())
    return f"{PREFIX}:{kid}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    version, kid, b64 = token.split(":", 2)
    if version != PREFIX:
        raise CryptoConfigError(f"unknown ciphertext version {version}")
    _, keys = _keys()
    if kid not in keys:
        raise CryptoConfigError(f"field key {kid} is not configured")
    raw = base64.b64decode(b64)
    return keys[kid].decrypt(raw[:12], raw[12:], kid.encode()).decode()


def needs_rotation(token: str) -> bool:
    return token.split(":", 2)[1] != _keys()[0]


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed hash for exact-match search over encrypted values; purpose separates domains."""
    key = base64.b64decode(settings.LOANDESK_BLIND_INDEX_KEY)
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:40]


def mask_id_number(value: str) -> str:
    """110***********1234 — region prefix and last four stay visible."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """138****0001."""
    digits = value[-11:] if len(value) >= 11 else value
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_bank_card(value: str) -> str:
    """**** **** **** 1234."""
    return "**** **** **** " + value[-4:] if len(value) > 4 else "****"


class EncryptedTextField(models.TextField):
    """Stores text AES-GCM encrypted; Python code always sees plaintext."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
