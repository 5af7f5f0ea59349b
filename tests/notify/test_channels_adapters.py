"""Channel adapters against local fake servers that check the signatures independently, plus
the providers' documented example vectors. No database."""

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_plus, unquote_plus

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from loandesk.notify import channels
from loandesk.notify.channels import aliyun, robots, tencent, webhook
from loandesk.notify.channels.base import DeliveryError, OutgoingMessage
from loandesk.notify.channels.smtp import SmtpMailer
from tests.notify.fakes import Seen, fake_http, self_signed_cert

# --- Aliyun: RPC signature v1 (HMAC-SHA1) ----------------------------------------------------

# The SendSms example of Aliyun's SMS signature document (help.aliyun.com/document_detail/56189).
ALIYUN_DOC = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_aliyun_documented_example() -> None:
    assert aliyun.sign("GET", ALIYUN_DOC, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert aliyun.string_to_sign("GET", ALIYUN_DOC).startswith(
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    )
    # The generic RPC document's DescribeRegions example.
    regions = {
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Version": "2014-05-26",
        "Timestamp": "2016-02-23T12:46:24Z",
    }
    assert aliyun.sign("GET", regions, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def _aliyun_expected(method: str, params: dict[str, str], secret: str) -> str:
    """The document's recipe, written out again (Java URLEncoder + the three replacements)."""

    def enc(v: str) -> str:
        return (
            quote_plus(v, encoding="utf-8")
            .replace("+", "%20")
            .replace("*", "%2A")
            .replace("%7E", "~")
        )

    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in pairs)
    to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def aliyun_server(secret: str) -> Any:
    def reply(seen: Seen) -> tuple[int, bytes]:
        form = dict(parse_qsl(seen.body.decode(), keep_blank_values=True))
        if form.get("Signature") != _aliyun_expected("POST", form, secret):
            return 400, json.dumps({"Code": "SignatureDoesNotMatch", "Message": "bad"}).encode()
        if form.get("PhoneNumbers") == "13900000000":
            return 200, json.dumps({"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "x"}).encode()
        return 200, json.dumps({"Code": "OK", "Message": "OK", "BizId": "biz-1"}).encode()

    return fake_http(reply)


SMS = OutgoingMessage(
    to="13800138000",
    body="您的验证码是123456",
    template_id="SMS_1",
    sign_name="信贷通",
    params={"code": "123456", "minutes": "5"},
    variables=("code", "minutes"),
    reference="outbox:1",
)


def test_aliyun_against_a_fake_server_that_checks_the_signature() -> None:
    with aliyun_server("s3cret") as server:
        sms = aliyun.AliyunSms(
            access_key_id="AKID", access_key_secret="s3cret", endpoint=server.url
        )
        result = sms.send(SMS)
        assert result.provider_ref == "biz-1"
        [seen] = server.requests
        form = dict(parse_qsl(seen.body.decode()))
        assert form["Action"] == "SendSms" and form["Version"] == "2017-05-25"
        assert form["SignName"] == "信贷通" and form["TemplateCode"] == "SMS_1"
        assert json.loads(form["TemplateParam"]) == {"code": "123456", "minutes": "5"}
        assert form["OutId"] == "outbox:1" and form["SignatureMethod"] == "HMAC-SHA1"
        # A wrong secret is refused by the server (so the check is real) — and not retried.
        wrong = aliyun.AliyunSms(
            access_key_id="AKID", access_key_secret="nope", endpoint=server.url
        )
        with pytest.raises(DeliveryError) as exc:
            wrong.send(SMS)
        assert "SignatureDoesNotMatch" in str(exc.value) and not exc.value.retryable
        with pytest.raises(DeliveryError) as exc:
            sms.send(OutgoingMessage(**{**SMS.__dict__, "to": "13900000000"}))
        assert "MOBILE_NUMBER_ILLEGAL" in str(exc.value)


def test_aliyun_needs_a_template_and_keys() -> None:
    with pytest.raises(DeliveryError):
        aliyun.AliyunSms(access_key_id="", access_key_secret="x")
    sms = aliyun.AliyunSms(access_key_id="a", access_key_secret="b", endpoint="http://127.0.0.1:9/")
    with pytest.raises(DeliveryError) as exc:
        sms.send(OutgoingMessage(to="13800138000", body="hi"))
    assert not exc.value.retryable


# --- Tencent: TC3-HMAC-SHA256 ----------------------------------------------------------------


def test_tencent_documented_example() -> None:
    """The CVM DescribeInstances example of Tencent Cloud's "Signature v3" page."""
    payload = (
        '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    canonical = tencent.canonical_request(
        "POST", "cvm.tencentcloudapi.com", "application/json; charset=utf-8", payload
    )
    assert canonical.endswith("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    to_sign = tencent.string_to_sign(1551113065, "cvm", canonical)
    assert to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert tencent.signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", 1551113065, "cvm", to_sign) == (
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def _tencent_ok(seen: Seen, secret_id: str, secret_key: str) -> bool:
    """Verify the Authorization header from scratch, as the TC3 document describes."""
    h = {k.lower(): v for k, v in seen.headers.items()}
    auth = h.get("authorization", "")
    ts = int(h["x-tc-timestamp"])
    date = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{h['content-type'].lower()}\nhost:{h['host'].lower()}\n",
            "content-type;host",
            hashlib.sha256(seen.body).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(ts), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    k = hmac.new(f"TC3{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"sms", hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    expected = (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={sig}"
    )
    return hmac.compare_digest(auth, expected) and abs(time.time() - ts) < 300


def test_tencent_against_a_fake_server_that_checks_the_signature() -> None:
    def reply(seen: Seen) -> tuple[int, bytes]:
        if not _tencent_ok(seen, "AKIDtest", "sk-test"):
            err = {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad"}}
            return 200, json.dumps({"Response": err}).encode()
        body = json.loads(seen.body)
        status = {"Code": "Ok", "SerialNo": "2028:1", "PhoneNumber": body["PhoneNumberSet"][0]}
        return 200, json.dumps({"Response": {"SendStatusSet": [status], "RequestId": "r"}}).encode()

    with fake_http(reply) as server:
        sms = tencent.TencentSms(
            secret_id="AKIDtest", secret_key="sk-test", sdk_app_id="1400000000", endpoint=server.url
        )
        assert sms.send(SMS).provider_ref == "2028:1"
        [seen] = server.requests
        assert seen.headers["x-tc-action"] == "SendSms"
        assert seen.headers["x-tc-version"] == "2021-01-11"
        body = json.loads(seen.body)
        assert body["PhoneNumberSet"] == ["+8613800138000"]
        assert body["TemplateParamSet"] == ["123456", "5"]  # in the declared order
        assert body["SmsSdkAppId"] == "1400000000" and body["SignName"] == "信贷通"
        wrong = tencent.TencentSms(
            secret_id="AKIDtest", secret_key="other", sdk_app_id="1400000000", endpoint=server.url
        )
        with pytest.raises(DeliveryError) as exc:
            wrong.send(SMS)
        assert "SignatureFailure" in str(exc.value) and not exc.value.retryable


# --- DingTalk / WeCom robots -----------------------------------------------------------------


def test_dingtalk_signed_webhook() -> None:
    secret = "SEC0123456789abcdef"

    def reply(seen: Seen) -> tuple[int, bytes]:
        ts = seen.query.get("timestamp", "")
        mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        fresh = abs(time.time() * 1000 - int(ts or 0)) < 3600 * 1000
        if seen.query.get("sign") != base64.b64encode(mac).decode() or not fresh:
            return 200, json.dumps({"errcode": 310000, "errmsg": "sign not match"}).encode()
        return 200, json.dumps({"errcode": 0, "errmsg": "ok"}).encode()

    with fake_http(reply) as server:
        url = f"{server.url}robot/send?access_token=tok"
        robot = robots.DingTalkRobot(webhook=url, secret=secret)
        robot.send(OutgoingMessage(to="", subject="逾期提醒", body="客户 张三 逾期 3 天"))
        [seen] = server.requests
        assert seen.path == "/robot/send" and seen.query["access_token"] == "tok"
        payload = json.loads(seen.body)
        assert payload["msgtype"] == "markdown" and "张三" in payload["markdown"]["text"]
        # The raw query carries the URL-encoded base64 (+ / = escaped).
        with pytest.raises(DeliveryError) as exc:
            robots.DingTalkRobot(webhook=url, secret="wrong").send(OutgoingMessage(to="", body="x"))
        assert "310000" in str(exc.value)
    # quote_plus of base64 escapes exactly the characters a query would mangle
    sign = robots.dingtalk_sign(1577836800000, secret)
    assert "+" not in sign and "/" not in sign and "=" not in sign
    assert (
        unquote_plus(sign)
        == base64.b64encode(
            hmac.new(secret.encode(), f"1577836800000\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
    )


def test_wecom_robot() -> None:
    with fake_http(lambda s: (200, b'{"errcode":0,"errmsg":"ok"}')) as server:
        robot = robots.WeComRobot(webhook=f"{server.url}cgi-bin/webhook/send?key=k-1")
        robot.send(OutgoingMessage(to="", subject="标题", body="正文"))
        [seen] = server.requests
        assert seen.query == {"key": "k-1"}
        assert json.loads(seen.body) == {
            "msgtype": "markdown",
            "markdown": {"content": "### 标题\n\n正文"},
        }
    with fake_http(lambda s: (200, b'{"errcode":93000,"errmsg":"invalid webhook url"}')) as server:
        with pytest.raises(DeliveryError) as exc:
            robots.WeComRobot(webhook=server.url).send(OutgoingMessage(to="", body="x"))
        assert not exc.value.retryable


# --- generic webhooks ------------------------------------------------------------------------


def test_webhook_signature_and_replay_window() -> None:
    secret = "whsec"

    def reply(seen: Seen) -> tuple[int, bytes]:
        ts = seen.headers["x-loandesk-timestamp"]
        mac = hmac.new(secret.encode(), ts.encode() + b"." + seen.body, hashlib.sha256)
        ok = seen.headers["x-loandesk-signature"] == f"sha256={mac.hexdigest()}"
        return (204, b"") if ok else (401, b"bad")

    with fake_http(reply) as server:
        hook = webhook.Webhook(url=server.url, secret=secret)
        hook.send(OutgoingMessage(to="", body='{"a":1}', reference="rule:1"))
        [seen] = server.requests
        assert seen.headers["x-loandesk-delivery"] == "rule:1"
        assert webhook.verify(secret, seen.headers, seen.body)
        assert not webhook.verify("other", seen.headers, seen.body)
        assert not webhook.verify(secret, seen.headers, seen.body + b" ")
        later = int(seen.headers["x-loandesk-timestamp"]) + 301
        assert not webhook.verify(secret, seen.headers, seen.body, now=later)
        with pytest.raises(DeliveryError) as exc:
            webhook.Webhook(url=server.url, secret="other").send(OutgoingMessage(to="", body="{}"))
        assert "401" in str(exc.value) and not exc.value.retryable


def test_http_failures_are_retryable_and_have_a_timeout() -> None:
    with fake_http(lambda s: (503, b"busy")) as server:
        with pytest.raises(DeliveryError) as exc:
            webhook.Webhook(url=server.url, secret="s").send(OutgoingMessage(to="", body="{}"))
        assert exc.value.retryable
    # Nothing listens on port 9 (discard): a network error, retryable.
    with pytest.raises(DeliveryError) as exc:
        webhook.Webhook(url="http://127.0.0.1:9/", secret="s", timeout=2).send(
            OutgoingMessage(to="", body="{}")
        )
    assert exc.value.retryable
    with pytest.raises(DeliveryError) as exc:
        webhook.Webhook(url="file:///etc/passwd", secret="s").send(OutgoingMessage(to="", body=""))
    assert not exc.value.retryable


def test_build_and_the_outbox_provider() -> None:
    assert channels.build("outbox", {}, {}).send(SMS).detail == "recorded"
    with pytest.raises(DeliveryError):
        channels.build("carrier-pigeon", {}, {})
    assert isinstance(channels.build("wecom", {}, {"webhook": "k"}), robots.WeComRobot)


# --- SMTP with aiosmtpd ----------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"mailer", b"pw")
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


MAIL = OutgoingMessage(
    to="zhang@example.com", subject="还款提醒", body="请于 5 日前还款。", reference="d:1"
)


def test_smtp_plain_with_login() -> None:
    inbox = Inbox()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_auth,
        auth_require_tls=False,
    )
    ctl.start()
    try:
        port = ctl.port
        mailer = SmtpMailer(
            host="127.0.0.1",
            port=port,
            sender="noreply@loandesk.local",
            sender_name="信贷通",
            username="mailer",
            password="pw",
            security="none",
        )
        mailer.send(MAIL)
        [env] = inbox.messages
        assert env.rcpt_tos == ["zhang@example.com"]
        mail = message_from_bytes(env.content)
        assert mail["X-LoanDesk-Delivery"] == "d:1"
        # A resend of the same delivery (a worker died mid-send) has the same Message-ID.
        mailer.send(MAIL)
        again = message_from_bytes(inbox.messages[1].content)
        assert mail["Message-ID"] == again["Message-ID"]
        assert mail["Message-ID"].endswith("@loandesk.local>")
        other = message_from_bytes(mailer.build(replace(MAIL, reference="d:2")).as_bytes())
        assert other["Message-ID"] != mail["Message-ID"]
        assert "还款提醒" in str(mail.get("Subject")) or mail["Subject"].startswith("=?utf-8?")
        assert "请于 5 日前还款。" in mail.get_payload(decode=True).decode()
        bad = SmtpMailer(
            host="127.0.0.1",
            port=port,
            sender="noreply@loandesk.local",
            username="mailer",
            password="wrong",
            security="none",
        )
        with pytest.raises(DeliveryError) as exc:
            bad.send(MAIL)
        assert not exc.value.retryable
    finally:
        ctl.stop()


def test_smtp_starttls(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    inbox = Inbox()
    ctl = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_tls,
        require_starttls=True,
        authenticator=_auth,
    )
    ctl.start()
    try:
        port = ctl.port
        client_tls = ssl.create_default_context(cafile=str(cert))
        mailer = SmtpMailer(
            host="127.0.0.1",
            port=port,
            sender="noreply@loandesk.local",
            username="mailer",
            password="pw",
            security="starttls",
            ssl_context=client_tls,
        )
        mailer.send(MAIL)
        assert len(inbox.messages) == 1
        # Without STARTTLS the server refuses: the "none" option really sends in the clear.
        plain = SmtpMailer(host="127.0.0.1", port=port, sender="a@b.c", security="none")
        with pytest.raises(DeliveryError):
            plain.send(MAIL)
        # A certificate we do not trust is an error, not a silent downgrade.
        untrusted = SmtpMailer(
            host="127.0.0.1",
            port=port,
            sender="a@b.c",
            security="starttls",
        )
        with pytest.raises(DeliveryError):
            untrusted.send(MAIL)
    finally:
        ctl.stop()
    assert smtplib.SMTP  # smtplib is what the adapter uses (no third-party client)
