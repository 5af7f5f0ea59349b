"""The state machine: `FlowEngine.handle(state, command) -> Transition(state, effects)`.

One `FlowEngine` wraps one published definition plus the injected collaborators:

- `directory` (`Directory`): roles, department heads, form user fields, customer owners, admins;
- `evaluate_condition(logic, data) -> bool`: the JSON-logic evaluator (the Django layer passes
  the project's; the core never imports a JSON-logic library);
- `is_working_day(date) -> bool`: the holiday calendar for working-hour deadlines;
- `local_tz`: the zone of the 09:00–18:00 working window (default UTC+08:00).

Every command works on a clone of the state and returns it with ``version + 1`` and the effects
to apply; a refused command raises `FlowError` and leaves the given state untouched. Ids are
derived from the state, never random: a task is ``f"{node_id}:{visit}:{n}"``, its timers
``f"{task_id}:remind"`` / ``f"{task_id}:timeout"``, an automated step ``f"{node_id}:{visit}"``.
`visit` counts entries into a node, so a node re-entered after a return or a resubmission gets
fresh task and timer ids and stale timers of the old visit are recognised and ignored.

Approval semantics (one *slot* per resolved assignee; transfer and add-signer move a slot between
users, the slot is decided once):

- any (或签): the first decision on any slot decides the node; other tasks are cancelled;
- all (会签): every slot must approve; one rejection rejects the node;
- sequential (依次): slots open one at a time in order; one rejection rejects the node;
- percent: approved once ``approved >= ceil(percent × slots / 100)``, rejected as soon as that
  can no longer be reached;
- a rejected node ends the instance as rejected (``on_reject: end``) or returns it to the
  initiator (``on_reject: return_to_initiator``);
- skip rules auto-approve a slot whose assignee is the initiator (``skip_initiator``) or approved
  the previous approval node on the route (``skip_previous_approver``; CC, automated and
  condition nodes in between do not break the chain); both are recorded as ``auto_approved``;
- nobody resolved: ``auto_pass`` (recorded), ``to_admin`` (`Directory.admins`), ``to_user``;
  if that is empty too the instance stops in status ``error`` (``flow.no_assignee``).

Transfer, add-signer and the task given back after an add-signer-before keep the slot's deadline;
an escalated task and every re-entered node get a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypedDict

from .commands import (
    ACT_ACTIONS,
    Act,
    AutomatedDone,
    AutomatedFailed,
    Cancel,
    Command,
    Resubmit,
    Retry,
    Start,
    TimerFired,
    Urge,
    Withdraw,
)
from .definition import (
    INITIATOR,
    ApprovalNode,
    AssigneeSpec,
    AutomatedNode,
    Branch,
    CcNode,
    ConditionGroup,
    Definition,
    EndNode,
    StartNode,
    field_permission,
)
from .directory import Directory
from .effects import (
    AutomatedCancelled,
    AutomatedRun,
    DataUpdated,
    Effect,
    Finished,
    HistoryRecorded,
    Notify,
    NotifyCc,
    StatusChanged,
    TaskClosed,
    TaskCreated,
    TimerCancelled,
    TimerScheduled,
    Transition,
)
from .errors import FlowError
from .state import (
    APPROVED,
    CANCELLED,
    ERROR,
    OPEN,
    REJECTED,
    RETURNED,
    RUNNING,
    SYSTEM,
    WITHDRAWN,
    ApprovalRun,
    AutoStep,
    HistoryEvent,
    InstanceState,
    Slot,
    Task,
    Timer,
    Visit,
)
from .workhours import SHANGHAI, IsWorkingDay, due_at, weekdays_only

EvaluateCondition = Callable[[Any, Mapping[str, Any]], bool]

# act action → the node setting that must allow it
_NEEDS = {
    "approve": "approve",
    "reject": "reject",
    "return": "return",
    "transfer": "transfer",
    "add_signer_before": "add_signer",
    "add_signer_after": "add_signer",
    "comment": "comment",
}
_EDITING_ACTIONS = ("approve", "add_signer_after", "comment")
_MAX_ESCALATION_LEVELS = 5
_MISSING = object()


class _Extra(TypedDict, total=False):
    """What a person adds to an act: a comment, attachment ids, a signature file id."""

    comment: str | None
    attachments: tuple[str, ...]
    signature: str | None


class FlowEngine:
    """Applies commands to instances of one definition. Stateless and thread-safe."""

    def __init__(
        self,
        definition: Definition,
        *,
        directory: Directory,
        evaluate_condition: EvaluateCondition,
        is_working_day: IsWorkingDay = weekdays_only,
        local_tz: tzinfo = SHANGHAI,
    ) -> None:
        self.definition = definition
        self.directory = directory
        self.evaluate_condition = evaluate_condition
        self.is_working_day = is_working_day
        self.local_tz = local_tz

    # ---- the one entry point

    def handle(self, state: InstanceState | None, command: Command) -> Transition:
        if isinstance(command, Start):
            if state is not None:
                raise FlowError("flow.bad_command", {"type": "start"})
            return _Step(self, None, command.now).start(command)
        if state is None:
            raise FlowError("flow.bad_command", {"type": command.type})
        if (
            state.definition_key != self.definition.key
            or state.definition_version != self.definition.version
        ):
            raise FlowError(
                "flow.definition_mismatch",
                {"key": state.definition_key, "version": state.definition_version},
            )
        expected = getattr(command, "expected_version", None)
        if expected is not None and expected != state.version:
            raise FlowError("flow.conflict", {"expected": expected, "actual": state.version})
        step = _Step(self, state, command.now)
        if isinstance(command, Act):
            return step.act(command)
        if isinstance(command, TimerFired):
            return step.timer_fired(command)
        if isinstance(command, AutomatedDone | AutomatedFailed):
            return step.automated_result(command)
        if isinstance(command, Withdraw):
            return step.withdraw(command)
        if isinstance(command, Urge):
            return step.urge(command)
        if isinstance(command, Resubmit):
            return step.resubmit(command)
        if isinstance(command, Retry):
            return step.retry(command)
        return step.cancel(command)

    # ---- keyword conveniences (same as handle with the command dataclass)

    def start(
        self,
        *,
        initiator: str,
        data: Mapping[str, Any],
        now: datetime,
        choices: Mapping[str, Sequence[str]] | None = None,
    ) -> Transition:
        return self.handle(None, Start(initiator, data, now, choices or {}))

    def act(
        self,
        state: InstanceState,
        *,
        task_id: str,
        user_id: str,
        action: str,
        now: datetime,
        comment: str | None = None,
        attachments: Sequence[str] = (),
        signature: str | None = None,
        target: str | None = None,
        data: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> Transition:
        return self.handle(
            state,
            Act(
                task_id,
                user_id,
                action,
                now,
                comment,
                tuple(attachments),
                signature,
                target,
                data,
                expected_version,
            ),
        )

    def withdraw(
        self,
        state: InstanceState,
        *,
        user_id: str,
        now: datetime,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Transition:
        return self.handle(state, Withdraw(user_id, now, comment, expected_version))

    def urge(
        self,
        state: InstanceState,
        *,
        user_id: str,
        now: datetime,
        expected_version: int | None = None,
    ) -> Transition:
        return self.handle(state, Urge(user_id, now, expected_version))

    def resubmit(
        self,
        state: InstanceState,
        *,
        user_id: str,
        data: Mapping[str, Any],
        now: datetime,
        choices: Mapping[str, Sequence[str]] | None = None,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Transition:
        return self.handle(state, Resubmit(user_id, data, now, choices, comment, expected_version))

    def timer_fired(self, state: InstanceState, *, timer_id: str, now: datetime) -> Transition:
        return self.handle(state, TimerFired(timer_id, now))

    def automated_done(
        self, state: InstanceState, *, step_id: str, result: Any, now: datetime
    ) -> Transition:
        return self.handle(state, AutomatedDone(step_id, result, now))

    def automated_failed(
        self, state: InstanceState, *, step_id: str, error: str, now: datetime
    ) -> Transition:
        return self.handle(state, AutomatedFailed(step_id, error, now))

    def retry(
        self,
        state: InstanceState,
        *,
        user_id: str,
        now: datetime,
        expected_version: int | None = None,
    ) -> Transition:
        return self.handle(state, Retry(user_id, now, expected_version))

    def cancel(
        self,
        state: InstanceState,
        *,
        user_id: str,
        now: datetime,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> Transition:
        return self.handle(state, Cancel(user_id, now, comment, expected_version))


class _Step:
    """One command being applied: the working copy of the state and the effects so far."""

    def __init__(self, engine: FlowEngine, state: InstanceState | None, now: datetime) -> None:
        self.engine = engine
        self.d = engine.definition
        self.original = state
        self.st: InstanceState = state.clone() if state is not None else _placeholder(now)
        self.now = now
        self.fx: list[Effect] = []

    def done(self) -> Transition:
        self.st.version += 1
        return Transition(self.st, self.fx)

    def ignored(self) -> Transition:
        assert self.original is not None
        return Transition(self.original, [], ignored=True)

    # ================================================================== commands

    def start(self, cmd: Start) -> Transition:
        start = self.d.nodes[0]
        assert isinstance(start, StartNode)
        self.st = InstanceState(
            definition_key=self.d.key,
            definition_version=self.d.version,
            initiator=str(cmd.initiator),
            started_at=self.now,
            data=dict(cmd.data),
            choices=self._choices(cmd.choices),
        )
        self._submitted(start, "submitted", str(cmd.initiator), None)
        self._advance(self.d.first_after_start())
        return self.done()

    def act(self, cmd: Act) -> Transition:
        st = self.st
        if st.finished:
            raise FlowError("flow.instance_finished", {"status": st.status})
        task = st.tasks.get(cmd.task_id)
        if task is None:
            raise FlowError("flow.task_not_found", {"task_id": cmd.task_id})
        if task.user_id != str(cmd.user_id):
            raise FlowError("flow.not_your_task", {"task_id": task.id})
        if task.status != OPEN:
            raise FlowError("flow.task_closed", {"task_id": task.id, "status": task.status})
        node = self.d.approval(task.node_id)
        run = st.run
        assert run is not None and run.node_id == node.id and run.visit == task.visit
        if cmd.action not in ACT_ACTIONS or _NEEDS[cmd.action] not in node.actions:
            raise FlowError("flow.action_not_allowed", {"action": cmd.action, "node": node.id})
        if cmd.data:
            self._edit(node, cmd)
        extra: _Extra = {
            "comment": cmd.comment,
            "attachments": tuple(cmd.attachments),
            "signature": cmd.signature,
        }
        user = task.user_id
        if cmd.action == "comment":
            self._record("commented", actor=user, task=task, **extra)
            return self.done()
        st.acted = True
        if cmd.action == "approve":
            self._approve(node, run, task, actor=user, action="approved", extra=extra)
        elif cmd.action == "reject":
            self._reject(node, run, task, actor=user, action="rejected", extra=extra)
        elif cmd.action == "return":
            self._return(node, run, task, cmd.target, extra)
        elif cmd.action == "transfer":
            target = self._target_user(run, task, cmd.target)
            self._close_task(task, "transferred")
            self._record("transferred", actor=user, task=task, target=target, **extra)
            self._new_task(
                node,
                run,
                task.slot,
                target,
                "transfer",
                keep=task,
                return_stack=task.return_stack,
            )
        elif cmd.action == "add_signer_before":
            target = self._target_user(run, task, cmd.target)
            self._close_task(task, "delegated")
            self._record("add_signer_before", actor=user, task=task, target=target, **extra)
            self._new_task(
                node,
                run,
                task.slot,
                target,
                "before",
                keep=task,
                return_stack=(*task.return_stack, user),
            )
        else:  # add_signer_after: approve, then the added signer decides the slot
            target = self._target_user(run, task, cmd.target)
            self._close_task(task, "approved")
            run.approvers.append(user)
            self._record("add_signer_after", actor=user, task=task, target=target, **extra)
            self._new_task(
                node, run, task.slot, target, "after", keep=task, return_stack=task.return_stack
            )
        return self.done()

    def withdraw(self, cmd: Withdraw) -> Transition:
        st = self.st
        if st.finished:
            raise FlowError("flow.instance_finished", {"status": st.status})
        if str(cmd.user_id) != st.initiator:
            raise FlowError("flow.not_initiator")
        if st.status != RETURNED and st.acted:
            raise FlowError("flow.withdraw_not_allowed")
        self._record("withdrawn", actor=st.initiator, comment=cmd.comment)
        self._finish(WITHDRAWN)
        return self.done()

    def urge(self, cmd: Urge) -> Transition:
        st = self.st
        if st.finished:
            raise FlowError("flow.instance_finished", {"status": st.status})
        if str(cmd.user_id) != st.initiator:
            raise FlowError("flow.not_initiator")
        open_tasks = st.open_tasks()
        if st.status != RUNNING or not open_tasks:
            raise FlowError("flow.nothing_to_urge")
        interval = timedelta(minutes=self.d.settings.urge_interval_minutes)
        due = [
            t
            for t in open_tasks
            if t.last_urged_at is None or self.now - t.last_urged_at >= interval
        ]
        if not due:
            last = max(t.last_urged_at for t in open_tasks if t.last_urged_at is not None)
            raise FlowError("flow.urge_too_soon", {"next_at": (last + interval).isoformat()})
        for task in due:
            st.tasks[task.id] = replace(task, last_urged_at=self.now)
            self.fx.append(Notify("urge", (task.user_id,), task.node_id, task.id))
        self._record(
            "urged", actor=st.initiator, details={"task_ids": [t.id for t in due]}, node=due[0]
        )
        return self.done()

    def resubmit(self, cmd: Resubmit) -> Transition:
        st = self.st
        if st.finished:
            raise FlowError("flow.instance_finished", {"status": st.status})
        if str(cmd.user_id) != st.initiator:
            raise FlowError("flow.not_initiator")
        if st.status != RETURNED:
            raise FlowError("flow.not_returned", {"status": st.status})
        st.data = dict(cmd.data)
        if cmd.choices is not None:
            st.choices = self._choices(cmd.choices)
        st.round += 1
        st.acted = False
        self._set_status(RUNNING)
        returner = st.returned_from
        st.returned_from = None
        st.previous_approvers = []
        if self.d.settings.resubmit_from == "returner" and returner is not None:
            self._record("resubmitted", actor=st.initiator, comment=cmd.comment)
            self._advance(returner)
        else:
            start = self.d.nodes[0]
            assert isinstance(start, StartNode)
            st.route = []
            self._submitted(start, "resubmitted", st.initiator, cmd.comment)
            self._advance(self.d.first_after_start())
        return self.done()

    def timer_fired(self, cmd: TimerFired) -> Transition:
        st = self.st
        timer = st.timers.get(cmd.timer_id)
        if timer is None or st.status != RUNNING:
            return self.ignored()
        task = st.tasks.get(timer.task_id)
        if task is None or task.status != OPEN or st.run is None:
            return self.ignored()
        del st.timers[timer.id]
        node = self.d.approval(task.node_id)
        run = st.run
        if timer.kind == "reminder":
            self.fx.append(Notify("reminder", (task.user_id,), node.id, task.id))
            self._record("reminded", task=task, target=task.user_id)
            return self.done()
        assert node.deadline is not None
        policy = node.deadline.on_timeout
        details = {"reason": "timeout"}
        if policy == "auto_approve":
            self._approve(
                node, run, task, actor=SYSTEM, action="auto_approved", extra={}, details=details
            )
        elif policy == "auto_reject":
            self._reject(
                node, run, task, actor=SYSTEM, action="auto_rejected", extra={}, details=details
            )
        elif policy == "escalate":
            self._escalate(node, run, task)
        return self.done()

    def automated_result(self, cmd: AutomatedDone | AutomatedFailed) -> Transition:
        st = self.st
        step = st.steps.get(cmd.step_id)
        if step is None:
            raise FlowError("flow.step_not_found", {"step_id": cmd.step_id})
        if step.status != "running" or st.status != RUNNING or st.step_id != step.id:
            return self.ignored()
        node = self.d.node(step.node_id)
        assert isinstance(node, AutomatedNode)
        st.step_id = None
        st.current = None
        if isinstance(cmd, AutomatedDone):
            st.steps[step.id] = replace(step, status="done", finished_at=self.now)
            self._record(
                "automated_done", node=step, details={"action": step.action, "result": cmd.result}
            )
            if node.result_key:
                st.data = {**st.data, node.result_key: cmd.result}
                self.fx.append(DataUpdated(node.id, {node.result_key: cmd.result}))
            self._leave(node.id, "done")
            self._advance(self.d.next_of[node.id])
            return self.done()
        st.steps[step.id] = replace(step, status="failed", finished_at=self.now, error=cmd.error)
        self._record(
            "automated_failed", node=step, details={"action": step.action, "error": cmd.error}
        )
        if node.on_failure == "skip":
            self._leave(node.id, "skipped")
            self._advance(self.d.next_of[node.id])
        else:
            st.current = node.id
            self._stop("flow.automated_failed", node.id, cmd.error)
        return self.done()

    def retry(self, cmd: Retry) -> Transition:
        st = self.st
        if st.finished:
            raise FlowError("flow.instance_finished", {"status": st.status})
        if st.status != ERROR or st.current is None:
            raise FlowError("flow.not_in_error", {"status": st.status})
        node_id = st.current
        self._leave(node_id, "failed")
        st.current = None
        st.run = None
        st.error = None
        self._set_status(RUNNING)
        self._record("retried", actor=str(cmd.user_id), node=node_id)
        self._advance(node_id)
        return self.done()

    def cancel(self, cmd: Cancel) -> Transition:
        if self.st.finished:
            raise FlowError("flow.instance_finished", {"status": self.st.status})
        self._record("cancelled", actor=str(cmd.user_id), comment=cmd.comment)
        self._finish(CANCELLED)
        return self.done()

    # ================================================================== walking the tree

    def _advance(self, node_id: str | None) -> None:
        """Enter `node_id` and keep going until a node waits or the instance finishes."""
        st = self.st
        while node_id is not None:
            node = self.d.node(node_id)
            visit = st.visits.get(node_id, 0) + 1
            st.visits[node_id] = visit
            if isinstance(node, CcNode):
                users = self._resolve(node.recipients, node.id)
                st.route.append(Visit(node.id, visit, self.now, self.now, "done"))
                if users:
                    self.fx.append(NotifyCc(node.id, tuple(users)))
                self._record("cc", node=node.id, details={"user_ids": users})
                node_id = self.d.next_of[node.id]
            elif isinstance(node, ConditionGroup):
                branch = self._choose(node)
                st.route.append(
                    Visit(node.id, visit, self.now, self.now, "branch", branch_id=branch.id)
                )
                self._record("branch_chosen", node=node.id, target=branch.id)
                node_id = self.d.branch_entry(node, branch)
            elif isinstance(node, AutomatedNode):
                step = AutoStep(
                    f"{node.id}:{visit}", node.id, visit, node.action, node.params, self.now
                )
                st.steps[step.id] = step
                st.step_id = step.id
                st.current = node.id
                st.route.append(Visit(node.id, visit, self.now))
                self.fx.append(AutomatedRun(step.id, node.id, node.action, node.params))
                self._record("automated_started", node=step, details={"action": node.action})
                return
            elif isinstance(node, EndNode):
                st.route.append(Visit(node.id, visit, self.now, self.now, "done"))
                self._finish(node.result)
                return
            elif isinstance(node, ApprovalNode):
                if not self._enter_approval(node, visit):
                    return
                node_id = self.d.next_of[node.id]
            else:  # start: only entered by start/resubmit
                raise AssertionError(f"cannot enter {node.kind} node {node.id}")
        self._finish(APPROVED)  # defensive: validation guarantees an end node

    def _choose(self, group: ConditionGroup) -> Branch:
        data = self.st.data
        for branch in group.branches:
            if not branch.default and self.engine.evaluate_condition(branch.condition, data):
                return branch
        return next(b for b in group.branches if b.default)

    def _enter_approval(self, node: ApprovalNode, visit: int) -> bool:
        """Open the node's tasks. True when it was decided at once (approved) and the walk
        goes on; False when the instance now waits (or stopped)."""
        st = self.st
        st.current = node.id
        st.route.append(Visit(node.id, visit, self.now))
        users = self._resolve(node.assignees, node.id)
        if not users:
            if node.on_empty == "auto_pass":
                self._record("auto_passed", node=node.id, details={"reason": "no_assignee"})
                st.current = None
                st.previous_approvers = []
                self._leave(node.id, "auto_passed")
                return True
            if node.on_empty == "to_admin":
                users = _unique(self.engine.directory.admins())
            elif node.on_empty_user_id:
                users = [node.on_empty_user_id]
            self._record(
                "assignee_fallback",
                node=node.id,
                details={"policy": node.on_empty, "user_ids": users},
            )
            if not users:
                self._stop("flow.no_assignee", node.id, "")
                return False
        run = ApprovalRun(node.id, visit, [Slot(u) for u in users])
        st.run = run
        for i, slot in enumerate(run.slots):
            reason = None
            if node.skip_initiator and slot.assignee == st.initiator:
                reason = "initiator"
            elif node.skip_previous_approver and slot.assignee in st.previous_approvers:
                reason = "previous_approver"
            if reason:
                run.slots[i] = replace(slot, status="approved", reason=reason)
                run.approvers.append(slot.assignee)
                self._record(
                    "auto_approved",
                    node=node.id,
                    target=slot.assignee,
                    details={"reason": reason},
                )
        decision = self._decide(node, run)
        if decision is not None:
            return self._conclude(node, run, decision)
        self._open_slots(node, run)
        return False

    def _open_slots(self, node: ApprovalNode, run: ApprovalRun) -> None:
        for i, slot in enumerate(run.slots):
            if slot.status != "queued":
                continue
            run.slots[i] = replace(slot, status="open")
            self._new_task(node, run, i, slot.assignee, "assignee")
            if node.mode == "sequential":
                return

    def _decide(self, node: ApprovalNode, run: ApprovalRun) -> str | None:
        approved = sum(1 for s in run.slots if s.status == "approved")
        rejected = sum(1 for s in run.slots if s.status == "rejected")
        if node.mode == "percent":
            total = len(run.slots)
            need = -(-(node.percent or 100) * total // 100)
            pending = total - approved - rejected
            if approved >= need:
                return APPROVED
            if approved + pending < need:
                return REJECTED
            return None
        if node.mode == "any":
            if approved:
                return APPROVED
            return REJECTED if rejected else None
        if rejected:
            return REJECTED
        return APPROVED if approved == len(run.slots) else None

    def _conclude(self, node: ApprovalNode, run: ApprovalRun, decision: str) -> bool:
        """Close the node. True when approved (the caller walks on)."""
        st = self.st
        for task in st.open_tasks():
            if task.node_id == node.id and task.visit == run.visit:
                self._close_task(task, "cancelled")
        run.slots = [
            replace(s, status="cancelled") if s.status in ("queued", "open") else s
            for s in run.slots
        ]
        st.run = None
        st.current = None
        self._leave(node.id, decision)
        self._record(f"node_{decision}", node=node.id)
        if decision == APPROVED:
            st.previous_approvers = list(dict.fromkeys(run.approvers))
            return True
        if node.on_reject == "return_to_initiator":
            self._to_initiator(node.id)
        else:
            self._finish(REJECTED)
        return False

    def _after_slot_change(self, node: ApprovalNode, run: ApprovalRun) -> None:
        decision = self._decide(node, run)
        if decision is None:
            if node.mode == "sequential" and not any(s.status == "open" for s in run.slots):
                self._open_slots(node, run)
            return
        if self._conclude(node, run, decision):
            self._advance(self.d.next_of[node.id])

    # ================================================================== task actions

    def _approve(
        self,
        node: ApprovalNode,
        run: ApprovalRun,
        task: Task,
        *,
        actor: str,
        action: str,
        extra: _Extra,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self._close_task(task, "approved")
        run.approvers.append(task.user_id)
        self._record(action, actor=actor, task=task, target=task.user_id, details=details, **extra)
        if task.return_stack:  # an added-before signer approved: back to who added them
            self._new_task(
                node,
                run,
                task.slot,
                task.return_stack[-1],
                "resume",
                keep=task,
                return_stack=task.return_stack[:-1],
            )
            return
        run.slots[task.slot] = replace(run.slots[task.slot], status="approved")
        self._after_slot_change(node, run)

    def _reject(
        self,
        node: ApprovalNode,
        run: ApprovalRun,
        task: Task,
        *,
        actor: str,
        action: str,
        extra: _Extra,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self._close_task(task, "rejected")
        self._record(action, actor=actor, task=task, target=task.user_id, details=details, **extra)
        run.slots[task.slot] = replace(run.slots[task.slot], status="rejected")
        self._after_slot_change(node, run)

    def _return(
        self,
        node: ApprovalNode,
        run: ApprovalRun,
        task: Task,
        target: str | None,
        extra: _Extra,
    ) -> None:
        st = self.st
        target = target or INITIATOR
        route_ids = [v.node_id for v in st.route]
        here = len(route_ids) - 1 - route_ids[::-1].index(node.id)
        if target not in node.return_targets or (
            target != INITIATOR
            and (
                target not in route_ids[:here] or not isinstance(self.d.node(target), ApprovalNode)
            )
        ):
            raise FlowError("flow.invalid_target", {"target": target})
        self._close_task(task, "returned")
        self._record("returned", actor=task.user_id, task=task, target=target, **extra)
        for other in st.open_tasks():
            self._close_task(other, "cancelled")
        st.run = None
        st.current = None
        self._leave(node.id, "returned")
        if target == INITIATOR:
            self._to_initiator(node.id)
            return
        cut = here - 1 - route_ids[:here][::-1].index(target)
        st.route = st.route[:cut]
        st.previous_approvers = []
        self._advance(target)

    def _escalate(self, node: ApprovalNode, run: ApprovalRun, task: Task) -> None:
        busy = self._busy(run)
        head = None
        for level in range(_MAX_ESCALATION_LEVELS + 1):
            candidate = self.engine.directory.dept_head(task.user_id, level)
            if candidate is None:
                break
            if str(candidate) != task.user_id and str(candidate) not in busy:
                head = str(candidate)
                break
        if head is None:
            admins = tuple(_unique(self.engine.directory.admins()))
            self._record("escalation_failed", task=task)
            if admins:
                self.fx.append(Notify("escalation_failed", admins, node.id, task.id))
            return
        self._close_task(task, "escalated")
        self._record("escalated", task=task, target=head, details={"from": task.user_id})
        self._new_task(node, run, task.slot, head, "escalation", return_stack=task.return_stack)

    def _target_user(self, run: ApprovalRun, task: Task, target: str | None) -> str:
        if target is None or str(target) == "":
            raise FlowError("flow.invalid_target", {"target": ""})
        user = str(target)
        if user == task.user_id:
            raise FlowError("flow.invalid_target", {"target": user})
        if user in self._busy(run):
            raise FlowError("flow.duplicate_assignee", {"user_id": user})
        return user

    def _busy(self, run: ApprovalRun) -> set[str]:
        """Users who hold or will hold a task on this run: nobody may get a second one."""
        busy = {s.assignee for s in run.slots if s.status == "queued"}
        for t in self.st.tasks.values():
            if t.status == OPEN and t.node_id == run.node_id and t.visit == run.visit:
                busy.add(t.user_id)
                busy.update(t.return_stack)
        return busy

    def _edit(self, node: ApprovalNode, cmd: Act) -> None:
        assert cmd.data is not None
        if cmd.action not in _EDITING_ACTIONS:
            raise FlowError("flow.edit_not_allowed", {"action": cmd.action})
        # Only changed values need the edit permission: a client may post the whole form back.
        changes = {k: v for k, v in cmd.data.items() if self.st.data.get(k, _MISSING) != v}
        for key in changes:
            if field_permission(self.d, node.id, key) != "edit":
                raise FlowError("flow.field_not_editable", {"field": key})
        if changes:
            self.st.data = {**self.st.data, **changes}
            self.fx.append(DataUpdated(node.id, changes))

    # ================================================================== primitives

    def _new_task(
        self,
        node: ApprovalNode,
        run: ApprovalRun,
        slot: int,
        user: str,
        kind: str,
        *,
        keep: Task | None = None,
        return_stack: tuple[str, ...] = (),
    ) -> Task:
        """A task on the slot; `keep` carries that task's deadline over, else a fresh one."""
        run.task_seq += 1
        due: datetime | None = None
        remind: datetime | None = None
        if keep is not None:
            due, remind = keep.due_at, keep.remind_at
        elif node.deadline is not None:
            dl = node.deadline
            due = self._due(dl.hours, dl.working_hours)
            if dl.reminder_before is not None:
                remind = self._due(dl.hours - dl.reminder_before, dl.working_hours)
        task = Task(
            id=f"{node.id}:{run.visit}:{run.task_seq}",
            node_id=node.id,
            visit=run.visit,
            slot=slot,
            user_id=user,
            kind=kind,
            created_at=self.now,
            due_at=due,
            remind_at=remind,
            return_stack=return_stack,
        )
        self.st.tasks[task.id] = task
        self.fx.append(TaskCreated(task))
        self.fx.append(Notify("task_assigned", (user,), node.id, task.id))
        if remind is not None and remind > self.now:
            self._schedule(Timer(f"{task.id}:remind", "reminder", task.id, remind))
        if due is not None and node.deadline is not None and node.deadline.on_timeout != "none":
            self._schedule(Timer(f"{task.id}:timeout", "timeout", task.id, due))
        return task

    def _due(self, hours: Any, working: bool) -> datetime:
        return due_at(
            self.now,
            hours,
            working_hours=working,
            is_working_day=self.engine.is_working_day,
            local_tz=self.engine.local_tz,
        )

    def _schedule(self, timer: Timer) -> None:
        self.st.timers[timer.id] = timer
        self.fx.append(TimerScheduled(timer))

    def _close_task(self, task: Task, status: str) -> None:
        self.st.tasks[task.id] = replace(task, status=status, closed_at=self.now)
        self.fx.append(TaskClosed(task.id, task.node_id, task.user_id, status, self.now))
        for timer_id in (f"{task.id}:remind", f"{task.id}:timeout"):
            if self.st.timers.pop(timer_id, None) is not None:
                self.fx.append(TimerCancelled(timer_id))

    def _leave(self, node_id: str, outcome: str) -> None:
        """Mark the route's open visit of `node_id` left with `outcome`."""
        route = self.st.route
        for i in range(len(route) - 1, -1, -1):
            if route[i].node_id == node_id:
                if route[i].left_at is None:
                    route[i] = replace(route[i], left_at=self.now, outcome=outcome)
                return

    def _set_status(self, status: str) -> None:
        old = self.st.status
        if old != status:
            self.st.status = status
            self.fx.append(StatusChanged(old, status, self.st.error))

    def _stop(self, code: str, node_id: str, message: str) -> None:
        """Status error: nothing open, an admin may retry or cancel."""
        self.st.error = {"code": code, "node_id": node_id, "message": message}
        self._set_status(ERROR)
        admins = tuple(_unique(self.engine.directory.admins()))
        if admins:
            kind = "no_assignee" if code == "flow.no_assignee" else "automated_failed"
            self.fx.append(Notify(kind, admins, node_id, None, {"message": message}))

    def _to_initiator(self, node_id: str) -> None:
        st = self.st
        st.returned_from = node_id
        self._set_status(RETURNED)
        self.fx.append(Notify("returned", (st.initiator,), node_id))

    def _finish(self, result: str) -> None:
        st = self.st
        for task in st.open_tasks():
            self._close_task(task, "cancelled")
        for timer_id in list(st.timers):
            del st.timers[timer_id]
            self.fx.append(TimerCancelled(timer_id))
        for step in list(st.steps.values()):
            if step.status == "running":
                st.steps[step.id] = replace(step, status="cancelled", finished_at=self.now)
                self.fx.append(AutomatedCancelled(step.id))
        if st.current is not None:
            self._leave(st.current, result)
        st.run = None
        st.current = None
        st.step_id = None
        st.error = None
        st.finished_at = self.now
        self._set_status(result)
        self._record("finished", details={"result": result})
        self.fx.append(Finished(result, self.now))
        if result != WITHDRAWN:
            self.fx.append(Notify("finished", (st.initiator,), None, None, {"result": result}))

    def _submitted(self, start: StartNode, action: str, actor: str, comment: str | None) -> None:
        st = self.st
        visit = st.visits.get(start.id, 0) + 1
        st.visits[start.id] = visit
        st.acted = False
        st.route.append(Visit(start.id, visit, self.now, self.now, "done"))
        self._record(action, actor=actor, node=start.id, comment=comment)

    def _record(
        self,
        action: str,
        *,
        actor: str = SYSTEM,
        task: Task | None = None,
        node: str | AutoStep | Task | None = None,
        target: str | None = None,
        comment: str | None = None,
        attachments: tuple[str, ...] = (),
        signature: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        st = self.st
        where = task or node
        node_id: str | None
        visit: int | None
        if isinstance(where, Task | AutoStep):
            node_id, visit = where.node_id, where.visit
        else:
            node_id = where
            visit = st.visits.get(where) if where is not None else None
        event = HistoryEvent(
            seq=st.history_seq + 1,
            at=self.now,
            actor=actor,
            action=action,
            node_id=node_id,
            visit=visit,
            task_id=task.id if task else None,
            target=target,
            comment=comment,
            attachments=attachments,
            signature=signature,
            duration_seconds=(
                int((self.now - task.created_at).total_seconds()) if task is not None else None
            ),
            round=st.round,
            details=dict(details or {}),
        )
        st.history_seq = event.seq
        self.fx.append(HistoryRecorded(event))

    # ================================================================== assignees

    def _resolve(self, specs: Sequence[AssigneeSpec], node_id: str) -> list[str]:
        directory = self.engine.directory
        st = self.st
        users: list[str] = []
        for spec in specs:
            if spec.kind == "user":
                users += spec.user_ids
            elif spec.kind == "role":
                users += [str(u) for u in directory.users_with_role(spec.role)]
            elif spec.kind == "dept_head":
                head = directory.dept_head(st.initiator, spec.levels_up)
                users += [] if head is None else [str(head)]
            elif spec.kind == "form_user_field":
                users += [str(u) for u in directory.form_field_users(st.data, spec.field)]
            elif spec.kind == "customer_owner":
                owner = directory.customer_owner(st.data, spec.field)
                users += [] if owner is None else [str(owner)]
            elif spec.kind == "initiator_choice":
                users += st.choices.get(node_id, [])
        return _unique(users)

    def _choices(self, choices: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for node_id, users in choices.items():
            node = self.d.by_id.get(node_id)
            specs = (
                node.assignees
                if isinstance(node, ApprovalNode)
                else node.recipients
                if isinstance(node, CcNode)
                else ()
            )
            spec = next((s for s in specs if s.kind == "initiator_choice"), None)
            if spec is None or isinstance(users, str):
                raise FlowError("flow.bad_command", {"choices": node_id})
            picked = _unique([str(u) for u in users])
            if not spec.multiple and len(picked) > 1:
                raise FlowError("flow.bad_command", {"choices": node_id})
            out[node_id] = picked
        return out


def _unique(users: Sequence[str]) -> list[str]:
    return [str(u) for u in dict.fromkeys(str(u) for u in users if u not in (None, ""))]


def _placeholder(now: datetime) -> InstanceState:
    return InstanceState(
        definition_key="", definition_version=0, initiator="", started_at=now, data={}
    )
