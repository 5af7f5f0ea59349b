"""Loan applications (form `loan_application`) and their 贷款审批 flow instances, in every state.

The instances are clones of real ones. Once per (target state, department), `Templates` runs a
real application through the real services — `forms.services.create_record` (which starts the
bound flow), `flows.services.act` / `withdraw` / `cancel`, the automated steps (risk scorecard,
contract, disbursement) run as the demo runs them — and keeps every row the engine wrote
(FlowInstance with its state JSON, FlowTask, FlowTimer, FlowHistory, FlowCc, FlowStepRun and the
form Record); then rolls that transaction back, so the templates leave nothing behind. A clone
is a template's rows with substituted ids, initiator, customer, application data, loan and
timestamps, consistently in the rows and inside the state JSON, so the app can act on a
generated running instance exactly as on a real one.

How the substitution stays exact and fast: the template's state JSON (and the history details,
step params/results) is compiled once into JSON text with placeholders — every timestamp, the
initiator's id wherever it stands for a user, the form data, the contract and loan results, the
approval durations — and a clone is one join of that text with its values. Timestamps: the
template's distinct event times (ordered) are re-spaced per clone (minutes to hours between
events; the same moment stays the same moment); deadlines and timer fire times keep their
offset from the task that created them; any other time keeps its offset from the last event
before it. The application data is the form engine's own output (`forms.engine.process`:
derived fields such as the monthly payment, the amount in words, the debt ratio) computed once
per (product, amount, term, rate) and sealed (`forms.storage.seal`: PII encrypted) per clone.

Approximations, on purpose: the risk scorecard's result is the template's (not re-scored for
the clone's customer); the contract result names the loan's contract number but no contract
document (the generated loans have no PDF, like the customers' documents are metadata only);
the application serial numbers (SQyyyymmddNNNN) are numbered per day by the generator, the
form's serial counter is not advanced; no outbox, audit or notification rows are cloned.
"""

import bisect
import json
import operator
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction

from bench.generate import bulkload
from loandesk.accounts.models import User
from loandesk.core.money import format_yuan
from loandesk.customers.models import Customer
from loandesk.flows import demo as flow_demo
from loandesk.flows import services
from loandesk.flows.models import (
    FlowCc,
    FlowHistory,
    FlowInstance,
    FlowStepRun,
    FlowTask,
    FlowTimer,
)
from loandesk.forms import engine, storage
from loandesk.forms.models import Record
from loandesk.forms.services import DbResolver, field_modes, published

FORM_CODE = flow_demo.FORM_CODE
# Target states: waiting at each approval node, and every end state.
RUNNING = ("manager_review", "risk_review", "gm_review", "disbursement")
ENDED = ("returned", "rejected", "withdrawn", "cancelled")
APPROVED = "approved"
STATES = (*RUNNING, *ENDED, APPROVED)
# Applications that did not (yet) become a loan, per 100 loans.
OTHER_PER_100 = {
    "manager_review": 3, "risk_review": 2, "gm_review": 1, "disbursement": 1,
    "returned": 1, "rejected": 5, "withdrawn": 1, "cancelled": 1,
}  # fmt: skip
DUE_KEYS = frozenset(("due_at", "remind_at", "fire_at"))
USER_KEYS = frozenset(("initiator", "actor", "user_id", "assignee", "target"))
USER_LIST_KEYS = frozenset(("previous_approvers", "approvers", "user_ids"))
TOKEN = re.compile(r'"\\u0000(\d+)\\u0000"(?:: null)?')
PRODUCT_NAMES = {
    "consumer": "个人消费贷",
    "sme_operating": "小微经营贷",
    "short_bridge": "短期周转贷",
}


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Compiled:
    """A JSON value turned into text with numbered placeholders."""

    def __init__(self, tokens: list[tuple[Any, ...]], text: str) -> None:
        self.parts: list[str | int] = []
        at = 0
        for m in TOKEN.finditer(text):
            self.parts.append(text[at : m.start()])
            self.parts.append(int(m.group(1)))
            at = m.end()
        self.parts.append(text[at:])
        self.tokens = tokens
        # The same as a format string: one C-level call per render.
        self.fmt = "".join(
            p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else f"{{{p}}}"
            for p in self.parts
        )

    def render(self, values: Sequence[str]) -> str:
        return self.fmt.format(*values)


