"""Authorization sweep: every API endpoint × every demo role × objects in and out of scope.

The routes come from the NinjaAPI itself (`loandesk.api.api`), so a new endpoint is swept the day
it is added; `test_every_route_is_classified` fails until it is either sweepable (each of its path
parameters has an entry in PATH_PARAMS) or listed in PUBLIC with a reason.

For every route (one test per route, the demo seeded once per module, each request rolled back):
- anonymous → 401 (public routes: no 5xx, an unknown token is 404);
- every demo role → never a 5xx; a 403 always carries the `permission_denied` code;
- roles whose data scope excludes officer2's records (officer1, manager, collector) get 403/404
  for officer2's objects, and no response of theirs, on any route, carries the identifying values
  (name, ID number clear or masked, phone, contract number, card number, file name) of officer2's
  customer — which is how list endpoints are checked for out-of-scope rows;
- a write that is refused (4xx) leaves the database unchanged.

Write requests carry a body generated from the OpenAPI schema (required fields with plausible
values), so they reach the permission and scope checks instead of stopping at body validation.
See docs/security.md.
"""

import copy
import hashlib
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from ninja.constants import NOT_SET

from loandesk.api import api
from loandesk.demo import data as demo_data
from tests.demo_snapshot import Snapshot, seed_for_test
from tests.factories import ApiClient

NOBODY = "nobody"  # a user whose one role holds no permission (self scope)


def _limited(username: str) -> bool:
    """Whether the demo user's data scope leaves out officer2's records (上海一组), read from
    the demo organisation's definitions (not from the scoping code under test)."""
    parents = dict(demo_data.DEPARTMENTS)
    user = next(u for u in demo_data.USERS if u[0] == username)
    scope = next(r["data_scope"] for r in demo_data.ROLES if r["code"] == user[2])
    if username == "officer2" or scope == "all":
        return False
    if scope == "department":
        return user[3] != "上海一组"
    if scope != "department_tree":
        return True  # self
    department: str | None = "上海一组"
    while department is not None and department != user[3]:
        department = parents[department]
    return department is None


# Every demo user is swept: a user added to the demo organisation is swept too.
ROLES = [u[0] for u in demo_data.USERS]
LIMITED = [*(role for role in ROLES if _limited(role)), NOBODY]
PREFIX = "/api/v1"

# Routes anyone may call, each with the reason. Everything else must answer 401 to anonymous.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/auth/csrf"): "sets the CSRF cookie the login form posts with",
    ("POST", "/auth/login"): "the login itself",
    ("POST", "/auth/logout"): "ending a session needs none; without one it does nothing",
    ("GET", "/health"): "load-balancer health check, returns no data",
    ("GET", "/public/forms/{token}"): "borrower's public application link (unguessable token)",
    ("POST", "/public/forms/{token}/evaluate"): "live formulas of the public form",
    ("POST", "/public/forms/{token}/sms"): "SMS code for the public form (rate limited)",
    ("POST", "/public/forms/{token}/uploads"): "file fields of the public form",
    ("POST", "/public/forms/{token}/submit"): "submitting the public application",
    ("GET", "/public/status/{status_token}"): "borrower's status page (unguessable token)",
    ("POST", "/public/status/{status_token}/sms"): "SMS code to unlock the status page",
    ("POST", "/public/status/{status_token}/verify"): "verifying that code",
}

