"""Two approvers act at the same moment on an 或签 (any) node: exactly one transition.
Committed transactions on PostgreSQL, each thread with its own connection."""

import threading
from typing import Any

import pytest
from django.db import connections

from loandesk.core.errors import LoanDeskError
from loandesk.flows import services
from loandesk.flows.models import FlowHistory, FlowInstance, FlowTask
from tests.flows.conftest import Flows, approval, custom_flow

pytestmark = [
    pytest.mark.postgres(
        reason="SQLite has one database-wide write lock, so the two approvals never overlap there"
    ),
    pytest.mark.django_db(transaction=True),
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


def test_many_concurrent_approvals_over_many_instances_via_the_api(
    flows: Flows, client_for: Any
) -> None:
    """Five instances of an 或签 node (manager or gm) then a 会签 node (risk and manager): in
    each round every open task is approved through the API at the same moment by its holder —
    twice (a double tap) — while the other holder of an 或签 node approves too. Every task
    ends with one decision, every node with one transition, every instance approved; the
    losers get a 4xx that says why, never a 500 (no deadlock or serialization error leaks)."""
    names = ("manager", "gm", "risk")
    users = {n: flows.user(n) for n in names}
    custom_flow(
        [
            approval("a1", [users["manager"].pk, users["gm"].pk], mode="any"),
            approval("a2", [users["risk"].pk, users["manager"].pk], mode="all"),
        ]
    )
    instances = [flows.submit(customer_n=0) for _ in range(5)]
    # Two clients per user: the double tap comes from two sessions, as from two phones.
    clients = {n: [client_for(n), client_for(n)] for n in names}
    statuses: list[tuple[str, int, str]] = []
    for node in ("a1", "a2"):
        calls = []
        for inst in instances:
            for task in FlowTask.objects.filter(instance=inst, node_id=node, status="open"):
                holder = task.user.username
                for k in range(2):
                    calls.append((clients[holder][k], inst.pk, task.pk))
        barrier = threading.Barrier(len(calls))

        def run(
            client: Any,
            instance_id: int,
            task_id: int,
            barrier: threading.Barrier = barrier,
            node: str = node,
        ) -> None:
            try:
                barrier.wait()
                res = client.post(
                    f"flows/instances/{instance_id}/act",
                    {"task_id": task_id, "action": "approve"},
                )
                code = res.json().get("code", "") if res.status_code != 200 else ""
                statuses.append((node, res.status_code, code))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run, args=c) for c in calls]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert all(s < 500 for _, s, _ in statuses), statuses
    # A late tap finds its task closed, or on a2 the whole instance finished already.
    allowed = {(200, ""), (409, "flow.task_closed"), (409, "flow.instance_finished")}
    assert {(s, c) for _, s, c in statuses} <= allowed, statuses
    # a1: 2 tasks x 2 taps per instance, one of them wins; a2: 2 tasks x 2 taps, one per task.
    assert sum(1 for n, s, _ in statuses if n == "a1" and s == 200) == len(instances)
    assert sum(1 for n, s, _ in statuses if n == "a2" and s == 200) == 2 * len(instances)
    for inst in instances:
        inst = FlowInstance.objects.get(pk=inst.pk)
        assert inst.status == "approved", inst.status
        assert not FlowTask.objects.filter(instance=inst, status="open").exists()
        history = list(FlowHistory.objects.filter(instance=inst).order_by("seq"))
        assert [h.seq for h in history] == list(range(1, len(history) + 1))
        approved = [h.node_id for h in history if h.action == "node_approved"]
        assert sorted(approved) == ["a1", "a2"]
        decisions = [(h.node_id, h.actor_id) for h in history if h.action == "approved"]
        assert len(decisions) == len(set(decisions)) == 3  # one a1 holder, both a2 holders
