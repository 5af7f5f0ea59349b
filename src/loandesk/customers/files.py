"""Uploaded files: the type comes from the bytes (magic numbers), never from the name or the
browser's Content-Type; images are re-opened with Pillow; files are stored under random names
and only ever served through an authorised endpoint."""

import hashlib
import secrets
from dataclasses import dataclass
from typing import IO

from PIL import Image, UnidentifiedImageError

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024

# content type → stored file extension
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class FileRejected(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, or None for anything not on the allow list."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    if head.startswith(b"%PDF-1.") or head.startswith(b"%PDF-2."):
        return "application/pdf"
    return None


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    size: int
    sha256: str
    extension: str


def check_upload(fh: IO[bytes], *, max_bytes: int = MAX_DOCUMENT_BYTES) -> CheckedFile:
    """Read the file once: size limit, sha256, detected type; images must decode."""
    fh.seek(0)
    head = fh.read(64)
    content_type = sniff(head)
    if content_type is None:
        raise FileRejected("customers.file_type")
    digest = hashlib.sha256(head)
    size = len(head)
    while chunk := fh.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FileRejected("customers.file_too_large")
        digest.update(chunk)
    if size > max_bytes:
        raise FileRejected("customers.file_too_large")
    if content_type in _PILLOW_FORMATS:
        fh.seek(0)
        try:
            with Image.open(fh) as image:
                if image.format != _PILLOW_FORMATS[content_type]:
                    raise FileRejected("customers.file_type")
                image.verify()
        except FileRejected:
            raise
        except (
            UnidentifiedImageError,
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as exc:
            raise FileRejected("customers.file_corrupt") from exc
    elif content_type == "application/pdf":
        fh.seek(max(size - 1024, 0))
        if b"%%EOF" not in fh.read():
            raise FileRejected("customers.file_corrupt")
    fh.seek(0)
    return CheckedFile(content_type, size, digest.hexdigest(), EXTENSIONS[content_type])


def random_name(folder: str, extension: str) -> str:
    """customers/3f/9a…e1.png — 128 random bits, spread over 256 folders."""
    token = secrets.token_hex(16)
    return f"{folder}/{token[:2]}/{token}.{extension}"


def download_name(original: str, content_type: str) -> str:
    """The original name, with the extension the bytes actually have (a.pdf that is a PNG →
    a.png), so the saved file opens with the right program."""
    extension = EXTENSIONS.get(content_type, "bin")
    stem, dot, current = original.rpartition(".")
    if dot and current.lower() in (extension, "jpeg" if extension == "jpg" else extension):
        return original
    return f"{stem if dot else original}.{extension}"


def safe_original_name(name: str) -> str:
    """The client's file name for display and Content-Disposition: no path, no controls."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')
    return base.strip()[:200] or "file"
