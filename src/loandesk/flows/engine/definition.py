"""Flow definitions: the versioned DingTalk-style tree, its JSON shape and save-time validation.

A definition is JSON (stored by the Django layer as one row per published version)::

    {"key": "loan_approval", "name": "贷款审批", "version": 3,
     "settings": {"resubmit_from": "start", "urge_interval_minutes": 60},
     "nodes": [{"id": "start", "kind": "start", ...}, ..., {"id": "end", "kind": "end"}]}

`nodes` is an ordered list that begins with the one `start` node and terminates in an `end`
node; a `condition_group` holds ordered `branches`, each with its own nested node list (which may
be empty — "else skip" — and may itself contain groups or an `end`). The node kinds and every
field are documented in ``docs/flow-engine.md``; `Definition.from_json` parses, validates (all
problems at once, each on its node id, as `DefinitionInvalid.issues`) and compiles the tree into
the indexes the state machine walks: `next_of` (the node after each node, leaving branches
through their group), `earlier` (approval nodes that can precede a node, for return targets) and
the pre-order position of every node.

Unknown keys are refused (a typo must not silently drop a setting); each node may carry a free
``"ui"`` object for the designer (layout, colours), kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeAlias

from .errors import DefinitionInvalid, Issue

NODE_KINDS = ("start", "approval", "cc", "condition_group", "automated", "end")
ASSIGNEE_KINDS = (
    "user",
    "role",
    "dept_head",
    "form_user_field",
    "customer_owner",
    "initiator_choice",
)
MODES = ("any", "all", "sequential", "percent")
EMPTY_POLICIES = ("auto_pass", "to_admin", "to_user")
TIMEOUT_ACTIONS = ("none", "auto_approve", "auto_reject", "escalate")
NODE_ACTIONS = ("approve", "reject", "return", "transfer", "add_signer", "comment")
DEFAULT_ACTIONS = ("approve", "reject", "return", "transfer", "add_signer", "comment")
REJECT_POLICIES = ("end", "return_to_initiator")
AUTOMATED_ACTIONS = (
    "risk_scorecard",
    "generate_contract",
    "send_message",
    "update_record",
    "webhook",
    "disburse",
    "write_off_loan",
)
FAILURE_POLICIES = ("stop", "skip")
END_RESULTS = ("approved", "rejected")
FIELD_PERMISSIONS = ("hidden", "read", "edit")
RESUBMIT_FROM = ("start", "returner")
INITIATOR = "initiator"  # the return target meaning "back to the initiator"
MAX_LEVELS_UP = 10

_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")

ConditionCheck = Callable[[Any], str | None]


# --------------------------------------------------------------------------- node dataclasses


@dataclass(frozen=True, slots=True)
class AssigneeSpec:
    """Who: named users, a role, the initiator's department head N levels up, a user field of
    the form, the customer's owner, or users the initiator chose at submission."""

    kind: str
    user_ids: tuple[str, ...] = ()
    role: str = ""
    levels_up: int = 0
    field: str = ""
    multiple: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "user":
            out["user_ids"] = list(self.user_ids)
        elif self.kind == "role":
            out["role"] = self.role
        elif self.kind == "dept_head":
            out["levels_up"] = self.levels_up
        elif self.kind == "form_user_field" or (self.kind == "customer_owner" and self.field):
            out["field"] = self.field
        elif self.kind == "initiator_choice":
            out["multiple"] = self.multiple
        return out


@dataclass(frozen=True, slots=True)
class Deadline:
    hours: Decimal
    working_hours: bool = False
    reminder_before: Decimal | None = None
    on_timeout: str = "none"

    def to_json(self) -> dict[str, Any]:
        return {
            "hours": _num_out(self.hours),
            "working_hours": self.working_hours,
            "reminder_before": (
                None if self.reminder_before is None else _num_out(self.reminder_before)
            ),
            "on_timeout": self.on_timeout,
        }


@dataclass(frozen=True, slots=True)
class StartNode:
    kind: ClassVar[str] = "start"
    id: str
    name: str = ""
    borrower_label: str = ""
    field_permissions: Mapping[str, str] = field(default_factory=dict)
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _common(self) | {"field_permissions": dict(self.field_permissions)}


