"""Documents: the type comes from the bytes, files live under random names, and the only way
to read one is the authorised, audited download endpoint."""

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from loandesk.core.models import AuditEntry
from loandesk.customers.models import Document
from tests.customers.conftest import PDF_BYTES, create, jpeg_bytes, png_bytes, upload


@pytest.fixture
def officer(client_for: Any) -> Any:
    return client_for("officer1")


@pytest.fixture
def customer(officer: Any) -> dict[str, Any]:
    return create(officer)


def _docs(customer: dict[str, Any]) -> str:
    return f"customers/{customer['id']}/documents"


def _webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="WEBP")
    return buffer.getvalue()


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_png_renamed_pdf_is_stored_as_png(
    officer: Any, customer: dict[str, Any], media_root: Path
) -> None:
    content = png_bytes()
    response = upload(
        officer, _docs(customer), "身份证.pdf", content, "application/pdf", kind="id_front"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"
    assert body["original_name"] == "身份证.pdf" and body["kind"] == "id_front"
    assert body["size"] == len(content)
    import hashlib

    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    document = Document.objects.get(pk=body["id"])
    assert document.file.name.endswith(".png") and "身份证" not in document.file.name
    assert len(Path(document.file.name).stem) == 32  # 128 random bits
    files = _stored_files(media_root)
    assert len(files) == 1 and files[0].read_bytes() == content

    download = officer.get(body["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == content
    assert download["Cache-Control"] == "private, no-store"
    assert (
        "身份证.png" in download["Content-Disposition"]
        or "%E8%BA%AB" in download["Content-Disposition"]
    )
    entry = AuditEntry.objects.get(action="customers.document_download")
    assert entry.target_id == str(body["id"]) and entry.extra["customer_id"] == customer["id"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200),  # a Windows .exe
        ("scan.pdf", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"),
        ("a.gif", b"GIF89a" + b"\x00" * 50),
        ("empty.png", b""),
    ],
)
def test_files_that_are_not_allowed_types_are_refused(
    officer: Any, customer: dict[str, Any], media_root: Path, name: str, content: bytes
) -> None:
    response = upload(officer, _docs(customer), name, content, "image/jpeg")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "customers.file_type"
    assert "file" in body["details"]["fields"]
    assert not Document.objects.exists() and _stored_files(media_root) == []


def test_damaged_image_is_refused(officer: Any, customer: dict[str, Any]) -> None:
    fake_png = b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20
    response = upload(officer, _docs(customer), "a.png", fake_png)
    assert response.status_code == 422 and response.json()["code"] == "customers.file_corrupt"


def test_too_large_is_refused(officer: Any, customer: dict[str, Any], media_root: Path) -> None:
    big = b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    response = upload(officer, _docs(customer), "big.pdf", big)
    assert response.status_code == 422
    assert response.json()["code"] == "customers.file_too_large"
    assert "10 MB" in response.json()["message"]
    assert _stored_files(media_root) == []


def test_allowed_types(officer: Any, customer: dict[str, Any]) -> None:
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    cases = [
        ("a.jpg", jpeg_bytes(), "image/jpeg"),
        ("a.webp", _webp(), "image/webp"),
        ("IMG_0001.HEIC", heic, "image/heic"),
        ("合同.pdf", PDF_BYTES, "application/pdf"),
    ]
    for name, content, expected in cases:
        response = upload(officer, _docs(customer), name, content, kind="other")
        assert response.status_code == 201, (name, response.content)
        assert response.json()["content_type"] == expected
    listed = officer.get(_docs(customer)).json()
    assert listed["count"] == 4
    assert listed["items"][0]["original_name"] == "合同.pdf"  # newest first
    assert officer.get(_docs(customer), {"kind": "other"}).json()["count"] == 4
    assert officer.get(_docs(customer), {"kind": "contract"}).json()["count"] == 0


def test_missing_file_and_bad_kind(officer: Any, customer: dict[str, Any]) -> None:
    headers = officer._headers("post")
    response = officer.client.post(f"/api/v1/{_docs(customer)}", {"kind": "photo"}, **headers)
    assert response.status_code == 422 and "file" in response.json()["details"]["fields"]
    bad_kind = upload(officer, _docs(customer), "a.png", png_bytes(), kind="selfie")
    assert bad_kind.status_code == 422 and "kind" in bad_kind.json()["details"]["fields"]


def test_download_only_through_the_authorised_endpoint(
    officer: Any, customer: dict[str, Any], client_for: Any, anon: Any
) -> None:
    body = upload(officer, _docs(customer), "a.png", png_bytes()).json()
    document = Document.objects.get(pk=body["id"])
    assert "file" not in body and document.file.name not in str(body)
    assert anon.get(body["url"]).status_code == 401
    assert client_for("officer2").get(body["url"]).status_code == 404
    assert client_for("collector").get(body["url"]).status_code == 404
    assert client_for("gm").get(body["url"]).status_code == 200  # all scope
    # No public media URL: the storage path is not served (the SPA fallback answers instead).
    public = anon.get(f"/media/{document.file.name}")
    assert public.get("Content-Type", "").startswith("text/html") or public.status_code >= 400
    assert client_for("manager").get(body["url"]).status_code == 200


def test_delete_is_soft_and_hides_the_file(
    officer: Any, customer: dict[str, Any], media_root: Path
) -> None:
    body = upload(officer, _docs(customer), "a.png", png_bytes()).json()
    assert officer.delete(f"{_docs(customer)}/{body['id']}").status_code == 204
    assert officer.get(_docs(customer)).json()["count"] == 0
    assert officer.get(body["url"]).status_code == 404
    assert officer.delete(f"{_docs(customer)}/{body['id']}").status_code == 404
    assert len(_stored_files(media_root)) == 1  # kept for the retention period
    lines = [
        t["summary"] for t in officer.get(f"customers/{customer['id']}/timeline").json()["items"]
    ]
    assert lines[0] == "删除资料:a.png"
