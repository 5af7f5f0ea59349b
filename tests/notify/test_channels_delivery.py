"""Deliveries end to end on the database: dedupe, retries with backoff, dead letters, crash
safety, quiet hours, caps and opt-out (a fixed clock, no sleeping), and the outbox topics
notify.sms and flows.webhook — against local fake servers."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from loandesk.core import outbox
from loandesk.core.crypto import encrypt
from loandesk.core.errors import ValidationFailed
from loandesk.notify import deliveries, services
from loandesk.notify.models import Channel, Delivery, Notification, NotifySettings, OptOut, Template
from tests.notify.fakes import Seen, fake_http

# 2026-03-10 22:30 in Shanghai (UTC+8): inside the default 21:00–08:00 quiet hours.
NIGHT = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
MORNING = datetime(2026, 3, 11, 0, 0, tzinfo=UTC)  # 08:00 Shanghai
NOON = datetime(2026, 3, 11, 4, 0, tzinfo=UTC)  # 12:00 Shanghai


def sms(
    key: str,
    *,
    customer: Any = None,
    category: str = "collection",
    now: datetime = NOON,
    phone: str = "13812345678",
) -> Delivery:
    with transaction.atomic():
        return services.send(
            channel="sms",
            to={"phone": phone},
            category=category,
            dedupe_key=key,
            body="请尽快还款",
            customer_id=customer.pk if customer is not None else None,
            now=now,
        )


def status(row: Delivery) -> str:
    row.refresh_from_db()
    return row.status


def test_outbox_provider_records_and_dedupes(db: None) -> None:
    first = sms("k1")
    again = sms("k1")
    assert first.pk == again.pk and Delivery.objects.count() == 1
    assert first.address == "13812345678" and first.address_masked == "138****5678"
    assert first.provider == "outbox" and first.status == "pending"
    # the number is encrypted at rest
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT address FROM notify_delivery WHERE id = %s", [first.pk])
        assert "13812345678" not in cur.fetchone()[0]
    assert deliveries.process_due(now=NOON) == 1
    assert status(first) == "sent"
    assert deliveries.process_due(now=NOON) == 0  # sent once, never again


def test_validation(db: None) -> None:
    for kwargs, field in [
        ({"channel": "fax"}, "channel"),
        ({"category": "spam"}, "category"),
        ({"dedupe_key": ""}, "dedupe_key"),
        ({"dedupe_key": "x" * 201}, "dedupe_key"),
        ({"to": {"phone": "12345"}}, "to"),
        ({"body": ""}, "body"),
        ({"template_code": "nope"}, "template"),
    ]:
        args: dict[str, Any] = {
            "channel": "sms",
            "to": {"phone": "13812345678"},
            "category": "transactional",
            "dedupe_key": "k",
            "body": "x",
            **kwargs,
        }
        with pytest.raises(ValidationFailed) as exc:
            services.send(**args)
        assert field in exc.value.details["fields"], (kwargs, exc.value.details)
    assert Delivery.objects.count() == 0


def test_template_rendering_and_missing_variables(db: None) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.send(
            channel="sms",
            to={"phone": "13812345678"},
            category="transactional",
            dedupe_key="t1",
            template_code="verification_code",
            context={"code": "123456"},
        )
    assert "minutes" in exc.value.details["fields"]["context"]
    with pytest.raises(ValidationFailed) as exc:
        services.send(
            channel="sms",
            to={"phone": "13812345678"},
            category="marketing",
            dedupe_key="t1",
            template_code="verification_code",
            context={"code": "1", "minutes": 5},
        )
    assert "category" in exc.value.details["fields"]
    row = services.send(
        channel="sms",
        to={"phone": "13812345678"},
        category="transactional",
        dedupe_key="t1",
        template_code="verification_code",
        context={"code": "654321", "minutes": 5},
    )
    assert row.body.startswith("您的验证码是654321,5分钟内有效")
    assert row.params == {"code": "654321", "minutes": "5"}


def test_quiet_hours_defer_collection_to_eight(make_customer: Any) -> None:
    customer = make_customer()
    night = sms("q1", customer=customer, now=NIGHT)
    assert night.status == "deferred" and night.reason == "quiet_hours"
    assert night.next_attempt_at == MORNING
    # transactional messages (one-time codes) are not held back, nor staff messages
    assert sms("q2", customer=customer, category="transactional", now=NIGHT).status == "pending"
    assert sms("q3", now=NIGHT).status == "pending"  # no customer: not customer-facing
    # nothing goes out during the night...
    deliveries.process_due(now=NIGHT + timedelta(hours=5))
    assert status(night) == "deferred"
    # ...and it is sent at 08:00, not dropped
    deliveries.process_due(now=MORNING)
    assert status(night) == "sent"


def test_quiet_hours_configurable(make_customer: Any) -> None:
    customer = make_customer()
    cfg = deliveries.notify_settings()
    cfg.quiet_start, cfg.quiet_end = cfg.quiet_end, cfg.quiet_start  # 08:00–21:00 instead
    cfg.save()
    assert sms("c1", customer=customer, now=NIGHT).status == "pending"
    assert sms("c2", customer=customer, now=NOON).status == "deferred"
    cfg.quiet_enabled = False
    cfg.save()
    assert sms("c3", customer=customer, now=NOON).status == "pending"


def test_retry_that_falls_into_quiet_hours_is_deferred(make_customer: Any) -> None:
    customer = make_customer()
    late = datetime(2026, 3, 10, 12, 59, tzinfo=UTC)  # 20:59 Shanghai
    row = sms("late", customer=customer, now=late)
    assert row.status == "pending"
    assert deliveries.deliver(row.pk, now=late + timedelta(minutes=2)) == "deferred"
    row.refresh_from_db()
    assert row.next_attempt_at == MORNING and row.attempts == 0


def test_frequency_cap_per_customer_per_day(make_customer: Any) -> None:
    customer = make_customer()
    other = make_customer(phone="13812340000", name="李四")
    cfg = deliveries.notify_settings()
    assert cfg.caps["sms.collection"] == 3
    rows = [sms(f"cap{i}", customer=customer) for i in range(4)]
    assert [r.status for r in rows] == ["pending", "pending", "pending", "suppressed"]
    assert rows[3].reason == "cap"
    assert sms("other", customer=other).status == "pending"  # per customer
    assert sms("tx", customer=customer, category="transactional").status == "pending"
    # the next local day starts afresh
    assert sms("tomorrow", customer=customer, now=NOON + timedelta(days=1)).status == "pending"
    # suppressed rows do not count, sent ones do
    deliveries.process_due(now=NOON)
    assert sms("cap5", customer=customer).status == "suppressed"


def test_opt_out(make_customer: Any) -> None:
    customer = make_customer()
    OptOut.objects.create(customer=customer, channel="sms")
    row = sms("o1", customer=customer, category="marketing")
    assert (row.status, row.reason) == ("suppressed", "opt_out")
    assert sms("o2", customer=customer, category="collection").status == "suppressed"
    # one-time codes still go
    assert sms("o3", customer=customer, category="transactional").status == "pending"
    deliveries.process_due(now=NOON)
    assert Delivery.objects.get(dedupe_key="o1").status == "suppressed"


def test_crashed_worker_loses_nothing(db: None) -> None:
    row = sms("crash")
    # A worker claims the row and dies before sending (no result recorded).
    assert deliveries.claim(row.pk, now=NOON, worker="dead-worker")
    assert deliveries.process_due(now=NOON + timedelta(seconds=30)) == 0  # still leased
    assert status(row) == "pending"
    # After the lease another worker sends it.
    assert deliveries.process_due(now=NOON + deliveries.LEASE + timedelta(seconds=1)) == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.claimed_by != "dead-worker"


def _webhook_channel(url: str, secret: str = "whsec") -> Channel:
    return Channel.objects.create(
        kind="webhook",
        code="erp",
        name="ERP",
        provider="webhook",
        settings={"url": url, "timeout": 5},
        secrets=json.dumps({"secret": secret}),
    )


def test_webhook_retries_with_backoff_then_dead_letter_and_retry(db: None) -> None:
    answers = [503, 500, 502, 200]

    def reply(seen: Seen) -> tuple[int, bytes]:
        ts = seen.headers["x-loandesk-timestamp"]
        mac = hmac.new(b"whsec", ts.encode() + b"." + seen.body, hashlib.sha256).hexdigest()
        assert seen.headers["x-loandesk-signature"] == f"sha256={mac}"
        return answers.pop(0) if answers else 200, b"{}"

    with fake_http(reply) as server:
        _webhook_channel(server.url)
        row = services.send(
            channel="webhook",
            to={"endpoint": "erp"},
            category="transactional",
            dedupe_key="wh1",
            body='{"event":"x"}',
            now=NOON,
        )
        at = NOON
        waits = []
        for _ in range(3):
            assert deliveries.deliver(row.pk, now=at) == "pending"
            row.refresh_from_db()
            waits.append(row.next_attempt_at - at)
            # not due before its backoff
            assert (
                deliveries.deliver(row.pk, now=row.next_attempt_at - timedelta(seconds=1))
                == "skipped"
            )
            at = row.next_attempt_at
        assert waits == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
        assert deliveries.deliver(row.pk, now=at) == "sent"
        row.refresh_from_db()
        assert row.attempts == 4 and row.last_error == ""
        assert {s.headers["x-loandesk-delivery"] for s in server.requests} == {"wh1"}

        # A receiver that always fails: dead letter after max_attempts.
        NotifySettings.objects.filter(pk=1).update(max_attempts=3)
        server.responder = lambda seen: (500, b"down")
        dead = services.send(
            channel="webhook",
            to={"endpoint": "erp"},
            category="transactional",
            dedupe_key="wh2",
            body="{}",
            now=NOON,
        )
        at = NOON
        for _ in range(3):
            deliveries.deliver(dead.pk, now=at)
            dead.refresh_from_db()
            at = dead.next_attempt_at or at
        assert dead.status == "dead" and dead.attempts == 3 and "500" in dead.last_error
        assert deliveries.process_due(now=at + timedelta(days=1)) == 0  # dead stays dead
        # the admin's retry: another round
        server.responder = lambda seen: (200, b"{}")
        assert deliveries.retry_dead(dead.pk) == 1
        assert deliveries.retry_dead(dead.pk) == 0
        assert deliveries.process_due(now=at) == 1
        assert status(dead) == "sent"


def test_non_retryable_failure_is_dead_at_once(db: None) -> None:
    with fake_http(lambda seen: (404, b"no such hook")) as server:
        _webhook_channel(server.url)
        row = services.send(
            channel="webhook",
            to={"endpoint": "erp"},
            category="transactional",
            dedupe_key="gone",
            body="{}",
        )
        deliveries.process_due()
        row.refresh_from_db()
        assert row.status == "dead" and row.attempts == 1 and "404" in row.last_error


def test_inapp_is_written_with_the_callers_transaction(demo: Any) -> None:
    from loandesk.accounts.models import User

    manager = User.objects.get(username="manager")
    with transaction.atomic():
        row = services.send(
            channel="inapp",
            to={"user_id": manager.pk},
            category="transactional",
            dedupe_key="in1",
            template_code="owner_alert",
            context={"title": "客户逾期", "text": "张三逾期 1 天"},
        )
    assert row.status == "sent"
    note = Notification.objects.get(user=manager, dedupe_key="in1")
    assert (note.title, note.body) == ("客户逾期", "张三逾期 1 天")
    # rolled back with the caller: nothing at all
    with pytest.raises(RuntimeError), transaction.atomic():
        services.send(
            channel="inapp",
            to={"user_id": manager.pk},
            category="transactional",
            dedupe_key="in2",
            body="x",
        )
        raise RuntimeError
    assert not Delivery.objects.filter(dedupe_key="in2").exists()
    assert not Notification.objects.filter(dedupe_key="in2").exists()


def test_notify_sms_topic_goes_through_the_configured_provider(db: None) -> None:
    with transaction.atomic():
        event = outbox.publish(
            "notify.sms",
            payload={
                "kind": "sms.verification",
                "phone_masked": "138****5678",
                "phone_encrypted": encrypt("13812345678"),
                "text": "您的验证码是 246810,5 分钟内有效",
            },
        )
    while outbox.dispatch_pending():
        pass
    row = Delivery.objects.get(dedupe_key=f"outbox:{event.pk}")
    assert row.template_code == "verification_code"
    assert row.params == {"code": "246810", "minutes": "5"}
    assert row.source == "outbox:notify.sms" and row.category == "transactional"
    # Redelivering the event adds nothing.
    services.from_sms_event(event)
    assert Delivery.objects.filter(source="outbox:notify.sms").count() == 1
    deliveries.process_due()
    assert status(row) == "sent"


def test_notify_sms_through_aliyun(db: None) -> None:
    from tests.notify.test_channels_adapters import aliyun_server

    with aliyun_server("ak-secret") as server:
        sms_channel = deliveries.singleton("sms")
        sms_channel.provider = "aliyun"
        sms_channel.settings = {
            "access_key_id": "AK",
            "endpoint": server.url,
            "sign_name": "信贷通",
        }
        sms_channel.secrets = json.dumps({"access_key_secret": "ak-secret"})
        sms_channel.save()
        Template.objects.filter(code="verification_code").update(provider_template_id="SMS_9")
        with transaction.atomic():
            event = outbox.publish(
                "notify.sms",
                payload={
                    "phone_encrypted": encrypt("13812345678"),
                    "text": "验证码 135790,5 分钟内有效",
                },
            )
        services.from_sms_event(event)
        deliveries.process_due()
        row = Delivery.objects.get(dedupe_key=f"outbox:{event.pk}")
        assert row.status == "sent" and row.provider == "aliyun" and row.provider_ref == "biz-1"
        [seen] = server.requests
        assert "SMS_9" in seen.body.decode() and "135790" in seen.body.decode()


def test_flows_webhook_topic_is_delivered_signed(db: None) -> None:
    received: list[Seen] = []

    def reply(seen: Seen) -> tuple[int, bytes]:
        received.append(seen)
        return 200, b"ok"

    with fake_http(reply) as server:
        with transaction.atomic():
            outbox.publish(
                "flows.webhook",
                payload={"instance_id": 7, "step_id": "s1", "url": server.url, "payload": {"a": 1}},
            )
        while outbox.dispatch_pending():
            pass
        deliveries.process_due()
    [seen] = received
    body = json.loads(seen.body)
    assert body["instance_id"] == 7 and body["payload"] == {"a": 1}
    secret = deliveries.notify_settings().webhook_secret
    from loandesk.notify.channels.webhook import verify

    assert secret and verify(secret, seen.headers, seen.body)


# --- e-mail with an HTML body and attachments ---------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _smtp_channel(port: int) -> None:
    row = deliveries.singleton("email")
    row.provider = "smtp"
    row.settings = {
        "host": "127.0.0.1",
        "port": port,
        "sender": "noreply@loandesk.local",
        "sender_name": "信贷通",
        "security": "none",
        "timeout": 5,
    }
    row.save()


def _mail(key: str, **extra: Any) -> Delivery:
    with transaction.atomic():
        return services.send(
            channel="email",
            to={"email": "zhang@example.com"},
            category="transactional",
            dedupe_key=key,
            subject="日报",
            body="贷款余额: 100.00 元",
            now=NOON,
            **extra,
        )


def test_email_with_html_and_attachment_is_multipart_and_retried_whole(db: None) -> None:
    from loandesk.notify.channels import Attachment
    from loandesk.notify.models import DeliveryAttachment
    from tests.notify.fakes import smtp_server

    data = b"PK\x03\x04" + bytes(range(256)) * 40
    files = [Attachment("经营驾驶舱-2026-03-11.xlsx", XLSX, data)]
    html = '<p style="color:#323233">贷款余额 <b>¥100.00</b></p>'
    with smtp_server() as (inbox, port):
        # First attempt: nothing listens on the configured port, so the send fails.
        _smtp_channel(port + 1 if port < 65535 else port - 1)
        row = _mail("mail:1", html=html, attachments=files)
        assert deliveries.deliver(row.pk, now=NOON) == "pending"
        row.refresh_from_db()
        assert row.attempts == 1 and "SMTP" in row.last_error
        # The same key again: the same row, no second copy of the file.
        assert _mail("mail:1", html=html, attachments=files).pk == row.pk
        assert DeliveryAttachment.objects.filter(delivery=row).count() == 1
        # The retry (server up) sends the whole message: text, HTML and the same bytes.
        _smtp_channel(port)
        assert deliveries.deliver(row.pk, now=NOON + timedelta(minutes=5)) == "sent"
        [mail] = inbox.messages
    assert mail.get_content_type() == "multipart/mixed"
    alternative, attached = mail.get_payload()  # type: ignore[misc]
    assert alternative.get_content_type() == "multipart/alternative"
    plain, rich = alternative.get_payload()
    assert plain.get_content_type() == "text/plain"
    assert rich.get_content_type() == "text/html"
    assert plain.get_content().strip() == "贷款余额: 100.00 元"
    assert rich.get_content().strip() == html
    assert attached.get_content_type() == XLSX
    assert attached.get_filename() == "经营驾驶舱-2026-03-11.xlsx"
    assert attached.get_content() == data
    assert mail["X-LoanDesk-Delivery"] == "mail:1"
    assert str(mail["Subject"]) == "日报"


def test_plain_email_stays_a_single_text_part(db: None) -> None:
    from tests.notify.fakes import smtp_server

    with smtp_server() as (inbox, port):
        _smtp_channel(port)
        row = _mail("mail:plain")
        assert deliveries.deliver(row.pk, now=NOON) == "sent"
        [mail] = inbox.messages
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == "贷款余额: 100.00 元"


def test_html_and_attachments_are_checked(db: None) -> None:
    from loandesk.notify.channels import Attachment

    ok = Attachment("a.xlsx", XLSX, b"x")
    bad: list[dict[str, Any]] = [
        {"html": "x" * (deliveries.MAX_HTML_CHARS + 1)},
        {"attachments": [ok] * (deliveries.MAX_ATTACHMENTS + 1)},
        {"attachments": [Attachment("big.bin", XLSX, b"0" * ((5 << 20) + 1))]},
        {"attachments": [Attachment("a\r\nBcc: x@y.z", XLSX, b"x")]},
        {"attachments": [Attachment("../a.xlsx", XLSX, b"x")]},
        {"attachments": [Attachment("a.xlsx", "xlsx", b"x")]},
        {"attachments": [Attachment("", XLSX, b"x")]},
    ]
    for i, extra in enumerate(bad):
        with pytest.raises(ValidationFailed) as exc:
            _mail(f"bad:{i}", **extra)
        assert exc.value.details["fields"], extra
    # Only e-mail carries them.
    with pytest.raises(ValidationFailed) as exc:
        services.send(
            channel="sms",
            to={"phone": "13812345678"},
            category="transactional",
            dedupe_key="sms:html",
            body="x",
            html="<b>x</b>",
        )
    assert "邮件" in exc.value.details["fields"]["html"]
    assert not Delivery.objects.exists()
