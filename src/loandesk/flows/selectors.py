"""Flow reads, scoped by the caller: designer views, instance detail, inbox lists, analytics.

An instance is visible to its initiator, anyone who holds or held a task on it, anyone CC'd on
it, holders of ``flows.admin``, and users whose data scope covers the bound record (with the
forms app's ``forms.view_records``). Everything else answers 404.
"""

from __future__ import annotations

import base64
import statistics
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.utils import timezone

from loandesk.accounts.models import Role, User
from loandesk.accounts.scoping import has_perm, require_perm, scoped
from loandesk.core.crypto import mask_id_number, mask_phone
from loandesk.core.errors import LoanDeskError, NotFound, ValidationFailed
from loandesk.core.i18n import current_language, message
from loandesk.core.money import fen_to_yuan
from loandesk.core.pagination import PageParams, paginate
from loandesk.flows import records
from loandesk.flows.automation import registered_actions
from loandesk.flows.engine import (
    SYSTEM,
    ApprovalNode,
    HistoryEvent,
    InstanceState,
    borrower_progress,
    field_permissions,
    progress,
    return_options,
    task_actions,
)
from loandesk.flows.messages import ADMIN, ANALYTICS, DESIGN, action_label, status_label
from loandesk.flows.models import (
    FlowCc,
    FlowDefinition,
    FlowHistory,
    FlowInstance,
    FlowTask,
    FlowVersion,
)
from loandesk.flows.services import (
    _issues,
    choice_nodes,
    definition_of,
    engine_for,
    published_version,
)
from loandesk.forms.models import FormDefinition, Record
from loandesk.forms.permissions import VIEW_RECORDS
from loandesk.forms.services import RECORD_SCOPE

PAGE = 20
FINAL = ("approved", "rejected", "withdrawn", "cancelled")


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.full_name or user.username}


def _names(ids: Iterable[Any]) -> dict[int, str]:
    wanted = {int(i) for i in ids if i is not None and str(i).isdigit()}
    if not wanted:
        return {}
    return {
        pk: full or name
        for pk, full, name in User.objects.filter(pk__in=wanted).values_list(
            "pk", "full_name", "username"
        )
    }


# --- visibility --------------------------------------------------------------------------------


def visible_instances(actor: User) -> QuerySet[FlowInstance]:
    qs = FlowInstance.objects.all()
    if has_perm(actor, ADMIN):
        return qs
    # Correlated EXISTS, not `pk IN (the actor's tasks)`: the callers narrow the instances to a
    # customer, a record or one id, and PostgreSQL would otherwise hash every task the actor
    # ever had (an approver has hundreds of thousands at scale) for each of those lookups.
    q = (
        Q(initiator=actor)
        | Q(Exists(FlowTask.objects.filter(instance_id=OuterRef("pk"), user=actor)))
        | Q(Exists(FlowCc.objects.filter(instance_id=OuterRef("pk"), user=actor)))
    )
    if has_perm(actor, VIEW_RECORDS):
        q |= Q(Exists(scoped(Record.objects.filter(pk=OuterRef("record_id")), actor, RECORD_SCOPE)))
    return qs.filter(q)


def customer_instances(actor: User, customer: Any) -> QuerySet[FlowInstance]:
    """The customer's applications (their approvals) that the actor may see: the 360 tab's
    rows and its count."""
    return visible_instances(actor).filter(customer_id=customer.pk)


def count_customer_applications(actor: User, customer: Any) -> int:
    """The 360 applications count: the customer's approvals the actor may see."""
    return customer_instances(actor, customer).count()


def instance_of_record(*, actor: User, record_id: int) -> dict[str, Any]:
    """The latest approval of a form record that the actor may see (404 otherwise)."""
    found = (
        visible_instances(actor).filter(record_id=record_id).order_by("-started_at", "-id").first()
    )
    if found is None:
        raise NotFound()
    return {"id": found.pk, "status": found.status, "status_label": status_label(found.status)}


