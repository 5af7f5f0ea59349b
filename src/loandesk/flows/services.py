"""Flow use cases: designing and publishing definitions, and every command on an instance.

Each command runs in one transaction: lock the instance row (SELECT ... FOR UPDATE; on SQLite
the IMMEDIATE transaction serialises writers), load the engine state, call the pure engine,
apply its effects in order (task / timer / step-run / history / CC rows, record writes through
the form engine, status, outbox events), save the state with its new version, audit. A refused
command raises a translated 4xx and writes nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from loandesk.accounts.models import User
from loandesk.accounts.scoping import get_scoped, has_perm, require_perm
from loandesk.core import audit, outbox, pgliteral
from loandesk.core.errors import LoanDeskError, NotFound, ValidationFailed
from loandesk.core.expression import ConditionError, check_condition, evaluate_condition
from loandesk.core.i18n import message
from loandesk.core.models import AuditEntry, OutboxEvent
from loandesk.core.money import format_yuan, yuan_to_fen
from loandesk.flows import records
from loandesk.flows.directory import OrgDirectory
from loandesk.flows.engine import (
    SYSTEM,
    ApprovalNode,
    AutomatedCancelled,
    AutomatedRun,
    CcNode,
    DataUpdated,
    Definition,
    DefinitionInvalid,
    Finished,
    FlowEngine,
    FlowError,
    HistoryRecorded,
    InstanceState,
    Issue,
    Notify,
    NotifyCc,
    StatusChanged,
    TaskClosed,
    TaskCreated,
    TimerCancelled,
    TimerScheduled,
    Transition,
)
from loandesk.flows.messages import ADMIN, DESIGN
from loandesk.flows.models import (
    FlowCc,
    FlowDefinition,
    FlowHistory,
    FlowInstance,
    FlowStepRun,
    FlowTask,
    FlowTimer,
    FlowVersion,
)
from loandesk.forms.models import FormDefinition, Record
from loandesk.forms.services import RECORD_SCOPE

logger = logging.getLogger(__name__)

LIVE = ("running", "returned", "error")
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_DEFINITION_BYTES = 512 * 1024
MAX_COMMENT = 2000
MAX_ATTACHMENTS = 20
MAX_SIGNATURE = 300_000
MAX_BATCH = 100
STEP_RETRY_AFTER = timedelta(minutes=1)


def flow_error(code: str, params: Mapping[str, Any] | None = None) -> LoanDeskError:
    """An engine refusal as the API error: status from ERROR_STATUS, translated message."""
    from loandesk.flows.engine import ERROR_STATUS

    return LoanDeskError(code, params=params, status=ERROR_STATUS.get(code, 400))


def _translate(exc: FlowError) -> LoanDeskError:
    if isinstance(exc, DefinitionInvalid):
        return LoanDeskError(
            exc.code,
            params=exc.params,
            status=exc.status,
            details={"issues": issues_json(exc.issues)},
        )
    return LoanDeskError(exc.code, params=exc.params, status=exc.status, details=exc.params)


def issues_json(issues: Sequence[Issue]) -> list[dict[str, Any]]:
    return [{**i.to_json(), "message": message(i.code, i.params)} for i in issues]


def now() -> datetime:
    return timezone.now()


# --- engines -----------------------------------------------------------------------------------

_DEFS: dict[tuple[int, datetime], Definition] = {}
_DEFS_LOCK = threading.Lock()


def definition_of(version: FlowVersion) -> Definition:
    """The compiled definition of a published version (cached: versions never change; keyed
    with the publication time too, as a rolled-back database may hand an id out again)."""
    key = (version.pk, version.published_at)
    with _DEFS_LOCK:
        found = _DEFS.get(key)
    if found is None:
        found = Definition.from_json(version.definition_json)
        with _DEFS_LOCK:
            if len(_DEFS) > 512:
                _DEFS.clear()
            _DEFS[key] = found
    return found


def _is_working_day() -> Callable[[Any], bool]:
    """The holiday calendar, loaded on the first deadline computed (most commands have none)."""
    loaded: list[Callable[[Any], bool]] = []

    def is_working_day(day: Any) -> bool:
        if not loaded:
            from loandesk.lending.calendar import working_day_calendar

            loaded.append(working_day_calendar().is_working_day)
        return loaded[0](day)

    return is_working_day


def engine_for(
    version: FlowVersion,
    *,
    record: Record | Callable[[], Record] | None,
    customer_id: int | None = None,
) -> FlowEngine:
    """An engine over the published version. `record` may be a loader, called on the first
    condition evaluated (most commands evaluate none, so the record's row stays unread)."""

    def evaluate(logic: Any, data: Mapping[str, Any]) -> bool:
        bound = record() if callable(record) else record
        compiled = records.compiled_of(bound) if bound is not None else None
        view = records.condition_view(compiled, data) if compiled is not None else dict(data)
        try:
            return evaluate_condition(logic, view)
        except (ConditionError, RecursionError, ValueError, TypeError):
            return False

    return FlowEngine(
        definition_of(version),
        directory=OrgDirectory(customer_id=customer_id),
        evaluate_condition=evaluate,
        is_working_day=_is_working_day(),
    )


def _engine(instance: FlowInstance) -> FlowEngine:
    return engine_for(
        instance.version, record=lambda: instance.record, customer_id=instance.customer_id
    )


# --- designer ----------------------------------------------------------------------------------


def _form_fields(form: FormDefinition) -> set[str]:
    from loandesk.forms.services import related_fields

    return related_fields(form.code) or set()


def _condition_checker(form: FormDefinition | None) -> Callable[[Any], str | None]:
    known = _form_fields(form) if form is not None else set()

    def check(logic: Any) -> str | None:
        try:
            # Results of automated steps (risk.*, contract.*) may be used too.
            check_condition(logic, known | {"risk", "contract", "loan", "customer_id"})
        except ConditionError as exc:
            return message(exc.code, exc.params)
        return None

    return check


def validate(*, actor: User, key: str, definition: Any) -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    flow = _get_definition(key)
    return _issues(flow, definition)


def _issues(flow: FlowDefinition, definition: Any) -> list[dict[str, Any]]:
    from loandesk.flows.engine import validate_definition

    if not isinstance(definition, Mapping):
        return issues_json([Issue(None, "flow.def.not_an_object")])
    candidate = {**definition, "key": flow.key}
    return issues_json(
        validate_definition(candidate, check_condition=_condition_checker(flow.form))
        + form_field_issues(flow.form, candidate)
        + user_issues(candidate)
    )


def walk_nodes(definition: Any) -> Iterator[Mapping[str, Any]]:
    """Every node object of a definition JSON, branches included, valid or not."""
    nodes = definition.get("nodes") if isinstance(definition, Mapping) else None
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, Mapping):
            continue
        yield node
        branches = node.get("branches")
        for branch in branches if isinstance(branches, list) else []:
            if isinstance(branch, Mapping):
                yield from walk_nodes(branch)