@dataclass
class Template:
    target: str
    department_id: int | None
    initiator: str  # the template initiator's id, as the state JSON spells users
    events: list[datetime]
    # JSON text with \uXXXX escapes (what Django writes; SQLite keeps the text as is), or
    # UTF-8 (PostgreSQL parses it into jsonb either way, and COPY text needs no escaping).
    ascii: bool = True
    tokens: list[tuple[Any, ...]] = field(default_factory=list)  # distinct
    numbers: dict[tuple[Any, ...], int] = field(default_factory=dict)  # token -> its number
    state: Compiled | None = None
    instance: dict[str, Any] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    rows: dict[type[models.Model], list[dict[str, Any]]] = field(default_factory=dict)
    json_rows: dict[tuple[type[models.Model], int, str], Compiled] = field(default_factory=dict)
    task_created: dict[str, datetime] = field(default_factory=dict)
    task_closed: dict[str, datetime] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    # Per cloned table, per template row: the column values, each static or a slot to fill.
    plans: dict[type[models.Model], list[list[Any]]] = field(default_factory=dict)

    def rank(self, t: datetime) -> int:
        return max(bisect.bisect_right(self.events, t) - 1, 0)

    # --- compiling JSON with placeholders -----------------------------------------------------

    def _token(self, *spec: Any) -> str:
        # One number per distinct value: a clone computes each once (the same moment, the
        # initiator or the form data stand in many places of the state and the rows).
        number = self.numbers.get(spec)
        if number is None:
            number = self.numbers[spec] = len(self.tokens)
            self.tokens.append(spec)
        return f"\x00{number}\x00"

    def _walk(self, value: Any, key: str | None, parent: dict[str, Any] | None) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            action = value.get("action")
            for k, v in value.items():
                if k == "result" and action in ("generate_contract", "disburse") and v:
                    out[k] = self._token("result", action)
                else:
                    out[k] = self._walk(v, k, value)
            return out
        if isinstance(value, list):
            if key in USER_LIST_KEYS:
                return [self._token("user") if v == self.initiator else v for v in value]
            return [self._walk(v, None, parent) for v in value]
        if key in USER_KEYS and value == self.initiator:
            return self._token("user")
        if _is_time(value):
            t = _parse(value)
            if key in DUE_KEYS and parent is not None:
                base = parent.get("created_at") or self._task_created_text(parent.get("task_id"))
                if base:
                    b = _parse(base)
                    return self._token("due", self.rank(b), t - b)
            r = self.rank(t)
            return self._token("time", r, t - self.events[r])
        return value

    def _task_created_text(self, task_id: Any) -> str | None:
        found = self.task_created.get(str(task_id)) if task_id else None
        return found.isoformat() if found else None

    def compile(self, value: Any, *, data: bool = False) -> Compiled:
        if data:  # the state: its form data is one placeholder, the rest is walked
            state = dict(value)
            rest = {k: v for k, v in state["data"].items() if k not in self.raw}
            walked_rest = self._walk(rest, "data", None)
            for k, action in (("contract", "generate_contract"), ("loan", "disburse")):
                if k in rest:
                    walked_rest[k] = self._token("result", action)
            state["data"] = {self._token("form"): None, **walked_rest}
            walked = {k: (v if k == "data" else self._walk(v, k, state)) for k, v in state.items()}
        else:
            walked = self._walk(value, None, None)
        return Compiled(self.tokens, json.dumps(walked, ensure_ascii=self.ascii))


def _events(state: dict[str, Any]) -> list[datetime]:
    found: set[datetime] = set()

    def walk(value: Any, key: str | None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, key)
        elif key not in DUE_KEYS and _is_time(value):
            found.add(_parse(value))

    walk(state, None)
    return sorted(found)


CLONED = (FlowTask, FlowTimer, FlowHistory, FlowCc, FlowStepRun)
JSON_FIELDS = {
    FlowHistory: ("details", "attachments"),
    FlowStepRun: ("params", "result"),
}