def get_instance(*, actor: User, instance_id: int) -> FlowInstance:
    found = (
        visible_instances(actor)
        .select_related(
            "version__definition",
            "record__version__form",
            "record__owner",
            "initiator__department",
        )
        .filter(pk=instance_id)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


# --- designer ----------------------------------------------------------------------------------


def definitions(*, actor: User) -> list[dict[str, Any]]:
    # Analysts pick a flow to analyse from the same list the designers manage.
    if not has_perm(actor, ANALYTICS):
        require_perm(actor, DESIGN)
    running = dict(
        FlowInstance.objects.filter(status__in=("running", "returned", "error"))
        .values_list("version__definition_id")
        .annotate(n=Count("id"))
    )
    out = []
    for flow in FlowDefinition.objects.select_related("form").order_by("id"):
        version = published_version(flow)
        differs = draft_differs(flow.draft, version)
        out.append(
            {
                "key": flow.key,
                "name": flow.name,
                "description": flow.description,
                "form_code": flow.form.code,
                "form_name": flow.form.name,
                "is_active": flow.is_active,
                "published_version": version.version if version else None,
                "has_draft": differs,
                "draft_differs": differs,
                "running_count": running.get(flow.pk, 0),
                "updated_at": flow.updated_at,
            }
        )
    return out


def draft_differs_for(key: str) -> bool:
    """Whether the saved draft of flow `key` differs from its latest published version."""
    flow = FlowDefinition.objects.get(key=key)
    return draft_differs(flow.draft, flow.versions.order_by("-version").first())


def draft_differs(draft: Mapping[str, Any], version: FlowVersion | None) -> bool:
    """The draft is not what is published: never published, invalid, or changed since."""
    return version is None or _normal(draft) != _strip(version.definition_json)


def _strip(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "version"}


def _normal(draft: Mapping[str, Any]) -> dict[str, Any] | None:
    """The draft as it would be published (defaults filled in), None when it is invalid."""
    from loandesk.flows.engine import Definition, DefinitionInvalid

    try:
        return _strip(Definition.from_json({**draft, "version": 1}).to_json())
    except (DefinitionInvalid, TypeError, ValueError):
        return None


def _form_fields(form: FormDefinition) -> list[dict[str, Any]]:
    version = form.current_version
    if version is None:
        return []
    compiled = records.compiled_of_version(version)
    out = []
    for f in compiled.value_fields():
        item: dict[str, Any] = {
            "key": f.key,
            "label": f.label,
            "label_en": f.label_en or None,
            "type": f.type.name,
            # Holds user ids: usable as 表单中的人员 (form_user_field) assignees.
            "is_user": f.type.ref_kind(f) == "user",
        }
        if f.options:
            item["options"] = [
                {
                    "value": o.get("value"),
                    "label": o.get("label"),
                    **({"label_en": o["label_en"]} if o.get("label_en") else {}),
                }
                for o in f.options
            ]
        out.append(item)
    return out


def mentioned_users(*definitions: Any) -> list[dict[str, Any]]:
    """`{id, name}` of every existing user the definitions name (assignees, CC recipients,
    `on_empty_user_id`), ordered by id, so the designer can show names."""
    from loandesk.flows.services import walk_nodes

    ids: set[int] = set()
    for definition in definitions:
        for node in walk_nodes(definition):
            for key in ("assignees", "recipients"):
                specs = node.get(key)
                for spec in specs if isinstance(specs, list) else []:
                    if isinstance(spec, Mapping) and spec.get("kind") == "user":
                        users = spec.get("user_ids")
                        ids.update(_ids(users if isinstance(users, list) else []))
            ids.update(_ids([node.get("on_empty_user_id")]))
    names = _names(ids)
    return [{"id": pk, "name": names[pk]} for pk in sorted(names)]


def _ids(values: Iterable[Any]) -> set[int]:
    out = set()
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | str):
            continue
        text = str(v)
        if text.isascii() and text.isdigit() and len(text) < 19:
            out.add(int(text))
    return out


