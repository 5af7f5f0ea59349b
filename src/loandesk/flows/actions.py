"""Built-in automated actions: `send_message`, `update_record`, `webhook`.

- ``send_message``: an outbox event ``flows.message`` (params: ``to`` — "initiator" (default),
  "customer_owner" or a list of user ids — and ``text``) for the notify app to deliver;
- ``update_record``: set record fields from ``params.fields`` ({key: value}, validated by the
  form engine), e.g. a status field once a node is passed;
- ``webhook``: an outbox event ``flows.webhook`` (params ``url``, ``payload``) that the notify
  app delivers (with retries) later; the step itself only records the request.
"""

from typing import Any

from loandesk.core import outbox
from loandesk.core.errors import LoanDeskError
from loandesk.flows.automation import AutomatedContext, AutomatedStepFailed, register_action


def send_message(ctx: AutomatedContext) -> dict[str, Any]:
    to = ctx.params.get("to", "initiator")
    if to == "initiator":
        user_ids = [ctx.initiator_id]
    elif to == "customer_owner":
        from loandesk.customers.models import Customer

        owner = Customer.objects.filter(pk=ctx.customer_id or 0).values_list("owner_id", flat=True)
        user_ids = list(owner)
    elif isinstance(to, list) and all(str(u).isdigit() for u in to):
        user_ids = [int(u) for u in to]
    else:
        raise AutomatedStepFailed("flow.def.bad_params")
    event = outbox.publish(
        "flows.message",
        payload={
            "instance_id": ctx.instance_id,
            "step_id": ctx.step_id,
            "user_ids": user_ids,
            "text": str(ctx.params.get("text", ""))[:1000],
        },
        aggregate_type="flows.instance",
        aggregate_id=ctx.instance_id,
    )
    return {"event_id": str(event.pk), "user_ids": user_ids}


def update_record(ctx: AutomatedContext) -> dict[str, Any]:
    from loandesk.flows import records
    from loandesk.forms.models import Record

    fields = ctx.params.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise AutomatedStepFailed("flow.def.bad_params")
    record = Record.objects.select_related("version__form").filter(pk=ctx.record_id or 0).first()
    if record is None:
        raise AutomatedStepFailed("not_found")
    unknown = [k for k in fields if k not in records.value_keys(records.compiled_of(record))]
    if unknown:
        raise AutomatedStepFailed("flow.update_record_invalid", {"detail": ", ".join(unknown)})
    try:
        changed = records.write_changes(record=record, changes=fields, actor=None, sealed=False)
    except LoanDeskError as exc:
        fields_errors = exc.details.get("fields") or {}
        detail = "; ".join(f"{k}: {v}" for k, v in fields_errors.items()) or exc.message
        raise AutomatedStepFailed("flow.update_record_invalid", {"detail": detail}) from None
    return {"updated": sorted(fields) if changed else []}


def webhook(ctx: AutomatedContext) -> dict[str, Any]:
    url = ctx.params.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise AutomatedStepFailed("flow.def.bad_params")
    event = outbox.publish(
        "flows.webhook",
        payload={
            "instance_id": ctx.instance_id,
            "step_id": ctx.step_id,
            "url": url,
            "payload": ctx.params.get("payload") or {},
        },
        aggregate_type="flows.instance",
        aggregate_id=ctx.instance_id,
    )
    return {"event_id": str(event.pk), "queued": True}


def register() -> None:
    register_action("send_message", send_message)
    register_action("update_record", update_record)
    register_action("webhook", webhook)