def form_field_issues(form: FormDefinition | None, definition: Any) -> list[Issue]:
    """`field_permissions` keys that are not fields of the bound form."""
    known = _form_fields(form) if form is not None else set()
    issues = []
    for node in walk_nodes(definition):
        perms = node.get("field_permissions")
        if not isinstance(perms, Mapping):
            continue
        node_id = node.get("id") if isinstance(node.get("id"), str) else None
        for key in perms:
            if isinstance(key, str) and key not in known:
                issues.append(
                    Issue(
                        node_id,
                        "flow.def.unknown_form_field",
                        f"field_permissions.{key}"[:200],
                        {"field": key[:64]},
                    )
                )
    return issues


def user_issues(definition: Any) -> list[Issue]:
    """Named users (assignees, CC recipients, `on_empty_user_id`) that are not active users:
    a task row for them could not be written, or nobody would ever see it."""
    named: list[tuple[str | None, str, str]] = []
    for node in walk_nodes(definition):
        node_id = node.get("id") if isinstance(node.get("id"), str) else None
        for key in ("assignees", "recipients"):
            specs = node.get(key)
            for n, spec in enumerate(specs if isinstance(specs, list) else []):
                if isinstance(spec, Mapping) and spec.get("kind") == "user":
                    users = spec.get("user_ids")
                    for value in users if isinstance(users, list) else []:
                        named.append((node_id, f"{key}.{n}.user_ids", str(value)[:20]))
        fallback = node.get("on_empty_user_id")
        if fallback not in (None, ""):
            named.append((node_id, "on_empty_user_id", str(fallback)[:20]))
    wanted = {int(v) for _, _, v in named if v.isascii() and v.isdigit() and len(v) < 19}
    active = {
        str(pk)
        for pk in User.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True)
    }
    return [
        Issue(node_id, "flow.def.unknown_user", field, {"user": value})
        for node_id, field, value in named
        if value not in active
    ]


def _get_definition(key: str, *, lock: bool = False) -> FlowDefinition:
    qs = FlowDefinition.objects.select_related("form")
    if lock:
        qs = qs.select_for_update()
    found = qs.filter(key=key).first() if isinstance(key, str) else None
    if found is None:
        raise NotFound()
    return found


def _form(code: Any) -> FormDefinition:
    form = FormDefinition.objects.filter(code=code).first() if isinstance(code, str) else None
    if form is None:
        raise ValidationFailed.field("form_code", "flow.form_not_found")
    return form


def minimal_draft(key: str, name: str) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "version": 1,
        "settings": {"resubmit_from": "start", "urge_interval_minutes": 60},
        "nodes": [
            {"id": "start", "kind": "start", "name": "发起"},
            {
                "id": "approval_1",
                "kind": "approval",
                "name": "审批",
                "assignees": [{"kind": "dept_head", "levels_up": 0}],
                "on_empty": "to_admin",
            },
            {"id": "end", "kind": "end", "name": "结束"},
        ],
    }


