"""Inbox and 360 queries that stay narrow however many tasks an approver has handled (the load
test of an officer's day found them reading every task of the approver; docs/performance.md,
"Load test")."""

from typing import Any

import pytest
from django.utils import timezone

from loandesk.flows import selectors
from loandesk.flows.models import FlowCc
from tests.flows.conftest import Flows

BASE = "flows"


def test_the_360_applications_count_looks_up_the_customers_instances_only(
    flows: Flows, client_for: Any
) -> None:
    first = flows.submit(customer_n=0)
    flows.submit(customer_n=0, amount="60000")
    other = flows.submit(customer_n=1)
    flows.act(other, "manager")  # the manager handled a task of another customer too
    customer = first.customer
    detail = client_for("manager").get(f"customers/{customer.pk}").json()
    assert detail["counts"]["applications"] == 2
    assert client_for("officer2").get(f"customers/{customer.pk}").status_code == 404
    for username in ("manager", "risk", "officer1"):
        sql = str(selectors.visible_instances(flows.user(username)).filter(customer=customer).query)
        # Correlated to the instance (EXISTS … = "flows_flowinstance"."id"), never the list of
        # every task the user ever had (`"id" IN (SELECT U0."instance_id" …)`).
        assert 'IN (SELECT U0."instance_id"' not in sql, sql
        assert "EXISTS" in sql, sql


def test_done_count_is_capped(
    flows: Flows, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        flows.act(flows.submit(customer_n=n, amount="50000"), "manager", "reject")
    waiting = flows.submit(customer_n=3)
    manager = client_for("manager")
    assert manager.get(f"{BASE}/inbox/counts").json()["done"] == 3
    monkeypatch.setattr(selectors, "DONE_COUNT_CAP", 2)
    counts = manager.get(f"{BASE}/inbox/counts").json()
    assert counts["done"] == 2  # capped
    assert counts["todo"] == 1 and flows.task(waiting, "manager")  # exact
    assert len(manager.get(f"{BASE}/inbox/done").json()["items"]) == 3  # the list is whole


def test_unread_cc_count_is_capped(
    flows: Flows, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = flows.submit(customer_n=0)
    gm = flows.user("gm")
    now = timezone.now()
    FlowCc.objects.filter(user=gm).delete()
    FlowCc.objects.bulk_create(
        [FlowCc(instance=instance, user=gm, node_id="cc", created_at=now) for _ in range(3)]
        + [FlowCc(instance=instance, user=gm, node_id="cc", created_at=now, read_at=now)]
    )
    client = client_for("gm")
    assert client.get(f"{BASE}/inbox/counts").json()["cc_unread"] == 3
    monkeypatch.setattr(selectors, "DONE_COUNT_CAP", 2)
    assert client.get(f"{BASE}/inbox/counts").json()["cc_unread"] == 2
