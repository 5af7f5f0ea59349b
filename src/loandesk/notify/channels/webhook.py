"""Generic outgoing webhooks, signed so the receiver can check origin, integrity and freshness.

Headers: `X-LoanDesk-Timestamp` (unix seconds), `X-LoanDesk-Delivery` (stable per delivery:
the receiver dedupes retries on it) and `X-LoanDesk-Signature: sha256=<hex>` where hex is
HMAC-SHA256(secret, timestamp + "." + body). Binding the timestamp into the signature lets the
receiver reject replays older than a few minutes.
"""

import hashlib
import hmac
import time

from loandesk.notify.channels.base import (
    DEFAULT_TIMEOUT,
    DeliveryError,
    OutgoingMessage,
    SendResult,
    http_request,
)

SIGNATURE_HEADER = "X-LoanDesk-Signature"
TIMESTAMP_HEADER = "X-LoanDesk-Timestamp"
DELIVERY_HEADER = "X-LoanDesk-Delivery"
REPLAY_WINDOW_SECONDS = 300


def sign_body(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: int | None = None) -> bool:
    """The receiver's check (used by the tests; documented for integrators)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        ts = int(lowered.get(TIMESTAMP_HEADER.lower(), ""))
    except ValueError:
        return False
    current = now if now is not None else int(time.time())
    if abs(current - ts) > REPLAY_WINDOW_SECONDS:
        return False
    expected = sign_body(secret, ts, body)
    return hmac.compare_digest(expected, lowered.get(SIGNATURE_HEADER.lower(), ""))


class Webhook:
    name = "webhook"

    def __init__(self, *, url: str, secret: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not url:
            raise DeliveryError("webhook URL is missing", retryable=False)
        if not secret:
            raise DeliveryError("webhook secret is missing", retryable=False)
        self.url, self.secret, self.timeout = url, secret, timeout

    def send(self, message: OutgoingMessage, *, now: int | None = None) -> SendResult:
        body = message.body.encode()
        ts = now if now is not None else int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign_body(self.secret, ts, body),
            "User-Agent": "LoanDesk-Webhook/1",
        }
        if message.reference:
            headers[DELIVERY_HEADER] = message.reference
        res = http_request("POST", self.url, body=body, headers=headers, timeout=self.timeout)
        if 200 <= res.status < 300:
            return SendResult(detail=f"HTTP {res.status}")
        # 408/409/425 may pass later; other 4xx mean the receiver rejects this request for good.
        retryable = res.status in (408, 409, 425)
        raise DeliveryError(f"HTTP {res.status}: {res.body[:200]!r}", retryable=retryable)