@dataclass(frozen=True, slots=True)
class ApprovalNode:
    kind: ClassVar[str] = "approval"
    id: str
    name: str = ""
    borrower_label: str = ""
    assignees: tuple[AssigneeSpec, ...] = ()
    mode: str = "any"
    percent: int | None = None
    on_empty: str = "auto_pass"
    on_empty_user_id: str | None = None
    skip_initiator: bool = False
    skip_previous_approver: bool = False
    deadline: Deadline | None = None
    actions: tuple[str, ...] = DEFAULT_ACTIONS
    return_targets: tuple[str, ...] = (INITIATOR,)
    on_reject: str = "end"
    field_permissions: Mapping[str, str] = field(default_factory=dict)
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _common(self) | {
            "assignees": [a.to_json() for a in self.assignees],
            "mode": self.mode,
            "percent": self.percent,
            "on_empty": self.on_empty,
            "on_empty_user_id": self.on_empty_user_id,
            "skip_initiator": self.skip_initiator,
            "skip_previous_approver": self.skip_previous_approver,
            "deadline": None if self.deadline is None else self.deadline.to_json(),
            "actions": list(self.actions),
            "return_targets": list(self.return_targets),
            "on_reject": self.on_reject,
            "field_permissions": dict(self.field_permissions),
        }


@dataclass(frozen=True, slots=True)
class CcNode:
    kind: ClassVar[str] = "cc"
    id: str
    name: str = ""
    borrower_label: str = ""
    recipients: tuple[AssigneeSpec, ...] = ()
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _common(self) | {"recipients": [r.to_json() for r in self.recipients]}


@dataclass(frozen=True, slots=True)
class Branch:
    id: str
    name: str = ""
    condition: Any = None
    default: bool = False
    nodes: tuple[Node, ...] = ()
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.default:
            out["default"] = True
        else:
            out["condition"] = self.condition
        out["nodes"] = [n.to_json() for n in self.nodes]
        if self.ui:
            out["ui"] = dict(self.ui)
        return out


@dataclass(frozen=True, slots=True)
class ConditionGroup:
    kind: ClassVar[str] = "condition_group"
    id: str
    name: str = ""
    borrower_label: str = ""
    branches: tuple[Branch, ...] = ()
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _common(self) | {"branches": [b.to_json() for b in self.branches]}


@dataclass(frozen=True, slots=True)
class AutomatedNode:
    kind: ClassVar[str] = "automated"
    id: str
    name: str = ""
    borrower_label: str = ""
    action: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    on_failure: str = "stop"
    result_key: str | None = None
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _common(self) | {
            "action": self.action,
            "params": dict(self.params),
            "on_failure": self.on_failure,
            "result_key": self.result_key,
        }


@dataclass(frozen=True, slots=True)
class EndNode:
    kind: ClassVar[str] = "end"
    id: str
    name: str = ""
    borrower_label: str = ""
    result: str = "approved"
    ui: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _common(self) | {"result": self.result}


Node: TypeAlias = StartNode | ApprovalNode | CcNode | ConditionGroup | AutomatedNode | EndNode


def _common(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "kind": node.kind, "name": node.name}
    if node.borrower_label:
        out["borrower_label"] = node.borrower_label
    if node.ui:
        out["ui"] = dict(node.ui)
    return out


