"""The rule-engine actions `send_message` and `webhook`: registered, dry run writes nothing,
real runs write deduplicated deliveries keyed by the firing."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction

from loandesk.accounts.models import Role, User
from loandesk.core.errors import ValidationFailed
from loandesk.notify.models import Delivery, Notification
from loandesk.rules.registry import ActionContext, get_action


def ctx(
    customer: Any, *, dry_run: bool = False, key: str = "r1:c1:2026-03-11", **record: Any
) -> ActionContext:
    return ActionContext(
        rule_id=1,
        rule_name="逾期第一天",
        firing_key=key,
        record_type="loan",
        record_id=42,
        record={
            "id": 42,
            "customer_id": customer.pk,
            "owner_id": customer.owner_id,
            "days": 1,
            **record,
        },
        occurred_at=datetime(2026, 3, 11, 4, tzinfo=UTC),
        dry_run=dry_run,
    )


def run(name: str, context: ActionContext, params: dict[str, Any]) -> dict[str, Any]:
    with transaction.atomic():
        return get_action(name).run(context, params)


def test_registered_with_their_params() -> None:
    spec = get_action("send_message")
    assert {p.key for p in spec.params} >= {"channel", "template", "recipient", "role", "user"}
    assert {p.key for p in get_action("webhook").params} == {"url", "secret", "body"}


def test_send_message_dry_run_writes_nothing(make_customer: Any) -> None:
    customer = make_customer()
    result = run(
        "send_message",
        ctx(customer, dry_run=True),
        {"channel": "sms", "template": "overdue_notice", "recipient": "customer"},
    )
    assert result["dry_run"] is True and result["category"] == "collection"
    assert result["body"].startswith("尊敬的张三,您的贷款已逾期1天")
    assert result["recipients"] == [f"sms:customer:{customer.pk}"]
    assert Delivery.objects.count() == 0


def test_send_message_to_the_customer_is_deduped_by_firing(make_customer: Any) -> None:
    customer = make_customer(phone="13811112222")
    params = {"channel": "sms", "template": "overdue_notice", "recipient": "customer"}
    first = run("send_message", ctx(customer), params)
    again = run("send_message", ctx(customer), params)
    assert first == again and Delivery.objects.count() == 1
    row = Delivery.objects.get()
    assert row.address == "13811112222" and row.customer_id == customer.pk
    assert row.category == "collection" and row.source == "rule:1"
    run("send_message", ctx(customer, key="r1:c1:2026-03-12"), params)  # another occurrence
    assert Delivery.objects.count() == 2


def test_send_message_to_owner_role_and_user(make_customer: Any) -> None:
    customer = make_customer()
    run(
        "send_message",
        ctx(customer, title="客户逾期", text="请跟进"),
        {"channel": "inapp", "template": "owner_alert", "recipient": "owner"},
    )
    note = Notification.objects.get(user_id=customer.owner_id)
    assert note.title == "客户逾期"
    collectors = list(User.objects.filter(roles__code="collector", is_active=True))
    assert collectors
    result = run(
        "send_message",
        ctx(customer, title="t", text="x"),
        {"channel": "inapp", "template": "owner_alert", "recipient": "role", "role": "collector"},
    )
    assert len(result["deliveries"]) == len(collectors)
    gm = User.objects.get(username="gm")
    run(
        "send_message",
        ctx(customer, title="t", text="x"),
        {"channel": "inapp", "template": "owner_alert", "recipient": "user", "user": gm.pk},
    )
    assert Notification.objects.filter(user=gm).count() == 1
    assert Role.objects.filter(code="collector").exists()


def test_send_message_bad_params(make_customer: Any) -> None:
    customer = make_customer()
    for params in (
        {"channel": "fax", "template": "overdue_notice"},
        {"channel": "sms", "template": "nope"},
        {"channel": "sms", "template": "overdue_notice", "recipient": "everyone"},
        {"channel": "inapp", "template": "owner_alert", "recipient": "user", "user": "x"},
    ):
        with pytest.raises(ValidationFailed):
            run("send_message", ctx(customer, title="t", text="x"), params)
    assert Delivery.objects.count() == 0


def test_webhook_action(make_customer: Any) -> None:
    customer = make_customer()
    params = {
        "url": "https://erp.example.com/hook",
        "secret": "s1",
        "body": '{"loan": {id}, "name": "{rule_name}", "note": "{quote}"}',
    }
    dry = run("webhook", ctx(customer, dry_run=True, quote='say "hi"'), params)
    assert dry == {
        "dry_run": True,
        "url": "https://erp.example.com/hook",
        "body": '{"loan": 42, "name": "逾期第一天", "note": "say \\"hi\\""}',
    }
    assert Delivery.objects.count() == 0
    real = run("webhook", ctx(customer, quote="q"), params)
    again = run("webhook", ctx(customer, quote="q"), params)
    assert real == again
    row = Delivery.objects.get()
    assert row.secret == "s1" and row.address == "https://erp.example.com/hook"
    for bad in ({"url": "ftp://x"}, {"url": "https://x", "body": "{missing}"}):
        with pytest.raises(ValidationFailed):
            run("webhook", ctx(customer, key="other"), bad)
