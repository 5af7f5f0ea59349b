"""Fixtures of the flows tests: the demo organisation with the published 贷款审批 flow, and
helpers that submit applications and act on tasks the way the phone app does."""

from typing import Any

import pytest

from loandesk.accounts.models import User
from loandesk.customers.models import Customer
from loandesk.flows import services
from loandesk.flows.models import FlowInstance, FlowTask
from loandesk.forms.services import create_record


class Flows:
    def __init__(self, demo: dict[str, Any]) -> None:
        self.users: dict[str, User] = demo["users"]  # type: ignore[assignment]

    def user(self, name: str) -> User:
        return User.objects.get(username=name)

    def customer(self, owner: str = "officer1", n: int = 0) -> Customer:
        return Customer.objects.filter(owner__username=owner, status="active").order_by("id")[n]

    def submit(
        self,
        owner: str = "officer1",
        amount: str = "120000",
        product: str = "consumer",
        **extra: Any,
    ) -> FlowInstance:
        officer = self.user(owner)
        data = {
            "customer": self.customer(owner, extra.pop("customer_n", 0)).pk,
            "product": product,
            "amount": amount,
            "term": extra.pop("term", 24),
            "annual_rate": "12",
            "purpose": "consumption",
            "applicant_income": "30000",
            **extra,
        }
        if float(amount) > 500000:
            data.setdefault("guarantee", "guarantor")
        record = create_record(actor=officer, form_code="loan_application", data=data)
        return FlowInstance.objects.get(record=record)

    def task(self, instance: FlowInstance, username: str) -> FlowTask:
        return FlowTask.objects.get(instance=instance, user__username=username, status="open")

    def open_users(self, instance: FlowInstance) -> list[str]:
        return sorted(
            FlowTask.objects.filter(instance=instance, status="open").values_list(
                "user__username", flat=True
            )
        )

    def act(
        self, instance: FlowInstance, username: str, action: str = "approve", **kw: Any
    ) -> FlowInstance:
        task = self.task(instance, username)
        services.act(
            actor=self.user(username), instance_id=instance.pk, task_id=task.pk, action=action, **kw
        )
        services.run_pending_steps()
        instance.refresh_from_db()
        return instance

    def refresh(self, instance: FlowInstance) -> FlowInstance:
        instance.refresh_from_db()
        return instance


@pytest.fixture
def flows(demo: dict[str, Any]) -> Flows:
    return Flows(demo)


def custom_flow(nodes: list[dict[str, Any]], key: str = "custom") -> None:
    """Replace the demo binding of 贷款申请 with a published flow of these nodes (after start)."""
    admin = User.objects.get(username="admin")
    services.update_definition(actor=admin, key="loan_approval", is_active=False)
    services.create_definition(actor=admin, key=key, name="测试流程", form_code="loan_application")
    definition = {
        "key": key,
        "name": "测试流程",
        "version": 1,
        "nodes": [
            {"id": "start", "kind": "start", "name": "发起"},
            *nodes,
            {"id": "end", "kind": "end", "name": "结束"},
        ],
    }
    _draft, issues = services.save_draft(actor=admin, key=key, definition=definition)
    assert issues == [], issues
    services.publish(actor=admin, key=key)


def approval(node_id: str, user_ids: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "kind": "approval",
        "name": f"审批{node_id}",
        "assignees": [{"kind": "user", "user_ids": [str(u) for u in user_ids]}],
        **extra,
    }