def _row(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


class Templates:
    """Real instances per (state, department), captured and rolled back."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, int | None], Template] = {}
        self.form, self.version, self.compiled = published(FORM_CODE)
        self.slots = self.form.index_slots or {}
        self.admin = User.objects.filter(is_superuser=True).order_by("id").first()
        self.forms_cache: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.sample: dict[int | None, Customer] = {}  # the template customer per department

    def make(self, department_ids: Sequence[int | None]) -> None:
        for dept in department_ids:
            customer = (
                Customer.objects.filter(department_id=dept, status="active", owner__isnull=False)
                .select_related("owner")
                .order_by("id")
                .first()
            )
            if customer is None:
                continue
            self.sample[dept] = customer
            for target in STATES:
                self.by_key[(target, dept)] = self._capture(target, customer)

    def raw(self, customer: Customer, product: str, amount: Decimal, term: int, rate: str) -> dict:
        return {
            "customer": customer.pk,
            "product": product,
            "amount": str(amount),
            "term": term,
            "annual_rate": rate,
            "purpose": "business" if product != "consumer" else "consumption",
            "guarantee": "guarantor" if amount > 500000 else None,
            "applicant_income": "30000",
            "remark": "",
        }

    def _capture(self, target: str, customer: Customer) -> Template:
        officer = customer.owner
        assert officer is not None
        amount = Decimal(600000 if target == "gm_review" else 80000)
        product = "sme_operating" if target == "gm_review" else "consumer"
        with transaction.atomic():
            from loandesk.forms.services import create_record

            rec = create_record(
                actor=officer,
                form_code=FORM_CODE,
                data=self.raw(customer, product, amount, 12, "12"),
            )
            inst = FlowInstance.objects.get(record=rec)
            if target in RUNNING:
                inst = flow_demo._approve_to(inst, target)
            elif target == "returned":
                inst = flow_demo._approve_to(inst, "risk_review")
                task = inst.tasks.filter(status="open").get()
                inst = flow_demo._act(
                    inst, task.user.username, "return", target="initiator", comment="请补充收入证明"
                )
            elif target == "rejected":
                task = inst.tasks.filter(status="open").get()
                inst = flow_demo._act(inst, task.user.username, "reject", comment="负债率过高")
            elif target == "withdrawn":
                services.withdraw(actor=officer, instance_id=inst.pk, comment="客户暂不需要")
            elif target == "cancelled":
                assert self.admin is not None
                services.cancel(actor=self.admin, instance_id=inst.pk, comment="重复申请")
            else:
                inst = flow_demo._approve_to(inst, "disbursement")
                task = inst.tasks.filter(status="open").get()
                inst = flow_demo._act(
                    inst,
                    task.user.username,
                    data=flow_demo._disbursement_data(customer, 1),
                    comment="已放款",
                )
            inst.refresh_from_db()
            rec.refresh_from_db()
            want = "approved" if target == APPROVED else target
            if target in RUNNING:
                assert (inst.status, inst.current_node_id) == ("running", target), (
                    target,
                    inst.status,
                    inst.current_node_id,
                )
            else:
                assert inst.status == want, (target, inst.status)
            tpl = self._template(target, officer, inst, rec)
            transaction.set_rollback(True)
        return tpl

    def _template(self, target: str, officer: User, inst: FlowInstance, rec: Record) -> Template:
        state = inst.state
        tpl = Template(
            target=target,
            department_id=officer.department_id,
            initiator=str(officer.pk),
            events=_events(state),
            ascii=connection.vendor != "postgresql",
        )
        plain = storage.unseal(self.compiled, rec.data)
        tpl.raw = {k: plain[k] for k in plain if k in self.compiled.by_key}
        for t in state.get("tasks", []):
            tpl.task_created[t["id"]] = _parse(t["created_at"])
            if t.get("closed_at"):
                tpl.task_closed[t["id"]] = _parse(t["closed_at"])
        tpl.state = tpl.compile(state, data=True)
        tpl.instance = _row(inst)
        tpl.record = _row(rec)
        for model in CLONED:
            rows = [_row(o) for o in model.objects.filter(instance_id=inst.pk).order_by("id")]
            tpl.rows[model] = rows
            for n, row in enumerate(rows):
                for name in JSON_FIELDS.get(model, ()):
                    value = row[name]
                    if name == "result" and row.get("action") in ("generate_contract", "disburse"):
                        tpl.json_rows[(model, n, name)] = _only_result(tpl, row["action"])
                        continue
                    tpl.json_rows[(model, n, name)] = tpl.compile(value)
            tpl.plans[model] = [_plan(tpl, model, n, row) for n, row in enumerate(rows)]
        return tpl

    # --- the form data of a clone -------------------------------------------------------------

    def form_data(self, key: tuple[str, int, int, str], customer: Customer) -> dict[str, Any]:
        """The form engine's plain output for (product, amount yuan, term, rate), computed once
        with a real customer; the caller substitutes its own customer."""
        found = self.forms_cache.get(key)
        if found is None:
            product, amount, term, rate = key
            outcome = engine.process(
                self.compiled,
                self.raw(customer, product, Decimal(amount), term, rate),
                today=date.today(),
                modes=field_modes(self.compiled, customer.owner),
                resolver=DbResolver(actor=customer.owner),
            )
            assert not outcome.errors, (key, outcome.errors)
            found = dict(outcome.data)
            self.forms_cache[key] = found
        return found


class Cloner:
    """Rows of cloned applications, as tuples per table, for one batch."""

    def __init__(self, templates: Templates, seed: int) -> None:
        self.t = templates
        self.rng = random.Random(seed + 17)
        self.adapt = connection.ops.adapt_datetimefield_value
        self.adapt_time: Callable[[datetime], Any] = (
            (lambda d: d)
            if connection.vendor == "postgresql"
            else (lambda d: d.astimezone(UTC).replace(tzinfo=None).isoformat(" "))
        )
        self.rows: dict[type[models.Model], list[tuple[Any, ...]]] = {}
        self.serial: dict[date, int] = {}
        self.out: dict[type[models.Model], list[dict[str, Any]]] = {}
        # PostgreSQL: the cloned tables' rows go out as COPY text (see `lines`).
        self.text = connection.vendor == "postgresql"
        self.texts: dict[type[models.Model], list[str]] = {}
        self.counts: dict[type[models.Model], int] = {}
        self.accounts: dict[int, dict[str, Any]] = {}  # the disbursement account per n
        self.compiled_lines: dict[
            int, tuple[list[tuple[Any, ...]], dict[type[models.Model], tuple[str, int]]]
        ] = {}
        self.reset()

    def reset(self) -> None:
        self.out = {m: [] for m in (Record, FlowInstance)}
        self.rows = {m: [] for m in CLONED}
        self.texts = {m: [] for m in CLONED}
        self.counts = dict.fromkeys(CLONED, 0)

    def _gaps(self, tpl: Template) -> list[timedelta]:
        rng = self.rng
        gaps = [timedelta(0)]
        for _ in tpl.events[1:]:
            # Minutes to a working day between events (approvals, steps, decisions).
            gaps.append(timedelta(seconds=int(rng.expovariate(1 / 5400)) + 30))
        return gaps

    def times(self, tpl: Template, last: datetime) -> list[datetime]:
        gaps = self._gaps(tpl)
        total = sum(gaps, timedelta(0))
        at = last - total
        out = []
        for g in gaps:
            at = at + g
            out.append(at)
        return out

    def application_no(self, d: date) -> str:
        n = self.serial.get(d, 0) + 1
        self.serial[d] = n
        return f"SQ{d:%Y%m%d}{n:04d}"

    def clone(
        self,
        tpl: Template,
        *,
        instance_id: int,
        record_id: int,
        customer: tuple[int, str, int, int | None],
        form_key: tuple[str, int, int, str],
        sample: Customer,
        last: datetime,
        loan: tuple[int, str, date] | None = None,
    ) -> None:
        customer_id, name, owner_id, department_id = customer
        times = self.times(tpl, last)
        ev = tpl.events

        def at(t: datetime | None) -> datetime | None:
            if t is None:
                return None
            r = tpl.rank(t)
            return times[r] + (t - ev[r])

        plain = dict(self.t.form_data(form_key, sample))
        plain["customer"] = customer_id
        plain["customer_name"] = name
        started = times[0]
        plain["application_no"] = self.application_no(started.date())
        result: dict[str, Any] = {}
        if loan is not None:
            loan_id, contract_no, start = loan
            account = self.accounts.get(customer_id % 10_000)
            if account is None:  # the demo's account data, whose number is per n (a checksum)
                account = self.accounts[customer_id % 10_000] = flow_demo._disbursement_data(
                    _Named(""), customer_id % 10_000
                )
            plain.update(account)
            plain["disbursement_account_name"] = name
            plain["disbursement_date"] = start.isoformat()
            result["generate_contract"] = {
                "document_id": None,
                "contract_no": contract_no,
                "file_name": "",
                "template": "loan_contract",
                "sha256": "",
            }
            result["disburse"] = {"loan_id": loan_id, "contract_no": contract_no, "created": True}
        sealed = storage.seal(self.t.compiled, plain)
        user = str(owner_id)
        ascii_ = tpl.ascii
        # The record's data and the state's form data are the same JSON object (on SQLite the
        # same text Django writes; PostgreSQL parses either spelling into the same jsonb).
        sealed_text = json.dumps(sealed, ensure_ascii=ascii_)

        # ISO text per (event rank, offset): the JSON tokens and the rows' slots share it.
        stamps: dict[tuple[int, timedelta], str] = {}

        def values() -> list[str]:
            out = []
            user_json = json.dumps(user)
            for spec in tpl.tokens:
                kind = spec[0]
                if kind == "time" or kind == "due":
                    key = (spec[1], spec[2])
                    stamp = stamps.get(key)
                    if stamp is None:
                        stamp = stamps[key] = (times[spec[1]] + spec[2]).isoformat()
                    out.append(f'"{stamp}"')
                elif kind == "user":
                    out.append(user_json)
                elif kind == "form":
                    out.append(sealed_text[1:-1])
                elif kind == "result":
                    out.append(json.dumps(result.get(spec[1]), ensure_ascii=ascii_))
                else:  # pragma: no cover
                    raise AssertionError(spec)
            return out

        assert tpl.state is not None
        vals = values()
        state_text = tpl.state.render(vals)
        inst = dict(tpl.instance)
        amount = Decimal(form_key[1])
        inst.update(
            id=instance_id,
            record_id=record_id,
            initiator_id=owner_id,
            department_id=department_id,
            customer_id=customer_id,
            title=f"{name} · {PRODUCT_NAMES.get(form_key[0], form_key[0])} · {format_yuan(amount)}",
            state=_Json(state_text),
            amount_fen=int(amount * 100),
            started_at=started,
            finished_at=at(tpl.instance["finished_at"]),
            updated_at=times[-1],
        )
        self.out[FlowInstance].append(inst)
        rec = dict(tpl.record)
        rec.update(
            id=record_id,
            data=_Json(sealed_text),
            owner_id=owner_id,
            department_id=department_id,
            customer_id=customer_id,
            serial_no=plain["application_no"],
            created_by_id=owner_id,
            updated_by_id=owner_id,
            created_at=started,
            updated_at=times[-1],
            **storage.slot_values(self.t.compiled, plain, self.t.slots),
        )
        self.out[Record].append(rec)
        adapt = self.adapt_time
        lines = self.lines(tpl) if self.text else None

        def slot(spec: tuple[Any, ...]) -> Any:
            kind = spec[0]
            if kind == "time":
                return adapt(times[spec[1]] + spec[2])
            if kind == "instance":
                return instance_id
            if kind == "user":
                return owner_id
            if kind == "user_text":
                return str(owner_id)
            if kind == "json":
                return spec[1].render(vals)
            # duration
            delta = (times[spec[1]] + spec[2]) - (times[spec[3]] + spec[4])
            return int(delta.total_seconds())

        if lines is not None:
            # PostgreSQL: each table's rows of this clone are one join of the template's COPY
            # text with the clone's slot values (each distinct slot computed once).
            specs, per_model = lines
            texts = []
            for spec in specs:
                if spec[0] == "time":
                    key = (spec[1], spec[2])
                    found = stamps.get(key)
                    if found is None:
                        found = stamps[key] = (times[spec[1]] + spec[2]).isoformat()
                    texts.append(found)
                else:
                    texts.append(bulkload.copy_text(slot(spec)))
            for model, (fmt, count) in per_model.items():
                self.texts[model].append(fmt.format(*texts))
                self.counts[model] += count
            return
        cache: dict[tuple[Any, ...], Any] = {}
        for model in CLONED:
            sink = self.rows[model]
            for plan in tpl.plans[model]:
                row = []
                for v in plan:
                    if v.__class__ is not Slot:
                        row.append(v)
                        continue
                    spec = v.spec
                    if spec not in cache:
                        cache[spec] = slot(spec)
                    row.append(cache[spec])
                sink.append(tuple(row))

    def lines(
        self, tpl: Template
    ) -> tuple[list[tuple[Any, ...]], dict[type[models.Model], tuple[str, int]]]:
        """The template's cloned rows as COPY text with numbered slots (compiled once)."""
        found = self.compiled_lines.get(id(tpl))
        if found is not None:
            return found
        specs: list[tuple[Any, ...]] = []
        index: dict[tuple[Any, ...], int] = {}
        per_model: dict[type[models.Model], tuple[str, int]] = {}
        for model in CLONED:
            parts: list[str | int] = []
            text: list[str] = []
            for plan in tpl.plans[model]:
                for k, v in enumerate(plan):
                    if k:
                        text.append("\t")
                    if v.__class__ is Slot:
                        if v.spec not in index:
                            index[v.spec] = len(specs)
                            specs.append(v.spec)
                        parts.append("".join(text))
                        text = []
                        parts.append(index[v.spec])
                    else:
                        text.append(bulkload.copy_text(v))
                text.append("\n")
            parts.append("".join(text))
            fmt = "".join(
                p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else f"{{{p}}}"
                for p in parts
            )
            per_model[model] = (fmt, len(tpl.plans[model]))
        self.compiled_lines[id(tpl)] = (specs, per_model)
        return specs, per_model


def columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The columns written for `model` (the primary key only where ids are reserved)."""
    keep_pk = model in (Record, FlowInstance)
    return [f for f in model._meta.concrete_fields if keep_pk or not f.primary_key]


class Slot:
    """A value a clone fills in: ("instance",), ("time", rank, offset), ("user",),
    ("user_text",), ("duration", rank, offset, rank, offset), ("json", Compiled)."""

    __slots__ = ("spec",)

    def __init__(self, *spec: Any) -> None:
        self.spec = spec


def _plan(tpl: Template, model: type[models.Model], n: int, row: dict[str, Any]) -> list[Any]:
    initiator = int(tpl.initiator)

    def at(t: datetime) -> Slot:
        r = tpl.rank(t)
        return Slot("time", r, t - tpl.events[r])

    out: list[Any] = []
    for f in columns(model):
        name = f.attname
        value = row[name]
        if name == "instance_id":
            out.append(Slot("instance"))
        elif (model, n, name) in tpl.json_rows:
            compiled = tpl.json_rows[(model, n, name)]
            # JSON with nothing to fill in (most history details) is the same text every clone.
            out.append(compiled.parts[0] if len(compiled.parts) == 1 else Slot("json", compiled))
        elif isinstance(value, datetime):
            base = None
            if model is FlowTask and name == "due_at":
                base = row["created_at"]
            elif model is FlowTimer and name == "fire_at":
                base = tpl.task_created.get(row["engine_task_id"])
            if base is not None:
                r = tpl.rank(base)
                out.append(Slot("time", r, value - tpl.events[r]))
            else:
                out.append(at(value))
        elif name in ("user_id", "actor_id") and value == initiator:
            out.append(Slot("user"))
        elif model is FlowHistory and name == "target" and value == tpl.initiator:
            out.append(Slot("user_text"))
        elif model is FlowHistory and name == "duration_seconds" and value is not None:
            task = row["engine_task_id"]
            if task in tpl.task_closed:
                c, o = tpl.task_closed[task], tpl.task_created[task]
                rc, ro = tpl.rank(c), tpl.rank(o)
                out.append(Slot("duration", rc, c - tpl.events[rc], ro, o - tpl.events[ro]))
            else:
                out.append(value)
        elif isinstance(value, (dict, list)):
            out.append(json.dumps(value, ensure_ascii=tpl.ascii))
        else:
            out.append(value)
    return out


def _only_result(tpl: Template, action: str) -> Compiled:
    """A JSON value that is the whole contract / disbursement result."""
    token = tpl._token("result", action)
    return Compiled(tpl.tokens, json.dumps(token, ensure_ascii=tpl.ascii))


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


class _Json(str):
    """JSON text already rendered (written as is)."""


def write(cloner: "Cloner", writer: Callable[..., int]) -> dict[str, int]:
    """Writes the batch's clone rows: records and instances from their field values, the other
    tables' tuples as built (JSON as text)."""
    ops = connection.ops
    # PostgreSQL's driver takes dates, datetimes and decimals as they are (Django's adapters
    # return them unchanged there): only the JSON is converted, not every value of a row.
    pg = connection.vendor == "postgresql"
    counts: dict[str, int] = {}
    for model, rows in cloner.out.items():
        fields = columns(model)
        converters: list[tuple[int, Callable[[Any], Any]]] = []
        for k, f in enumerate(fields):
            if isinstance(f, models.JSONField):
                converters.append((k, lambda v: str(v) if isinstance(v, _Json) else json.dumps(v)))
            elif pg:
                continue
            elif isinstance(f, models.DateTimeField):
                converters.append(
                    (k, lambda v: ops.adapt_datetimefield_value(v) if v is not None else None)
                )
            elif isinstance(f, models.DateField):
                converters.append((k, ops.adapt_datefield_value))
            elif isinstance(f, models.DecimalField):
                converters.append(
                    (
                        k,
                        lambda v, f=f: (
                            ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
                            if v is not None
                            else None
                        ),
                    )
                )
        # Every row holds every column (a template's row, updated per clone).
        pick = operator.itemgetter(*(f.attname for f in fields))
        tuples = []
        for row in rows:
            values = list(pick(row))
            for k, convert in converters:
                values[k] = convert(values[k])
            tuples.append(values)
        counts[model._meta.model_name or ""] = writer(
            model._meta.db_table, [f.column for f in fields], tuples
        )
    for model, tuples in cloner.rows.items():
        columns_ = [f.column for f in columns(model)]
        if cloner.text:
            writer(model._meta.db_table, columns_, (), text="".join(cloner.texts[model]))
            counts[model._meta.model_name or ""] = cloner.counts[model]
        else:
            counts[model._meta.model_name or ""] = writer(model._meta.db_table, columns_, tuples)
    return counts


def at_utc(d: date, hour: int) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def customer_names(ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    chunk = sorted(ids)
    for i in range(0, len(chunk), 5000):
        out.update(Customer.objects.filter(pk__in=chunk[i : i + 5000]).values_list("pk", "name"))
    return out


GM_AMOUNTS = (600_000, 800_000, 1_000_000)
BATCH = 20_000


def generate_other(
    cloner: Cloner,
    people: Sequence[tuple[int, int, int | None]],
    loans: int,
    *,
    as_of: datetime,
    terms: dict[str, tuple[tuple[int, ...], tuple[str, ...], tuple[int, ...]]],
    writer: Callable[..., int],
    log: bool = True,
) -> dict[str, int]:
    """Applications that are not (yet) loans: waiting at each approval node, returned,
    rejected, withdrawn, cancelled — `OTHER_PER_100` per 100 loans (at least one each)."""
    from loandesk.customers import bulk

    rng = random.Random(cloner.rng.random())
    plan: list[str] = []
    for target, per in OTHER_PER_100.items():
        plan.extend([target] * max(1, loans * per // 100))
    totals: dict[str, int] = {}
    codes = sorted(terms)
    for first in range(0, len(plan), BATCH):
        chunk = plan[first : first + BATCH]
        with transaction.atomic():
            record_ids = bulk.reserve_ids(Record, len(chunk))
            instance_ids = bulk.reserve_ids(FlowInstance, len(chunk))
            chosen = [people[rng.randrange(len(people))] for _ in chunk]
            names = customer_names({c[0] for c in chosen})
            for target, person, record_id, instance_id in zip(
                chunk, chosen, record_ids, instance_ids, strict=True
            ):
                customer_id, owner_id, department_id = person
                tpl = cloner.t.by_key.get((target, department_id))
                if tpl is None:
                    continue
                if target == "gm_review":
                    key = ("sme_operating", rng.choice(GM_AMOUNTS), 24, "8.4")
                else:
                    code = rng.choice(codes)
                    amounts, rates, periods = terms[code]
                    key = (code, rng.choice(amounts), rng.choice(periods), rng.choice(rates))
                if target in RUNNING or target == "returned":
                    last = as_of - timedelta(seconds=rng.randrange(10 * 86400))
                else:
                    last = as_of - timedelta(seconds=rng.randrange(730 * 86400))
                cloner.clone(
                    tpl,
                    instance_id=instance_id,
                    record_id=record_id,
                    customer=(customer_id, names[customer_id], owner_id, department_id),
                    form_key=key,
                    sample=cloner.t.sample[department_id],
                    last=last,
                )
            for name, n in write(cloner, writer).items():
                totals[name] = totals.get(name, 0) + n
            cloner.reset()
        if log:
            print(
                f"  applications {first + len(chunk):,}/{len(plan):,}", file=sys.stderr, flush=True
            )
    return {f"other_{k}": v for k, v in totals.items()}