def definition_detail(*, actor: User, key: str) -> dict[str, Any]:
    require_perm(actor, DESIGN)
    flow = FlowDefinition.objects.select_related("form__current_version").filter(key=key).first()
    if flow is None:
        raise NotFound()
    versions = list(flow.versions.select_related("published_by").order_by("version"))
    counts = dict(
        FlowInstance.objects.filter(version__definition=flow)
        .values_list("version_id")
        .annotate(n=Count("id"))
    )
    latest = versions[-1] if versions else None
    published = latest.definition_json if latest else None
    return {
        "key": flow.key,
        "name": flow.name,
        "description": flow.description,
        "form_code": flow.form.code,
        "form_name": flow.form.name,
        "is_active": flow.is_active,
        "draft": flow.draft,
        "draft_issues": _issues(flow, flow.draft),
        "draft_differs": draft_differs(flow.draft, latest),
        "published": version_detail_of(latest) if latest else None,
        "versions": [
            {
                "version": v.version,
                "published_at": v.published_at,
                "published_by": user_ref(v.published_by),
                "instance_count": counts.get(v.pk, 0),
            }
            for v in versions
        ],
        "form_fields": _form_fields(flow.form),
        "automated_actions": registered_actions(),
        "roles": [{"code": r.code, "name": r.name} for r in Role.objects.order_by("id")],
        "users": mentioned_users(flow.draft, published),
    }


def version_detail_of(version: FlowVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "definition": version.definition_json,
        "published_at": version.published_at,
        "published_by": user_ref(version.published_by),
    }


def version_detail(*, actor: User, key: str, number: int) -> dict[str, Any]:
    require_perm(actor, DESIGN)
    version = (
        FlowVersion.objects.select_related("published_by")
        .filter(definition__key=key, version=number)
        .first()
    )
    if version is None:
        raise NotFound()
    return version_detail_of(version)


def start_info(*, actor: User, form_code: str) -> dict[str, Any]:
    from loandesk.flows.services import active_flow_for

    form = FormDefinition.objects.filter(code=form_code).first() if form_code else None
    found = active_flow_for(form.pk) if form is not None else None
    if found is None:
        raise LoanDeskError("flow.no_active_flow", status=404)
    flow, version = found
    return {
        "flow_key": flow.key,
        "name": flow.name,
        "version": version.version,
        "choice_nodes": choice_nodes(definition_of(version)),
    }


# --- instance detail ---------------------------------------------------------------------------


def _state(instance: FlowInstance) -> InstanceState:
    return InstanceState.from_json(instance.state)


def _my_open_task(instance: FlowInstance, actor: User) -> FlowTask | None:
    return (
        FlowTask.objects.filter(instance=instance, user=actor, status=FlowTask.Status.OPEN)
        .order_by("id")
        .first()
    )


def _fields(
    instance: FlowInstance, actor: User, node_perms: Mapping[str, str] | None, default: str
) -> list[dict[str, Any]]:
    from loandesk.forms.selectors import record_out

    record = instance.record
    compiled = records.compiled_of(record)
    out = record_out(record, actor=actor, compiled=compiled)
    modes = out["modes"]
    data, display = out["data"], out["display"]
    fields = []
    for f in compiled.value_fields():
        mode = modes.get(f.key, "editable")
        if mode == "hidden":
            continue
        flow_perm = (node_perms or {}).get(f.key, default)
        if flow_perm == "hidden":
            continue
        permission = "edit" if flow_perm == "edit" and mode == "editable" else "read"
        fields.append(
            {
                "key": f.key,
                "label": f.label,
                "type": f.type.name,
                "value": data.get(f.key),
                "display": display.get(f.key, ""),
                "permission": permission,
            }
        )
    return fields


def _customer(instance: FlowInstance) -> dict[str, Any] | None:
    from loandesk.customers.models import Customer
    from loandesk.lending.models import Loan

    customer_id = instance.record.customer_id or instance.customer_id
    if customer_id is None:
        return None
    c = (
        Customer.objects.select_related("owner")
        .prefetch_related("tags")
        .filter(pk=customer_id)
        .first()
    )
    if c is None:
        return None
    loans = Loan.objects.filter(customer=c).aggregate(
        n=Count("id"), o=Sum("outstanding_principal_fen")
    )
    return {
        "id": c.pk,
        "name": c.name,
        "id_number_masked": mask_id_number(c.id_number) if c.id_number else "",
        "phone_masked": mask_phone(c.phone) if c.phone else "",
        "credit_level": c.credit_level,
        "owner": c.owner.full_name or c.owner.username,
        "tags": [t.name for t in c.tags.all()],
        "loan_count": loans["n"] or 0,
        "outstanding": str(fen_to_yuan(loans["o"] or 0)),
    }


def _history_rows(instance: FlowInstance) -> list[FlowHistory]:
    return list(FlowHistory.objects.filter(instance=instance).select_related("actor"))