# Routes a signed-in user holding no permission may use (each answers only about the caller's
# own things, or computes without reading records). Every other route must refuse that user.
_OWN = "the caller's own account, session, tokens or 2FA"
_INBOX = "the caller's own approval inbox (tasks assigned to or started by them)"
_MESSAGES = "the caller's own in-app messages"
_CATALOG = "reference data every screen needs, no customer or loan data"
_CALC = "pure calculation on the numbers sent, reads no records"
EVERY_USER: dict[tuple[str, str], str] = {
    ("GET", "/auth/me"): _OWN,
    ("PATCH", "/auth/me"): _OWN,
    ("POST", "/auth/password"): _OWN,
    ("POST", "/auth/otp/setup"): _OWN,
    ("POST", "/auth/otp/confirm"): _OWN,
    ("POST", "/auth/otp/disable"): _OWN,
    ("GET", "/auth/tokens"): _OWN,
    ("POST", "/auth/tokens"): _OWN,
    ("GET", "/accounts/departments"): "the organisation tree, for pickers and the header",
    ("GET", "/accounts/permissions"): "the permission catalog (names only)",
    ("GET", "/business-date"): "the business date shown in the header",
    ("POST", "/calculator/schedule"): _CALC,
    ("POST", "/calculator/compare"): _CALC,
    ("POST", "/calculator/payoff-quote"): _CALC,
    ("GET", "/customers/meta"): _CATALOG,
    ("GET", "/forms/field-types"): _CATALOG,
    ("GET", "/forms/functions"): _CATALOG,
    ("POST", "/forms/formula/check"): _CALC,
    ("GET", "/lending/calendar/years"): "the public-holiday calendar",
    ("GET", "/lending/products"): "the product catalog (terms, not loans)",
    ("GET", "/lending/products/{product_id}"): "the product catalog (terms, not loans)",
    ("POST", "/lending/products/{product_id}/quote"): _CALC,
    ("GET", "/flows/inbox/counts"): _INBOX,
    ("GET", "/flows/inbox/todo"): _INBOX,
    ("GET", "/flows/inbox/done"): _INBOX,
    ("GET", "/flows/inbox/cc"): _INBOX,
    ("GET", "/flows/inbox/mine"): _INBOX,
    ("GET", "/notify/messages"): _MESSAGES,
    ("GET", "/notify/unread-count"): _MESSAGES,
    ("POST", "/notify/messages/read-all"): _MESSAGES,
}

# The codes a 403 may carry. A new one is a deliberate choice: add it here with its meaning.
DENIAL_CODES = {
    "permission_denied": "the role lacks the permission",
    "flow.not_initiator": "only the applicant may withdraw, urge or resubmit an application",
}

# Tables a refused request may write to: the audit trail of the refusal and the session.
REFUSAL_WRITES = {"core_auditentry", "django_session"}

MARK_NAME = "越界测试客户"
MARK_FILE = "越界测试材料.pdf"
MARK_BOARD = "越界私有看板"


# ---------------------------------------------------------------------------------------------
# Routes


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/customers/{customer_id}" (converters stripped), without /api/v1
    view: str
    public_declared: bool
    operation: Any = field(compare=False, hash=False, repr=False)

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def router(self) -> str:
        return self.path.strip("/").split("/")[0]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _routes() -> list[Route]:
    found: dict[tuple[str, str], Route] = {}
    for prefix, router in api._routers:
        for sub, path_view in router.path_operations.items():
            full = re.sub(r"\{\w+:(\w+)\}", r"{\1}", "/" + f"{prefix}/{sub}".strip("/"))
            full = re.sub(r"/+", "/", full)
            for op in path_view.operations:
                auth = op.auth_param
                if auth is NOT_SET:
                    auth = router.auth if router.auth is not NOT_SET else api.auth
                for method in op.methods:
                    view = f"{op.view_func.__module__}.{op.view_func.__name__}"
                    found[(method, full)] = Route(method, full, view, auth is None, op)
    return sorted(found.values(), key=lambda r: (r.path, r.method))


ROUTES = _routes()


# ---------------------------------------------------------------------------------------------
# The world: the demo plus officer1's (in scope) and officer2's (out of scope) records


