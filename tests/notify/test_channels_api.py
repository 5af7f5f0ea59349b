"""The 通知渠道 admin API: permission, masked secrets, templates checked at save time,
settings, the deliveries log with dead-letter retry, test sends, opt-outs, bad input 4xx."""

import json
from typing import Any

from loandesk.core.models import AuditEntry
from loandesk.notify import deliveries
from loandesk.notify.models import Channel, Delivery, Template
from tests.notify.fakes import fake_http


def test_permission_is_required(demo: Any, client_for: Any, anon: Any) -> None:
    officer = client_for("officer1")
    for method, path in [
        ("get", "notify/channels"),
        ("get", "notify/templates"),
        ("get", "notify/settings"),
        ("get", "notify/deliveries"),
        ("put", "notify/settings"),
        ("post", "notify/templates"),
        ("post", "notify/channels/1/test"),
        ("post", "notify/deliveries/1/retry"),
    ]:
        res = getattr(officer, method)(path, {} if method == "get" else {"to": "x"})
        assert res.status_code == 403, (method, path, res.content)
        assert res.json()["details"]["permission"] == "notify.manage_channels"
    assert anon.get("notify/channels").status_code == 401


def test_sms_provider_keys_are_stored_encrypted_and_never_returned(
    demo: Any, client_for: Any
) -> None:
    admin = client_for("admin")
    listing = admin.get("notify/channels").json()
    sms = next(c for c in listing["items"] if c["code"] == "sms")
    assert sms["provider"] == "outbox" and sms["kind"] == "sms"
    assert {p["provider"] for p in listing["providers"]["sms"]} == {"outbox", "aliyun", "tencent"}
    res = admin.put(
        f"notify/channels/{sms['id']}",
        {
            "provider": "aliyun",
            "settings": {"access_key_id": "LTAI5t", "sign_name": "信贷通", "region": "cn-hangzhou"},
            "secrets": {"access_key_secret": "very-secret-value"},
        },
    )
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["secrets"] == {"access_key_secret": True}
    assert "very-secret-value" not in json.dumps(admin.get("notify/channels").json())
    row = Channel.objects.get(code="sms")
    assert json.loads(row.secrets) == {"access_key_secret": "very-secret-value"}
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT secrets FROM notify_channel WHERE code = 'sms'")
        assert "very-secret-value" not in cur.fetchone()[0]
    # an empty secret keeps the stored one
    admin.put(f"notify/channels/{sms['id']}", {"secrets": {"access_key_secret": ""}})
    row.refresh_from_db()
    assert json.loads(row.secrets)["access_key_secret"] == "very-secret-value"
    entry = AuditEntry.objects.filter(action="notify.channel.update").first()
    assert entry is not None and "very-secret-value" not in json.dumps(entry.extra | entry.changes)
    # bad input
    for payload, field in [
        ({"provider": "twilio"}, "provider"),
        ({"settings": {"nope": "1"}}, "settings"),
        ({"settings": {"endpoint": "ftp://x"}}, "settings.endpoint"),
        ({"secrets": {"password": "x"}}, "secrets"),
        ({"name": ""}, "name"),
    ]:
        res = admin.put(f"notify/channels/{sms['id']}", payload)
        assert res.status_code == 422, (payload, res.content)
        assert field in res.json()["details"]["fields"], res.json()
    assert admin.put("notify/channels/999999", {"name": "x"}).status_code == 404
    assert admin.delete(f"notify/channels/{sms['id']}").status_code == 409