def history_events(rows: Iterable[FlowHistory]) -> list[HistoryEvent]:
    """History rows (in seq order) as the engine's events: the rows are the only copy of an
    instance's history (ADR 0015)."""
    return [
        HistoryEvent(
            seq=r.seq,
            at=r.at,
            actor=str(r.actor_id) if r.actor_id is not None else SYSTEM,
            action=r.action,
            node_id=r.node_id or None,
            visit=r.visit,
            task_id=r.engine_task_id or None,
            target=r.target or None,
            comment=r.comment or None,
            attachments=tuple(r.attachments or ()),
            signature=r.signature or None,
            duration_seconds=r.duration_seconds,
            round=r.round,
            details=dict(r.details or {}),
        )
        for r in rows
    ]


def _progress(
    instance: FlowInstance, state: InstanceState, rows: list[FlowHistory]
) -> list[dict[str, Any]]:
    definition = definition_of(instance.version)
    engine = engine_for(instance.version, record=instance.record)
    items = [
        i.to_json()
        for i in progress(
            definition,
            state,
            history=history_events(rows),
            evaluate_condition=engine.evaluate_condition,
        )
    ]
    ids: set[Any] = set()
    for item in items:
        ids.update(item["waiting_for"])
        ids.update(a["actor"] for a in item["acts"])
        ids.update(a["target"] for a in item["acts"] if str(a.get("target") or "").isdigit())
    names = _names(ids)
    node_names = {n.id: n.name for n in definition.walk()}
    branch_names = {b.id: b.name for n in definition.walk() for b in getattr(n, "branches", ())}
    for item in items:
        item["waiting_for"] = [
            {"id": int(u), "name": names.get(int(u), u)} for u in item["waiting_for"] if u.isdigit()
        ]
        chosen = item.get("chosen_branch")
        item["chosen_branch_name"] = branch_names.get(chosen) if chosen else None
        for act in item["acts"]:
            actor = act["actor"]
            act["actor_name"] = (
                names.get(int(actor), actor) if str(actor).isdigit() else message("flow.system")
            )
            act["action_label"] = action_label(act["action"])
            target = str(act.get("target") or "")
            # A transfer / add-signer names a user; a return names a node or the initiator.
            if target.isdigit():
                act["target_name"] = names.get(int(target), target)
            elif target == "initiator":
                act["target_name"] = message("flow.initiator")
            else:
                act["target_name"] = node_names.get(target) if target else None
    return items


def _history(rows: list[FlowHistory], node_names: Mapping[str, str]) -> list[dict[str, Any]]:
    targets = _names(r.target for r in rows if r.target.isdigit())
    out = []
    for r in rows:
        target: Any = r.target or None
        if r.target.isdigit():
            target = {"id": int(r.target), "name": targets.get(int(r.target), r.target)}
        elif r.target == "initiator":
            target = {"id": "initiator", "name": message("flow.initiator")}
        elif r.target in node_names:
            target = {"id": r.target, "name": node_names[r.target]}
        out.append(
            {
                "seq": r.seq,
                "at": r.at,
                "actor": user_ref(r.actor),
                "action": r.action,
                "action_label": action_label(r.action),
                "node_id": r.node_id or None,
                "node_name": node_names.get(r.node_id) if r.node_id else None,
                "comment": r.comment or None,
                "attachments": r.attachments,
                "signature": r.signature or None,
                "target": target,
                "duration_seconds": r.duration_seconds,
                "details": r.details,
            }
        )
    return out


def _error(instance: FlowInstance, state: InstanceState) -> dict[str, Any] | None:
    """The stop reason in the reader's language (a failed step's own code and parameters)."""
    from loandesk.flows.models import FlowStepRun

    err = state.error
    if not err:
        return None
    text = message(err["code"])
    run = (
        FlowStepRun.objects.filter(instance=instance, node_id=err.get("node_id"), status="failed")
        .order_by("-id")
        .first()
    )
    if (
        run is not None
        and isinstance(run.result, dict)
        and isinstance(run.result.get("error"), dict)
    ):
        failure = run.result["error"]
        text = message(str(failure.get("code")), failure.get("params") or {})
    return {**err, "message": text}


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def instance_detail(*, actor: User, instance_id: int) -> dict[str, Any]:
    instance = get_instance(actor=actor, instance_id=instance_id)
    return detail_of(instance, actor)