@dataclass
class World:
    users: dict[str, Any]
    clients: dict[str, ApiClient]
    own: dict[str, Any] = field(default_factory=dict)  # param → value in officer1's scope
    foreign: dict[str, Any] = field(default_factory=dict)  # param → officer2's value
    markers: list[str] = field(default_factory=list)


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _xlsx() -> io.BytesIO:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "身份证号", "手机号"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def _build(world: World) -> None:
    from loandesk.accounting.models import Account
    from loandesk.accounts.models import Department, Role
    from loandesk.accounts.services import create_token
    from loandesk.core.models import OutboxEvent
    from loandesk.core.services import set_business_date
    from loandesk.customers import identity
    from loandesk.customers import services as customers
    from loandesk.customers.imports import upload_import
    from loandesk.customers.models import Customer
    from loandesk.flows.models import FlowDefinition, FlowInstance
    from loandesk.forms import uploads
    from loandesk.forms.services import create_link, create_record
    from loandesk.lending import loans, repayments
    from loandesk.lending.models import ContractTemplate, Product
    from loandesk.notify.models import Notification
    from loandesk.notify.services import ensure_channels
    from loandesk.postloan import collections
    from loandesk.postloan.models import CollectionTeam
    from loandesk.reports.models import Dashboard
    from loandesk.risk.models import Scorecard
    from loandesk.rules.models import Rule

    u = world.users
    set_business_date(actor=None, new_date=date(2026, 3, 2), allow_backwards=True)
    id2 = identity.make_id_number("310101", date(1977, 7, 7), 913)
    phone2 = "18698765432"
    foreign_customer, _ = customers.create_customer(
        actor=u["officer2"], data={"name": MARK_NAME, "id_number": id2, "phone": phone2}
    )
    own_customer = (
        Customer.objects.filter(owner=u["officer1"], status="active").order_by("id").first()
    )
    assert own_customer is not None
    card2 = identity.make_bank_card("622202777788889999")
    foreign_card = customers.add_bank_card(
        actor=u["officer2"], customer=foreign_customer, number=card2
    )
    own_card = customers.add_bank_card(
        actor=u["officer1"],
        customer=own_customer,
        number=identity.make_bank_card("622202111122223333"),
    )
    foreign_doc = customers.upload_document(
        actor=u["officer2"],
        customer=foreign_customer,
        kind="other",
        fh=io.BytesIO(_pdf()),
        original_name=MARK_FILE,
    )
    own_doc = customers.upload_document(
        actor=u["officer1"],
        customer=own_customer,
        kind="other",
        fh=io.BytesIO(_pdf()),
        original_name="本人材料.pdf",
    )
    customers.create_follow_up(
        actor=u["officer2"], customer=foreign_customer, kind="call", content="越界跟进记录"
    )
    foreign_import = upload_import(actor=u["officer2"], fh=_xlsx(), original_name="a.xlsx")
    own_import = upload_import(actor=u["officer1"], fh=_xlsx(), original_name="b.xlsx")

    product = Product.objects.order_by("id").first()
    assert product is not None

    def loan_of(customer: Any) -> Any:
        return loans.disburse(
            actor=u["finance"],
            customer_id=customer.pk,
            product_id=product.pk,
            amount="100000",
            periods=12,
            annual_rate="12",
            start=date(2026, 1, 10),
            account_name=customer.name,
            account_number="6222020200112233445",
            bank_name="中国工商银行",
            idempotency_key=f"sweep-{uuid.uuid4()}",
        )

    foreign_loan, own_loan = loan_of(foreign_customer), loan_of(own_customer)

    def repay(loan: Any) -> Any:
        return repayments.post_repayment(
            actor=u["finance"],
            loan_id=loan.pk,
            amount_fen=10_000,
            value_date=date(2026, 3, 2),
            channel="cash",
        )

    foreign_repayment, own_repayment = repay(foreign_loan), repay(own_loan)
    foreign_case, _ = collections.open_case(loan=foreign_loan, assign_to="owner")
    own_case, _ = collections.open_case(loan=own_loan, assign_to="owner")

    def application(owner: str, customer: Any) -> Any:
        data = {
            "customer": customer.pk,
            "product": product.code,
            "amount": "120000",
            "term": 24,
            "annual_rate": "12",
            "purpose": "consumption",
            "applicant_income": "30000",
        }
        return create_record(actor=u[owner], form_code="loan_application", data=data)

    foreign_record = application("officer2", foreign_customer)
    own_record = application("officer1", own_customer)
    foreign_instance = FlowInstance.objects.filter(record=foreign_record).first()
    own_instance = FlowInstance.objects.filter(record=own_record).first()

    foreign_upload = uploads.store(content=_pdf(), name=MARK_FILE, uploaded_by=u["officer2"])
    own_upload = uploads.store(content=_pdf(), name="本人上传.pdf", uploaded_by=u["officer1"])
    foreign_link = create_link(actor=u["officer2"], form_code="loan_application")
    own_link = create_link(actor=u["officer1"], form_code="loan_application")

    def note(user: Any, key: str) -> Any:
        from django.utils import timezone

        return Notification.objects.create(
            user=user, kind="message", title=f"消息{key}", dedupe_key=key, created_at=timezone.now()
        )

    foreign_note, own_note = note(u["officer2"], "sweep-2"), note(u["officer1"], "sweep-1")
    foreign_token, _ = create_token(actor=u["officer2"], name="officer2 的令牌")
    own_token, _ = create_token(actor=u["officer1"], name="officer1 的令牌")

    ensure_channels()
    from loandesk.notify.models import Channel, Template

    dashboard = Dashboard.objects.order_by("id").first()
    from loandesk.reports.services import create_dashboard

    private_board = create_dashboard(actor=u["admin"], data={"name": MARK_BOARD})
    template = ContractTemplate.objects.order_by("id").first()
    event = OutboxEvent.objects.order_by("id").first()
    world.own.update(
        {
            "customer_id": own_customer.pk,
            "card_id": own_card.pk,
            "document_id": own_doc.pk,
            "import_id": own_import.pk,
            "loan_id": own_loan.pk,
            "repayment_id": own_repayment.pk,
            "case_id": own_case.pk,
            "forms:record_id": own_record.pk,
            "flows:record_id": own_record.pk,
            "instance_id": own_instance.pk if own_instance else 999_999,
            "upload_id": own_upload.pk,
            "link_id": own_link.pk,
            "message_id": own_note.pk,
            "token_id": own_token.pk,
            "user_id": u["officer1"].pk,
            "department_id": Department.objects.get(name="北京二组").pk,
            "role_id": Role.objects.get(code="officer").pk,
            "forms:code": "loan_application",
            "forms:number": 1,
            "risk:code": Scorecard.objects.order_by("id").values_list("code", flat=True)[0],
            "contracts:code": template.code if template else "none",
            "key": FlowDefinition.objects.order_by("id").values_list("key", flat=True)[0],
            "flows:number": 1,
            "product_id": product.pk,
            "year": 2026,
            "event_id": event.pk if event else 999_999,
            "rule_id": Rule.objects.order_by("id").values_list("id", flat=True)[0],
            "team_id": CollectionTeam.objects.order_by("id").values_list("id", flat=True)[0],
            "channel_id": Channel.objects.order_by("id").values_list("id", flat=True)[0],
            "template_id": Template.objects.order_by("id").values_list("id", flat=True)[0],
            "account_id": Account.objects.order_by("id").values_list("id", flat=True)[0],
            "component": "principal",
            "dashboard_id": dashboard.pk if dashboard else 999_999,
            "reports:channel": "referral",
            "reports:month": "2026-06",
            # Rows the demo has none of: an id that does not exist still sweeps 401/403/5xx.
            "run_id": 999_999,
            "cc_id": 999_999,
            "delivery_id": 999_999,
            "opt_out_id": 999_999,
            "firing_id": 999_999,
            "metric_id": 999_999,
            "subscription_id": 999_999,
            "statement_id": 999_999,
            "request_id": 999_999,
            "entry_id": 999_999,
            "token": "no-such-token-" + "x" * 20,
            "status_token": "no-such-token-" + "y" * 20,
        }
    )
    world.foreign.update(
        {
            "customer_id": foreign_customer.pk,
            "card_id": foreign_card.pk,
            "document_id": foreign_doc.pk,
            "import_id": foreign_import.pk,
            "loan_id": foreign_loan.pk,
            "repayment_id": foreign_repayment.pk,
            "case_id": foreign_case.pk,
            "forms:record_id": foreign_record.pk,
            "flows:record_id": foreign_record.pk,
            "upload_id": foreign_upload.pk,
            "link_id": foreign_link.pk,
            "message_id": foreign_note.pk,
            "token_id": foreign_token.pk,
            "user_id": u["officer2"].pk,
            "dashboard_id": private_board.pk,  # admin's, shared with no role
        }
    )
    if foreign_instance is not None:
        world.foreign["instance_id"] = foreign_instance.pk
    masked_id = foreign_customer_masks(id2, phone2, card2)
    world.markers = [
        MARK_NAME,
        MARK_FILE,
        "越界跟进记录",
        id2,
        phone2,
        card2,
        foreign_loan.contract_no,
        *masked_id,
        MARK_BOARD,
    ]