def test_robots_and_webhooks_crud(demo: Any, client_for: Any) -> None:
    admin = client_for("admin")
    res = admin.post(
        "notify/channels",
        {
            "kind": "dingtalk",
            "code": "risk-group",
            "name": "风控群",
            "secrets": {
                "webhook": "https://oapi.dingtalk.com/robot/send?access_token=t",
                "secret": "SEC1",
            },
        },
    )
    assert res.status_code == 201, res.content
    assert res.json()["secrets"] == {"webhook": True, "secret": True}
    assert (
        admin.post(
            "notify/channels", {"kind": "dingtalk", "code": "risk-group", "name": "x"}
        ).status_code
        == 422
    )
    assert (
        admin.post("notify/channels", {"kind": "sms", "code": "sms2", "name": "x"}).status_code
        == 422
    )
    assert (
        admin.post("notify/channels", {"kind": "webhook", "code": "w", "name": "x"}).status_code
        == 422
    )
    assert (
        admin.post("notify/channels", {"kind": "wecom", "code": "a b", "name": "x"}).status_code
        == 422
    )
    cid = res.json()["id"]
    assert admin.delete(f"notify/channels/{cid}").status_code == 204
    assert not Channel.objects.filter(pk=cid).exists()


def test_templates_refuse_unknown_variables_at_save(demo: Any, client_for: Any) -> None:
    admin = client_for("admin")
    items = admin.get("notify/templates", {"channel": "sms"}).json()
    assert {t["code"] for t in items} >= {"verification_code", "overdue_notice"}
    tpl = next(t for t in items if t["code"] == "overdue_notice")
    res = admin.put(f"notify/templates/{tpl['id']}", {"body": "尊敬的{name},已逾期{dayz}天"})
    assert res.status_code == 422
    assert "dayz" in res.json()["details"]["fields"]["body"]
    assert "未声明" in res.json()["details"]["fields"]["body"]
    en = client_for("admin")
    en.language = "en-US"
    res = en.put(f"notify/templates/{tpl['id']}", {"body": "{oops"})
    assert "brace" in res.json()["details"]["fields"]["body"]
    assert Template.objects.get(pk=tpl["id"]).body.startswith("尊敬的{name},您的贷款已逾期{days}天")
    res = admin.put(
        f"notify/templates/{tpl['id']}",
        {"body": "{name}您好,已逾期{days}天,{{客服}}", "provider_template_id": "SMS_1"},
    )
    assert res.status_code == 200 and res.json()["provider_template_id"] == "SMS_1"
    res = admin.post(
        "notify/templates",
        {
            "code": "promo",
            "channel": "sms",
            "category": "marketing",
            "name": "促销",
            "body": "{name},新品上线",
            "variables": ["name"],
        },
    )
    assert res.status_code == 201
    for bad in (
        {"code": "promo", "channel": "sms", "category": "marketing", "name": "x", "body": "y"},
        {"code": "p2", "channel": "fax", "category": "marketing", "name": "x", "body": "y"},
        {"code": "p3", "channel": "sms", "category": "spam", "name": "x", "body": "y"},
        {"code": "p4", "channel": "sms", "category": "marketing", "name": "x", "body": ""},
        {
            "code": "p5",
            "channel": "sms",
            "category": "marketing",
            "name": "x",
            "body": "y",
            "variables": ["1bad"],
        },
        {"code": "p6", "channel": "sms", "category": "marketing", "name": "x", "body": "y" * 3000},
    ):
        assert admin.post("notify/templates", bad).status_code == 422, bad
    assert admin.put("notify/templates/99999", {"body": "x"}).status_code == 404


def test_settings(demo: Any, client_for: Any) -> None:
    admin = client_for("admin")
    got = admin.get("notify/settings").json()
    assert got["quiet_start"] == "21:00" and got["quiet_end"] == "08:00"
    assert got["quiet_categories"] == ["collection"] and got["webhook_secret_set"] is True
    res = admin.put(
        "notify/settings",
        {
            "quiet_start": "22:00",
            "caps": {"sms.collection": 2},
            "max_attempts": 4,
            "webhook_secret": "new-secret",
        },
    )
    assert res.status_code == 200, res.content
    assert res.json()["quiet_start"] == "22:00" and res.json()["caps"] == {"sms.collection": 2}
    assert "new-secret" not in res.content.decode()
    assert deliveries.notify_settings().webhook_secret == "new-secret"
    for bad in (
        {"quiet_start": "25:00"},
        {"quiet_timezone": "Mars/Olympus"},
        {"caps": {"fax.collection": 1}},
        {"caps": {"sms.collection": -1}},
        {"max_attempts": 0},
        {"quiet_categories": ["spam"]},
    ):
        assert admin.put("notify/settings", bad).status_code == 422, bad
    assert admin.get("notify/settings").json()["max_attempts"] == 4