def _clean_text(name: str, value: Any, max_len: int, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationFailed({name: message("field.type", {"expected": "string"})})
    value = value.strip()
    if required and not value:
        raise ValidationFailed.field(name, "field.required")
    if len(value) > max_len:
        raise ValidationFailed.field(name, "field.too_long", max=max_len)
    return value


def _check_binding(form: FormDefinition, exclude: int | None) -> None:
    qs = FlowDefinition.objects.filter(form=form, is_active=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise ValidationFailed.field("form_code", "flow.form_taken")


@transaction.atomic
def create_definition(
    *, actor: User, key: str, name: str, form_code: str, description: str = ""
) -> FlowDefinition:
    require_perm(actor, DESIGN)
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValidationFailed.field("key", "flow.def.bad_key")
    name = _clean_text("name", name, 100, required=True)
    description = _clean_text("description", description, 500, required=False)
    form = _form(form_code)
    if FlowDefinition.objects.filter(key=key).exists():
        raise ValidationFailed.field("key", "flow.key_taken")
    _check_binding(form, None)
    try:
        with transaction.atomic():
            flow = FlowDefinition.objects.create(
                key=key,
                name=name,
                description=description,
                form=form,
                draft=minimal_draft(key, name),
                created_by=actor,
                updated_by=actor,
            )
    except IntegrityError:
        raise ValidationFailed.field("key", "flow.key_taken") from None
    audit.record(action="flow.definition_created", actor=actor, target=flow)
    return flow


@transaction.atomic
def update_definition(
    *,
    actor: User,
    key: str,
    name: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
    form_code: str | None = None,
) -> FlowDefinition:
    require_perm(actor, DESIGN)
    flow = _get_definition(key, lock=True)
    before = audit.snapshot(flow, ["name", "description", "is_active", "form"])
    if name is not None:
        flow.name = _clean_text("name", name, 100, required=True)
    if description is not None:
        flow.description = _clean_text("description", description, 500, required=False)
    if form_code is not None:
        flow.form = _form(form_code)
    if is_active is not None:
        if not isinstance(is_active, bool):
            raise ValidationFailed({"is_active": message("field.type", {"expected": "boolean"})})
        flow.is_active = is_active
    if flow.is_active:
        _check_binding(flow.form, flow.pk)
    flow.updated_by = actor
    flow.save()
    audit.record(
        action="flow.definition_updated",
        actor=actor,
        target=flow,
        changes=audit.diff(
            before, audit.snapshot(flow, ["name", "description", "is_active", "form"])
        ),
    )
    return flow


@transaction.atomic
def save_draft(*, actor: User, key: str, definition: Any) -> tuple[dict[str, Any], list[dict]]:
    """Keep the draft even when invalid (work is never lost); return it with its issues."""
    require_perm(actor, DESIGN)
    flow = _get_definition(key, lock=True)
    if not isinstance(definition, Mapping):
        raise ValidationFailed({"definition": message("field.type", {"expected": "object"})})
    import json

    if len(json.dumps(definition, ensure_ascii=False, default=str)) > MAX_DEFINITION_BYTES:
        raise LoanDeskError("payload_too_large", status=413)
    flow.draft = {**definition, "key": flow.key}
    flow.updated_by = actor
    flow.save(update_fields=["draft", "updated_by", "updated_at"])
    return flow.draft, _issues(flow, flow.draft)


@transaction.atomic
def publish(*, actor: User, key: str) -> FlowVersion:
    require_perm(actor, DESIGN)
    flow = _get_definition(key, lock=True)
    last = flow.versions.order_by("-version").first()
    number = (last.version if last else 0) + 1
    candidate = {**flow.draft, "key": flow.key, "version": number}
    extra = form_field_issues(flow.form, candidate) + user_issues(candidate)
    try:
        compiled = Definition.from_json(candidate, check_condition=_condition_checker(flow.form))
    except DefinitionInvalid as exc:
        raise _translate(DefinitionInvalid([*exc.issues, *extra])) from None
    if extra:
        raise _translate(DefinitionInvalid(extra))
    version = FlowVersion.objects.create(
        definition=flow,
        version=number,
        definition_json=compiled.to_json(),
        published_by=actor,
        published_at=now(),
    )
    audit.record(action="flow.published", actor=actor, target=flow, extra={"version": number})
    return version


def published_version(flow: FlowDefinition) -> FlowVersion | None:
    return flow.versions.order_by("-version").first()


def active_flow_for(form_id: int) -> tuple[FlowDefinition, FlowVersion] | None:
    flow = FlowDefinition.objects.filter(form_id=form_id, is_active=True).first()
    if flow is None:
        return None
    version = published_version(flow)
    return None if version is None else (flow, version)


def choice_nodes(definition: Definition) -> list[dict[str, Any]]:
    out = []
    for node in definition.walk():
        specs = (
            node.assignees
            if isinstance(node, ApprovalNode)
            else node.recipients
            if isinstance(node, CcNode)
            else ()
        )
        spec = next((s for s in specs if s.kind == "initiator_choice"), None)
        if spec is not None:
            out.append({"node_id": node.id, "name": node.name, "multiple": bool(spec.multiple)})
    return out


# --- starting ----------------------------------------------------------------------------------


def _title(record: Record) -> str:
    compiled = records.compiled_of(record)
    plain = record.data
    parts: list[str] = []
    if record.customer_id is not None:
        from loandesk.customers.models import Customer

        name = Customer.objects.filter(pk=record.customer_id).values_list("name", flat=True).first()
        if name:
            parts.append(name)
    product = compiled.by_key.get("product")
    if product is not None and plain.get("product") is not None:
        labels = {o.get("value"): o.get("label") for o in product.options or []}
        parts.append(str(labels.get(plain["product"], plain["product"])))
    amount = _amount(plain)
    if amount is not None:
        parts.append(format_yuan(amount))
    if not parts:
        parts = [record.version.form.name, record.serial_no or f"#{record.pk}"]
    return " · ".join(parts)[:200]


def _amount(data: Mapping[str, Any]) -> Decimal | None:
    value = data.get("amount")
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _amount_fen(data: Mapping[str, Any]) -> int | None:
    amount = _amount(data)
    if amount is None:
        return None
    try:
        return yuan_to_fen(amount)
    except (ValueError, InvalidOperation):
        return None


def on_record_created(record: Record) -> None:
    """The forms hook: start the bound flow in the record's transaction (unless it needs the
    initiator to choose approvers first — then `POST /instances` starts it)."""
    found = active_flow_for(record.form_id)
    if found is None:
        return
    _flow, version = found
    if choice_nodes(definition_of(version)):
        return
    _start(record=record, version=version, actor=record.created_by or record.owner, choices={})


def _clean_choices(choices: Any) -> dict[str, list[str]]:
    if choices is None:
        return {}
    if not isinstance(choices, Mapping):
        raise flow_error("flow.bad_command", {"choices": ""})
    out: dict[str, list[str]] = {}
    for node_id, users in choices.items():
        if not isinstance(users, list) or len(users) > 50:
            raise flow_error("flow.bad_command", {"choices": str(node_id)[:64]})
        ids = []
        for u in users:
            if isinstance(u, bool) or not isinstance(u, int | str) or not str(u).isdigit():
                raise flow_error("flow.bad_command", {"choices": str(node_id)[:64]})
            ids.append(int(u))
        active = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
        if set(ids) - active:
            raise flow_error("flow.invalid_target", {"target": str(node_id)[:64]})
        out[str(node_id)] = [str(i) for i in ids]
    return out


@transaction.atomic
def start(*, actor: User, record_id: Any, choices: Any = None) -> FlowInstance:
    """Start the record's flow (POST /instances): the record's owner, or a flows admin."""
    if isinstance(record_id, bool) or not isinstance(record_id, int):
        raise ValidationFailed({"record_id": message("field.type", {"expected": "integer"})})
    qs = Record.objects.select_related("version__form", "owner")
    if has_perm(actor, ADMIN):
        record = qs.filter(pk=record_id).first()
        if record is None:
            raise NotFound()
    else:
        record = get_scoped(qs, actor, RECORD_SCOPE, record_id)
        if record.owner_id != actor.pk:
            raise flow_error("flow.not_initiator")
    found = active_flow_for(record.form_id)
    if found is None:
        raise LoanDeskError("flow.no_active_flow", status=404)
    _flow, version = found
    needed = choice_nodes(definition_of(version))
    picked = _clean_choices(choices)
    if any(n["node_id"] not in picked for n in needed):
        raise ValidationFailed.field("choices", "flow.choices_required")
    Record.objects.select_for_update().filter(pk=record.pk).first()
    return _start(record=record, version=version, actor=actor, choices=picked)


def _start(
    *, record: Record, version: FlowVersion, actor: Any, choices: Mapping[str, list[str]]
) -> FlowInstance:
    if FlowInstance.objects.filter(record=record, status__in=LIVE).exists():
        raise LoanDeskError("flow.already_started", status=409)
    engine = engine_for(version, record=record, customer_id=record.customer_id)
    at = now()
    try:
        t = engine.start(
            initiator=str(record.owner_id), data=dict(record.data), now=at, choices=choices
        )
    except FlowError as exc:
        raise _translate(exc) from None
    owner = record.owner
    instance = FlowInstance(
        version=version,
        record=record,
        initiator_id=record.owner_id,
        department_id=owner.department_id,
        customer_id=record.customer_id,
        title=_title(record),
        status=t.state.status,
        state={},
        started_at=at,
    )
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise LoanDeskError("flow.already_started", status=409) from None
    _apply(instance, t, actor=actor)
    outbox.publish(
        "flows.instance_started",
        payload=_event(instance, {"record_id": record.pk, "form": record.version.form.code}),
        aggregate_type="flows.instance",
        aggregate_id=instance.pk,
    )
    audit.record(
        action="flow.started",
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        target=instance,
        extra={"record_id": record.pk, "flow": version.definition.key, "version": version.version},
    )
    return instance


# --- applying a transition -------------------------------------------------------------------


def _event(instance: FlowInstance, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "instance_id": instance.pk,
        "title": instance.title,
        "flow": instance.version.definition.key,
        "initiator_id": instance.initiator_id,
        "customer_id": instance.customer_id,
        **(extra or {}),
    }


# --- raw statements for the command path ---------------------------------------------------
#
# An approval is a dozen small statements; building each through the ORM (query compilation,
# one model instance per row, save() machinery) cost more than the database did. The hot path
# therefore writes prepared SQL: values go through each field's own get_db_prep_save (so dates,
# JSON and the like are adapted exactly as the ORM would) and rows are never instantiated.


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


_INSERT_SQL: dict[tuple[str, type], tuple[list[Any], str, str]] = {}

# Field types whose database value is the Python value itself when it already has this exact
# type (or is None): the batch insert skips get_db_prep_save() for those, a tenth of an
# approval's CPU. Anything else (JSON, dates, decimals, UUIDs, a bool for an integer) goes
# through the field as the ORM would.
_PLAIN_TYPES: dict[str, type] = {
    "CharField": str,
    "TextField": str,
    "SlugField": str,
    "IntegerField": int,
    "BigIntegerField": int,
    "SmallIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveSmallIntegerField": int,
    "BooleanField": bool,
}


def _plain_type(field: Any) -> type | None:
    target = field.target_field if field.is_relation else field
    if target.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField"):
        return int
    return _PLAIN_TYPES.get(target.get_internal_type())


def _insert_statement(conn: Any, model: type[Any]) -> tuple[list[Any], str, str]:
    key = (conn.vendor, model)
    found = _INSERT_SQL.get(key)
    if found is None:
        # Every concrete field but a database-generated primary key (a UUID key with a
        # default is written like any other field).
        fields = [
            f
            for f in model._meta.concrete_fields
            if not (f.primary_key and getattr(f, "db_returning", False))
        ]
        for f in fields:
            # Only plain fields: no custom placeholders to emulate.
            assert not hasattr(f, "get_placeholder"), f
        qn = conn.ops.quote_name
        head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 (identifiers from model metadata)
            qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields)
        )
        plan = [(f, f.attname, _plain_type(f)) for f in fields]
        found = _INSERT_SQL[key] = (plan, head, "(" + ", ".join(["%s"] * len(fields)) + ")")
    return found


