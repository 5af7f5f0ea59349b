"""The flow engine core: a deterministic state machine for DingTalk-style approval trees.

Plain Python — no Django, no I/O, no clock, no randomness. The Django layer (``loandesk.flows``)
persists definitions and instance states as JSON, serialises the commands of one instance with a
row lock, calls `FlowEngine.handle` inside the transaction and applies the returned effects
(task/timer/history rows, outbox notifications, automated-step jobs).

    definition = Definition.from_json(obj)           # validates; DefinitionInvalid.issues
    engine = FlowEngine(definition, directory=..., evaluate_condition=..., is_working_day=...)
    t = engine.start(initiator="7", data={...}, now=now)
    t = engine.act(t.state, task_id=..., user_id="9", action="approve", now=now)
    t.state.to_json(); t.effects; InstanceState.from_json(...)

Modules: `definition` (JSON shape, validation), `state` (instance dataclasses), `commands`,
`effects`, `machine` (the rules), `progress` (timelines, buttons), `workhours` (deadlines),
`directory` (the assignee-resolution protocol), `errors`, `demo` (贷款审批).
See docs/flow-engine.md.
"""

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
    command_from_json,
    command_to_json,
)
from .definition import (
    AUTOMATED_ACTIONS,
    ApprovalNode,
    AssigneeSpec,
    AutomatedNode,
    Branch,
    CcNode,
    ConditionGroup,
    Deadline,
    Definition,
    EndNode,
    Node,
    StartNode,
    field_permission,
    field_permissions,
    validate_definition,
)
from .demo import DEMO_LOAN_APPROVAL
from .directory import Directory, StaticDirectory
from .effects import (
    EFFECT_TYPES,
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
from .errors import ERROR_STATUS, DefinitionInvalid, FlowError, Issue
from .machine import EvaluateCondition, FlowEngine
from .progress import ProgressItem, borrower_progress, progress, return_options, task_actions
from .state import (
    FINISHED,
    SYSTEM,
    ApprovalRun,
    AutoStep,
    HistoryEvent,
    InstanceState,
    Slot,
    Task,
    Timer,
    Visit,
)
from .workhours import SHANGHAI, add_working_hours, due_at, weekdays_only

State = InstanceState  # the short name

__all__ = [
    "ACT_ACTIONS",
    "AUTOMATED_ACTIONS",
    "DEMO_LOAN_APPROVAL",
    "EFFECT_TYPES",
    "ERROR_STATUS",
    "FINISHED",
    "SHANGHAI",
    "SYSTEM",
    "Act",
    "ApprovalNode",
    "ApprovalRun",
    "AssigneeSpec",
    "AutoStep",
    "AutomatedCancelled",
    "AutomatedDone",
    "AutomatedFailed",
    "AutomatedNode",
    "AutomatedRun",
    "Branch",
    "Cancel",
    "CcNode",
    "Command",
    "ConditionGroup",
    "DataUpdated",
    "Deadline",
    "Definition",
    "DefinitionInvalid",
    "Directory",
    "Effect",
    "EndNode",
    "EvaluateCondition",
    "Finished",
    "FlowEngine",
    "FlowError",
    "HistoryEvent",
    "HistoryRecorded",
    "InstanceState",
    "Issue",
    "Node",
    "Notify",
    "NotifyCc",
    "ProgressItem",
    "Resubmit",
    "Retry",
    "Slot",
    "Start",
    "StartNode",
    "State",
    "StaticDirectory",
    "StatusChanged",
    "Task",
    "TaskClosed",
    "TaskCreated",
    "Timer",
    "TimerCancelled",
    "TimerFired",
    "TimerScheduled",
    "Transition",
    "Urge",
    "Visit",
    "Withdraw",
    "add_working_hours",
    "borrower_progress",
    "command_from_json",
    "command_to_json",
    "due_at",
    "field_permission",
    "field_permissions",
    "progress",
    "return_options",
    "task_actions",
    "validate_definition",
    "weekdays_only",
]