def test_test_send_and_the_log(demo: Any, client_for: Any) -> None:
    admin = client_for("admin")
    sms = next(c for c in admin.get("notify/channels").json()["items"] if c["code"] == "sms")
    res = admin.post(f"notify/channels/{sms['id']}/test", {"to": "13812345678", "text": "测试短信"})
    assert res.status_code == 200, res.content
    assert res.json()["status"] == "sent" and res.json()["address_masked"] == "138****5678"
    assert admin.post(f"notify/channels/{sms['id']}/test", {"to": "123"}).status_code == 422
    page = admin.get("notify/deliveries", {"status": "sent"}).json()
    assert page["count"] == 1 and page["items"][0]["body"] == "测试短信"
    assert "address" not in page["items"][0]
    assert admin.get("notify/deliveries", {"status": "bogus"}).status_code == 422
    assert admin.get("notify/deliveries/counts").json()["sent"] == 1

    # a webhook that is down: dead letter, then retried from the log
    with fake_http(lambda seen: (400, b"no")) as server:
        hook = admin.post(
            "notify/channels",
            {
                "kind": "webhook",
                "code": "erp",
                "name": "ERP",
                "settings": {"url": server.url},
                "secrets": {"secret": "s"},
            },
        ).json()
        res = admin.post(f"notify/channels/{hook['id']}/test", {})
        assert res.json()["status"] == "dead" and "400" in res.json()["last_error"]
        dead_id = res.json()["id"]
        assert admin.post(f"notify/deliveries/{sms['id']}/retry").status_code in (404, 409)
        res = admin.post(f"notify/deliveries/{dead_id}/retry")
        assert res.status_code == 200 and res.json()["status"] == "pending"
        assert admin.post(f"notify/deliveries/{dead_id}/retry").status_code == 409
        server.responder = lambda seen: (200, b"{}")
        deliveries.process_due()
    assert Delivery.objects.get(pk=dead_id).status == "sent"
    assert admin.post("notify/deliveries/999999/retry").status_code == 404


def test_opt_outs_are_scoped_to_the_customer(make_customer: Any, client_for: Any) -> None:
    mine = make_customer(owner="officer1")
    theirs = make_customer(owner="officer2", phone="13812349999", name="王五")
    officer = client_for("officer1")
    res = officer.post(
        "notify/opt-outs", {"customer_id": mine.pk, "channel": "sms", "reason": "电话拒绝"}
    )
    assert res.status_code == 201, res.content
    assert (
        officer.post("notify/opt-outs", {"customer_id": mine.pk, "channel": "sms"}).status_code
        == 409
    )
    assert (
        officer.post("notify/opt-outs", {"customer_id": mine.pk, "channel": "fax"}).status_code
        == 422
    )
    assert (
        officer.post("notify/opt-outs", {"customer_id": theirs.pk, "channel": "sms"}).status_code
        == 404
    )
    assert (
        officer.post("notify/opt-outs", {"customer_id": "x", "channel": "sms"}).status_code == 422
    )
    assert [
        o["channel"] for o in officer.get("notify/opt-outs", {"customer_id": mine.pk}).json()
    ] == ["sms"]
    assert officer.get("notify/opt-outs", {"customer_id": theirs.pk}).status_code == 404
    assert client_for("officer2").delete(f"notify/opt-outs/{res.json()['id']}").status_code == 404
    assert officer.delete(f"notify/opt-outs/{res.json()['id']}").status_code == 204