class _Writes:
    """A command's row writes, collected in order and sent together at the end.

    On PostgreSQL with client-side parameter binding (Django's default for psycopg) they go
    as one multi-statement query: one round trip for every table the transition touches
    instead of one each. Elsewhere (SQLite has no round trips; server-side binding allows one
    statement per query) they run one by one. Either way they run inside the command's
    transaction, so they commit or roll back together."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []
        self.conn = connections[DEFAULT_DB_ALIAS]

    def add(self, sql: str, params: list[Any]) -> None:
        self.statements.append((sql, params))

    def insert(self, model: type[Any], rows: Sequence[Mapping[str, Any]]) -> None:
        """One multi-row INSERT of `rows` ({attname: value}; an absent field takes its
        default, an absent auto_now(_add) timestamp the time of the insert)."""
        if not rows:
            return
        conn = self.conn
        plan, head, one = _insert_statement(conn, model)
        params: list[Any] = []
        stamp: datetime | None = None
        for row in rows:
            for f, attname, plain in plan:
                if attname in row:
                    value = row[attname]
                elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    value = stamp = stamp or timezone.now()
                else:
                    value = f.get_default()
                if plain is not None and (value is None or type(value) is plain):
                    params.append(value)
                else:
                    params.append(f.get_db_prep_save(value, conn))
        self.add(head + ", ".join([one] * len(rows)), params)

    def flush(self) -> None:
        statements, self.statements = self.statements, []
        if not statements:
            return
        with self.conn.cursor() as cursor:
            if len(statements) > 1 and _one_round_trip(self.conn):
                # Bound statement by statement, then sent joined with no parameters left:
                # the common types by pgliteral (a fifth of an approval's CPU went to psycopg's
                # adapters), the rest by psycopg (which caches the parsing of a short query,
                # never of the long joined one).
                mogrify = cursor.cursor.mogrify
                fast = pgliteral.usable(cursor.cursor.connection)
                cursor.execute(
                    ";\n".join(
                        (fast and pgliteral.bind(sql, params)) or mogrify(sql, params)
                        for sql, params in statements
                    )
                )
            else:
                for sql, params in statements:
                    cursor.execute(sql, params)


def _one_round_trip(conn: Any) -> bool:
    return (
        conn.vendor == "postgresql"
        and conn.settings_dict.get("OPTIONS", {}).get("server_side_binding") is not True
    )


def _prep(model: type[Any], attname: str, value: Any) -> Any:
    return model._meta.get_field(attname).get_db_prep_save(value, connections[DEFAULT_DB_ALIAS])


def _uid(user_id: str | None) -> int | None:
    if user_id is None or user_id == SYSTEM or not str(user_id).isdigit():
        return None
    return int(user_id)


_TASK_ACTION = {
    "approved": "approve",
    "rejected": "reject",
    "returned": "return",
    "transferred": "transfer",
    "delegated": "add_signer_before",
    "escalated": "escalated",
    "cancelled": "",
}


_PROJECTION = [
    "state",
    "state_version",
    "status",
    "finished_at",
    "current_node_id",
    "current_node_name",
    "amount_fen",
    "updated_at",
]


def _apply(
    instance: FlowInstance, t: Transition, *, actor: Any, writes: _Writes | None = None
) -> None:
    """Apply the effects in order, then save the state and the instance's projection. The
    row writes go through `writes` (flushed by the caller) or, without it, are sent here."""
    own = writes is None
    w = writes if writes is not None else _Writes()
    definition = definition_of(instance.version)
    names = {n.id: n.name for n in definition.walk()}
    new_tasks: dict[str, dict[str, Any]] = {}
    new_timers: dict[str, dict[str, Any]] = {}
    history: list[dict[str, Any]] = []
    ccs: list[dict[str, Any]] = []
    runs: list[FlowStepRun] = []
    data_changes: dict[str, Any] = {}
    events: list[tuple[str, dict[str, Any]]] = []
    closed: dict[tuple[str, datetime, str], list[str]] = {}
    cancelled_timers: list[str] = []
    for fx in t.effects:
        if isinstance(fx, HistoryRecorded):
            e = fx.event
            history.append(
                {
                    "instance_id": instance.pk,
                    "seq": e.seq,
                    "at": e.at,
                    "actor_id": _uid(e.actor),
                    "action": e.action,
                    "node_id": e.node_id or "",
                    "visit": e.visit,
                    "round": e.round,
                    "engine_task_id": e.task_id or "",
                    "comment": e.comment or "",
                    "attachments": list(e.attachments),
                    "signature": e.signature or "",
                    "target": (e.target or "")[:64],
                    "duration_seconds": e.duration_seconds,
                    "details": dict(e.details),
                }
            )
        elif isinstance(fx, TaskCreated):
            task = fx.task
            new_tasks[task.id] = {
                "instance_id": instance.pk,
                "engine_task_id": task.id,
                "node_id": task.node_id,
                "node_name": names.get(task.node_id, task.node_id)[:100],
                "user_id": int(task.user_id),
                "kind": task.kind,
                "created_at": task.created_at,
                "due_at": task.due_at,
            }
            events.append(
                (
                    "flows.task_assigned",
                    _event(
                        instance,
                        {"task_id": task.id, "node_id": task.node_id, "user_id": int(task.user_id)},
                    ),
                )
            )
        elif isinstance(fx, TaskClosed):
            action = _TASK_ACTION.get(fx.status, fx.status)
            if fx.task_id in new_tasks:
                new_tasks[fx.task_id].update(status=fx.status, closed_at=fx.at, action=action)
            else:
                closed.setdefault((fx.status, fx.at, action), []).append(fx.task_id)
            if fx.status != "cancelled":
                events.append(
                    (
                        "flows.task_closed",
                        _event(
                            instance,
                            {
                                "task_id": fx.task_id,
                                "node_id": fx.node_id,
                                "user_id": _uid(fx.user_id),
                                "status": fx.status,
                            },
                        ),
                    )
                )
        elif isinstance(fx, TimerScheduled):
            timer = fx.timer
            new_timers[timer.id] = {
                "instance_id": instance.pk,
                "timer_id": timer.id,
                "kind": timer.kind,
                "engine_task_id": timer.task_id,
                "fire_at": timer.fire_at,
            }
        elif isinstance(fx, TimerCancelled):
            if new_timers.pop(fx.timer_id, None) is None:
                cancelled_timers.append(fx.timer_id)
        elif isinstance(fx, AutomatedRun):
            runs.append(
                FlowStepRun(
                    instance=instance,
                    step_id=fx.step_id,
                    node_id=fx.node_id,
                    action=fx.action,
                    params=dict(fx.params),
                    created_at=now(),
                )
            )
        elif isinstance(fx, AutomatedCancelled):
            FlowStepRun.objects.filter(
                instance=instance, step_id=fx.step_id, status=FlowStepRun.Status.PENDING
            ).update(status=FlowStepRun.Status.CANCELLED, finished_at=now())
            runs = [r for r in runs if r.step_id != fx.step_id]
        elif isinstance(fx, Notify):
            if fx.kind == "task_assigned":
                continue  # flows.task_assigned (above) carries it
            events.append(
                (
                    "flows.notify",
                    _event(
                        instance,
                        {
                            "kind": fx.kind,
                            "user_ids": [
                                u for u in (_uid(x) for x in fx.user_ids) if u is not None
                            ],
                            "node_id": fx.node_id,
                            "task_id": fx.task_id,
                            "params": dict(fx.params),
                        },
                    ),
                )
            )
        elif isinstance(fx, NotifyCc):
            at = now()
            user_ids = [u for u in (_uid(x) for x in fx.user_ids) if u is not None]
            ccs += [
                {"instance_id": instance.pk, "user_id": u, "node_id": fx.node_id, "created_at": at}
                for u in user_ids
            ]
            events.append(
                (
                    "flows.notify",
                    _event(instance, {"kind": "cc", "user_ids": user_ids, "node_id": fx.node_id}),
                )
            )
        elif isinstance(fx, DataUpdated):
            data_changes.update(fx.changes)
        elif isinstance(fx, StatusChanged):
            instance.status = fx.new
        elif isinstance(fx, Finished):
            instance.finished_at = fx.at
            instance.status = fx.result
            events.append(
                (
                    "flows.instance_finished",
                    _event(instance, {"result": fx.result, "record_id": instance.record_id}),
                )
            )
    # Rows are written after the walk, batched: one statement per table (and per closing),
    # first the outbox events (one multi-row INSERT, in order; the worker nudge is scheduled
    # with them).
    if events:
        event_rows, nudge = outbox.prepare_many(
            events, aggregate_type="flows.instance", aggregate_id=instance.pk
        )
        w.insert(OutboxEvent, event_rows)
        if nudge is not None:
            w.insert(DBTaskResult, [nudge])
    for (status, at, action), task_ids in closed.items():
        w.add(
            _sql("close_tasks", len(task_ids)),
            [status, _prep(FlowTask, "closed_at", at), action, instance.pk, *task_ids],
        )
    if cancelled_timers:
        w.add(
            _sql("cancel_timers", len(cancelled_timers)),
            [
                FlowTimer.Status.CANCELLED.value,
                instance.pk,
                FlowTimer.Status.PENDING.value,
                *cancelled_timers,
            ],
        )
    w.insert(FlowTask, list(new_tasks.values()))
    w.insert(FlowTimer, list(new_timers.values()))
    w.insert(FlowHistory, history)
    w.insert(FlowCc, ccs)
    if runs:
        FlowStepRun.objects.bulk_create(runs)
        transaction.on_commit(_enqueue_steps([r.pk for r in runs if r.pk is not None], instance.pk))
    state = t.state
    if data_changes:
        record = instance.record
        person = actor if getattr(actor, "is_authenticated", False) else None
        if records.write_changes(record=record, changes=data_changes, actor=person):
            state.data = records.merged_data(records.compiled_of(record), state.data, record)
    instance.state = state.to_json()
    instance.state_version = state.version
    instance.status = state.status
    instance.finished_at = state.finished_at
    instance.current_node_id = state.current or ""
    instance.current_node_name = names.get(state.current, "")[:100] if state.current else ""
    instance.amount_fen = _amount_fen(state.data)
    instance.updated_at = now()
    # The projection in one UPDATE; the state JSON is serialised once, here.
    w.add(
        _sql("projection", 0),
        [_prep(FlowInstance, n, getattr(instance, n)) for n in _PROJECTION] + [instance.pk],
    )
    if own:
        w.flush()


_SQL: dict[tuple[str, str, int], str] = {}


def _sql(name: str, n: int) -> str:
    """The command path's UPDATE statements, built once per vendor (and IN-list length)."""
    key = (connection.vendor, name, n)
    found = _SQL.get(key)
    if found is not None:
        return found
    qn = _qn
    marks = ", ".join(["%s"] * n)
    if name == "close_tasks":
        sql = (
            f"UPDATE {qn(FlowTask._meta.db_table)} SET {qn('status')} = %s,"  # noqa: S608 (identifiers from model metadata)
            f" {qn('closed_at')} = %s, {qn('action')} = %s"
            f" WHERE {qn('instance_id')} = %s AND {qn('engine_task_id')} IN ({marks})"
        )
    elif name == "cancel_timers":
        sql = (
            f"UPDATE {qn(FlowTimer._meta.db_table)} SET {qn('status')} = %s"  # noqa: S608 (identifiers from model metadata)
            f" WHERE {qn('instance_id')} = %s AND {qn('status')} = %s"
            f" AND {qn('timer_id')} IN ({marks})"
        )
    else:
        assert name == "projection"
        sql = (
            f"UPDATE {qn(FlowInstance._meta.db_table)} SET "  # noqa: S608 (identifiers from model metadata)
            + ", ".join(f"{qn(c)} = %s" for c in _PROJECTION)
            + f" WHERE {qn('id')} = %s"
        )
    _SQL[key] = sql
    return sql


