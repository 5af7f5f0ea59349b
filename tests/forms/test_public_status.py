"""The borrower's status page: token + verification of the phone on the record by SMS code."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from loandesk.core.models import OutboxEvent
from loandesk.forms import services
from loandesk.forms.models import Record, SmsCode
from tests.factories import ApiClient
from tests.forms.conftest import id_number, loan_data

PHONE = "13800138000"
STATUS_KEYS = {"serial_no", "submitted_at", "status", "status_label", "flow", "grant_expires_in"}


def _submitted(anon: ApiClient, token: str, **overrides: Any) -> str:
    data = loan_data(applicant_phone=PHONE, **overrides)
    response = anon.post(f"/api/v1/public/forms/{token}/submit", {"data": data})
    assert response.status_code == 201, response.content
    return str(response.json()["status_token"])


@pytest.fixture
def link_token(demo: Any, officer: ApiClient) -> str:
    response = officer.post("forms/loan_application/links", {})
    assert response.status_code == 201, response.content
    return str(response.json()["token"])


@pytest.fixture
def status_token(link_token: str, anon: ApiClient) -> str:
    return _submitted(anon, link_token)


def _url(token: str, tail: str = "") -> str:
    return f"/api/v1/public/status/{token}{tail}"


def _last_code() -> str:
    event = OutboxEvent.objects.filter(topic="notify.sms").latest("created_at")
    assert event.payload["kind"] == "sms.verification"
    match = re.search(r"\d{6}", event.payload["text"])
    assert match is not None
    return match.group(0)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _allow_resend(token: str) -> None:
    """Move the last code's send time back past the one-a-minute rule (no sleeping)."""
    record = Record.objects.get(status_token=token)
    SmsCode.objects.filter(link=record.link).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )


def test_unverified_page_shows_only_the_form_and_the_masked_phone(
    status_token: str, anon: ApiClient
) -> None:
    response = anon.get(_url(status_token))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "form_name": "贷款申请",
        "verified": False,
        "verification": "sms",
        "phone_hint": "138****8000",
    }
    for unknown in ("not-a-token", "x" * 65):
        missing = anon.get(_url(unknown))
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert anon.post(_url(unknown, "/sms")).status_code == 404
        assert anon.post(_url(unknown, "/verify"), {"code": "123456"}).status_code == 404