def _num_out(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# --------------------------------------------------------------------------- the definition


@dataclass(frozen=True, slots=True)
class Settings:
    resubmit_from: str = "start"  # after a return to the initiator: restart, or go to returner
    urge_interval_minutes: int = 60  # 催办 at most once per task per interval

    def to_json(self) -> dict[str, Any]:
        return {
            "resubmit_from": self.resubmit_from,
            "urge_interval_minutes": self.urge_interval_minutes,
        }


class Definition:
    """A validated, compiled flow definition. Build it with `Definition.from_json`."""

    __slots__ = (
        "by_id",
        "earlier",
        "key",
        "name",
        "next_of",
        "nodes",
        "order",
        "parent",
        "settings",
        "version",
    )

    def __init__(
        self, *, key: str, name: str, version: int, settings: Settings, nodes: tuple[Node, ...]
    ) -> None:
        self.key = key
        self.name = name
        self.version = version
        self.settings = settings
        self.nodes = nodes
        self.by_id: dict[str, Node] = {}
        self.next_of: dict[str, str | None] = {}
        self.order: dict[str, int] = {}
        self.parent: dict[str, tuple[str, str] | None] = {}  # node → (group id, branch id)
        self.earlier: dict[str, frozenset[str]] = {}
        self._compile(nodes, None, None, [])

    def _compile(
        self,
        nodes: Sequence[Node],
        after: str | None,
        parent: tuple[str, str] | None,
        preceding: list[str],
    ) -> list[str]:
        """Index `nodes`; return the approval node ids found in them (nested ones included)."""
        found: list[str] = []
        for i, node in enumerate(nodes):
            self.by_id[node.id] = node
            self.order[node.id] = len(self.order)
            self.parent[node.id] = parent
            self.next_of[node.id] = nodes[i + 1].id if i + 1 < len(nodes) else after
            self.earlier[node.id] = frozenset(preceding + found)
            if isinstance(node, ConditionGroup):
                inside: list[str] = []
                for branch in node.branches:
                    inside += self._compile(
                        branch.nodes,
                        self.next_of[node.id],
                        (node.id, branch.id),
                        preceding + found,
                    )
                found += inside
            elif isinstance(node, ApprovalNode):
                found.append(node.id)
        return found

    # ---- lookups

    def node(self, node_id: str) -> Node:
        return self.by_id[node_id]

    def approval(self, node_id: str) -> ApprovalNode:
        node = self.by_id[node_id]
        assert isinstance(node, ApprovalNode)
        return node

    def first_after_start(self) -> str:
        nxt = self.next_of[self.nodes[0].id]
        assert nxt is not None  # validation: the top level terminates in an end node
        return nxt

    def branch_entry(self, group: ConditionGroup, branch: Branch) -> str | None:
        return branch.nodes[0].id if branch.nodes else self.next_of[group.id]

    def walk(self) -> Iterable[Node]:
        """Every node in pre-order (document order)."""
        return sorted(self.by_id.values(), key=lambda n: self.order[n.id])

    # ---- JSON

    @classmethod
    def from_json(
        cls, obj: Mapping[str, Any], *, check_condition: ConditionCheck | None = None
    ) -> Definition:
        """Parse and validate; raises `DefinitionInvalid` listing every problem.

        `check_condition(logic)` may return an error text for a condition the JSON-logic
        library cannot handle (the core itself only checks it is an object or a boolean).
        """
        parser = _Parser(check_condition)
        definition = parser.parse(obj)
        if parser.issues or definition is None:
            raise DefinitionInvalid(parser.issues)
        return definition

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "version": self.version,
            "settings": self.settings.to_json(),
            "nodes": [n.to_json() for n in self.nodes],
        }


def validate_definition(
    obj: Mapping[str, Any], *, check_condition: ConditionCheck | None = None
) -> list[Issue]:
    """Every problem of a definition (empty when it is valid), for the designer's save button."""
    try:
        Definition.from_json(obj, check_condition=check_condition)
    except DefinitionInvalid as exc:
        return exc.issues
    return []


def field_permissions(definition: Definition, node_id: str) -> dict[str, str]:
    """The node's {field_key: hidden|read|edit} map (start: what the initiator may edit)."""
    node = definition.by_id.get(node_id)
    if isinstance(node, ApprovalNode | StartNode):
        return dict(node.field_permissions)
    return {}


def field_permission(
    definition: Definition, node_id: str, field_key: str, default: str = "read"
) -> str:
    """One field's permission on a node; fields the node does not mention get `default`."""
    return field_permissions(definition, node_id).get(field_key, default)


# --------------------------------------------------------------------------- parsing


_COMMON_KEYS = {"id", "kind", "name", "borrower_label", "ui"}
_KEYS: dict[str, set[str]] = {
    "start": _COMMON_KEYS | {"field_permissions"},
    "approval": _COMMON_KEYS
    | {
        "assignees",
        "mode",
        "percent",
        "on_empty",
        "on_empty_user_id",
        "skip_initiator",
        "skip_previous_approver",
        "deadline",
        "actions",
        "return_targets",
        "on_reject",
        "field_permissions",
    },
    "cc": _COMMON_KEYS | {"recipients"},
    "condition_group": _COMMON_KEYS | {"branches"},
    "automated": _COMMON_KEYS | {"action", "params", "on_failure", "result_key"},
    "end": _COMMON_KEYS | {"result"},
}
_BRANCH_KEYS = {"id", "name", "condition", "default", "nodes", "ui"}
_DEADLINE_KEYS = {"hours", "working_hours", "reminder_before", "on_timeout"}
_SPEC_KEYS = {"kind", "user_ids", "role", "levels_up", "field", "multiple"}


