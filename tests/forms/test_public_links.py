"""Public links: anonymous applications through a shared link or QR code."""

import base64
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.customers.models import Customer
from loandesk.forms.models import PublicLink, Record, Upload
from tests.factories import ApiClient
from tests.forms.conftest import id_number, loan_data


@pytest.fixture
def link(demo: Any, officer: ApiClient) -> dict[str, Any]:
    response = officer.post("forms/loan_application/links", {})
    assert response.status_code == 201, response.content
    return response.json()


def _submit(client: ApiClient, token: str, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(f"/api/v1/public/forms/{token}/submit", {"data": data, **extra})


def test_sharing_a_link(demo: Any, officer: ApiClient) -> None:
    expires = (timezone.now() + timedelta(days=7)).isoformat()
    response = officer.post(
        "forms/loan_application/links", {"expires_at": expires, "max_submissions": 50}
    )
    body = response.json()
    assert len(body["token"]) >= 32
    assert body["url"] == f"/f/{body['token']}"
    assert base64.b64decode(body["qr_png"].split(",", 1)[1]).startswith(b"\x89PNG")
    assert body["status"] == "active" and body["max_submissions"] == 50
    assert body["created_by"]["username"] == "officer1"
    listed = officer.get("forms/loan_application/links").json()
    assert body["id"] in [item["id"] for item in listed]
    png = officer.client.get(f"/api/v1/forms/links/{body['id']}/qr.png")
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    refused = officer.post("forms/loan_application/links", {"expires_at": past})
    assert refused.status_code == 422 and "expires_at" in refused.json()["details"]["fields"]


def test_public_schema_hides_internal_fields(link: dict[str, Any], anon: ApiClient) -> None:
    response = anon.get(f"/api/v1/public/forms/{link['token']}")
    assert response.status_code == 200, response.content
    body = response.json()
    keys = [f["key"] for f in body["schema"]["fields"]]
    assert "customer" not in keys and "risk_opinion" not in keys
    assert {"applicant_name", "amount", "monthly_payment"} <= set(keys)
    assert "customer_fields" not in body["schema"]
    assert all("permissions" not in f for f in body["schema"]["fields"])
    assert body["form"]["name"] == "贷款申请" and body["shared_by"] == "王小明"
    evaluated = anon.post(
        f"/api/v1/public/forms/{link['token']}/evaluate",
        {"data": {"amount": "100000", "term": 12, "annual_rate": "6"}},
    )
    assert evaluated.json()["values"]["monthly_payment"] == "8606.64"


def test_anonymous_submission_creates_customer_and_record(
    demo: Any, link: dict[str, Any], anon: ApiClient
) -> None:
    other_customer = Customer.objects.filter(owner__username="officer2").first()
    assert other_customer is not None
    data = loan_data(applicant_name="钱七", applicant_id_number=id_number(77))
    data["customer"] = other_customer.pk  # internal: a public submitter cannot pick it
    response = _submit(anon, link["token"], data)
    assert response.status_code == 201, response.content
    status_token = response.json()["status_token"]
    assert len(status_token) >= 32 and response.json()["serial_no"].startswith("SQ")
    record = Record.objects.get(status_token=status_token)
    officer1 = demo["users"]["officer1"]
    assert record.owner == officer1 and record.department == officer1.department
    assert record.created_via == "public_link" and record.link_id == link["id"]
    customer = Customer.objects.get(pk=record.customer_id)
    assert customer.name == "钱七" and customer.owner == officer1
    assert customer.pk != other_customer.pk
    topics = list(OutboxEvent.objects.values_list("topic", flat=True))
    assert "record.created" in topics and "public_link.submitted" in topics
    submitted = OutboxEvent.objects.get(topic="public_link.submitted")
    assert submitted.payload["shared_by"] == officer1.pk
    assert submitted.payload["record_id"] == record.pk
    assert PublicLink.objects.get(pk=link["id"]).submissions == 1
    # officer1 finds it among their records; the applicant can follow its status
    officer = ApiClient()
    officer.login_as("officer1", "LoanDesk@2026")
    listed = officer.get("forms/loan_application/records").json()["items"]
    assert [r["id"] for r in listed] == [record.pk] and listed[0]["created_via"] == "public_link"
    # the status page asks for the phone on the record first (tests/forms/test_public_status.py)
    status = anon.get(f"/api/v1/public/status/{status_token}").json()
    assert status["verified"] is False and status["phone_hint"] == "138****8000"
    assert "serial_no" not in status and "status" not in status
    assert anon.get("/api/v1/public/status/not-a-token").status_code == 404


def test_existing_customer_is_linked(demo: Any, link: dict[str, Any], anon: ApiClient) -> None:
    first = _submit(anon, link["token"], loan_data(applicant_id_number=id_number(88)))
    second = _submit(
        anon,
        link["token"],
        loan_data(applicant_id_number=id_number(88), applicant_phone="13900139000"),
    )
    assert second.status_code == 201
    records = Record.objects.order_by("pk")
    assert records[0].customer_id == records[1].customer_id is not None
    assert first.json()["serial_no"] != second.json()["serial_no"]


def test_invalid_submission_stores_nothing(link: dict[str, Any], anon: ApiClient) -> None:
    customers = Customer.objects.count()
    response = _submit(anon, link["token"], loan_data(applicant_phone="123", amount="-5"))
    assert response.status_code == 422
    assert set(response.json()["details"]["fields"]) == {"applicant_phone", "amount"}
    assert not Record.objects.exists() and Customer.objects.count() == customers
    assert PublicLink.objects.get(pk=link["id"]).submissions == 0


def test_expired_full_and_switched_off_links(
    link: dict[str, Any], anon: ApiClient, officer: ApiClient
) -> None:
    row = PublicLink.objects.get(pk=link["id"])
    row.max_submissions = 1
    row.save()
    assert _submit(anon, link["token"], loan_data()).status_code == 201
    full = _submit(anon, link["token"], loan_data(applicant_id_number=id_number(9)))
    assert full.status_code == 410 and full.json()["code"] == "forms.link_full"
    assert full.json()["message"] == "该链接的提交次数已满"
    row.refresh_from_db()
    row.max_submissions = None
    row.expires_at = timezone.now() - timedelta(seconds=1)
    row.save()
    expired = anon.get(f"/api/v1/public/forms/{link['token']}")
    assert expired.status_code == 410 and expired.json()["code"] == "forms.link_expired"
    row.expires_at = None
    row.save()
    assert anon.get(f"/api/v1/public/forms/{link['token']}").status_code == 200
    off = officer.post(f"forms/links/{link['id']}/deactivate")
    assert off.json()["status"] == "inactive"
    gone = _submit(anon, link["token"], loan_data(applicant_id_number=id_number(10)))
    assert gone.status_code == 410 and gone.json()["code"] == "forms.link_inactive"
    assert Record.objects.count() == 1
    assert anon.get("/api/v1/public/forms/no-such-token").status_code == 404


def test_honeypot(link: dict[str, Any], anon: ApiClient) -> None:
    customers = Customer.objects.count()
    response = _submit(anon, link["token"], loan_data(), website="http://spam.example")
    assert response.status_code == 400
    assert response.json()["code"] == "forms.submission_rejected"
    assert "honeypot" not in response.content.decode()
    assert not Record.objects.exists() and Customer.objects.count() == customers
    assert AuditEntry.objects.filter(action="forms.public_rejected").count() == 1


def test_rate_limit_per_address(link: dict[str, Any]) -> None:
    bot = ApiClient(remote_addr="203.0.113.9")
    for _ in range(10):
        assert _submit(bot, link["token"], {"amount": "x"}).status_code == 422
    limited = _submit(bot, link["token"], loan_data())
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert limited.json()["details"]["retry_after"] > 0
    assert not Record.objects.exists()
    other = ApiClient(remote_addr="198.51.100.7")
    assert _submit(other, link["token"], loan_data()).status_code == 201


def test_body_size_limit(link: dict[str, Any], anon: ApiClient) -> None:
    response = _submit(anon, link["token"], loan_data(remark="长" * 600_000))
    assert response.status_code == 413
    assert not Record.objects.exists()


def _sms_code() -> str:
    event = OutboxEvent.objects.filter(topic="notify.sms").latest("created_at")
    assert event.payload["kind"] == "sms.verification"
    match = re.search(r"\d{6}", event.payload["text"])
    assert match is not None
    return match.group(0)


def test_sms_verification(demo: Any, officer: ApiClient, anon: ApiClient) -> None:
    link = officer.post("forms/loan_application/links", {"sms_verification": True}).json()
    token, phone = link["token"], "13800138000"
    data = loan_data(applicant_phone=phone)
    missing = _submit(anon, token, data)
    assert missing.json()["details"]["fields"] == {"sms_code": "请输入短信验证码"}
    sent = anon.post(f"/api/v1/public/forms/{token}/sms", {"phone": phone})
    assert sent.status_code == 200, sent.content
    assert sent.json() == {
        "sent": True,
        "phone": "138****8000",
        "expires_in": 300,
        "resend_after": 60,
    }
    event = OutboxEvent.objects.get(topic="notify.sms")
    assert event.payload["phone_masked"] == "138****8000" and phone not in str(event.payload)
    code = _sms_code()
    again = anon.post(f"/api/v1/public/forms/{token}/sms", {"phone": phone})
    assert again.status_code == 429  # one code a minute
    wrong = _submit(anon, token, data, sms_code="000000" if code != "000000" else "111111")
    assert wrong.json()["details"]["fields"] == {"sms_code": "验证码错误或已过期"}
    other_phone = _submit(anon, token, loan_data(applicant_phone="13900139000"), sms_code=code)
    assert other_phone.json()["details"]["fields"] == {"sms_code": "验证码错误或已过期"}
    ok = _submit(anon, token, data, sms_code=code)
    assert ok.status_code == 201, ok.content
    reused = _submit(
        anon,
        token,
        loan_data(applicant_phone=phone, applicant_id_number=id_number(4)),
        sms_code=code,
    )
    assert reused.json()["details"]["fields"] == {"sms_code": "验证码错误或已过期"}
    assert Record.objects.count() == 1
    bad_phone = anon.post(f"/api/v1/public/forms/{token}/sms", {"phone": "12345"})
    assert bad_phone.status_code == 422


def test_sms_code_locks_after_wrong_guesses(demo: Any, officer: ApiClient, anon: ApiClient) -> None:
    token = officer.post("forms/loan_application/links", {"sms_verification": True}).json()["token"]
    anon.post(f"/api/v1/public/forms/{token}/sms", {"phone": "13800138000"})
    code = _sms_code()
    wrong = "000000" if code != "000000" else "111111"
    data = loan_data(applicant_phone="13800138000")
    for _ in range(5):
        assert _submit(anon, token, data, sms_code=wrong).status_code == 422
    locked = _submit(anon, token, data, sms_code=code)
    assert locked.json()["details"]["fields"] == {"sms_code": "验证码错误次数过多,请重新获取"}
    assert not Record.objects.exists()


def test_sms_not_offered_without_verification(link: dict[str, Any], anon: ApiClient) -> None:
    response = anon.post(f"/api/v1/public/forms/{link['token']}/sms", {"phone": "13800138000"})
    assert response.status_code == 400 and response.json()["code"] == "forms.sms_not_required"


def test_public_upload_is_bound_to_its_link(
    link: dict[str, Any], anon: ApiClient, officer: ApiClient
) -> None:
    def upload(token: str) -> str:
        response = anon.client.post(
            f"/api/v1/public/forms/{token}/uploads",
            {"file": SimpleUploadedFile("proof.pdf", b"%PDF-1.7\n...")},
        )
        assert response.status_code == 201, response.content
        assert response.json()["url"] is None
        return str(response.json()["id"])

    other = officer.post("forms/loan_application/links", {}).json()["token"]
    foreign = upload(other)
    refused = _submit(anon, link["token"], loan_data(income_proof=[foreign]))
    assert refused.json()["details"]["fields"] == {
        "income_proof": "文件不存在或已被使用,请重新上传"
    }
    own = upload(link["token"])
    ok = _submit(anon, link["token"], loan_data(income_proof=[own]))
    assert ok.status_code == 201, ok.content
    assert Upload.objects.get(pk=own).record_id == Record.objects.get().pk
