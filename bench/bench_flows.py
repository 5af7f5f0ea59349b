"""Approval actions per second: through the flow engine core (in memory, and with the JSON
load/save of the instance state around each command), through the service layer on the current
database (`flows.services.act`: transaction, row lock, engine, task/timer/history rows, outbox
events, audit; target ≥ 500/s) one at a time and from eight threads of this process, the floor
under the former (one durable commit), and a SpiffWorkflow 3.x baseline: the same sequential
five-approval process as BPMN user tasks, each completion followed by the engine steps and a
JSON serialisation of the workflow (what a service layer around it would store).
"""

import itertools
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import Row, measure, row_from
from loandesk.core.expression import evaluate_condition
from loandesk.flows.engine import Definition, FlowEngine, InstanceState, StaticDirectory

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
USERS = [f"u{i}" for i in range(1, 6)]
DEFINITION: dict[str, Any] = {
    "key": "bench",
    "name": "bench",
    "version": 1,
    "settings": {},
    "nodes": [
        {"id": "start", "kind": "start", "name": "提交"},
        *[
            {
                "id": f"n{i}",
                "kind": "approval",
                "name": f"n{i}",
                "assignees": [{"kind": "user", "user_ids": [user]}],
                "deadline": {"hours": 8, "reminder_before": 1},
            }
            for i, user in enumerate(USERS, 1)
        ],
        {"id": "end", "kind": "end", "name": "结束"},
    ],
}
COMMANDS_PER_RUN = 1 + len(USERS)


def _engine() -> FlowEngine:
    return FlowEngine(
        Definition.from_json(DEFINITION),
        directory=StaticDirectory(roles={}, departments={}, member_of={}, admin_ids=["admin"]),
        evaluate_condition=evaluate_condition,
    )


def _run(engine: FlowEngine, json_roundtrip: bool) -> None:
    t = engine.start(initiator="officer1", data={"amount": 100000}, now=T0)
    for i, user in enumerate(USERS, 1):
        state = InstanceState.from_json(t.state.to_json()) if json_roundtrip else t.state
        t = engine.act(
            state,
            task_id=f"n{i}:1:1",
            user_id=user,
            action="approve",
            now=T0 + timedelta(minutes=i),
        )
    assert t.state.status == "approved"


SERVICE_KEY = "bench_service"
SPIFF_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _spiff_spec() -> Any:
    from lxml import etree
    from SpiffWorkflow.bpmn.parser import BpmnParser

    ids = ["start", *[f"n{i}" for i in range(1, len(USERS) + 1)], "end"]
    tasks = "".join(f'<bpmn:userTask id="{n}" name="{n}"/>' for n in ids[1:-1])
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(ids))
    )
    xml = (
        f'<bpmn:definitions xmlns:bpmn="{SPIFF_BPMN_NS}" id="d" targetNamespace="bench">'
        f'<bpmn:process id="approval" isExecutable="true"><bpmn:startEvent id="start"/>{tasks}'
        f'<bpmn:endEvent id="end"/>{flows}</bpmn:process></bpmn:definitions>'
    )
    parser = BpmnParser()
    parser.add_bpmn_xml(etree.fromstring(xml.encode()), filename="bench.bpmn")
    return parser.get_spec("approval")


def _spiff_run(spec: Any, serializer: Any) -> None:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    wf = BpmnWorkflow(spec)
    wf.do_engine_steps()
    state = serializer.serialize_json(wf)
    for user in USERS:
        wf = serializer.deserialize_json(state)
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        ready[0].data["approved_by"] = user
        ready[0].run()
        wf.do_engine_steps()
        state = serializer.serialize_json(wf)
    assert wf.is_completed()