def foreign_customer_masks(id_number: str, phone: str, card: str) -> list[str]:
    from loandesk.core import crypto

    return [crypto.mask_id_number(id_number), crypto.mask_phone(phone), crypto.mask_bank_card(card)]


# Path parameters: `name` or `router:name` → which key of World.own / World.foreign fills it.
def _param_key(route: Route, name: str) -> str:
    scoped = f"{route.router}:{name}"
    return scoped if scoped in PATH_PARAM_KEYS else name


PATH_PARAM_KEYS = {
    "customer_id",
    "card_id",
    "document_id",
    "import_id",
    "loan_id",
    "repayment_id",
    "case_id",
    "forms:record_id",
    "flows:record_id",
    "instance_id",
    "upload_id",
    "link_id",
    "message_id",
    "token_id",
    "user_id",
    "department_id",
    "role_id",
    "forms:code",
    "forms:number",
    "risk:code",
    "contracts:code",
    "key",
    "flows:number",
    "product_id",
    "year",
    "event_id",
    "rule_id",
    "team_id",
    "channel_id",
    "template_id",
    "account_id",
    "component",
    "dashboard_id",
    "reports:channel",
    "reports:month",
    "run_id",
    "cc_id",
    "delivery_id",
    "opt_out_id",
    "firing_id",
    "metric_id",
    "subscription_id",
    "statement_id",
    "request_id",
    "entry_id",
    "token",
    "status_token",
}


