"""Two approvers act at the same moment on an 或签 (any) node: exactly one transition.
Committed transactions on PostgreSQL, each thread with its own connection."""

import threading
from typing import Any

import pytest
from django.db import connection, connections

from loandesk.core.errors import LoanDeskError
from loandesk.flows import services
from loandesk.flows.models import FlowHistory, FlowInstance, FlowTask
from tests.flows.conftest import Flows, approval, custom_flow

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason=(
            "needs PostgreSQL: SQLite has one database-wide write lock, so the two approvals "
            "never overlap there (DATABASE_URL=postgresql://… to run it)"
        ),
    ),
]


def test_two_approvers_on_an_any_node_make_one_transition(flows: Flows) -> None:
    manager, gm, risk = flows.user("manager"), flows.user("gm"), flows.user("risk")
    custom_flow([approval("a1", [manager.pk, gm.pk], mode="any"), approval("a2", [risk.pk])])
    inst = flows.submit()
    tasks = {t.user_id: t.pk for t in FlowTask.objects.filter(instance=inst, status="open")}
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int, user: Any) -> None:
        try:
            barrier.wait()
            services.act(actor=user, instance_id=inst.pk, task_id=tasks[user.pk], action="approve")
            results[i] = "ok"
        except LoanDeskError as exc:
            results[i] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate((manager, gm))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == ["flow.task_closed", "ok"]
    inst = FlowInstance.objects.get(pk=inst.pk)
    assert inst.current_node_id == "a2" and inst.state_version == 2
    assert FlowHistory.objects.filter(instance=inst, action="node_approved").count() == 1
    assert FlowTask.objects.filter(instance=inst, node_id="a2", status="open").count() == 1