def _spiff_row(repeat: int) -> Row:
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer

    spec = _spiff_spec()
    serializer = BpmnWorkflowSerializer()
    times = measure(lambda: _spiff_run(spec, serializer), repeat=repeat)
    row = row_from("SpiffWorkflow, 5 approvals (with JSON state)", "SpiffWorkflow 3", times)
    row.throughput *= COMMANDS_PER_RUN
    row.notes = "ops/s = commands per second (start + 5 task completions)"
    return row


def _service_setup(instances: int) -> tuple[Any, list[Any], list[int]]:
    """A 5-approval flow bound to the 客户档案 form, and `instances` started instances."""
    from loandesk.accounts.models import User
    from loandesk.flows import services
    from loandesk.flows.models import FlowDefinition
    from loandesk.forms.services import create_record

    approvers = list(
        User.objects.filter(username__in=["manager", "gm", "risk", "finance", "admin"])
    )
    approvers.sort(key=lambda u: u.username)
    admin = next(u for u in approvers if u.username == "admin")
    FlowDefinition.objects.filter(key=SERVICE_KEY).delete()
    FlowDefinition.objects.filter(form__code="customer_profile").update(is_active=False)
    services.create_definition(
        actor=admin, key=SERVICE_KEY, name="bench", form_code="customer_profile"
    )
    nodes = [
        {
            "id": f"n{i}",
            "kind": "approval",
            "name": f"审批{i}",
            "assignees": [{"kind": "user", "user_ids": [str(u.pk)]}],
            "deadline": {"hours": 8, "reminder_before": 1},
        }
        for i, u in enumerate(approvers, 1)
    ]
    definition = {
        "key": SERVICE_KEY,
        "name": "bench",
        "version": 1,
        "nodes": [
            {"id": "start", "kind": "start", "name": "提交"},
            *nodes,
            {"id": "end", "kind": "end", "name": "结束"},
        ],
    }
    services.save_draft(actor=admin, key=SERVICE_KEY, definition=definition)
    services.publish(actor=admin, key=SERVICE_KEY)
    ids = []
    for _ in range(instances):
        record = create_record(actor=admin, form_code="customer_profile", data={})
        ids.append(record.flow_instances.get().pk)
    return admin, approvers, ids


def _cleanup(ids: list[int]) -> None:
    from loandesk.flows.models import FlowDefinition, FlowInstance
    from loandesk.forms.models import Record

    record_ids = list(FlowInstance.objects.filter(pk__in=ids).values_list("record_id", flat=True))
    FlowInstance.objects.filter(pk__in=ids).delete()
    Record.objects.filter(pk__in=record_ids).delete()
    FlowDefinition.objects.filter(key=SERVICE_KEY).delete()


def _open_tasks(ids: list[int], user: Any) -> dict[int, int]:
    from loandesk.flows.models import FlowTask

    return dict(
        FlowTask.objects.filter(instance_id__in=ids, user=user, status="open").values_list(
            "instance_id", "pk"
        )
    )


def _service_row(instances: int) -> Row:
    from django.db import connection

    from loandesk.flows import services
    from loandesk.flows.models import FlowInstance

    _admin, approvers, ids = _service_setup(instances)
    times: list[float] = []
    cpu: list[float] = []
    try:
        for user in approvers:
            tasks = _open_tasks(ids, user)
            for instance_id in ids:
                start, start_cpu = time.perf_counter(), time.process_time()
                task_id = tasks[instance_id]
                services.act(actor=user, instance_id=instance_id, task_id=task_id, action="approve")
                cpu.append((time.process_time() - start_cpu) * 1000)
                times.append((time.perf_counter() - start) * 1000)
        assert FlowInstance.objects.filter(pk__in=ids, status="approved").count() == len(ids)
    finally:
        _cleanup(ids)
    row = row_from(
        "approval actions/s via the service layer",
        f"loandesk ({connection.vendor})",
        times,
        target=">= 500/s",
    )
    row.met = row.throughput >= 500
    row.extra["cpu_median_ms"] = statistics.median(cpu)
    row.notes = (
        f"one services.act(approve) at a time: lock, engine, rows, outbox, audit, commit; "
        f"{statistics.median(cpu):.2f} ms of it is this process's CPU, the rest waits on the "
        "database (round trips and, on PostgreSQL, the commit's WAL flush)"
    )
    return row