def _fill(route: Route, values: dict[str, Any]) -> str | None:
    path = route.path
    for name in route.params:
        key = _param_key(route, name)
        if key not in values:
            return None
        path = path.replace("{" + name + "}", str(values[key]))
    return path


# ---------------------------------------------------------------------------------------------
# Request bodies and query strings generated from each operation's own pydantic models


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    return schema


def _example(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """A value the schema accepts: required fields only, the first choice, the minimum size."""
    schema = _resolve(schema, defs)
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s, defs).get("type") != "null"]
            return _example(options[0] if options else schema[key][0], defs, depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 4:
            return {}
        props = schema.get("properties", {})
        return {
            k: _example(props[k], defs, depth + 1) for k in schema.get("required", []) if k in props
        }
    if kind == "array":
        return [_example(schema.get("items", {}), defs, depth + 1)] * schema.get("minItems", 0)
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return "2026-03-02"
        if fmt == "date-time":
            return "2026-03-02T10:00:00+08:00"
        if fmt == "binary":
            return SimpleUploadedFile("sweep.pdf", _pdf(), content_type="application/pdf")
        return "1" * max(int(schema.get("minLength", 1)), 1)
    return None


@dataclass
class Parts:
    json: Any = None
    form: dict[str, Any] | None = None
    query: dict[str, Any] = field(default_factory=dict)


def _request_parts(route: Route, values: dict[str, Any]) -> Parts:
    """Body, form and query of a request; fields named like a filler (customer_id, loan_id, ...)
    take the same object as the path, so ids in bodies and filters are swept too."""
    parts = Parts()
    for model in route.operation.models:
        source = model.__ninja_param_source__
        schema = model.model_json_schema()
        defs = schema.get("$defs", {})
        props = schema.get("properties", {})
        if source == "body":
            (only,) = props.values()  # Ninja wraps the one body parameter as `payload`
            parts.json = _example(only, defs)
            if isinstance(parts.json, dict):
                for key in set(_resolve(only, defs).get("properties", {})) & set(values):
                    parts.json[key] = values[key]
        elif source in ("form", "file"):
            wanted = set(schema.get("required", [])) | {
                k for k, v in props.items() if '"binary"' in json.dumps(v)
            }
            parts.form = (parts.form or {}) | {k: _example(props[k], defs) for k in wanted}
        elif source == "query":
            query = _flat({k: _example(props[k], defs) for k in schema.get("required", [])})
            parts.query |= {k: values.get(k, v) for k, v in query.items()}
    return parts


def _comparable(parts: Parts) -> tuple[str, str]:
    return json.dumps(parts.json, sort_keys=True), json.dumps(parts.query, sort_keys=True)


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    """Ninja nests grouped query parameters (`filters: Query[Filters]`); the URL is flat."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out |= _flat(value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# Running one request, rolled back, and checking the database was not changed by a refusal


_DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)


def _fingerprint() -> str:
    digest = hashlib.sha1()
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table in REFUSAL_WRITES:
                continue
            cursor.execute(f'SELECT * FROM "{table}"')
            rows = sorted(repr(row) for row in cursor.fetchall())
            digest.update(table.encode() + repr(rows).encode())
    return digest.hexdigest()


def _multipart(data: dict[str, Any]) -> dict[str, Any]:
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


@dataclass
class Result:
    status: int
    body: bytes
    changed_db: bool

    @property
    def text(self) -> str:
        return self.body[:300].decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Sweeper:
    def __init__(self) -> None:
        self._baseline: str | None = None

    def call(self, client: ApiClient, route: Route, values: dict[str, Any]) -> Result:
        path = _fill(route, values)
        assert path is not None, f"no filler for {route}"
        parts = _request_parts(route, values)
        url = PREFIX + path
        if parts.query:
            url += "?" + urlencode(parts.query)
        write = route.method not in ("GET", "HEAD") and (route.method, route.path) not in PUBLIC
        if write and self._baseline is None:
            self._baseline = _fingerprint()
        cookies = copy.deepcopy(client.client.cookies)
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                if parts.form is not None:
                    headers = client._headers(route.method.lower())
                    response = client.client.generic(
                        route.method, url, **_multipart(parts.form), **headers
                    )
                else:
                    response = client.request(route.method.lower(), url, parts.json)
            client.client.cookies = cookies  # logout and login must not end the sweep's session
            changed = False
            if write and 400 <= response.status_code < 500:
                tables = {
                    m.group(1)
                    for q in queries.captured_queries
                    if (m := _DML.match(q["sql"])) is not None
                }
                if tables - REFUSAL_WRITES:
                    changed = _fingerprint() != self._baseline
            content = b"".join(response) if response.streaming else response.content
            transaction.set_rollback(True)
        return Result(response.status_code, content, changed)


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def world(
    django_db_setup: None,
    django_db_blocker: Any,
    tmp_path_factory: Any,
    demo_snapshot: Snapshot | None,
) -> Iterator[World]:
    media = tmp_path_factory.mktemp("sweep-media")
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    with django_db_blocker.unblock(), override_settings(STORAGES=storages):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            from loandesk.accounts.models import User

            seed_for_test(demo_snapshot)
            users = {user.username: user for user in User.objects.all()}
            clients = {"anonymous": ApiClient()}
            for role in ROLES:
                clients[role] = ApiClient()
                clients[role].login_as(role, settings.LOANDESK_DEMO_PASSWORD)
            # A user holding no permission at all, self scope, in officer1's department.
            from tests.factories import PASSWORD, make_role, make_user

            nobody = make_role("sweep_nobody", data_scope="self", permissions=[])
            make_user(NOBODY, department=users["officer1"].department, roles=[nobody])
            clients[NOBODY] = ApiClient()
            clients[NOBODY].login_as(NOBODY, PASSWORD)
            world = World(users=users, clients=clients)
            _build(world)
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# ---------------------------------------------------------------------------------------------
# Tests


def test_every_route_is_classified() -> None:
    """A new endpoint must be sweepable (its path parameters have fillers) or listed as public."""
    assert len(ROUTES) > 200
    problems = []
    for route in ROUTES:
        key = (route.method, route.path)
        if route.public_declared != (key in PUBLIC):
            problems.append(f"{route}: auth=None must match the PUBLIC list (with a reason)")
        for name in route.params:
            if _param_key(route, name) not in PATH_PARAM_KEYS:
                problems.append(f"{route}: add a filler for path parameter {name!r}")
    assert set(PUBLIC) <= {(r.method, r.path) for r in ROUTES}, "stale PUBLIC entry"
    assert set(EVERY_USER) <= {(r.method, r.path) for r in ROUTES}, "stale EVERY_USER entry"
    assert not problems, "\n".join(problems)


def test_markers_are_visible_in_scope(world: World, db: None) -> None:
    """The leak check means something: officer2's own views and admin's do show the markers."""
    customer, loan = world.foreign["customer_id"], world.foreign["loan_id"]
    for role in ("officer2", "admin"):
        client = world.clients[role]
        assert MARK_NAME in _leaks(world, client.get(f"customers/{customer}").content)
        assert world.markers[6] in _leaks(world, client.get(f"lending/loans/{loan}").content)
        assert MARK_NAME in _leaks(world, client.get("customers", {"q": MARK_NAME}).content)
    for role in LIMITED:
        assert world.clients[role].get(f"customers/{customer}").status_code in (403, 404)


def _readable(body: bytes) -> str:
    """The response as text a person would read: JSON escapes undone, spreadsheets opened."""
    if body[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
    text = body.decode("utf-8", errors="replace")
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def _leaks(world: World, body: bytes) -> list[str]:
    text = _readable(body)
    return [m for m in world.markers if m in text]


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_sweep(route: Route, world: World, db: None) -> None:
    sweeper = Sweeper()
    own, foreign = world.own, world.own | world.foreign
    failures: list[str] = []

    anonymous = sweeper.call(world.clients["anonymous"], route, own)
    if (route.method, route.path) in PUBLIC:
        if anonymous.status >= 500:
            failures.append(f"anonymous: {anonymous.status} {anonymous.body[:200]!r}")
        if route.params and anonymous.status not in (400, 404, 422, 429, 200, 204):
            failures.append(f"anonymous with an unknown token: {anonymous.status}")
    elif anonymous.status != 401 or anonymous.json().get("code") != "auth.not_authenticated":
        failures.append(f"anonymous: expected 401, got {anonymous.status} {anonymous.body[:200]!r}")
    if anonymous.changed_db:
        failures.append("anonymous: a refused request changed the database")

    in_path = _fill(route, foreign) != _fill(route, own)
    in_request = _comparable(_request_parts(route, foreign)) != _comparable(
        _request_parts(route, own)
    )
    admin_status = 0
    for role in [*ROLES, NOBODY]:
        client = world.clients[role]
        mine = sweeper.call(client, route, own)
        failures += _check(world, route, role, "own", mine)
        admin_status = mine.status if role == "admin" else admin_status
        if role == NOBODY and (route.method, route.path) not in PUBLIC:
            # No permission: refused, unless the request's shape is refused for everyone (422
            # for admin too) or the route serves every signed-in user (EVERY_USER).
            shape = mine.status == admin_status == 422
            open_route = (route.method, route.path) in EVERY_USER
            if not open_route and not shape and mine.status not in (403, 404):
                failures.append(f"{role}: expected 403/404, got {mine.status} {mine.text}")
        if role not in LIMITED or not (in_path or in_request):
            continue
        out = sweeper.call(client, route, foreign)
        failures += _check(world, route, role, "foreign", out)
        same_refusal = out.status == mine.status == 422  # stopped by body validation both times
        if in_path and out.status not in (403, 404) and not same_refusal:
            failures.append(f"{role} foreign: expected 403/404, got {out.status} {out.text}")
        if route.method != "GET" and 200 <= out.status < 300:
            failures.append(f"{role} foreign: a write on officer2's record answered {out.status}")
    assert not failures, f"{route}:\n" + "\n".join(failures)


def _check(world: World, route: Route, role: str, which: str, result: Result) -> list[str]:
    failures = []
    where = f"{role} {which}"
    if result.status >= 500:
        failures.append(f"{where}: {result.status} {result.body[:300]!r}")
    if result.status == 403:
        code = result.json().get("code", "")
        if code not in DENIAL_CODES:
            failures.append(f"{where}: 403 with code {code!r}")
    if result.changed_db:
        failures.append(f"{where}: refused with {result.status} but changed the database")
    if role in LIMITED:
        leaked = _leaks(world, result.body)
        if leaked:
            failures.append(f"{where}: {result.status} shows officer2's data {leaked}")
    return failures
