"""The flow history lives in its rows only (ADR 0015): the state keeps a counter, the rows
carry what the timeline needs, and migration flows 0006 moves old states both ways."""

import importlib
from typing import Any

from django.apps import apps

from loandesk.flows import selectors, services
from loandesk.flows.engine import InstanceState
from loandesk.flows.models import FlowHistory, FlowInstance
from tests.flows.conftest import Flows

migration = importlib.import_module("loandesk.flows.migrations.0006_history_out_of_state")


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
    assert review["acts"][0]["actor_name"]
    start = next(i for i in detail["progress"] if i["node_id"] == "start")
    assert [a["action"] for a in start["acts"]] == ["submitted", "resubmitted"]


def test_migration_0006_moves_the_history_out_of_the_state_and_back(flows: Flows) -> None:
    inst = _returned_and_resubmitted(flows)
    migrated_state, migrated_rows = dict(inst.state), _rows(inst)
    events = [
        e.to_json() for e in selectors.history_events(FlowHistory.objects.filter(instance=inst))
    ]

    migration.rows_to_history(apps, None)  # the way back: the state as before ADR 0015
    inst.refresh_from_db()
    assert "history_seq" not in inst.state
    assert inst.state["history"] == events
    assert InstanceState.from_json(inst.state).history_seq == len(events)

    # Before the migration the rows had no visit or round.
    FlowHistory.objects.filter(instance=inst).update(visit=None, round=1)
    migration.history_to_rows(apps, None)
    inst.refresh_from_db()
    assert inst.state == migrated_state
    assert _rows(inst) == migrated_rows

    migration.history_to_rows(apps, None)  # again: nothing left to move
    inst.refresh_from_db()
    assert inst.state == migrated_state
