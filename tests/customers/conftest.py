"""Fixtures and helpers for the customer-center tests: files go to a temporary media root,
valid identifiers are generated with their real check digits."""

import io
import itertools
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from loandesk.customers import identity
from tests.factories import ApiClient

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def new_id_number(
    n: int | None = None, *, region: str = "110105", birth: date | None = None
) -> str:
    """A valid ID number, distinct per n (birth date and sequence both derive from n)."""
    n = next(_seq) if n is None else n
    birth = birth or date(1960, 1, 1) + timedelta(days=(n // 1000) * 7 + n % 7)
    return identity.make_id_number(region, birth, n % 1000)


_MOBILE_PREFIXES = ("138", "139", "135", "136", "150", "151", "158", "186", "187", "188", "189")


def new_phone(n: int | None = None) -> str:
    """A valid, distinct mainland mobile number per n."""
    n = next(_seq) if n is None else n
    return f"{_MOBILE_PREFIXES[n % len(_MOBILE_PREFIXES)]}{(n * 7919) % 10**8:08d}"


def new_card(n: int | None = None) -> str:
    n = next(_seq) if n is None else n
    return identity.make_bank_card(f"622202{n:012d}")


def customer_body(**overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body: dict[str, Any] = {
        "name": "张伟",
        "id_number": new_id_number(n),
        "phone": new_phone(n),
    }
    body.update(overrides)
    return body


def create(client: ApiClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("customers", customer_body(**overrides))
    assert response.status_code == 201, response.content
    return response.json()


def upload(
    client: ApiClient,
    path: str,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    **fields: Any,
) -> Any:
    """multipart/form-data POST with the CSRF header, like the phone app's upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    headers: dict[str, Any] = client._headers("post")
    data = {"file": SimpleUploadedFile(filename, content, content_type=content_type), **fields}
    return client.client.post(f"/api/v1/{path}", data, **headers)


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 200, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
