"""The flow history lives in its rows only (ADR 0015): the state keeps a counter, the rows
carry what the timeline needs, and migration flows 0007 moves old states both ways."""

import importlib
from typing import Any

import pytest
from django.apps import apps

from loandesk.flows import selectors, services
from loandesk.flows.engine import InstanceState
from loandesk.flows.models import FlowHistory, FlowInstance
from tests.flows.conftest import Flows

migration = importlib.import_module("loandesk.flows.migrations.0007_history_out_of_state")


def _returned_and_resubmitted(flows: Flows) -> FlowInstance:
    inst = flows.submit()
    inst = flows.act(inst, "manager", "return", target="initiator", comment="补充材料")
    inst = services.resubmit(
        actor=flows.user("officer1"), instance_id=inst.pk, data={}, comment="已补充"
    )
    return flows.act(inst, "manager", comment="同意")


def _rows(inst: FlowInstance) -> list[tuple[Any, ...]]:
    return list(
        FlowHistory.objects.filter(instance=inst)
        .order_by("seq")
        .values_list("seq", "action", "node_id", "visit", "round")
    )


def test_the_state_counts_the_events_and_the_rows_carry_visit_and_round(flows: Flows) -> None:
    inst = _returned_and_resubmitted(flows)
    assert "history" not in inst.state
    rows = _rows(inst)
    assert inst.state["history_seq"] == len(rows) == rows[-1][0]
    returned = next(r for r in rows if r[1] == "returned")
    assert returned[2:] == ("manager_review", 1, 1)
    approved = next(r for r in rows if r[1] == "approved")
    assert approved[2:] == ("manager_review", 2, 2)  # the second visit, in the second round


def test_the_timeline_shows_each_visit_s_acts_from_the_rows(flows: Flows) -> None:
    inst = _returned_and_resubmitted(flows)
    detail = selectors.instance_detail(actor=flows.user("manager"), instance_id=inst.pk)
    review = next(i for i in detail["progress"] if i["node_id"] == "manager_review")
    # The node's last visit: the approval after the resubmission, not the return before it.
    assert [(a["action"], a["comment"]) for a in review["acts"]] == [("approved", "同意")]
    manager = flows.user("manager")
    assert review["acts"][0]["actor_name"] == (manager.full_name or manager.username)
    start = next(i for i in detail["progress"] if i["node_id"] == "start")
    assert [a["action"] for a in start["acts"]] == ["submitted", "resubmitted"]


def test_migration_0007_moves_the_history_out_of_the_state_and_back(
    flows: Flows, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migration, "BATCH", 1)  # one instance per batch: the batching too
    first = _returned_and_resubmitted(flows)
    second = flows.submit(amount="150000")
    converted = {i.pk: (dict(i.state), _rows(i)) for i in (first, flows.refresh(second))}
    events = [
        e.to_json() for e in selectors.history_events(FlowHistory.objects.filter(instance=first))
    ]

    migration.rows_to_history(apps, None)  # the way back: the states as before ADR 0015
    first.refresh_from_db()
    assert "history_seq" not in first.state
    assert first.state["history"] == events
    assert InstanceState.from_json(first.state).history_seq == len(events)

    # Before migration 0006 the rows had no visit or round; and one event lost its row.
    FlowHistory.objects.update(visit=None, round=1)
    lost = FlowHistory.objects.get(instance=first, action="returned")
    lost.delete()
    migration.history_to_rows(apps, None)
    for inst in (first, second):
        inst.refresh_from_db()
        assert (inst.state, _rows(inst)) == converted[inst.pk]
    again = FlowHistory.objects.get(instance=first, action="returned")
    assert (again.actor_id, again.comment, again.at) == (lost.actor_id, lost.comment, lost.at)

    migration.history_to_rows(apps, None)  # again: nothing left to move
    first.refresh_from_db()
    assert first.state == converted[first.pk][0]