def _commit_row(repeat: int) -> Row:
    """The floor under a sequential approval: one durable commit of a one-row INSERT."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_commit_probe (n integer)")
    try:

        def commit() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("INSERT INTO bench_commit_probe (n) VALUES (1)")

        times = measure(commit, repeat=repeat)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_commit_probe")
    row = row_from("one commit (one-row INSERT)", f"{connection.vendor}", times)
    row.notes = "the floor of one approval at a time: on PostgreSQL the WAL flush (fsync)"
    return row


def _concurrent_row(threads: int, per_thread: int) -> Row:
    """Approvals from `threads` threads of this process, each with its own connection and
    its own instances: the commits' WAL flushes overlap (PostgreSQL's group commit)."""
    import threading

    from django.db import connection, connections

    from loandesk.flows import services
    from loandesk.flows.models import FlowInstance

    _admin, approvers, ids = _service_setup(threads * per_thread)
    times: list[float] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def work(mine: list[int]) -> None:
        try:
            barrier.wait()
            for user in approvers:
                tasks = _open_tasks(mine, user)
                for instance_id in mine:
                    start = time.perf_counter()
                    services.act(
                        actor=user,
                        instance_id=instance_id,
                        task_id=tasks[instance_id],
                        action="approve",
                    )
                    times.append((time.perf_counter() - start) * 1000)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, args=(ids[i::threads],)) for i in range(threads)]
    try:
        for w in workers:
            w.start()
        barrier.wait()
        start = time.perf_counter()
        for w in workers:
            w.join()
        wall = time.perf_counter() - start
        if errors:
            raise errors[0]
        assert FlowInstance.objects.filter(pk__in=ids, status="approved").count() == len(ids)
    finally:
        _cleanup(ids)
    row = row_from(
        f"approval actions/s via the service layer, {threads} threads",
        f"loandesk ({connection.vendor})",
        times,
        target=">= 500/s",
    )
    row.throughput = len(times) / wall
    row.met = row.throughput >= 500
    row.notes = (
        f"{threads} threads in one process, each approving its own instances on its own "
        "connection; ops/s = all approvals / wall time, median/p95 = one approval's latency"
    )
    return row


def run(scale: str) -> list[Row]:
    import logging

    logging.getLogger("spiff").setLevel(logging.WARNING)
    engine = _engine()
    repeat = 300 if scale == "small" else 1000
    rows = []
    for label, roundtrip in (("in memory", False), ("with JSON state", True)):
        times = measure(lambda r=roundtrip: _run(engine, r), repeat=repeat)  # type: ignore[misc]
        row = row_from(f"flow core, 5 approvals ({label})", "python", times)
        # One run is six commands: report commands per second.
        row.throughput *= COMMANDS_PER_RUN
        row.notes = "ops/s = approval commands per second"
        rows.append(row)
    spiff = _spiff_row(repeat=50 if scale == "small" else 200)
    rows[-1].baseline = spiff.operation
    rows[-1].baseline_median_ms = spiff.median_ms
    rows.append(spiff)
    rows.append(_commit_row(repeat=200 if scale == "small" else 1000))
    service = _service_row(40 if scale == "small" else 200)
    # Ratio per command: SpiffWorkflow's median run is six commands, in memory.
    service.baseline = spiff.operation
    service.baseline_median_ms = spiff.median_ms / COMMANDS_PER_RUN
    rows.append(service)
    concurrent = _concurrent_row(threads=8, per_thread=25 if scale == "small" else 50)
    concurrent.notes += (
        f"; {concurrent.throughput / spiff.throughput:.2f}x SpiffWorkflow's commands/s"
    )
    rows.append(concurrent)
    return rows