def _enqueue_steps(run_ids: list[int], instance_id: int) -> Callable[[], None]:
    def enqueue() -> None:
        from loandesk.flows.tasks import run_step_task

        for run_id in run_ids:
            try:
                run_step_task.enqueue(run_id)
            except Exception:  # the scheduler's sweep runs it anyway
                logger.exception("could not enqueue flow step %s of %s", run_id, instance_id)

    return enqueue


# --- commands --------------------------------------------------------------------------------


_LOCK_PARTS: list[tuple[type[Any], str, tuple[str, ...]]] = [
    # The record (read on demand: conditions, edits), the large JSON columns of the version
    # and definition (definition_of caches the compiled version) and the definition's
    # bookkeeping (each timestamp costs a tz-aware parse per command) stay unread.
    (FlowInstance, "i", ()),
    (FlowVersion, "v", ("definition_json",)),
    (FlowDefinition, "d", ("draft", "description", "created_at", "updated_at")),
]
_LOCK_SQL: dict[str, tuple[str, list[tuple[type[Any], list[str], list[list[Any]], list[Any]]]]] = {}


def _lock_statement() -> tuple[str, list[tuple[type[Any], list[str], list[list[Any]], list[Any]]]]:
    """The lock query (built once per database vendor): the instance row FOR UPDATE, with its
    version and definition (select_related by hand) and, through a LEFT JOIN, the acted-on
    task's holder — one round trip instead of two. Returns the SQL and, per model, the
    attnames read, each column's converters (the ORM's own: backend then field) and columns."""
    found = _LOCK_SQL.get(connection.vendor)
    if found is not None:
        return found
    columns: list[str] = []
    parts = []
    for model, alias, skip in _LOCK_PARTS:
        fields = [f for f in model._meta.concrete_fields if f.attname not in skip]
        cols = [f.get_col(alias) for f in fields]
        convs = [
            connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            for col in cols
        ]
        columns += [f"{alias}.{_qn(f.column)}" for f in fields]
        parts.append((model, [f.attname for f in fields], convs, cols))
    for_update = ""
    if connection.features.has_select_for_update:
        of = ("i",) if connection.features.has_select_for_update_of else ()
        for_update = " " + connection.ops.for_update_sql(of=of)
    sql = (
        f"SELECT {', '.join(columns)}, t.{_qn('user_id')}, t.{_qn('engine_task_id')}"  # noqa: S608 (identifiers from model metadata)
        f" FROM {_qn(FlowInstance._meta.db_table)} i"
        f" INNER JOIN {_qn(FlowVersion._meta.db_table)} v ON v.{_qn('id')} = i.{_qn('version_id')}"
        f" INNER JOIN {_qn(FlowDefinition._meta.db_table)} d"
        f" ON d.{_qn('id')} = v.{_qn('definition_id')}"
        f" LEFT OUTER JOIN {_qn(FlowTask._meta.db_table)} t"
        f" ON t.{_qn('instance_id')} = i.{_qn('id')} AND t.{_qn('id')} = %s"
        f" WHERE i.{_qn('id')} = %s{for_update}"
    )
    _LOCK_SQL[connection.vendor] = (sql, parts)
    return sql, parts


