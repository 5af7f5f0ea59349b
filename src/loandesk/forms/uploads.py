"""Uploaded files: the content type comes from the file's first bytes, never from the client."""

import hashlib
import os
import re
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from loandesk.core.errors import ValidationFailed
from loandesk.forms.models import PublicLink, Upload

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/heic"}
_OOXML = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_OLE = {".doc": "application/msword", ".xls": "application/vnd.ms-excel"}
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
    **{ct: ext for ext, ct in _OOXML.items()},
    **{ct: ext for ext, ct in _OLE.items()},
}


def sniff(head: bytes, name: str) -> str | None:
    """The content type of a supported file from its magic bytes (Office files also need the
    matching extension, since they are all ZIP or OLE containers); None when unsupported."""
    ext = os.path.splitext(name.lower())[1]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04") and ext in _OOXML:
        return _OOXML[ext]
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") and ext in _OLE:
        return _OLE[ext]
    return None


def clean_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip()
    base = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", base)
    return base[-200:] or "file"


def store(
    *,
    content: bytes,
    name: str,
    uploaded_by: Any = None,
    link: PublicLink | None = None,
    kind: str | None = None,
) -> Upload:
    """Check and store one file; ValidationFailed on the "file" field when it is not accepted."""
    if not content:
        raise ValidationFailed.field("file", "forms.upload_empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed.field("file", "forms.upload_too_large", max=MAX_UPLOAD_BYTES >> 20)
    content_type = sniff(content[:16], name)
    if content_type is None:
        raise ValidationFailed.field("file", "forms.upload_type")
    upload_id = uuid.uuid4()
    now = timezone.now()
    path = f"forms/{now:%Y/%m}/{upload_id}{EXTENSIONS[content_type]}"
    stored = default_storage.save(path, ContentFile(content))
    return Upload.objects.create(
        id=upload_id,
        file=stored,
        name=clean_name(name),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        kind=kind or ("image" if content_type in IMAGE_TYPES else "file"),
        uploaded_by=uploaded_by if getattr(uploaded_by, "is_authenticated", False) else None,
        link=link,
    )


def delete(upload: Upload) -> None:
    if upload.file:
        default_storage.delete(upload.file.name)
    upload.delete()