def test_code_to_the_phone_on_record_then_full_status_with_progress(
    status_token: str, anon: ApiClient
) -> None:
    sent = anon.post(_url(status_token, "/sms"))
    assert sent.status_code == 200, sent.content
    assert sent.json() == {
        "sent": True,
        "phone": "138****8000",
        "expires_in": 300,
        "resend_after": 60,
    }
    event = OutboxEvent.objects.filter(topic="notify.sms").latest("created_at")
    assert event.payload["phone_masked"] == "138****8000" and PHONE not in str(event.payload)
    assert "查看申请进度" in event.payload["text"]
    again = anon.post(_url(status_token, "/sms"))
    assert again.status_code == 429 and again.json()["details"]["retry_after"] > 0

    empty = anon.post(_url(status_token, "/verify"), {"code": " "})
    assert empty.status_code == 422
    assert empty.json()["details"]["fields"] == {"code": "请输入短信验证码"}

    verified = anon.post(_url(status_token, "/verify"), {"code": _last_code()})
    assert verified.status_code == 200, verified.content
    body = verified.json()
    record = Record.objects.get(status_token=status_token)
    assert body["verified"] is True and body["serial_no"] == record.serial_no
    assert body["status"] == "submitted" and body["status_label"] == "已提交"
    assert body["grant_expires_in"] == 1800
    assert body["flow"]["status"] == "running" and body["flow"]["steps"][0]["label"] == "提交申请"
    cookie = anon.client.cookies[services.STATUS_GRANT_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == f"/api/v1/public/status/{status_token}"
    assert int(cookie["max-age"]) == 1800

    # the grant cookie remembers it (a reload)
    page = anon.get(_url(status_token)).json()
    assert page["verified"] is True and page["flow"] == body["flow"]
    # the code is spent
    reused = anon.post(_url(status_token, "/verify"), {"code": _last_code()})
    assert reused.status_code == 422
    # a visitor without the cookie still sees nothing
    assert ApiClient().get(_url(status_token)).json()["verified"] is False


def test_wrong_codes_are_counted_and_lock_the_status_page(
    status_token: str, anon: ApiClient
) -> None:
    assert anon.post(_url(status_token, "/sms")).status_code == 200
    code = _last_code()
    for left in (4, 3, 2, 1):
        wrong = anon.post(_url(status_token, "/verify"), {"code": _wrong(code)})
        assert wrong.status_code == 422
        assert wrong.json()["details"]["fields"] == {
            "code": f"验证码错误或已过期,还可尝试 {left} 次"
        }
    fifth = anon.post(_url(status_token, "/verify"), {"code": _wrong(code)})
    assert fifth.status_code == 429 and fifth.json()["code"] == "forms.status.locked"
    assert "验证失败次数过多" in fifth.json()["message"]
    assert fifth.json()["details"]["retry_after"] > 0
    # locked for everyone, even with the right code, and no new codes are sent
    elsewhere = ApiClient(remote_addr="198.51.100.20")
    right = elsewhere.post(_url(status_token, "/verify"), {"code": code})
    assert right.status_code == 429 and right.json()["code"] == "forms.status.locked"
    _allow_resend(status_token)
    assert elsewhere.post(_url(status_token, "/sms")).json()["code"] == "forms.status.locked"
    assert elsewhere.get(_url(status_token)).json()["verified"] is False
    assert services.STATUS_GRANT_COOKIE not in elsewhere.client.cookies
    english = ApiClient(language="en-US", remote_addr="198.51.100.21")
    assert (
        english.post(_url(status_token, "/verify"), {"code": code})
        .json()["message"]
        .startswith("Too many failed attempts")
    )


def test_expired_or_missing_code_counts_as_wrong(status_token: str, anon: ApiClient) -> None:
    none_sent = anon.post(_url(status_token, "/verify"), {"code": "123456"})
    assert none_sent.status_code == 422
    assert none_sent.json()["details"]["fields"]["code"].endswith("还可尝试 4 次")
    anon.post(_url(status_token, "/sms"))
    code = _last_code()
    SmsCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = anon.post(_url(status_token, "/verify"), {"code": code})
    assert expired.status_code == 422
    assert expired.json()["details"]["fields"]["code"].endswith("还可尝试 3 次")


def test_grant_is_bound_to_its_record(link_token: str, anon: ApiClient) -> None:
    mine = _submitted(anon, link_token)
    other = _submitted(anon, link_token, applicant_id_number=id_number(8))
    anon.post(_url(mine, "/sms"))
    assert anon.post(_url(mine, "/verify"), {"code": _last_code()}).status_code == 200
    grant = anon.client.cookies[services.STATUS_GRANT_COOKIE].value
    # the test client sends the cookie on every path: the other record still says no
    assert anon.get(_url(mine)).json()["verified"] is True
    assert anon.get(_url(other)).json() == {
        "form_name": "贷款申请",
        "verified": False,
        "verification": "sms",
        "phone_hint": "138****8000",
    }
    thief = ApiClient()
    thief.client.cookies[services.STATUS_GRANT_COOKIE] = grant
    assert thief.get(_url(mine)).json()["verified"] is True
    assert thief.get(_url(other)).json()["verified"] is False
    # a forged or altered grant is nothing
    thief.client.cookies[services.STATUS_GRANT_COOKIE] = grant[:-2] + "xx"
    assert thief.get(_url(mine)).json()["verified"] is False
    # a new status token (the same record) voids grants issued for the old one
    record = Record.objects.get(status_token=mine)
    record.status_token = "renewed-" + "y" * 30
    record.save(update_fields=["status_token"])
    thief.client.cookies[services.STATUS_GRANT_COOKIE] = grant
    assert thief.get(_url(record.status_token)).json()["verified"] is False


def test_grant_expires(status_token: str, anon: ApiClient) -> None:
    record = Record.objects.get(status_token=status_token)
    client = ApiClient()
    fresh = services.status_grant(record, issued_at=timezone.now() - timedelta(minutes=29))
    client.client.cookies[services.STATUS_GRANT_COOKIE] = fresh
    assert client.get(_url(status_token)).json()["verified"] is True
    stale = services.status_grant(record, issued_at=timezone.now() - timedelta(minutes=31))
    client.client.cookies[services.STATUS_GRANT_COOKIE] = stale
    body = client.get(_url(status_token)).json()
    assert body["verified"] is False and not STATUS_KEYS & body.keys()


def test_sending_codes_is_rate_limited_per_token_and_address(
    link_token: str, anon: ApiClient
) -> None:
    token = _submitted(anon, link_token)
    for n in range(5):
        client = ApiClient(remote_addr=f"198.51.100.{n + 1}")
        assert client.post(_url(token, "/sms")).status_code == 200
        _allow_resend(token)
    sixth = ApiClient(remote_addr="198.51.100.99").post(_url(token, "/sms"))
    assert sixth.status_code == 429 and sixth.json()["code"] == "rate_limited"
    # per address: unknown tokens count as well (the same answers as for real ones)
    bot = ApiClient(remote_addr="203.0.113.50")
    for n in range(10):
        assert bot.post(_url(f"guess-{n}", "/sms")).status_code == 404
    limited = bot.post(_url(token, "/sms"))
    assert limited.status_code == 429 and limited.json()["details"]["retry_after"] > 0


def test_verification_is_rate_limited_per_address(status_token: str) -> None:
    bot = ApiClient(remote_addr="203.0.113.60")
    for n in range(30):
        assert bot.post(_url(f"guess-{n}", "/verify"), {"code": "123456"}).status_code == 404
    limited = bot.post(_url(status_token, "/verify"), {"code": "123456"})
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    # nothing counted against the record itself
    assert services.ratelimit.peek("status_fail", status_token, window_seconds=3600)[0] == 0


def test_status_codes_and_form_codes_do_not_mix(demo: Any, officer: ApiClient) -> None:
    """A code sent for the status page never submits a form, and a form's code never verifies."""
    link = officer.post("forms/loan_application/links", {"sms_verification": True}).json()
    anon = ApiClient()
    anon.post(f"/api/v1/public/forms/{link['token']}/sms", {"phone": PHONE})
    form_code = _last_code()
    submit = anon.post(
        f"/api/v1/public/forms/{link['token']}/submit",
        {"data": loan_data(applicant_phone=PHONE), "sms_code": form_code},
    )
    assert submit.status_code == 201, submit.content
    token = submit.json()["status_token"]
    other = ApiClient(remote_addr="198.51.100.30")
    other.post(f"/api/v1/public/forms/{link['token']}/sms", {"phone": PHONE})
    second_form_code = _last_code()
    assert other.post(_url(token, "/verify"), {"code": second_form_code}).status_code == 422
    assert other.post(_url(token, "/sms")).status_code == 200
    status_code = _last_code()
    reuse = other.post(
        f"/api/v1/public/forms/{link['token']}/submit",
        {
            "data": loan_data(applicant_phone=PHONE, applicant_id_number=id_number(9)),
            "sms_code": status_code if status_code != second_form_code else "999999",
        },
    )
    assert reuse.status_code in (201, 422)
    if status_code != second_form_code:
        assert reuse.status_code == 422  # the status code is not a form code
    assert other.post(_url(token, "/verify"), {"code": status_code}).status_code == 200


def test_without_a_phone_on_the_record_the_page_says_ask_the_officer(
    make_form: Any, officer: ApiClient, anon: ApiClient
) -> None:
    make_form("callback", [{"key": "name", "type": "text", "label": "姓名", "required": True}])
    link = officer.post("forms/callback/links", {}).json()
    submitted = anon.post(
        f"/api/v1/public/forms/{link['token']}/submit", {"data": {"name": "王五"}}
    )
    assert submitted.status_code == 201, submitted.content
    token = submitted.json()["status_token"]
    page = anon.get(_url(token)).json()
    assert page == {"form_name": "测试表单", "verified": False, "verification": "unavailable"}
    refused = anon.post(_url(token, "/sms"))
    assert refused.status_code == 409 and refused.json()["code"] == "forms.status.no_phone"
    assert "客户经理" in refused.json()["message"]
    verify = anon.post(_url(token, "/verify"), {"code": "123456"})
    assert verify.status_code == 409
    assert not SmsCode.objects.exists()
