"""Group robots: DingTalk (custom robot, signed webhook) and WeCom (企业微信 group robot).

DingTalk's 加签: sign = urlEncode(base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)))
with the timestamp in milliseconds, both appended to the webhook URL as `timestamp` and `sign`
(DingTalk open platform, "自定义机器人安全设置 · 加签"). WeCom's robot is authorised by the
`key` in its URL; both answer {"errcode": 0, "errmsg": "ok"}.
"""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote_plus

from loandesk.notify.channels.base import (
    DEFAULT_TIMEOUT,
    DeliveryError,
    OutgoingMessage,
    SendResult,
    http_request,
)

DINGTALK_URL = "https://oapi.dingtalk.com/robot/send?access_token="
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def _post_robot(url: str, payload: dict[str, object], timeout: float, who: str) -> SendResult:
    res = http_request(
        "POST",
        url,
        body=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=timeout,
    )
    data = res.json()
    if not isinstance(data, dict):
        raise DeliveryError(f"{who} answered HTTP {res.status} without JSON")
    if res.status == 200 and data.get("errcode") == 0:
        return SendResult(detail="ok")
    # 130101 / 45009: sending too fast — worth retrying later.
    retryable = data.get("errcode") in (130101, 45009, -1)
    raise DeliveryError(
        f"{who} {data.get('errcode')}: {data.get('errmsg')}"[:300], retryable=retryable
    )


def _markdown(message: OutgoingMessage) -> str:
    return f"### {message.subject}\n\n{message.body}" if message.subject else message.body


class DingTalkRobot:
    name = "dingtalk"

    def __init__(self, *, webhook: str, secret: str = "", timeout: float = DEFAULT_TIMEOUT) -> None:
        if not webhook:
            raise DeliveryError("DingTalk robot webhook is not configured", retryable=False)
        if not webhook.startswith("http"):
            webhook = DINGTALK_URL + webhook  # just the access token
        self.webhook, self.secret, self.timeout = webhook, secret, timeout

    def url(self, *, now_ms: int | None = None) -> str:
        if not self.secret:
            return self.webhook
        ts = now_ms if now_ms is not None else int(time.time() * 1000)
        sep = "&" if "?" in self.webhook else "?"
        return f"{self.webhook}{sep}timestamp={ts}&sign={dingtalk_sign(ts, self.secret)}"

    def send(self, message: OutgoingMessage) -> SendResult:
        payload: dict[str, object] = {
            "msgtype": "markdown",
            "markdown": {"title": message.subject or message.body[:20], "text": _markdown(message)},
        }
        return _post_robot(self.url(), payload, self.timeout, "DingTalk")


class WeComRobot:
    name = "wecom"

    def __init__(self, *, webhook: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not webhook:
            raise DeliveryError("WeCom robot webhook is not configured", retryable=False)
        if not webhook.startswith("http"):
            webhook = WECOM_URL + webhook  # just the key
        self.webhook, self.timeout = webhook, timeout

    def send(self, message: OutgoingMessage) -> SendResult:
        payload: dict[str, object] = {
            "msgtype": "markdown",
            "markdown": {"content": _markdown(message)},
        }
        return _post_robot(self.webhook, payload, self.timeout, "WeCom")