def detail_of(instance: FlowInstance, actor: User) -> dict[str, Any]:
    state = _state(instance)
    definition = definition_of(instance.version)
    node_names = {n.id: n.name for n in definition.walk()}
    history = _history_rows(instance)
    task = _my_open_task(instance, actor)
    me = str(actor.pk)
    is_initiator = state.initiator == me
    my_task = None
    if task is not None:
        perms = field_permissions(definition, task.node_id)
        fields = _fields(instance, actor, perms, "read")
        options = return_options(definition, state, task.engine_task_id)
        actions = task_actions(definition, state, task.engine_task_id, me)
        my_task = {
            "id": task.pk,
            "engine_task_id": task.engine_task_id,
            "node_id": task.node_id,
            "node_name": task.node_name,
            "actions": actions,
            "return_options": [
                {
                    "id": o,
                    "name": message("flow.initiator") if o == "initiator" else node_names.get(o, o),
                }
                for o in options
            ],
            "editable_fields": [f["key"] for f in fields if f["permission"] == "edit"],
            "due_at": task.due_at,
        }
    elif is_initiator and state.status == "returned":
        start_perms = field_permissions(definition, definition.nodes[0].id)
        fields = _fields(instance, actor, start_perms or None, "read" if start_perms else "edit")
    else:
        fields = _fields(instance, actor, None, "read")
    record = instance.record
    initiator = instance.initiator
    loan = _dict_or_none(state.data.get("loan"))
    open_tasks = any(t.status == "open" for t in state.tasks.values())
    admin = has_perm(actor, ADMIN)
    return {
        "id": instance.pk,
        "title": instance.title,
        "status": instance.status,
        "status_label": status_label(instance.status),
        "version": instance.state_version,
        "flow": {
            "key": instance.version.definition.key,
            "name": instance.version.definition.name,
            "version": instance.version.version,
        },
        "initiator": {
            "id": initiator.pk,
            "name": initiator.full_name or initiator.username,
            "department": initiator.department.name if initiator.department else None,
        },
        "started_at": instance.started_at,
        "finished_at": instance.finished_at,
        "current_node": (
            {"id": instance.current_node_id, "name": instance.current_node_name}
            if instance.current_node_id
            else None
        ),
        "error": _error(instance, state),
        "record": {
            "form_code": record.version.form.code,
            "id": record.pk,
            "serial_no": record.serial_no,
            "fields": fields,
        },
        "customer": _customer(instance),
        "risk": _dict_or_none(state.data.get("risk")),
        "contract": _dict_or_none(state.data.get("contract")),
        "loan": (
            {"id": loan.get("loan_id"), "contract_no": loan.get("contract_no")} if loan else None
        ),
        "progress": _progress(instance, state, history),
        "history": _history(history, node_names),
        "my_task": my_task,
        "can_withdraw": is_initiator
        and not state.finished
        and (state.status == "returned" or not state.acted),
        "can_urge": is_initiator and state.status == "running" and open_tasks,
        "can_resubmit": is_initiator and state.status == "returned",
        "can_retry": admin and state.status == "error",
        "can_cancel": admin and not state.finished,
        "status_url": f"/s/{record.status_token}" if record.status_token else None,
    }


