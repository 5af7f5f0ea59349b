"""Field encryption (AES-GCM with rotatable keys), blind indexes and masking of PII."""

import base64
import os
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection

from loandesk.core import crypto
from loandesk.core.crypto import (
    CryptoConfigError,
    blind_index,
    decrypt,
    encrypt,
    mask_bank_card,
    mask_id_number,
    mask_phone,
    needs_rotation,
)
from tests.factories import make_user


def _key(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


@pytest.fixture
def keys(settings: Any) -> tuple[Any, str]:
    """A known single key "old"; tests prepend "new" to rotate."""
    old = _key("old")
    settings.LOANDESK_FIELD_KEYS = old
    return settings, old


# --- encrypt / decrypt --------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "13910000005", "110101199003071234", "张三 ü 🙂", "x" * 5000])
def test_round_trip(keys: tuple[Any, str], text: str) -> None:
    token = encrypt(text)
    assert token.startswith("v1:old:")
    assert text == "" or text not in token
    assert decrypt(token) == text


def test_ciphertext_differs_each_time() -> None:
    tokens = {encrypt("13910000005") for _ in range(20)}
    assert len(tokens) == 20
    assert {decrypt(t) for t in tokens} == {"13910000005"}
    nonces = {base64.b64decode(t.split(":", 2)[2])[:12] for t in tokens}
    assert len(nonces) == 20


def _flip(token: str, index: int) -> str:
    version, kid, b64 = token.split(":", 2)
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return f"{version}:{kid}:{base64.b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize("index", [0, 11, 12, -1])  # nonce, first/last ciphertext+tag byte
def test_tampering_is_detected(index: int) -> None:
    token = encrypt("110101199003071234")
    with pytest.raises(InvalidTag):
        decrypt(_flip(token, index))


def test_truncated_ciphertext_fails() -> None:
    version, kid, b64 = encrypt("13910000005").split(":", 2)
    raw = base64.b64decode(b64)
    with pytest.raises(InvalidTag):
        decrypt(f"{version}:{kid}:{base64.b64encode(raw[:-1]).decode()}")


def test_ciphertext_is_bound_to_its_key_id(keys: tuple[Any, str]) -> None:
    """The key id is authenticated data: relabelling a token under another id fails."""
    settings, old = keys
    same_key_other_id = "other:" + old.split(":", 1)[1]
    settings.LOANDESK_FIELD_KEYS = f"{old},{same_key_other_id}"
    token = encrypt("secret")
    relabelled = token.replace("v1:old:", "v1:other:", 1)
    with pytest.raises(InvalidTag):
        decrypt(relabelled)


def test_unknown_version_and_key_are_refused(keys: tuple[Any, str]) -> None:
    token = encrypt("x")
    with pytest.raises(CryptoConfigError, match="version"):
        decrypt("v0" + token[2:])
    with pytest.raises(CryptoConfigError, match="not configured"):
        decrypt(token.replace("v1:old:", "v1:gone:", 1))


def test_wrong_key_fails(keys: tuple[Any, str]) -> None:
    settings, _ = keys
    token = encrypt("x")
    settings.LOANDESK_FIELD_KEYS = _key("old")  # same id, different key material
    with pytest.raises(InvalidTag):
        decrypt(token)


@pytest.mark.parametrize(
    "spec",
    ["", " , ", "k1:" + base64.b64encode(b"short").decode(), ":" + _key("x").split(":", 1)[1]],
    # Fixed ids: the last value is random, and pytest-xdist workers must agree on test ids.
    ids=["empty", "blank-entries", "short-key", "no-key-id"],
)
def test_bad_key_configuration(settings: Any, spec: str) -> None:
    settings.LOANDESK_FIELD_KEYS = spec
    with pytest.raises(CryptoConfigError):
        encrypt("x")


# --- rotation -----------------------------------------------------------------------------


def test_key_rotation(keys: tuple[Any, str]) -> None:
    settings, old = keys
    old_token = encrypt("13910000005")
    assert not needs_rotation(old_token)

    settings.LOANDESK_FIELD_KEYS = f"{_key('new')},{old}"  # prepend the new key
    assert decrypt(old_token) == "13910000005"
    assert needs_rotation(old_token)
    new_token = encrypt("13910000005")
    assert new_token.startswith("v1:new:")
    assert not needs_rotation(new_token)
    assert decrypt(new_token) == "13910000005"

    settings.LOANDESK_FIELD_KEYS = old  # the old key alone cannot read the new ciphertext
    with pytest.raises(CryptoConfigError):
        decrypt(new_token)


def test_key_cache_follows_settings(keys: tuple[Any, str]) -> None:
    settings, _ = keys
    assert crypto._keys()[0] == "old"
    settings.LOANDESK_FIELD_KEYS = _key("k9")
    assert crypto._keys()[0] == "k9"


# --- blind index --------------------------------------------------------------------------


def test_blind_index_is_deterministic_and_purpose_separated() -> None:
    a = blind_index("13910000005", purpose="phone")
    assert a == blind_index("13910000005", purpose="phone")
    assert len(a) == 40
    assert int(a, 16) >= 0  # hex
    assert "13910000005" not in a
    assert a != blind_index("13910000006", purpose="phone")
    assert a != blind_index("13910000005", purpose="id_number")


def test_blind_index_depends_on_the_key(settings: Any) -> None:
    before = blind_index("13910000005", purpose="phone")
    settings.LOANDESK_BLIND_INDEX_KEY = base64.b64encode(os.urandom(32)).decode()
    assert blind_index("13910000005", purpose="phone") != before


# --- masking ------------------------------------------------------------------------------


def test_mask_id_number() -> None:
    assert mask_id_number("110101199003071234") == "110***********1234"
    assert mask_id_number("11010119900307123X") == "110***********123X"
    assert mask_id_number("110101900307123") == "110********7123"  # old 15-digit IDs
    assert mask_id_number("1234567") == "*******"
    assert mask_id_number("") == ""


def test_mask_phone() -> None:
    assert mask_phone("13910000005") == "139****0005"
    assert mask_phone("+8613910000005") == "139****0005"
    assert mask_phone("123456") == "******"
    assert mask_phone("") == ""


def test_mask_bank_card() -> None:
    assert mask_bank_card("6222021234567890123") == "**** **** **** 0123"
    assert mask_bank_card("6222020200112233") == "**** **** **** 2233"
    assert mask_bank_card("1234") == "****"
    assert mask_bank_card("") == "****"


# --- encrypted model field ----------------------------------------------------------------


def _raw_phone(user_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [user_id])
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_user_phone_is_encrypted_at_rest() -> None:
    from loandesk.accounts.models import User

    user = make_user(phone="13910000099")
    raw = _raw_phone(user.pk)
    assert raw.startswith("v1:")
    assert "13910000099" not in raw
    assert decrypt(raw) == "13910000099"
    assert User.objects.get(pk=user.pk).phone == "13910000099"

    # Filtering on the plaintext cannot work (random nonces): search goes through the index.
    assert not User.objects.filter(phone="13910000099").exists()
    from loandesk.accounts.phones import phone_index

    assert User.objects.get(phone_bidx=phone_index("13910000099")).pk == user.pk


@pytest.mark.django_db
def test_empty_phone_is_stored_empty() -> None:
    from loandesk.accounts.models import User

    user = make_user(phone="")
    assert _raw_phone(user.pk) == ""
    assert User.objects.get(pk=user.pk).phone == ""


@pytest.mark.django_db
def test_encrypted_field_survives_key_rotation(settings: Any) -> None:
    from loandesk.accounts.models import User

    old = _key("old")
    settings.LOANDESK_FIELD_KEYS = old
    user = make_user(phone="13910000098")
    assert _raw_phone(user.pk).startswith("v1:old:")

    settings.LOANDESK_FIELD_KEYS = f"{_key('new')},{old}"
    reloaded = User.objects.get(pk=user.pk)
    assert reloaded.phone == "13910000098"
    reloaded.save(update_fields=["phone"])  # re-encrypts with the first key
    assert _raw_phone(user.pk).startswith("v1:new:")
    assert User.objects.get(pk=user.pk).phone == "13910000098"