class _Parser:
    def __init__(self, check_condition: ConditionCheck | None) -> None:
        self.check_condition = check_condition
        self.issues: list[Issue] = []
        self.seen_ids: set[str] = set()
        self.starts = 0

    def issue(self, node_id: str | None, code: str, fld: str | None = None, **params: Any) -> None:
        self.issues.append(Issue(node_id, code, fld, {k: str(v) for k, v in params.items()}))

    # ---- top level

    def parse(self, obj: Mapping[str, Any]) -> Definition | None:
        if not isinstance(obj, Mapping):
            self.issue(None, "flow.def.not_an_object")
            return None
        for key in obj:
            if key not in {"key", "name", "version", "settings", "nodes"}:
                self.issue(None, "flow.def.unknown_key", key)
        key = obj.get("key", "")
        if not isinstance(key, str) or not _ID.match(key):
            self.issue(None, "flow.def.bad_key", "key")
            key = ""
        name = self.text(None, obj, "name")
        version = obj.get("version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.issue(None, "flow.def.bad_version", "version")
            version = 1
        settings = self.settings(obj.get("settings") or {})
        raw_nodes = obj.get("nodes")
        if not isinstance(raw_nodes, list) or not raw_nodes:
            self.issue(None, "flow.def.no_nodes", "nodes")
            return None
        nodes = self.node_list(raw_nodes, top=True)
        if not nodes or not isinstance(nodes[0], StartNode):
            self.issue(nodes[0].id if nodes else None, "flow.def.missing_start", "nodes")
        if self.starts > 1:
            self.issue(None, "flow.def.several_starts", "nodes")
        if not _terminates(nodes):
            self.issue(None, "flow.def.missing_end", "nodes")
        if self.issues:
            return None
        definition = Definition(
            key=key, name=name, version=version, settings=settings, nodes=tuple(nodes)
        )
        self.check_return_targets(definition)
        return definition

    def settings(self, raw: Any) -> Settings:
        if not isinstance(raw, Mapping):
            self.issue(None, "flow.def.bad_settings", "settings")
            return Settings()
        for key in raw:
            if key not in {"resubmit_from", "urge_interval_minutes"}:
                self.issue(None, "flow.def.unknown_key", f"settings.{key}")
        resubmit_from = raw.get("resubmit_from", "start")
        if resubmit_from not in RESUBMIT_FROM:
            self.issue(None, "flow.def.bad_choice", "settings.resubmit_from")
            resubmit_from = "start"
        interval = raw.get("urge_interval_minutes", 60)
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            self.issue(None, "flow.def.bad_number", "settings.urge_interval_minutes")
            interval = 60
        return Settings(resubmit_from=resubmit_from, urge_interval_minutes=interval)

    def node_list(self, raw: Any, *, top: bool = False, where: str | None = None) -> list[Node]:
        if not isinstance(raw, list):
            self.issue(where, "flow.def.bad_nodes", "nodes")
            return []
        nodes: list[Node] = []
        ended = False
        for i, item in enumerate(raw):
            node = self.node(item, first=top and i == 0)
            if node is None:
                continue
            if ended:
                self.issue(node.id, "flow.def.unreachable")
            nodes.append(node)
            if _terminates([node]):
                ended = True
        return nodes

    def node(self, raw: Any, *, first: bool) -> Node | None:
        if not isinstance(raw, Mapping):
            self.issue(None, "flow.def.not_an_object", "nodes")
            return None
        node_id = self.ident(raw.get("id"))
        kind = raw.get("kind")
        if kind not in NODE_KINDS:
            self.issue(node_id, "flow.def.unknown_kind", "kind", kind=kind)
            return None
        for key in raw:
            if key not in _KEYS[kind]:
                self.issue(node_id, "flow.def.unknown_key", key)
        name = self.text(node_id, raw, "name")
        label = self.text(node_id, raw, "borrower_label")
        ui = raw.get("ui") or {}
        if not isinstance(ui, Mapping):
            self.issue(node_id, "flow.def.bad_ui", "ui")
            ui = {}
        common: dict[str, Any] = {"id": node_id, "name": name, "borrower_label": label, "ui": ui}
        if kind == "start":
            self.starts += 1
            if not first:
                self.issue(node_id, "flow.def.start_not_first")
            return StartNode(**common, field_permissions=self.permissions(node_id, raw))
        if kind == "approval":
            return self.approval(raw, common)
        if kind == "cc":
            recipients = self.specs(node_id, raw.get("recipients"), "recipients")
            if not recipients:
                self.issue(node_id, "flow.def.no_recipients", "recipients")
            return CcNode(**common, recipients=recipients)
        if kind == "condition_group":
            return self.group(raw, common)
        if kind == "automated":
            return self.automated(raw, common)
        result = raw.get("result", "approved")
        if result not in END_RESULTS:
            self.issue(node_id, "flow.def.bad_choice", "result")
            result = "approved"
        return EndNode(**common, result=result)

    def approval(self, raw: Mapping[str, Any], common: dict[str, Any]) -> ApprovalNode:
        nid: str = common["id"]
        assignees = self.specs(nid, raw.get("assignees"), "assignees")
        mode = self.choice(nid, raw, "mode", MODES, "any")
        percent = raw.get("percent")
        if mode == "percent":
            if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100:
                self.issue(nid, "flow.def.percent_range", "percent")
                percent = 100
        elif percent is not None:
            self.issue(nid, "flow.def.percent_without_mode", "percent")
            percent = None
        on_empty = self.choice(nid, raw, "on_empty", EMPTY_POLICIES, "auto_pass")
        empty_user = raw.get("on_empty_user_id")
        if on_empty == "to_user":
            empty_user = self.user_id(empty_user)
            if empty_user is None:
                self.issue(nid, "flow.def.bad_user", "on_empty_user_id")
        else:
            empty_user = None
        if not assignees and on_empty not in ("to_admin", "to_user"):
            self.issue(nid, "flow.def.no_assignee", "assignees")
        actions = raw.get("actions", list(DEFAULT_ACTIONS))
        if (
            not isinstance(actions, list)
            or any(a not in NODE_ACTIONS for a in actions)
            or len(set(actions)) != len(actions)
        ):
            self.issue(nid, "flow.def.unknown_node_action", "actions")
            actions = list(DEFAULT_ACTIONS)
        if "approve" not in actions:
            self.issue(nid, "flow.def.approve_required", "actions")
        targets = raw.get("return_targets", [INITIATOR])
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            self.issue(nid, "flow.def.bad_return_target", "return_targets")
            targets = [INITIATOR]
        if "return" in actions and not targets:
            self.issue(nid, "flow.def.no_return_target", "return_targets")
        return ApprovalNode(
            **common,
            assignees=assignees,
            mode=mode,
            percent=percent,
            on_empty=on_empty,
            on_empty_user_id=empty_user,
            skip_initiator=self.flag(nid, raw, "skip_initiator"),
            skip_previous_approver=self.flag(nid, raw, "skip_previous_approver"),
            deadline=self.deadline(nid, raw.get("deadline")),
            actions=tuple(actions),
            return_targets=tuple(dict.fromkeys(targets)),
            on_reject=self.choice(nid, raw, "on_reject", REJECT_POLICIES, "end"),
            field_permissions=self.permissions(nid, raw),
        )

    def group(self, raw: Mapping[str, Any], common: dict[str, Any]) -> ConditionGroup:
        nid: str = common["id"]
        raw_branches = raw.get("branches")
        if not isinstance(raw_branches, list):
            self.issue(nid, "flow.def.bad_branches", "branches")
            raw_branches = []
        branches: list[Branch] = []
        for rb in raw_branches:
            if not isinstance(rb, Mapping):
                self.issue(nid, "flow.def.bad_branches", "branches")
                continue
            bid = self.ident(rb.get("id"))
            for key in rb:
                if key not in _BRANCH_KEYS:
                    self.issue(bid, "flow.def.unknown_key", key)
            default = rb.get("default", False)
            if not isinstance(default, bool):
                self.issue(bid, "flow.def.bad_flag", "default")
                default = False
            condition = rb.get("condition")
            if default:
                if condition is not None:
                    self.issue(bid, "flow.def.default_with_condition", "condition")
                condition = None
            elif not isinstance(condition, Mapping | bool):
                self.issue(bid, "flow.def.bad_condition", "condition")
            elif self.check_condition is not None:
                problem = self.check_condition(condition)
                if problem:
                    self.issue(bid, "flow.def.bad_condition", "condition", error=problem)
            ui = rb.get("ui") or {}
            branches.append(
                Branch(
                    id=bid,
                    name=self.text(bid, rb, "name"),
                    condition=condition,
                    default=default,
                    nodes=tuple(self.node_list(rb.get("nodes", []), where=bid)),
                    ui=ui if isinstance(ui, Mapping) else {},
                )
            )
        defaults = sum(1 for b in branches if b.default)
        if defaults != 1:
            self.issue(nid, "flow.def.default_branch_count", "branches", count=defaults)
        if len(branches) - defaults < 1:
            self.issue(nid, "flow.def.no_conditional_branch", "branches")
        return ConditionGroup(**common, branches=tuple(branches))

    def automated(self, raw: Mapping[str, Any], common: dict[str, Any]) -> AutomatedNode:
        nid: str = common["id"]
        action = raw.get("action")
        if action not in AUTOMATED_ACTIONS:
            self.issue(nid, "flow.def.unknown_automated_action", "action", action=action)
            action = ""
        params = raw.get("params") or {}
        if not isinstance(params, Mapping):
            self.issue(nid, "flow.def.bad_params", "params")
            params = {}
        result_key = raw.get("result_key")
        if result_key is not None and (
            not isinstance(result_key, str) or not _KEY.match(result_key)
        ):
            self.issue(nid, "flow.def.bad_field", "result_key")
            result_key = None
        return AutomatedNode(
            **common,
            action=str(action),
            params=params,
            on_failure=self.choice(nid, raw, "on_failure", FAILURE_POLICIES, "stop"),
            result_key=result_key,
        )

    # ---- pieces

    def ident(self, value: Any) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            self.issue(value if isinstance(value, str) else None, "flow.def.bad_id", "id", id=value)
            return f"invalid-{len(self.issues)}"
        if value in self.seen_ids:
            self.issue(value, "flow.def.duplicate_id", "id")
        self.seen_ids.add(value)
        return value

    def text(self, node_id: str | None, raw: Mapping[str, Any], key: str) -> str:
        value = raw.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > 200:
            self.issue(node_id, "flow.def.bad_text", key)
            return ""
        return value

    def flag(self, node_id: str, raw: Mapping[str, Any], key: str) -> bool:
        value = raw.get(key, False)
        if not isinstance(value, bool):
            self.issue(node_id, "flow.def.bad_flag", key)
            return False
        return value

    def choice(
        self,
        node_id: str,
        raw: Mapping[str, Any],
        key: str,
        allowed: Sequence[str],
        default: str,
    ) -> str:
        value = raw.get(key, default)
        if value not in allowed:
            self.issue(node_id, "flow.def.bad_choice", key, allowed="|".join(allowed))
            return default
        return str(value)

    @staticmethod
    def user_id(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        text = str(value)
        return text if text and len(text) <= 64 else None

    def permissions(self, node_id: str, raw: Mapping[str, Any]) -> dict[str, str]:
        perms = raw.get("field_permissions") or {}
        if not isinstance(perms, Mapping):
            self.issue(node_id, "flow.def.bad_field_permissions", "field_permissions")
            return {}
        out: dict[str, str] = {}
        for key, perm in perms.items():
            if not isinstance(key, str) or not _KEY.match(key) or perm not in FIELD_PERMISSIONS:
                self.issue(node_id, "flow.def.bad_field_permissions", f"field_permissions.{key}")
                continue
            out[key] = perm
        return out

    def specs(self, node_id: str, raw: Any, key: str) -> tuple[AssigneeSpec, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.issue(node_id, "flow.def.bad_assignee", key)
            return ()
        specs: list[AssigneeSpec] = []
        for i, item in enumerate(raw):
            where = f"{key}[{i}]"
            if not isinstance(item, Mapping) or item.get("kind") not in ASSIGNEE_KINDS:
                self.issue(node_id, "flow.def.bad_assignee", where)
                continue
            if any(k not in _SPEC_KEYS for k in item):
                self.issue(node_id, "flow.def.unknown_key", where)
            kind = item["kind"]
            spec = AssigneeSpec(kind=kind)
            if kind == "user":
                ids = item.get("user_ids")
                users = [self.user_id(u) for u in ids] if isinstance(ids, list) else []
                if not users or any(u is None for u in users):
                    self.issue(node_id, "flow.def.bad_assignee", f"{where}.user_ids")
                    continue
                spec = AssigneeSpec(kind=kind, user_ids=tuple(u for u in users if u))
            elif kind == "role":
                role = item.get("role")
                if not isinstance(role, str) or not role:
                    self.issue(node_id, "flow.def.bad_assignee", f"{where}.role")
                    continue
                spec = AssigneeSpec(kind=kind, role=role)
            elif kind == "dept_head":
                levels = item.get("levels_up", 0)
                if (
                    isinstance(levels, bool)
                    or not isinstance(levels, int)
                    or not 0 <= levels <= MAX_LEVELS_UP
                ):
                    self.issue(node_id, "flow.def.bad_assignee", f"{where}.levels_up")
                    continue
                spec = AssigneeSpec(kind=kind, levels_up=levels)
            elif kind in ("form_user_field", "customer_owner"):
                fld = item.get("field", "" if kind == "customer_owner" else None)
                if not isinstance(fld, str) or (kind == "form_user_field" and not _KEY.match(fld)):
                    self.issue(node_id, "flow.def.bad_assignee", f"{where}.field")
                    continue
                spec = AssigneeSpec(kind=kind, field=fld)
            elif kind == "initiator_choice":
                multiple = item.get("multiple", True)
                if not isinstance(multiple, bool):
                    self.issue(node_id, "flow.def.bad_assignee", f"{where}.multiple")
                    continue
                spec = AssigneeSpec(kind=kind, multiple=multiple)
            specs.append(spec)
        return tuple(specs)

    def deadline(self, node_id: str, raw: Any) -> Deadline | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.issue(node_id, "flow.def.bad_deadline", "deadline")
            return None
        for key in raw:
            if key not in _DEADLINE_KEYS:
                self.issue(node_id, "flow.def.unknown_key", f"deadline.{key}")
        hours = _decimal(raw.get("hours"))
        if hours is None or hours <= 0:
            self.issue(node_id, "flow.def.deadline_positive", "deadline.hours")
            return None
        reminder: Decimal | None = None
        if raw.get("reminder_before") is not None:
            reminder = _decimal(raw.get("reminder_before"))
            if reminder is None or reminder <= 0:
                self.issue(node_id, "flow.def.reminder_positive", "deadline.reminder_before")
                reminder = None
            elif reminder >= hours:
                self.issue(
                    node_id, "flow.def.reminder_not_before_deadline", "deadline.reminder_before"
                )
                reminder = None
        working = raw.get("working_hours", False)
        if not isinstance(working, bool):
            self.issue(node_id, "flow.def.bad_flag", "deadline.working_hours")
            working = False
        on_timeout = raw.get("on_timeout", "none")
        if on_timeout not in TIMEOUT_ACTIONS:
            self.issue(node_id, "flow.def.bad_choice", "deadline.on_timeout")
            on_timeout = "none"
        return Deadline(
            hours=hours, working_hours=working, reminder_before=reminder, on_timeout=on_timeout
        )

    def check_return_targets(self, definition: Definition) -> None:
        for node in definition.walk():
            if not isinstance(node, ApprovalNode):
                continue
            for target in node.return_targets:
                if target == INITIATOR:
                    continue
                if target not in definition.by_id:
                    self.issue(node.id, "flow.def.bad_return_target", "return_targets", id=target)
                elif target not in definition.earlier[node.id]:
                    self.issue(node.id, "flow.def.return_not_earlier", "return_targets", id=target)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _terminates(nodes: Sequence[Node]) -> bool:
    """Does every route through this node list reach an end node?"""
    for node in nodes:
        if isinstance(node, EndNode):
            return True
        if (
            isinstance(node, ConditionGroup)
            and node.branches
            and all(_terminates(b.nodes) for b in node.branches)
        ):
            return True
    return False
