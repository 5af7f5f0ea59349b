"""What every channel adapter shares: the outgoing message, the result, the error and HTTP.

No Django here: adapters take plain settings and talk HTTP/SMTP, so they are tested against
local fake servers without a database.
"""

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TIMEOUT = 10.0


class DeliveryError(Exception):
    """A send failed. `retryable` False means trying again cannot help (bad key, bad number)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Attachment:
    """A file carried by a message (e-mail only; other channels ignore it)."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    """One message to one address, already rendered.

    `template_id`/`sign_name`/`params` are what SMS providers need (they send approved templates,
    not free text); `variables` lists the template's declared names in order (Tencent takes
    positional parameters). `html` and `attachments` are for e-mail: the SMTP adapter sends
    multipart/alternative (plain `body` first, then `html`) inside multipart/mixed with the
    files; every other adapter sends `body` and ignores them."""

    to: str
    body: str
    subject: str = ""
    template_id: str = ""
    sign_name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    variables: tuple[str, ...] = ()
    # A stable id of this delivery: providers that accept one (Aliyun OutId, webhook header)
    # get it so a retried send can be recognised on their side.
    reference: str = ""
    html: str = ""
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class SendResult:
    provider_ref: str = ""
    detail: str = ""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            return None


def http_request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> HttpResponse:
    """One HTTP call with a timeout. Network failures and 5xx/429 are retryable errors; other
    statuses come back to the caller, which knows the provider's error format."""
    if not url.startswith(("http://", "https://")):
        raise DeliveryError("only http(s) URLs can be called", retryable=False)
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:  # noqa: S310
            return HttpResponse(res.status, res.read(), dict(res.headers.items()))
    except urllib.error.HTTPError as exc:
        data = exc.read() if exc.fp is not None else b""
        status = exc.code
        if status >= 500 or status == 429:
            raise DeliveryError(f"HTTP {status}: {data[:200]!r}") from None
        return HttpResponse(status, data, dict(exc.headers.items()) if exc.headers else {})
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"network error: {exc}") from None