def _BIGINT(value: int) -> bool:
    return -(2**63) <= value < 2**63


def _lock(
    instance_id: Any, task_pk: int | None = None
) -> tuple[FlowInstance, tuple[int, str] | None]:
    """Lock the instance row (SELECT ... FOR UPDATE; SQLite's IMMEDIATE transaction already
    holds the write lock) and read, in the same query, (holder, engine task id) of the task
    row `task_pk` of this instance (None when there is no such task)."""
    if (
        isinstance(instance_id, bool)
        or not isinstance(instance_id, int)
        or not _BIGINT(instance_id)
    ):
        raise NotFound()
    if task_pk is not None and not _BIGINT(task_pk):
        task_pk = None  # no such row (the ORM answers out-of-range ids with "nothing" too)
    conn = connections[DEFAULT_DB_ALIAS]
    sql, parts = _lock_statement()
    with conn.cursor() as cursor:
        cursor.execute(sql, [task_pk, instance_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound()
    objs: list[Any] = []
    pos = 0
    for model, attnames, convs, cols in parts:
        values = []
        for n, chain in enumerate(convs):
            value = row[pos + n]
            for conv in chain:
                value = conv(value, cols[n], conn)
            values.append(value)
        pos += len(attnames)
        objs.append(model.from_db(conn.alias, attnames, values))
    instance, version, definition = objs
    version._state.fields_cache["definition"] = definition
    instance._state.fields_cache["version"] = version
    task = (int(row[pos]), str(row[pos + 1])) if row[pos] is not None else None
    return instance, task


def _locked(instance_id: Any) -> FlowInstance:
    return _lock(instance_id)[0]


def can_see(actor: User, instance: FlowInstance) -> bool:
    from loandesk.flows.selectors import visible_instances

    if instance.initiator_id == actor.pk:
        return True
    if FlowTask.objects.filter(instance=instance, user=actor).exists():
        return True
    return visible_instances(actor).filter(pk=instance.pk).exists()


def _command(
    *,
    actor: User,
    instance_id: Any,
    run: Callable[[FlowEngine, InstanceState, FlowInstance], Transition],
    audit_action: str | None,
    extra: Mapping[str, Any] | None = None,
    check: Callable[[FlowInstance], None] | None = None,
    task_pk: int | None = None,
    holds: Callable[[tuple[int, str] | None], bool] | None = None,
) -> FlowInstance:
    """`task_pk`: the task row acted on, read with the lock as (holder, engine task id);
    `holds(row)`: True when the command itself proves the actor may see the instance (the
    holder of the task acted on), which spares the visibility queries."""
    with transaction.atomic():
        instance, task_row = _lock(instance_id, task_pk)
        if not (holds is not None and holds(task_row)) and not can_see(actor, instance):
            raise NotFound()
        if check is not None:
            check(instance)
        state = InstanceState.from_json(instance.state)
        try:
            t = run(_engine(instance), state, instance)
        except FlowError as exc:
            raise _translate(exc) from None
        if not t.ignored:
            writes = _Writes()
            _apply(instance, t, actor=actor, writes=writes)
            if audit_action:
                writes.insert(
                    AuditEntry,
                    [
                        audit.entry_values(
                            action=audit_action,
                            actor=actor,
                            target=instance,
                            extra={"status": instance.status, **(extra or {})},
                        )
                    ],
                )
            writes.flush()
    return instance


def _text(name: str, value: Any, max_len: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed({name: message("field.type", {"expected": "string"})})
    if len(value) > max_len:
        raise ValidationFailed.field(name, "field.too_long", max=max_len)
    return value.strip() or None


def _attachments(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, str) and 0 < len(v) <= 64 for v in value
    ):
        raise ValidationFailed({"attachments": message("field.invalid")})
    if len(value) > MAX_ATTACHMENTS:
        raise ValidationFailed.field("attachments", "field.too_large", max=MAX_ATTACHMENTS)
    return list(value)


def _claim_uploads(ids: Sequence[str], *, actor: User, instance: FlowInstance) -> None:
    """Attachments must be the actor's own uploads (`POST /forms/uploads`), not taken by another
    record (422 otherwise). They are attached to the instance's record, so whoever may see the
    record may open them and the orphan sweep keeps them."""
    import uuid

    from loandesk.forms.models import Upload

    wanted: set[uuid.UUID] = set()
    for value in ids:
        try:
            wanted.add(uuid.UUID(value))
        except ValueError:
            raise ValidationFailed.field("attachments", "forms.field.upload_missing") from None
    rows = Upload.objects.filter(pk__in=wanted, uploaded_by_id=actor.pk).filter(
        Q(record__isnull=True) | Q(record_id=instance.record_id)
    )
    if rows.count() != len(wanted):
        raise ValidationFailed.field("attachments", "forms.field.upload_missing")
    rows.filter(record__isnull=True).update(record_id=instance.record_id)


def _signature(value: Any) -> str | None:
    text = _text("signature", value, MAX_SIGNATURE)
    if text is not None and not text.startswith("data:image/png;base64,"):
        raise ValidationFailed.field("signature", "field.invalid")
    return text


def _expected(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationFailed({"expected_version": message("field.type", {"expected": "integer"})})
    return value


def act(
    *,
    actor: User,
    instance_id: Any,
    task_id: Any,
    action: Any,
    comment: Any = None,
    attachments: Any = None,
    signature: Any = None,
    target: Any = None,
    data: Any = None,
    expected_version: Any = None,
) -> FlowInstance:
    """The task holder decides: approve, reject, return, transfer, add a signer, comment."""
    from loandesk.flows.engine import ACT_ACTIONS

    if not isinstance(action, str) or action not in ACT_ACTIONS:
        raise flow_error("flow.action_not_allowed", {"action": str(action)[:30]})
    if isinstance(task_id, bool) or not isinstance(task_id, int):
        raise ValidationFailed({"task_id": message("field.type", {"expected": "integer"})})
    comment_text = _text("comment", comment, MAX_COMMENT)
    files = _attachments(attachments)
    sign = _signature(signature)
    expected = _expected(expected_version)
    target_text: str | None = None
    if target is not None:
        if isinstance(target, bool) or not isinstance(target, int | str) or len(str(target)) > 64:
            raise flow_error("flow.invalid_target", {"target": ""})
        target_text = str(target)
    if action in ("transfer", "add_signer_before", "add_signer_after"):
        uid = int(target_text) if target_text and target_text.isdigit() else None
        if uid is None or not User.objects.filter(pk=uid, is_active=True).exists():
            raise flow_error("flow.invalid_target", {"target": target_text or ""})

    found: list[tuple[int, str] | None] = []

    def holds(row: tuple[int, str] | None) -> bool:
        found.append(row)
        return row is not None and row[0] == actor.pk

    def run(engine: FlowEngine, state: InstanceState, instance: FlowInstance) -> Transition:
        row = found[-1]
        if row is None:
            raise FlowError("flow.task_not_found", {"task_id": task_id})
        if row[0] != actor.pk:
            raise FlowError("flow.not_your_task", {"task_id": task_id})
        if files:
            _claim_uploads(files, actor=actor, instance=instance)
        changes = None
        if data is not None and data != {}:
            changes = records.prepare_edits(record=instance.record, raw=data, actor=actor)
        return engine.act(
            state,
            task_id=row[1],
            user_id=str(actor.pk),
            action=action,
            now=now(),
            comment=comment_text,
            attachments=files,
            signature=sign,
            target=target_text,
            data=changes or None,
            expected_version=expected,
        )

    return _command(
        actor=actor,
        instance_id=instance_id,
        run=run,
        audit_action="flow.acted",
        extra={"action": action, "task_id": task_id},
        task_pk=task_id,
        holds=holds,
    )


def withdraw(*, actor: User, instance_id: Any, comment: Any = None) -> FlowInstance:
    text = _text("comment", comment, MAX_COMMENT)
    return _command(
        actor=actor,
        instance_id=instance_id,
        run=lambda e, s, _i: e.withdraw(s, user_id=str(actor.pk), now=now(), comment=text),
        audit_action="flow.withdrawn",
    )


def urge(*, actor: User, instance_id: Any) -> FlowInstance:
    at = now()

    def run(engine: FlowEngine, state: InstanceState, instance: FlowInstance) -> Transition:
        t = engine.urge(state, user_id=str(actor.pk), now=at)
        urged = [tid for n in t.of_type(Notify) if n.kind == "urge" for tid in [n.task_id]]
        FlowTask.objects.filter(instance=instance, engine_task_id__in=urged).update(urged_at=at)
        return t

    return _command(actor=actor, instance_id=instance_id, run=run, audit_action=None)


def resubmit(
    *, actor: User, instance_id: Any, data: Any, choices: Any = None, comment: Any = None
) -> FlowInstance:
    """The initiator fixes a returned application: the record is updated (only fields the start
    node lets the initiator edit), then the flow restarts per `resubmit_from`."""
    from loandesk.flows.engine import field_permissions

    text = _text("comment", comment, MAX_COMMENT)
    picked = _clean_choices(choices) if choices is not None else None
    if data is None:
        data = {}

    def run(engine: FlowEngine, state: InstanceState, instance: FlowInstance) -> Transition:
        if str(actor.pk) != state.initiator:
            raise FlowError("flow.not_initiator")
        if state.status != "returned":
            if state.finished:
                raise FlowError("flow.instance_finished", {"status": state.status})
            raise FlowError("flow.not_returned", {"status": state.status})
        record = instance.record
        allowed = field_permissions(engine.definition, engine.definition.nodes[0].id)
        changes = records.prepare_edits(
            record=record, raw=data, actor=actor, allowed=allowed or None
        )
        if changes:
            records.write_changes(record=record, changes=changes, actor=actor)
        return engine.resubmit(
            state,
            user_id=str(actor.pk),
            data=dict(record.data),
            now=now(),
            choices=picked,
            comment=text,
        )

    return _command(actor=actor, instance_id=instance_id, run=run, audit_action="flow.resubmitted")


def _admin_only(actor: User) -> Callable[[FlowInstance], None]:
    def check(_instance: FlowInstance) -> None:
        require_perm(actor, ADMIN)

    return check


def retry(*, actor: User, instance_id: Any) -> FlowInstance:
    return _command(
        actor=actor,
        instance_id=instance_id,
        run=lambda e, s, _i: e.retry(s, user_id=str(actor.pk), now=now()),
        audit_action="flow.retried",
        check=_admin_only(actor),
    )


def cancel(*, actor: User, instance_id: Any, comment: Any = None) -> FlowInstance:
    text = _text("comment", comment, MAX_COMMENT)
    return _command(
        actor=actor,
        instance_id=instance_id,
        run=lambda e, s, _i: e.cancel(s, user_id=str(actor.pk), now=now(), comment=text),
        audit_action="flow.cancelled",
        check=_admin_only(actor),
    )


def batch_act(
    *, actor: User, task_ids: Any, action: Any, comment: Any = None
) -> list[dict[str, Any]]:
    """Approve or reject several tasks; each in its own transaction, a result per task."""
    if action not in ("approve", "reject"):
        raise flow_error("flow.action_not_allowed", {"action": str(action)[:30]})
    if not isinstance(task_ids, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in task_ids
    ):
        raise ValidationFailed({"task_ids": message("field.type", {"expected": "list"})})
    if len(task_ids) > MAX_BATCH:
        raise LoanDeskError("flow.too_many_tasks", params={"max": MAX_BATCH}, status=422)
    _text("comment", comment, MAX_COMMENT)
    results = []
    for task_id in dict.fromkeys(task_ids):
        instance_id = (
            FlowTask.objects.filter(pk=task_id, user=actor)
            .values_list("instance_id", flat=True)
            .first()
        )
        try:
            if instance_id is None:
                raise flow_error("flow.task_not_found", {"task_id": task_id})
            act(
                actor=actor,
                instance_id=instance_id,
                task_id=task_id,
                action=action,
                comment=comment,
            )
            results.append({"task_id": task_id, "ok": True, "code": None, "message": None})
        except LoanDeskError as exc:
            results.append(
                {"task_id": task_id, "ok": False, "code": exc.code, "message": exc.message}
            )
    return results


def mark_cc_read(*, actor: User, cc_id: Any) -> None:
    if isinstance(cc_id, bool) or not isinstance(cc_id, int):
        raise NotFound()
    updated = FlowCc.objects.filter(pk=cc_id, user=actor).first()
    if updated is None:
        raise NotFound()
    if updated.read_at is None:
        updated.read_at = now()
        updated.save(update_fields=["read_at"])


# --- timers ------------------------------------------------------------------------------------


def fire_timer(timer_pk: int, *, at: datetime | None = None) -> bool:
    """Fire one due timer; False when it was already fired or cancelled (claimed by status)."""
    row = FlowTimer.objects.filter(pk=timer_pk).values_list("instance_id", flat=True).first()
    if row is None:
        return False
    at = at or now()
    with transaction.atomic():
        instance = _locked(row)
        claimed = FlowTimer.objects.filter(
            pk=timer_pk, status=FlowTimer.Status.PENDING, fire_at__lte=at
        ).update(status=FlowTimer.Status.FIRED, fired_at=at)
        if not claimed:
            return False
        timer_id = FlowTimer.objects.values_list("timer_id", flat=True).get(pk=timer_pk)
        state = InstanceState.from_json(instance.state)
        try:
            t = _engine(instance).timer_fired(state, timer_id=timer_id, now=at)
        except FlowError:
            logger.exception("timer %s of instance %s refused", timer_id, instance.pk)
            return True
        if not t.ignored:
            _apply(instance, t, actor=None)
    return True


def fire_due_timers(*, at: datetime | None = None, limit: int = 500) -> int:
    """Fire every timer due by `at` (catching up after downtime), oldest first."""
    at = at or now()
    due = list(
        FlowTimer.objects.filter(status=FlowTimer.Status.PENDING, fire_at__lte=at)
        .order_by("fire_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    fired = 0
    for pk in due:
        try:
            fired += int(fire_timer(pk, at=at))
        except Exception:
            logger.exception("flow timer %s failed", pk)
    return fired


# --- automated steps ---------------------------------------------------------------------------


def _step_actor(instance: FlowInstance, state: InstanceState) -> int:
    """Who an automated step acts as: the last person who approved, else the initiator."""
    last = (
        FlowHistory.objects.filter(
            instance=instance, action__in=("approved", "add_signer_after"), actor__isnull=False
        )
        .order_by("-seq")
        .values_list("actor_id", flat=True)
        .first()
    )
    return int(last) if last is not None else int(state.initiator)


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def run_step(run_id: int) -> str:
    """Run one pending automated step: the registered action, then automated_done/failed."""
    from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed, get_action

    instance_id = (
        FlowStepRun.objects.filter(pk=run_id).values_list("instance_id", flat=True).first()
    )
    if instance_id is None:
        return "missing"
    with transaction.atomic():
        instance = _locked(instance_id)
        run = FlowStepRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != FlowStepRun.Status.PENDING:
            return "skipped"
        state = InstanceState.from_json(instance.state)
        at = now()
        run.attempts += 1
        action = get_action(run.action)
        code, params, result = "", {}, None
        if action is None:
            code, params = "flow.unknown_action", {"action": run.action}
        else:
            record = instance.record
            ctx = AutomatedContext(
                instance_id=instance.pk,
                step_id=run.step_id,
                node_id=run.node_id,
                action=run.action,
                params=dict(run.params),
                data=dict(state.data),
                record_id=record.pk,
                form_code=record.version.form.code,
                customer_id=record.customer_id,
                initiator_id=instance.initiator_id,
                actor_id=_step_actor(instance, state),
                now=at,
            )
            try:
                with transaction.atomic():
                    result = _jsonable(action(ctx))
            except AutomatedStepFailed as exc:
                code, params = exc.code, exc.params
            except LoanDeskError as exc:
                code, params = exc.code, {**exc.params, **_flat(exc.details)}
            except Exception:
                logger.exception("automated action %s crashed", run.action)
                code, params = "flow.action_crashed", {}
        engine = _engine(instance)
        # An action may have written the record (update_record): the flow sees the new values.
        instance.record.refresh_from_db()
        state.data = records.merged_data(
            records.compiled_of(instance.record), state.data, instance.record
        )
        try:
            if code:
                t = engine.automated_failed(state, step_id=run.step_id, error=code, now=at)
            else:
                t = engine.automated_done(state, step_id=run.step_id, result=result, now=at)
        except FlowError as exc:
            logger.warning("step %s of %s: %s", run.step_id, instance.pk, exc)
            run.status = FlowStepRun.Status.CANCELLED
            run.save()
            return "cancelled"
        run.status = FlowStepRun.Status.FAILED if code else FlowStepRun.Status.DONE
        run.error = message(code, params)[:500] if code else ""
        run.result = {"error": {"code": code, "params": _jsonable(params)}} if code else result
        run.finished_at = at
        run.save()
        if t.ignored:
            run.status = FlowStepRun.Status.CANCELLED
            run.save(update_fields=["status"])
            return "ignored"
        _apply(instance, t, actor=None)
        return str(run.status)


def _flat(details: Mapping[str, Any]) -> dict[str, Any]:
    fields = details.get("fields")
    if isinstance(fields, Mapping) and fields:
        return {"detail": "; ".join(f"{k}: {v}" for k, v in fields.items())}
    return {}


def run_pending_steps(*, older_than: timedelta | None = None, limit: int = 200) -> int:
    """Run pending steps synchronously (tests, demo seed, and the scheduler's safety sweep for
    enqueues lost in a crash: `older_than` one minute). Loops until nothing new is pending."""
    done = 0
    seen: set[int] = set()
    while done < limit:
        qs = FlowStepRun.objects.filter(status=FlowStepRun.Status.PENDING).exclude(pk__in=seen)
        if older_than is not None:
            qs = qs.filter(created_at__lte=now() - older_than)
        ids = list(qs.order_by("pk").values_list("pk", flat=True)[:50])
        if not ids:
            break
        for run_id in ids:
            seen.add(run_id)
            try:
                run_step(run_id)
            except Exception:
                logger.exception("flow step run %s failed", run_id)
            done += 1
    return done


def instances_for_record(record_id: int) -> Q:
    return Q(record_id=record_id)
