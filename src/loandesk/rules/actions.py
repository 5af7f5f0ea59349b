"""The rule engine's built-in actions: update_fields, create_record, assign, start_flow.

Each goes through the owning app's services (customers, forms, flows), acting as the rule's
`run_as` user, so permissions, data scope, validation, audit and domain events happen exactly
as when a person does it. With `context.dry_run` nothing is written: the action checks what it
can and says what it would do. Other apps register theirs (send_message, webhook,
open_collection_case, escalate_collection_case) into the same registry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loandesk.core.errors import LoanDeskError, NotFound
from loandesk.rules.registry import ActionContext, ActionResult, ParamSpec, register_action


class ActionFailed(LoanDeskError):
    status = 422
    code = "rules.action_failed"


def _actor(ctx: ActionContext) -> Any:
    from loandesk.accounts.models import User

    actor = User.objects.filter(pk=ctx.extra.get("actor_id") or 0, is_active=True).first()
    if actor is None:
        raise ActionFailed("rules.run_as_inactive")
    return actor


def _fields_param(params: Mapping[str, Any]) -> dict[str, Any]:
    fields = params.get("fields")
    if not isinstance(fields, Mapping) or not fields:
        raise ActionFailed("rules.param_required", params={"param": "fields"})
    return dict(fields)


UPDATE_TYPES = ("customer", "application")
TARGETS = (
    ("record", "触发规则的记录", "The record itself"),
    ("customer", "记录所属客户", "The record's customer"),
)


def settable_fields(record_type: str, form_code: str = "") -> dict[str, Any]:
    from loandesk.rules.records import record_type as get_type

    rtype = get_type(record_type)
    if rtype is None or record_type not in UPDATE_TYPES:
        return {}
    return {f.key: f for f in rtype.fields(form_code) if f.settable}


def update_target(record_type: str, target: Any) -> str:
    """The record type update_fields writes to: the record itself or its customer."""
    return "customer" if target == "customer" else record_type


def check_update_fields(fields: Mapping[str, Any], record_type: str, form_code: str) -> None:
    allowed = settable_fields(record_type, form_code)
    refused = [str(k) for k in fields if k not in allowed]
    if refused:
        raise ActionFailed("rules.field_not_settable", params={"fields": ", ".join(refused)})


@register_action(
    "update_fields",
    label_zh="修改字段",
    label_en="Update fields",
    params=(
        ParamSpec("target", "修改对象", "Update", "choice", options=TARGETS, default="record"),
        ParamSpec("fields", "字段与新值", "Fields and new values", "fields", required=True),
    ),
)
def update_fields(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    fields = _fields_param(params)
    target = update_target(ctx.record_type, params.get("target"))
    form_code = str(ctx.record.get("form") or "") if target == "application" else ""
    check_update_fields(fields, target, form_code)
    if target == "customer":
        from loandesk.customers.models import Customer

        target_id = (
            ctx.record.get("customer_id") if ctx.record_type != "customer" else ctx.record_id
        )
        customer = Customer.objects.filter(pk=target_id or 0).first()
        if customer is None:
            raise NotFound()
        current = {k: getattr(customer, k, None) for k in fields}
    else:
        customer = None
        target_id = ctx.record_id
        current = {k: ctx.record.get(k) for k in fields}
    changes = {k: [_plain(current.get(k)), v] for k, v in fields.items()}
    if ctx.dry_run:
        return {"target": target, "id": target_id, "would_set": changes}
    actor = _actor(ctx)
    if customer is not None:
        from loandesk.customers.services import update_customer

        update_customer(actor=actor, customer=customer, changes=fields)
    else:
        from loandesk.forms.services import update_record

        update_record(actor=actor, form_code=form_code, record_id=target_id or 0, data=fields)
    return {"target": target, "id": target_id, "set": changes}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@register_action(
    "create_record",
    label_zh="新建表单记录",
    label_en="Create a form record",
    params=(
        ParamSpec("form", "表单", "Form", "form", required=True),
        ParamSpec("data", "字段值(JSON)", "Field values (JSON)", "json", default={}),
    ),
)
def create_record(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    from loandesk.forms.services import (
        create_record as create,
    )
    from loandesk.forms.services import (
        customer_relation,
        published,
        validate_form_data,
    )

    form_code = params.get("form")
    if not isinstance(form_code, str) or not form_code:
        raise ActionFailed("rules.param_required", params={"param": "form"})
    data = params.get("data") or {}
    if not isinstance(data, Mapping):
        raise ActionFailed("rules.param_invalid", params={"param": "data"})
    data = dict(data)
    _form, _version, compiled = published(form_code)
    relation = customer_relation(compiled)
    if relation is not None and relation.key not in data and ctx.record.get("customer_id"):
        data[relation.key] = ctx.record["customer_id"]  # the new record is about this customer
    actor = _actor(ctx)
    if ctx.dry_run:
        validate_form_data(form_code=form_code, data=data, actor=actor)
        return {"would_create": form_code, "data": {k: _plain(v) for k, v in data.items()}}
    record = create(actor=actor, form_code=form_code, data=data)
    return {"created": form_code, "record_id": record.pk, "serial_no": record.serial_no}


ASSIGN_TYPES = ("customer", "collection_case")


@register_action(
    "assign",
    label_zh="分配负责人",
    label_en="Assign an owner",
    params=(ParamSpec("user", "分配给", "Assign to", "user", required=True),),
    record_types=ASSIGN_TYPES,
)
def assign(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    from loandesk.accounts.models import User

    user_id = params.get("user")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise ActionFailed("rules.param_required", params={"param": "user"})
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ActionFailed("rules.user_invalid")
    before = ctx.record.get("owner_id")
    if ctx.dry_run:
        return {"would_assign": {"from": before, "to": user.pk, "name": str(user)}}
    actor = _actor(ctx)
    if ctx.record_type == "customer":
        from loandesk.customers.models import Customer
        from loandesk.customers.services import update_customer

        customer = Customer.objects.filter(pk=ctx.record_id or 0).first()
        if customer is None:
            raise NotFound()
        update_customer(actor=actor, customer=customer, changes={"owner_id": user.pk})
    elif ctx.record_type == "collection_case":
        from loandesk.postloan import collections
        from loandesk.postloan.models import CollectionCase

        case = CollectionCase.objects.filter(pk=ctx.record_id or 0).first()
        if case is None:
            raise NotFound()
        collections.reassign_case(actor=actor, case=case, collector_id=user.pk)
    else:
        raise ActionFailed("rules.assign_unsupported", params={"type": ctx.record_type})
    return {"assigned": {"from": before, "to": user.pk, "name": str(user)}}


@register_action(
    "start_flow",
    label_zh="发起审批流程",
    label_en="Start the approval flow",
    record_types=("application",),
)
def start_flow(ctx: ActionContext, params: Mapping[str, Any]) -> ActionResult:
    from loandesk.flows.models import FlowInstance
    from loandesk.flows.services import LIVE, active_flow_for
    from loandesk.flows.services import start as start_instance
    from loandesk.forms.models import Record

    record = Record.objects.filter(pk=ctx.record_id or 0).first()
    if record is None:
        raise NotFound()
    if ctx.dry_run:
        found = active_flow_for(record.form_id)
        if found is None:
            raise ActionFailed("flow.no_active_flow")
        if FlowInstance.objects.filter(record=record, status__in=LIVE).exists():
            raise ActionFailed("flow.already_started")
        return {"would_start": found[0].key}
    instance = start_instance(actor=_actor(ctx), record_id=record.pk)
    return {"started": instance.pk}
