"""Tencent Cloud SMS (SendSms, API 2021-01-11) signed with TC3-HMAC-SHA256.

As documented in Tencent Cloud API 3.0 "Signature v3"
(e.g. https://tencentcloud.com/document/api/215/38340; the same page for every product):

    CanonicalRequest = Method \\n "/" \\n "" \\n CanonicalHeaders \\n SignedHeaders \\n
                       hex(sha256(payload))
    StringToSign     = "TC3-HMAC-SHA256" \\n timestamp \\n date/service/tc3_request \\n
                       hex(sha256(CanonicalRequest))
    SecretDate = HMAC("TC3" + SecretKey, date); SecretService = HMAC(SecretDate, service);
    SecretSigning = HMAC(SecretService, "tc3_request");
    Signature = hex(HMAC(SecretSigning, StringToSign))

`date` is the UTC date of the timestamp.
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from loandesk.notify.channels.base import (
    DEFAULT_TIMEOUT,
    DeliveryError,
    OutgoingMessage,
    SendResult,
    http_request,
)

ENDPOINT = "https://sms.tencentcloudapi.com/"
SERVICE = "sms"
VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def canonical_request(method: str, host: str, content_type: str, payload: str) -> str:
    headers = f"content-type:{content_type}\nhost:{host}\n"
    hashed = hashlib.sha256(payload.encode()).hexdigest()
    return f"{method}\n/\n\n{headers}\ncontent-type;host\n{hashed}"


def string_to_sign(timestamp: int, service: str, canonical: str) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{date}/{service}/tc3_request\n{digest}"


def signature(secret_key: str, timestamp: int, service: str, to_sign: str) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    secret_date = _hmac(f"TC3{secret_key}".encode(), date)
    secret_service = _hmac(secret_date, service)
    secret_signing = _hmac(secret_service, "tc3_request")
    return hmac.new(secret_signing, to_sign.encode(), hashlib.sha256).hexdigest()


def authorization(
    *, secret_id: str, secret_key: str, timestamp: int, service: str, host: str, payload: str
) -> str:
    canonical = canonical_request("POST", host, CONTENT_TYPE, payload)
    sig = signature(secret_key, timestamp, service, string_to_sign(timestamp, service, canonical))
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={sig}"
    )


class TencentSms:
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        region: str = "ap-guangzhou",
        endpoint: str = ENDPOINT,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not secret_id or not secret_key or not sdk_app_id:
            raise DeliveryError("Tencent SMS keys are not configured", retryable=False)
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.region = region or "ap-guangzhou"
        self.endpoint = endpoint or ENDPOINT
        self.timeout = timeout

    def payload_for(self, message: OutgoingMessage) -> str:
        if not message.template_id or not message.sign_name:
            raise DeliveryError("Tencent SMS needs a template id and a sign name", retryable=False)
        phone = message.to if message.to.startswith("+") else f"+86{message.to}"
        names = message.variables or tuple(message.params)
        body = {
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": message.sign_name,
            "TemplateId": message.template_id,
            "TemplateParamSet": [str(message.params.get(n, "")) for n in names],
        }
        if message.reference:
            body["SessionContext"] = message.reference[:512]
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    def send(self, message: OutgoingMessage, *, now: int | None = None) -> SendResult:
        payload = self.payload_for(message)
        host = urlsplit(self.endpoint).netloc
        timestamp = int(now if now is not None else time.time())
        headers = {
            "Authorization": authorization(
                secret_id=self.secret_id,
                secret_key=self.secret_key,
                timestamp=timestamp,
                service=SERVICE,
                host=host,
                payload=payload,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        res = http_request(
            "POST", self.endpoint, body=payload.encode(), headers=headers, timeout=self.timeout
        )
        data = res.json()
        response = data.get("Response") if isinstance(data, dict) else None
        if not isinstance(response, dict):
            raise DeliveryError(f"Tencent answered HTTP {res.status} without JSON")
        error = response.get("Error")
        if isinstance(error, dict):
            code = str(error.get("Code") or "")
            retryable = code.startswith(("InternalError", "RequestLimitExceeded"))
            raise DeliveryError(
                f"Tencent {code}: {error.get('Message') or ''}"[:300], retryable=retryable
            )
        statuses = response.get("SendStatusSet") or []
        first = statuses[0] if statuses and isinstance(statuses[0], dict) else {}
        if str(first.get("Code") or "") != "Ok":
            code = str(first.get("Code") or "unknown")
            raise DeliveryError(
                f"Tencent {code}: {first.get('Message') or ''}"[:300], retryable=False
            )
        return SendResult(provider_ref=str(first.get("SerialNo") or ""), detail="Ok")