# --- inbox -------------------------------------------------------------------------------------


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(value.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed.field("cursor", "flow.bad_cursor") from None
    if offset < 0 or offset > 1_000_000:
        raise ValidationFailed.field("cursor", "flow.bad_cursor")
    return offset


def _page(qs: QuerySet[Any], cursor: str | None) -> tuple[list[Any], str | None]:
    size = PAGE
    offset = _cursor(cursor)
    rows = list(qs[offset : offset + size + 1])
    more = len(rows) > size
    nxt = base64.urlsafe_b64encode(str(offset + size).encode()).decode() if more else None
    return rows[:size], nxt


def _search(q: str | None, prefix: str = "") -> Q:
    if not q:
        return Q()
    text = q.strip()[:50]
    if not text:
        return Q()
    cond = Q(**{f"{prefix}title__icontains": text}) | Q(
        **{f"{prefix}record__serial_no__icontains": text}
    )
    return cond


def _amount(fen: int | None) -> str | None:
    return None if fen is None else str(fen_to_yuan(fen))


def _batchable(instance: FlowInstance, node_id: str) -> bool:
    definition = definition_of(instance.version)
    node = definition.by_id.get(node_id)
    if not isinstance(node, ApprovalNode):
        return False
    if "approve" not in node.actions or "reject" not in node.actions:
        return False
    # A node whose editable fields are empty on the record needs the approver to fill them.
    editable = [k for k, v in node.field_permissions.items() if v == "edit"]
    data = instance.record.data
    return all(data.get(k) not in (None, "") for k in editable)


# The 已办 count stops here: an approver's finished tasks grow without bound (a million at
# scale) and counting them all on every badge refresh costs more than the rest of the inbox.
DONE_COUNT_CAP = 1000
DONE_STATUSES = tuple(
    s for s in FlowTask.Status.values if s not in (FlowTask.Status.OPEN, FlowTask.Status.CANCELLED)
)


def counts(*, actor: User) -> dict[str, int]:
    """The inbox badges; `done` and `cc_unread` are exact up to DONE_COUNT_CAP and capped
    there (the app shows "99+" above 99: a general manager copied on every approval of a large
    book has 300,000 unread, 42 ms to count on every screen)."""
    done = FlowTask.objects.filter(
        user=actor, status__in=DONE_STATUSES, closed_at__isnull=False
    ).order_by()
    return {
        "todo": FlowTask.objects.filter(user=actor, status=FlowTask.Status.OPEN).count(),
        "done": done[:DONE_COUNT_CAP].count(),
        "cc_unread": FlowCc.objects.filter(user=actor, read_at__isnull=True)
        .order_by()[:DONE_COUNT_CAP]
        .count(),
        "mine_running": FlowInstance.objects.filter(
            initiator=actor, status__in=("running", "returned", "error")
        ).count(),
    }


def todo(*, actor: User, q: str | None = None, cursor: str | None = None) -> dict[str, Any]:
    qs = (
        FlowTask.objects.filter(user=actor, status=FlowTask.Status.OPEN)
        .filter(_search(q, "instance__"))
        .select_related("instance__initiator", "instance__version__definition", "instance__record")
        .defer("instance__state")  # the engine's state: large, and not needed for a card
        .order_by("due_at", "created_at", "id")
    )
    rows, nxt = _page(qs, cursor)
    at = timezone.now()
    items = [
        {
            "task_id": t.pk,
            "instance_id": t.instance_id,
            "title": t.instance.title,
            "flow_name": t.instance.version.definition.name,
            "node_name": t.node_name,
            "initiator": user_ref(t.instance.initiator),
            "amount": _amount(t.instance.amount_fen),
            "created_at": t.created_at,
            "due_at": t.due_at,
            "overdue": t.due_at is not None and t.due_at < at,
            "urged_at": t.urged_at,
            "can_batch": _batchable(t.instance, t.node_id),
        }
        for t in rows
    ]
    return {"items": items, "next": nxt}


def done(*, actor: User, q: str | None = None, cursor: str | None = None) -> dict[str, Any]:
    qs = (
        FlowTask.objects.filter(user=actor, closed_at__isnull=False)
        .exclude(status__in=(FlowTask.Status.OPEN, FlowTask.Status.CANCELLED))
        .filter(_search(q, "instance__"))
        .select_related("instance__initiator", "instance__version__definition")
        .defer("instance__state")
        .order_by("-closed_at", "-id")
    )
    rows, nxt = _page(qs, cursor)
    items = [
        {
            "task_id": t.pk,
            "instance_id": t.instance_id,
            "title": t.instance.title,
            "flow_name": t.instance.version.definition.name,
            "node_name": t.node_name,
            "initiator": user_ref(t.instance.initiator),
            "amount": _amount(t.instance.amount_fen),
            "action": t.action or t.status,
            "action_label": action_label(t.status),
            "closed_at": t.closed_at,
            "status": t.instance.status,
            "status_label": status_label(t.instance.status),
        }
        for t in rows
    ]
    return {"items": items, "next": nxt}


def cc(*, actor: User, q: str | None = None, cursor: str | None = None) -> dict[str, Any]:
    qs = (
        FlowCc.objects.filter(user=actor)
        .filter(_search(q, "instance__"))
        .select_related("instance__version__definition", "instance__initiator")
        .order_by("-created_at", "-id")
    )
    rows, nxt = _page(qs, cursor)
    items = []
    for row in rows:
        instance = row.instance
        names = {n.id: n.name for n in definition_of(instance.version).walk()}
        items.append(
            {
                "id": row.pk,
                "instance_id": row.instance_id,
                "title": instance.title,
                "flow_name": instance.version.definition.name,
                "initiator": user_ref(instance.initiator),
                "amount": _amount(instance.amount_fen),
                "status": instance.status,
                "status_label": status_label(instance.status),
                "node_name": names.get(row.node_id, row.node_id),
                "created_at": row.created_at,
                "read": row.read_at is not None,
            }
        )
    return {"items": items, "next": nxt}


def mine(
    *, actor: User, status: str | None = None, q: str | None = None, cursor: str | None = None
) -> dict[str, Any]:
    qs = FlowInstance.objects.filter(initiator=actor).filter(_search(q))
    if status:
        if status not in FlowInstance.Status.values:
            raise ValidationFailed.field("status", "field.choice")
        qs = qs.filter(status=status)
    qs = qs.select_related("version__definition").order_by("-started_at", "-id")
    rows, nxt = _page(qs, cursor)
    waiting: dict[int, list[int]] = {}
    for inst_id, user_id in FlowTask.objects.filter(
        instance__in=[r.pk for r in rows], status=FlowTask.Status.OPEN
    ).values_list("instance_id", "user_id"):
        waiting.setdefault(inst_id, []).append(user_id)
    names = _names(u for ids in waiting.values() for u in ids)
    items = [
        {
            "instance_id": r.pk,
            "title": r.title,
            "flow_name": r.version.definition.name,
            "amount": _amount(r.amount_fen),
            "status": r.status,
            "status_label": status_label(r.status),
            "current_node": (
                {"id": r.current_node_id, "name": r.current_node_name}
                if r.current_node_id
                else None
            ),
            "waiting_for": [{"id": u, "name": names.get(u, str(u))} for u in waiting.get(r.pk, [])],
            "started_at": r.started_at,
            "finished_at": r.finished_at,
        }
        for r in rows
    ]
    return {"items": items, "next": nxt}


# --- customer 360 ------------------------------------------------------------------------------


def customer_applications(*, actor: User, customer_id: int, params: PageParams) -> dict[str, Any]:
    """The customer 360 申请 tab: the customer's applications the actor may see (scoped as the
    inbox and the detail are), newest first, a page at a time. A customer outside the actor's
    scope is a 404, like the 360 view itself."""
    from loandesk.customers.selectors import customer_for

    customer = customer_for(actor, customer_id)
    qs = (
        customer_instances(actor, customer)
        .select_related("version__definition", "record__version", "initiator")
        .defer("state")
        .annotate(
            loan_id=KT("state__data__loan__loan_id"),
            loan_contract_no=KT("state__data__loan__contract_no"),
        )
        .order_by("-started_at", "-id")
    )
    result = paginate(qs, params)
    result["items"] = [_application_row(i) for i in result["items"]]
    return result


def _application_row(instance: Any) -> dict[str, Any]:
    record = instance.record
    loan_id = int(instance.loan_id) if str(instance.loan_id or "").isdigit() else None
    node = (
        {"id": instance.current_node_id, "name": instance.current_node_name}
        if instance.current_node_id
        else None
    )
    if loan_id is not None:
        stage, stage_label = "disbursed", message("flow.stage.disbursed")
    elif instance.status == "running" and node is not None:
        stage, stage_label = "running", message("flow.stage.running_at", {"node": node["name"]})
    else:
        stage, stage_label = instance.status, status_label(instance.status)
    return {
        "instance_id": instance.pk,
        "serial_no": record.serial_no,
        "title": instance.title,
        "flow_name": instance.version.definition.name,
        "amount": _amount(instance.amount_fen),
        "product": _product_label(record),
        "status": instance.status,
        "status_label": status_label(instance.status),
        "stage": stage,
        "stage_label": stage_label,
        "current_node": node,
        "loan": (
            None
            if loan_id is None
            else {"id": loan_id, "contract_no": instance.loan_contract_no or ""}
        ),
        "initiator": user_ref(instance.initiator),
        "started_at": instance.started_at,
        "finished_at": instance.finished_at,
    }


def _product_label(record: Record) -> str | None:
    """The application's product as its form shows it (the option's label), if it has one."""
    value = record.data.get("product")
    if value is None or value == "":
        return None
    field = records.compiled_of(record).by_key.get("product")
    labels = {o.get("value"): o.get("label") for o in (field.options or [])} if field else {}
    return str(labels.get(value) or value)


# --- borrower status ---------------------------------------------------------------------------


def public_status_extra(record: Record) -> dict[str, Any]:
    instance = (
        FlowInstance.objects.filter(record=record)
        .select_related("version")
        .order_by("-started_at", "-id")
        .first()
    )
    if instance is None:
        return {}
    definition = definition_of(instance.version)
    return {"flow": borrower_progress(definition, _state(instance), current_language())}


# --- analytics ---------------------------------------------------------------------------------


def _percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    data = sorted(values)
    k = (len(data) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return round(data[lo] + (data[hi] - data[lo]) * (k - lo), 2)


def _hours(seconds: float) -> float:
    return seconds / 3600


def analytics(
    *,
    actor: User,
    flow_key: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    require_perm(actor, ANALYTICS)
    qs = FlowInstance.objects.all()
    if flow_key:
        qs = qs.filter(version__definition__key=flow_key)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(started_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(
            started_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        )
    by_status = dict(qs.values_list("status").annotate(n=Count("id")))
    total = sum(by_status.values())
    approved = by_status.get("approved", 0)
    decided = approved + by_status.get("rejected", 0)
    turnaround = [
        _hours((f - s).total_seconds())
        for s, f in qs.filter(status__in=FINAL, finished_at__isnull=False).values_list(
            "started_at", "finished_at"
        )
        if f is not None
    ]
    tasks = FlowTask.objects.filter(instance__in=qs.values("pk")).exclude(
        status=FlowTask.Status.CANCELLED
    )
    node_rows: dict[str, dict[str, Any]] = {}
    approver_rows: dict[int, list[float]] = {}
    approver_tasks: dict[int, int] = {}
    names_of_nodes: dict[str, str] = {}
    for t in tasks.values_list(
        "node_id", "node_name", "user_id", "status", "created_at", "closed_at", "due_at"
    ):
        node_id, node_name, user_id, status, created, closed, due = t
        names_of_nodes.setdefault(node_id, node_name)
        row = node_rows.setdefault(
            node_id, {"tasks": 0, "hours": [], "overdue": 0, "rejected": 0, "returned": 0}
        )
        row["tasks"] += 1
        approver_tasks[user_id] = approver_tasks.get(user_id, 0) + 1
        if closed is not None:
            hours = _hours((closed - created).total_seconds())
            row["hours"].append(hours)
            approver_rows.setdefault(user_id, []).append(hours)
        end = closed or timezone.now()
        if due is not None and end > due:
            row["overdue"] += 1
        if status == "rejected":
            row["rejected"] += 1
        if status == "returned":
            row["returned"] += 1
    names = _names(approver_tasks)
    return {
        "instances": {
            "total": total,
            **{
                s: by_status.get(s, 0)
                for s in ("running", "approved", "rejected", "withdrawn", "cancelled", "error")
            },
        },
        "approval_rate": round(approved / decided, 4) if decided else None,
        "turnaround_hours": {
            "median": round(statistics.median(turnaround), 2) if turnaround else None,
            "p90": _percentile(turnaround, 0.9),
        },
        "nodes": [
            {
                "node_id": node_id,
                "name": names_of_nodes[node_id],
                "tasks": row["tasks"],
                "median_hours": round(statistics.median(row["hours"]), 2) if row["hours"] else None,
                "p90_hours": _percentile(row["hours"], 0.9),
                "overdue": row["overdue"],
                "rejected": row["rejected"],
                "returned": row["returned"],
            }
            for node_id, row in node_rows.items()
        ],
        "approvers": [
            {
                "user": {"id": uid, "name": names.get(uid, str(uid))},
                "tasks": n,
                "median_hours": (
                    round(statistics.median(approver_rows[uid]), 2)
                    if approver_rows.get(uid)
                    else None
                ),
            }
            for uid, n in sorted(approver_tasks.items(), key=lambda kv: -kv[1])
        ],
    }
