"""Aliyun SMS (Dysmsapi SendSms) with the RPC signature, version 1.0 (HMAC-SHA1).

As documented in "Signature mechanism" for RPC APIs
(https://help.aliyun.com/en/cmn/developer-reference/signature-mechanism,
https://help.aliyun.com/document_detail/56189.html for SMS):

1. Sort every parameter except ``Signature`` by name; percent-encode names and values as
   RFC 3986 (A–Z a–z 0–9 - _ . ~ unreserved, space → %20, UTF-8 bytes as %XY) and join
   ``name=value`` with ``&`` — the canonicalized query string.
2. StringToSign = HTTPMethod + "&" + percentEncode("/") + "&" + percentEncode(canonicalized).
3. Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)).
"""

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from loandesk.notify.channels.base import (
    DEFAULT_TIMEOUT,
    DeliveryError,
    OutgoingMessage,
    SendResult,
    http_request,
)

ENDPOINT = "https://dysmsapi.aliyuncs.com/"
API_VERSION = "2017-05-25"


def percent_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(
        f"{percent_encode(k)}={percent_encode(str(params[k]))}"
        for k in sorted(params)
        if k != "Signature"
    )


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(method: str, params: Mapping[str, str], access_key_secret: str) -> str:
    digest = hmac.new(
        f"{access_key_secret}&".encode(),
        string_to_sign(method, params).encode(),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        region: str = "cn-hangzhou",
        endpoint: str = ENDPOINT,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not access_key_id or not access_key_secret:
            raise DeliveryError("Aliyun AccessKey is not configured", retryable=False)
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.region = region or "cn-hangzhou"
        self.endpoint = endpoint or ENDPOINT
        self.timeout = timeout

    def params_for(
        self, message: OutgoingMessage, *, nonce: str | None = None, now: datetime | None = None
    ) -> dict[str, str]:
        if not message.template_id or not message.sign_name:
            raise DeliveryError("Aliyun SMS needs a template code and a sign name", retryable=False)
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": message.to,
            "RegionId": self.region,
            "SignName": message.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": message.template_id,
            "TemplateParam": json.dumps(
                {k: str(v) for k, v in message.params.items()}, ensure_ascii=False
            ),
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        if message.reference:
            params["OutId"] = message.reference[:64]
        return params

    def send(self, message: OutgoingMessage) -> SendResult:
        params = self.params_for(message)
        params["Signature"] = sign("POST", params, self.access_key_secret)
        body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params.items())
        res = http_request(
            "POST",
            self.endpoint,
            body=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=self.timeout,
        )
        data = res.json()
        if not isinstance(data, dict):
            raise DeliveryError(f"Aliyun answered HTTP {res.status} without JSON")
        code = str(data.get("Code") or "")
        if res.status == 200 and code == "OK":
            return SendResult(provider_ref=str(data.get("BizId") or ""), detail="OK")
        # Flow control is worth retrying later; everything else (bad key, template) is not.
        retryable = code in ("isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "ServiceUnavailable")
        raise DeliveryError(
            f"Aliyun {code}: {data.get('Message') or ''}"[:300], retryable=retryable
        )
