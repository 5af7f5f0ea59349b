"""Form engine use cases: designing and publishing forms, submitting and editing records, public
links with SMS verification, uploads. Each function takes the acting user and checks permission
and data scope itself; writes are transactional and publish their events in the same transaction.
"""

import base64
import io
import json
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import qrcode
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from loandesk.accounts.models import Department, User
from loandesk.accounts.phones import normalize_mobile, phone_index
from loandesk.accounts.scoping import ScopeSpec, get_scoped, has_perm, require_perm, scoped
from loandesk.core import audit, expression, outbox
from loandesk.core.crypto import blind_index, encrypt, mask_phone
from loandesk.core.errors import (
    BadRequest,
    Conflict,
    LoanDeskError,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from loandesk.core.i18n import ZH, message
from loandesk.forms import engine, ratelimit, storage, uploads
from loandesk.forms.fieldtypes import (
    FieldDef,
    FieldError,
    PendingFile,
    SerialPattern,
)
from loandesk.forms.models import (
    SLOTS,
    CreatedVia,
    FormDefinition,
    FormKind,
    FormVersion,
    PublicLink,
    Record,
    SerialCounter,
    SmsCode,
    Upload,
)
from loandesk.forms.permissions import DESIGN, MANAGE_LINKS, SUBMIT, VIEW_PII, VIEW_RECORDS
from loandesk.forms.schema import (
    EDITABLE,
    HIDDEN,
    MODES,
    CompiledForm,
    Problem,
    analyse,
    compile_schema,
)

RECORD_SCOPE = ScopeSpec(owner="owner", department="department")
LINK_SCOPE = ScopeSpec(owner="created_by", department="created_by__department")
FORM_CODE_MAX = 50
RESERVED_CODES = frozenset({"field_types", "functions", "formula", "links", "uploads"})
MAX_SCHEMA_BYTES = 512 * 1024
SMS_TTL = timedelta(minutes=5)
SMS_RESEND = timedelta(seconds=60)
SMS_MAX_ATTEMPTS = 5
PUBLIC_SUBMITS_PER_HOUR = 10
PUBLIC_UPLOADS_PER_HOUR = 30
SMS_PER_IP_PER_HOUR = 10
SMS_PER_PHONE_PER_HOUR = 5
# The borrower's status page: SMS to the phone on the record, then a short-lived grant cookie.
STATUS_GRANT_TTL = timedelta(minutes=30)
STATUS_GRANT_COOKIE = "ld_status_grant"
STATUS_SMS_PER_IP_PER_HOUR = 10
STATUS_SMS_PER_TOKEN_PER_HOUR = 5
STATUS_VERIFY_PER_IP_PER_HOUR = 30
STATUS_MAX_FAILURES = 5  # wrong codes per status link and hour, then locked until the hour ends
STATUS_FAIL_WINDOW = 3600


# --- compiled schemas ------------------------------------------------------------------------

_CACHE: "OrderedDict[tuple[int, datetime], CompiledForm]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 256


def related_fields(code: str) -> set[str] | None:
    """Top-level keys of another form (its published version, else its draft) for design checks."""
    form = FormDefinition.objects.filter(code=code).select_related("current_version").first()
    if form is None:
        return None
    version = form.current_version or form.versions.filter(published_at__isnull=True).first()
    fields = (version.schema if version else {}).get("fields") or []
    return {str(f["key"]) for f in fields if isinstance(f, dict) and isinstance(f.get("key"), str)}


def compiled_version(version: FormVersion) -> CompiledForm:
    """The compiled schema of a published version (cached: published versions never change; the
    key includes the publishing time so a reused id, as after a test's rollback, never matches)."""
    key = (version.pk, version.published_at) if version.published_at else None
    if key is not None:
        with _CACHE_LOCK:
            found = _CACHE.get(key)
            if found is not None:
                _CACHE.move_to_end(key)
                return found
    form = compile_schema(version.schema, code=version.form.code, related_fields=related_fields)
    if key is not None:
        with _CACHE_LOCK:
            _CACHE[key] = form
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return form


def check_formula_text(
    *, actor: User, text: str, fields: list[str], subtables: Mapping[str, list[str]]
) -> dict[str, Any]:
    """The designer's live formula check: ok with the references, or the error and its place."""
    require_perm(actor, DESIGN)
    try:
        formula = expression.check_formula(text, set(fields), subtables)
    except expression.FormulaError as exc:
        params: dict[str, Any] = dict(exc.params)
        if exc.position is not None:
            params.setdefault("column", exc.position + 1)
        error = {"code": exc.code, "message": message(exc.code, params), "position": exc.position}
        return {"ok": False, "references": [], "error": error}
    return {"ok": True, "references": sorted(formula.references), "error": None}


def problem_out(problem: Problem) -> dict[str, Any]:
    params = dict(problem.params)
    if problem.cause_code:
        cause = dict(problem.cause_params)
        if problem.position is not None:
            cause.setdefault("column", problem.position + 1)
        params["error"] = message(problem.cause_code, cause)
    if problem.position is not None:
        params["position"] = problem.position + 1  # people count from 1
    return {
        "key": problem.key,
        "path": problem.path,
        "code": problem.code,
        "message": message(problem.code, params),
        "position": problem.position,
    }


def _problems_error(problems: list[Problem]) -> ValidationFailed:
    rendered = [problem_out(p) for p in problems]
    fields: dict[str, str] = {}
    for p in rendered:
        fields.setdefault(p["key"] or "schema", p["message"])
    error = ValidationFailed(fields, "forms.draft_invalid")
    error.details["problems"] = rendered
    return error


def field_errors(errors: Mapping[str, tuple[str, dict[str, Any]]]) -> dict[str, str]:
    return {path: message(code, params) for path, (code, params) in errors.items()}


# --- forms -----------------------------------------------------------------------------------


def get_form(code: str) -> FormDefinition:
    form = FormDefinition.objects.select_related("current_version").filter(code=code).first()
    if form is None:
        raise NotFound()
    return form


def published(
    code: str, *, for_reading: bool = False
) -> tuple[FormDefinition, FormVersion, CompiledForm]:
    """The form with its current version. Submitting needs an active form; reading the records
    of a switched-off form still works."""
    form = get_form(code)
    version = form.current_version
    if version is None or (not form.is_active and not for_reading):
        raise Conflict("forms.not_published")
    version.form = form
    return form, version, compiled_version(version)


def _check_code(code: str) -> None:
    from loandesk.forms.schema import KEY_RE

    if not KEY_RE.match(code) or len(code) > FORM_CODE_MAX or code in RESERVED_CODES:
        raise ValidationFailed.field("code", "forms.code_invalid")


@transaction.atomic
def create_form(
    *,
    actor: User,
    code: str,
    name: str,
    kind: str = FormKind.GENERIC,
    description: str = "",
    schema: dict[str, Any] | None = None,
) -> FormDefinition:
    require_perm(actor, DESIGN)
    _check_code(code)
    if FormDefinition.objects.filter(code=code).exists():
        raise Conflict("forms.code_taken")
    form = FormDefinition.objects.create(
        code=code, name=name.strip(), kind=kind, description=description.strip(), created_by=actor
    )
    FormVersion.objects.create(form=form, number=1, schema=schema or {"fields": []})
    audit.record(action="forms.form_created", actor=actor, target=form, extra={"code": code})
    return form


@transaction.atomic
def update_form(*, actor: User, code: str, changes: Mapping[str, Any]) -> FormDefinition:
    require_perm(actor, DESIGN)
    form = get_form(code)
    names = ["name", "description", "kind", "is_active"]
    before = audit.snapshot(form, names)
    for name in names:
        if changes.get(name) is not None:
            value = changes[name]
            setattr(form, name, value.strip() if isinstance(value, str) else value)
    form.save()
    changed = audit.diff(before, audit.snapshot(form, names))
    if changed:
        audit.record(action="forms.form_updated", actor=actor, target=form, changes=changed)
    return form


def draft_of(form: FormDefinition) -> FormVersion | None:
    return form.versions.filter(published_at__isnull=True).first()


def check_schema(form: FormDefinition, schema: Any) -> list[Problem]:
    _, problems = analyse(schema, code=form.code, related_fields=related_fields)
    return problems


@transaction.atomic
def save_draft(
    *, actor: User, code: str, schema: dict[str, Any]
) -> tuple[FormVersion, list[Problem]]:
    """Save the draft (creating it from scratch when the last one was published). Drafts may be
    unfinished: problems are returned, not raised; only publishing requires none."""
    require_perm(actor, DESIGN)
    form = FormDefinition.objects.select_for_update().filter(code=code).first()
    if form is None:
        raise NotFound()
    if len(json.dumps(schema, ensure_ascii=False)) > MAX_SCHEMA_BYTES:
        raise ValidationFailed.field("schema", "forms.schema.too_large")
    draft = draft_of(form)
    if draft is None:
        last = form.versions.order_by("-number").values_list("number", flat=True).first() or 0
        draft = FormVersion(form=form, number=last + 1)
    draft.schema = schema
    draft.save()
    audit.record(
        action="forms.draft_saved", actor=actor, target=form, extra={"version": draft.number}
    )
    return draft, check_schema(form, schema)


def validate_draft(
    *, actor: User, code: str, schema: dict[str, Any] | None = None
) -> list[Problem]:
    require_perm(actor, DESIGN)
    form = get_form(code)
    if schema is None:
        draft = draft_of(form)
        if draft is None:
            raise NotFound("forms.no_draft")
        schema = draft.schema
    return check_schema(form, schema)


@transaction.atomic
def publish(*, actor: User, code: str) -> FormVersion:
    """The draft becomes the next immutable version; records keep the version they used."""
    require_perm(actor, DESIGN)
    form = FormDefinition.objects.select_for_update().filter(code=code).first()
    if form is None:
        raise NotFound()
    draft = draft_of(form)
    if draft is None:
        raise Conflict("forms.no_draft")
    compiled, problems = analyse(draft.schema, code=form.code, related_fields=related_fields)
    if compiled is None:
        raise _problems_error(problems)
    slots, cleared, backfill = assign_slots(form, compiled)
    if cleared:
        Record.objects.filter(form=form).update(**dict.fromkeys(cleared))
    draft.published_at = timezone.now()
    draft.published_by = actor
    draft.save()
    form.current_version = draft
    form.index_slots = slots
    form.save(update_fields=["current_version", "index_slots", "updated_at"])
    audit.record(
        action="forms.published", actor=actor, target=form, extra={"version": draft.number}
    )
    outbox.publish(
        "form.published",
        payload={"form": form.code, "version": draft.number},
        aggregate_type="forms.form",
        aggregate_id=form.pk,
    )
    if backfill:
        from loandesk.forms.tasks import reindex_records

        form_id, keys = form.pk, sorted(backfill)
        transaction.on_commit(lambda: reindex_records.enqueue(form_id, keys))
    return draft


def assign_slots(
    form: FormDefinition, compiled: CompiledForm
) -> tuple[dict[str, str], list[str], set[str]]:
    """Key fields → record columns. A key field keeps its column across versions; a column whose
    field stopped being key is cleared and freed. Returns (slots, cleared columns, keys whose
    values older records may hold and so must be copied into their new column)."""
    current: dict[str, str] = dict(form.index_slots or {})
    wanted = {
        f.key: f.type.index_kind_of(f)
        for f in compiled.fields
        if f.indexed and f.type.name != "serial"
    }
    slots: dict[str, str] = {}
    for key, kind in wanted.items():
        slot = current.get(key)
        if kind is not None and slot in SLOTS[kind]:
            slots[key] = slot
    cleared = [slot for key, slot in current.items() if key not in slots]
    used = set(slots.values())
    backfill: set[str] = set()
    earlier_keys: set[str] | None = None
    for key, kind in wanted.items():
        if key in slots or kind is None:
            continue
        slot = next(s for s in SLOTS[kind] if s not in used)  # capacity checked at design time
        slots[key] = slot
        used.add(slot)
        if earlier_keys is None:
            earlier_keys = set()
            for schema in form.versions.filter(published_at__isnull=False).values_list(
                "schema", flat=True
            ):
                earlier_keys |= {f.get("key") for f in schema.get("fields") or []}
        if key in earlier_keys:
            backfill.add(key)
    return slots, [s for s in cleared if s not in used], backfill


def reindex(form_id: int, keys: list[str], batch: int = 1000) -> int:
    """Copy the given key fields of every record into their columns (after a publish made them
    key fields). Idempotent; runs as a background task."""
    form = FormDefinition.objects.get(pk=form_id)
    slots = {k: s for k, s in (form.index_slots or {}).items() if k in keys}
    if not slots:
        return 0
    done = 0
    last = 0
    while True:
        chunk = list(
            Record.objects.filter(form=form, pk__gt=last)
            .select_related("version", "version__form")
            .order_by("pk")[:batch]
        )
        if not chunk:
            return done
        for record in chunk:
            compiled = compiled_version(record.version)
            values = storage.slot_values(compiled, storage.unseal(compiled, record.data), slots)
            for slot in slots.values():
                setattr(record, slot, values[slot])
        Record.objects.bulk_update(chunk, list(slots.values()))
        done += len(chunk)
        last = chunk[-1].pk


# --- field permissions -------------------------------------------------------------------------

_RANK = {mode: i for i, mode in enumerate(MODES)}


def role_codes(actor: Any) -> set[str]:
    cached = getattr(actor, "_ld_role_codes", None)
    if cached is None:
        cached = {role.code for role in actor.roles.all()}
        actor._ld_role_codes = cached
    return set(cached)


def field_modes(form: CompiledForm, actor: Any, *, public: bool = False) -> dict[str, str]:
    """hidden / readonly / editable per top-level field for this actor (most generous role).
    Public submitters have no role: internal fields are hidden, the rest follow the "*" entry."""
    modes: dict[str, str] = {}
    if public:
        for f in form.value_fields():
            modes[f.key] = HIDDEN if f.internal else f.permissions.get("*", EDITABLE)
        return modes
    if getattr(actor, "is_superuser", False):
        return {}
    roles = role_codes(actor)
    for f in form.value_fields():
        if not f.permissions:
            continue
        default = f.permissions.get("*", EDITABLE)
        granted = [f.permissions.get(role, default) for role in roles] or [default]
        modes[f.key] = max(granted, key=_RANK.__getitem__)
    return modes


# --- the resolver: references checked against the database and the actor's scope -------------


class DbResolver:
    def __init__(
        self, *, actor: Any, link: PublicLink | None = None, record: Record | None = None
    ) -> None:
        self.actor = actor
        self.link = link
        self.record = record

    def check(self, f: FieldDef, value: Any, old: Any) -> FieldError | None:
        name = f.type.name
        if name == "user":
            if not User.objects.filter(pk=value, is_active=True).exists():
                return FieldError("forms.field.user")
        elif name == "department":
            if not Department.objects.filter(pk=value).exists():
                return FieldError("forms.field.department")
        elif name == "relation":
            if self.related(f, value) is None:
                return FieldError("forms.field.not_found")
        elif name in ("image", "attachment"):
            new = [v for v in value if v not in (old or [])]
            return self.uploads(new, images=name == "image") if new else None
        elif name == "signature" and isinstance(value, str):
            return self.uploads([value], kind="signature")
        return None

    def uploads(self, ids: list[str], *, images: bool = False, kind: str = "") -> FieldError | None:
        rows = Upload.objects.filter(pk__in=ids)
        if self.record is not None:
            rows = rows.filter(record__isnull=True) | rows.filter(record=self.record)
        else:
            rows = rows.filter(record__isnull=True)
        if self.link is not None:
            rows = rows.filter(link=self.link)
        else:
            rows = rows.filter(uploaded_by=self.actor)
        found = {str(u.pk): u for u in rows}
        if len(found) != len(set(ids)):
            return FieldError("forms.field.upload_missing")
        if images and any(u.kind != Upload.Kind.IMAGE for u in found.values()):
            return FieldError("forms.field.upload_not_image")
        if kind and any(u.kind != kind for u in found.values()):
            return FieldError("forms.field.upload_missing")
        return None

    def related(self, f: FieldDef, ref: Any) -> Any:
        """The related customer or record if the actor may see it, else None."""
        if f.settings.get("target", "customer") == "customer":
            from loandesk.customers.selectors import get_customer

            try:
                return get_customer(actor=self.actor, customer_id=int(ref))
            except NotFound:
                return None
        qs = Record.objects.filter(form__code=f.settings.get("form")).select_related("version")
        return scoped(qs, self.actor, RECORD_SCOPE).filter(pk=ref).first()

    def lookup(self, f: FieldDef, relation: FieldDef, ref: Any) -> Any:
        target = self.related(relation, ref)
        if target is None:
            return None
        looked = f.settings.get("field", "label")
        if isinstance(target, Record):
            if looked == "label":
                return target.serial_no or f"#{target.pk}"
            compiled = compiled_version(target.version)
            related_field = compiled.by_key.get(looked)
            if related_field is None:
                return None
            plain = storage.masked(compiled, storage.unseal(compiled, target.data))
            from loandesk.forms.fieldtypes import DisplayContext

            text = related_field.type.display(plain.get(looked), related_field, DisplayContext())
            return text or None
        if looked == "label":
            from loandesk.customers.selectors import customer_label

            return customer_label(target)
        return str(getattr(target, looked, "") or "") or None


# --- records ---------------------------------------------------------------------------------


def today() -> date:
    return timezone.localdate()


def _unique_errors(
    form: FormDefinition, compiled: CompiledForm, data: Mapping[str, Any], exclude: int | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    slots = form.index_slots or {}
    for f in compiled.unique:
        value = data.get(f.key)
        slot = slots.get(f.key)
        if value is None or slot is None:
            continue
        qs = Record.objects.filter(form=form, **{slot: f.type.index(value, f)})
        if exclude is not None:
            qs = qs.exclude(pk=exclude)
        if qs.exists():
            errors[f.key] = message("forms.field.unique")
    return errors


def _next_serial(form: FormDefinition, f: FieldDef, day: date) -> str:
    pattern: SerialPattern = f.extra["pattern"]
    period = pattern.period(day)
    SerialCounter.objects.get_or_create(form=form, period=period)
    counter = SerialCounter.objects.select_for_update().get(form=form, period=period)
    counter.value += 1
    counter.save(update_fields=["value"])
    return pattern.render(day, counter.value)


def _store_files(
    compiled: CompiledForm, data: dict[str, Any], *, actor: Any, link: PublicLink | None
) -> None:
    """Signatures arrive inside the submission: store them as uploads and keep their ids."""
    for parent, f in compiled.walk():
        if parent is None and isinstance(data.get(f.key), PendingFile):
            pending: PendingFile = data[f.key]
            upload = uploads.store(
                content=pending.content,
                name=pending.name,
                uploaded_by=actor,
                link=link,
                kind=Upload.Kind.SIGNATURE,
            )
            data[f.key] = str(upload.pk)


def _upload_ids(compiled: CompiledForm, data: Mapping[str, Any]) -> set[str]:
    ids: set[str] = set()
    for parent, f in compiled.walk():
        if f.type.name not in ("image", "attachment", "signature"):
            continue
        if parent is None:
            ids.update(str(v) for v in f.type.ref_ids(data.get(f.key)))
        else:
            for row in data.get(parent.key) or []:
                ids.update(str(v) for v in f.type.ref_ids(row.get(f.key)))
    return ids


def customer_relation(compiled: CompiledForm) -> FieldDef | None:
    key = compiled.customer_fields.get("relation")
    if key:
        return compiled.by_key[key]
    for f in compiled.value_fields():
        if f.type.name == "relation" and f.settings.get("target", "customer") == "customer":
            return f
    return None


def _link_customer(
    compiled: CompiledForm,
    data: dict[str, Any],
    *,
    actor: Any,
    owner: User,
    channel: str,
    resolver: DbResolver,
) -> Any:
    """Fill the customer relation from the applicant's name / ID / phone fields when it is
    empty: the existing customer with that ID or phone, or a new one owned by `owner`."""
    mapping = compiled.customer_fields
    relation = mapping.get("relation")
    if not relation or data.get(relation) is not None or not data.get(mapping.get("name", "")):
        return None
    if channel != CreatedVia.PUBLIC_LINK and not has_perm(actor, "customers.create"):
        raise ValidationFailed({relation: message("field.required")})
    from loandesk.customers.services import find_or_create_customer

    try:
        customer, _created = find_or_create_customer(
            actor=actor,
            owner=owner,
            name=str(data[mapping["name"]]),
            id_number=data.get(mapping.get("id_number", "")),
            phone=data.get(mapping.get("phone", "")),
            source_channel=channel,
        )
    except ValidationFailed as exc:
        theirs = exc.details.get("fields") or {}
        mine = {mapping.get(k, relation): v for k, v in theirs.items()}
        raise ValidationFailed(mine or {relation: exc.message}) from exc
    data[relation] = customer.pk
    for f in compiled.value_fields():
        if f.type.name == "lookup" and f.settings.get("relation") == relation:
            value = resolver.lookup(f, compiled.by_key[relation], customer.pk)
            if value is None:
                data.pop(f.key, None)
            else:
                data[f.key] = value
    return customer


def _event_payload(record: Record, compiled: CompiledForm) -> dict[str, Any]:
    relation = customer_relation(compiled)
    return {
        "form": record.form.code,
        "record_id": record.pk,
        "version": record.version.number,
        "serial_no": record.serial_no,
        "owner_id": record.owner_id,
        "customer_id": record.data.get(relation.key) if relation else None,
        "created_via": record.created_via,
    }


def _audit_view(compiled: CompiledForm, data: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of record data: PII masked, never plaintext."""
    return storage.masked(compiled, data)


def data_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{key: [old, new]} for changed values. Record values are JSON (rows are lists of objects,
    whose order matters), so they compare as they are — unlike audit.diff, which sorts lists."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


# --- hooks for other apps (forms never imports them) ----------------------------------------

RecordHook = Callable[[Record], None]
_record_created_hooks: list[RecordHook] = []


def register_record_created_hook(hook: RecordHook) -> None:
    """`hook(record)` runs at the end of every record creation (app and public link), inside the
    creating transaction: its writes commit with the record, and its errors roll it back."""
    if hook not in _record_created_hooks:
        _record_created_hooks.append(hook)


def unregister_record_created_hook(hook: RecordHook) -> None:
    if hook in _record_created_hooks:
        _record_created_hooks.remove(hook)


def _create(
    *,
    form: FormDefinition,
    version: FormVersion,
    compiled: CompiledForm,
    raw: Mapping[str, Any],
    actor: Any,
    owner: User,
    modes: Mapping[str, str],
    resolver: DbResolver,
    link: PublicLink | None = None,
    sms: tuple[SmsCode, str] | None = None,
    request: HttpRequest | None = None,
) -> Record:
    """The one way a record is created (app and public links): validate, then store atomically."""
    outcome = engine.process(compiled, raw, today=today(), modes=modes, resolver=resolver)
    if outcome.errors:
        raise ValidationFailed(field_errors(outcome.errors))
    data = dict(outcome.data)
    # Files first: should the transaction fail, an unattached upload is swept up within a day.
    _store_files(compiled, data, actor=actor, link=link)
    with transaction.atomic():
        if link is not None:
            link = PublicLink.objects.select_for_update().get(pk=link.pk)
            check_link_open(link)
        if compiled.unique:
            FormDefinition.objects.select_for_update().filter(pk=form.pk).first()
            errors = _unique_errors(form, compiled, data, exclude=None)
            if errors:
                raise ValidationFailed(errors)
        if sms is not None:
            _consume_sms(*sms)
        channel = CreatedVia.PUBLIC_LINK if link is not None else f"form:{form.code}"
        _link_customer(compiled, data, actor=actor, owner=owner, channel=channel, resolver=resolver)
        if compiled.serial is not None:
            data[compiled.serial.key] = _next_serial(form, compiled.serial, today())
        relation = customer_relation(compiled)
        record = Record(
            form=form,
            version=version,
            data=storage.seal(compiled, data),
            customer_id=data.get(relation.key) if relation else None,
            owner=owner,
            department=owner.department,
            serial_no=data.get(compiled.serial.key, "") if compiled.serial else "",
            created_via=CreatedVia.PUBLIC_LINK if link is not None else CreatedVia.APP,
            link=link,
            status_token=secrets.token_urlsafe(24) if link is not None else None,
            created_by=actor if link is None else None,
            updated_by=actor if link is None else None,
            **storage.slot_values(compiled, data, form.index_slots or {}),
        )
        record.save()
        ids = _upload_ids(compiled, data)
        if ids:
            Upload.objects.filter(pk__in=ids, record__isnull=True).update(record=record)
        if link is not None:
            link.submissions += 1
            link.save(update_fields=["submissions"])
        audit.record(
            action="record.create",
            actor=actor if link is None else None,
            actor_username="" if link is None else f"public:{link.token[:6]}",
            target=record,
            target_label=f"{form.name} {record.serial_no or record.pk}",
            changes=data_diff({}, _audit_view(compiled, data)),
            request=request,
        )
        payload = _event_payload(record, compiled)
        outbox.publish(
            "record.created", payload=payload, aggregate_type="forms.record", aggregate_id=record.pk
        )
        if link is not None:
            outbox.publish(
                "public_link.submitted",
                payload={**payload, "link_id": link.pk, "shared_by": link.created_by_id},
                aggregate_type="forms.public_link",
                aggregate_id=link.pk,
            )
        for hook in list(_record_created_hooks):
            hook(record)
    return record


def create_record(
    *, actor: User, form_code: str, data: Mapping[str, Any], request: HttpRequest | None = None
) -> Record:
    require_perm(actor, SUBMIT)
    form, version, compiled = published(form_code)
    return _create(
        form=form,
        version=version,
        compiled=compiled,
        raw=data,
        actor=actor,
        owner=actor,
        modes=field_modes(compiled, actor),
        resolver=DbResolver(actor=actor),
        request=request,
    )


def get_record(*, actor: User, form: FormDefinition, record_id: int, lock: bool = False) -> Record:
    qs = Record.objects.filter(form=form).select_related("version__form", "owner")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return get_scoped(qs, actor, RECORD_SCOPE, record_id)


@transaction.atomic
def update_record(
    *,
    actor: User,
    form_code: str,
    record_id: int,
    data: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Record:
    """Edit a record against the version it was created with; the field diff is audited."""
    require_perm(actor, SUBMIT)
    form = get_form(form_code)
    record = get_record(actor=actor, form=form, record_id=record_id, lock=True)
    compiled = compiled_version(record.version)
    old = storage.unseal(compiled, record.data)
    outcome = engine.process(
        compiled,
        data,
        today=today(),
        old=old,
        modes=field_modes(compiled, actor),
        partial=True,
        resolver=DbResolver(actor=actor, record=record),
    )
    if outcome.errors:
        raise ValidationFailed(field_errors(outcome.errors))
    new = dict(outcome.data)
    errors = _unique_errors(form, compiled, new, exclude=record.pk) if compiled.unique else {}
    if errors:
        raise ValidationFailed(errors)
    _store_files(compiled, new, actor=actor, link=None)
    changes = data_diff(_audit_view(compiled, old), _audit_view(compiled, new))
    if not data_diff(old, new):
        return record
    record.data = storage.seal(compiled, new)
    record.updated_by = actor
    relation = customer_relation(compiled)
    record.customer_id = new.get(relation.key) if relation else None
    for slot, value in storage.slot_values(compiled, new, form.index_slots or {}).items():
        setattr(record, slot, value)
    record.save()
    added = _upload_ids(compiled, new) - _upload_ids(compiled, old)
    if added:
        Upload.objects.filter(pk__in=added, record__isnull=True).update(record=record)
    audit.record(
        action="record.update",
        actor=actor,
        target=record,
        target_label=f"{form.name} {record.serial_no or record.pk}",
        changes=changes,
        request=request,
    )
    outbox.publish(
        "record.updated",
        payload={**_event_payload(record, compiled), "changed": sorted(data_diff(old, new))},
        aggregate_type="forms.record",
        aggregate_id=record.pk,
    )
    return record


def reveal(
    *,
    actor: User,
    form_code: str,
    record_id: int,
    path: str,
    request: HttpRequest | None = None,
) -> str:
    """The plaintext of one PII value ("key" or "sub[2].child"); always audited."""
    require_perm(actor, VIEW_RECORDS)
    require_perm(actor, VIEW_PII)
    form = get_form(form_code)
    record = get_record(actor=actor, form=form, record_id=record_id)
    compiled = compiled_version(record.version)
    modes = field_modes(compiled, actor)
    if modes.get(path.split("[", 1)[0]) == HIDDEN:
        raise NotFound()
    try:
        _f, value = storage.pii_value(compiled, storage.unseal(compiled, record.data), path)
    except (KeyError, ValueError, StopIteration):
        raise NotFound() from None
    if value is None:
        raise NotFound()
    audit.record(
        action="pii.reveal",
        actor=actor,
        target=record,
        extra={"field": path, "form": form.code},
        request=request,
    )
    return str(value)


def evaluate(
    *, actor: Any, form_code: str, data: Mapping[str, Any], public_link: PublicLink | None = None
) -> dict[str, Any]:
    """Live evaluation while the user types: computed values, visibility and per-field errors.
    Reads nothing but the (cached) compiled schema and, for looked-up values, the related row."""
    if public_link is not None:
        _form, version, compiled = published(public_link.form.code)
        modes = field_modes(compiled, None, public=True)
        resolver = DbResolver(actor=public_link.created_by, link=public_link)
    else:
        if not (has_perm(actor, SUBMIT) or has_perm(actor, VIEW_RECORDS)):
            require_perm(actor, SUBMIT)
        _form, version, compiled = published(form_code)
        modes = field_modes(compiled, actor)
        resolver = DbResolver(actor=actor)
    outcome = engine.process(
        compiled,
        data,
        today=today(),
        modes=modes,
        resolver=resolver,
        check_references=False,
    )
    values: dict[str, Any] = {}
    for parent, f in compiled.walk():
        if not f.type.derived:
            continue
        if parent is None:
            if f.key in outcome.data and modes.get(f.key) != HIDDEN:
                values[f.key] = outcome.data[f.key]
        else:
            for i, row in enumerate(outcome.data.get(parent.key) or []):
                if f.key in row:
                    values[f"{parent.key}[{i}].{f.key}"] = row[f.key]
    visible = {k: v for k, v in outcome.visible.items() if modes.get(k.split("[")[0]) != HIDDEN}
    errors = {
        path: text
        for path, text in field_errors(outcome.errors).items()
        if outcome.errors[path][0] not in ("field.required", "forms.field.must_accept")
    }
    return {"version": version.number, "values": values, "visible": visible, "errors": errors}


def validate_form_data(
    *, form_code: str, data: dict[str, Any], actor: Any, partial: bool = False
) -> dict[str, Any]:
    """For other apps (the customer profile's custom fields): the normalised data for the current
    published version of the form, or ValidationFailed with {field_key: message}. NotFound when
    the form does not exist or is not published. Role field permissions apply; files sent as
    data (signatures) are stored as uploads of the actor."""
    form = FormDefinition.objects.select_related("current_version").filter(code=form_code).first()
    if form is None or form.current_version is None or not form.is_active:
        raise NotFound()
    version = form.current_version
    version.form = form
    compiled = compiled_version(version)
    if not isinstance(data, dict):
        raise ValidationFailed({"data": message("forms.field.object")})
    outcome = engine.process(
        compiled,
        data,
        today=today(),
        modes=field_modes(compiled, actor) if actor is not None else {},
        partial=partial,
        resolver=DbResolver(actor=actor),
        check_references=actor is not None,  # references are checked in the actor's scope
    )
    if outcome.errors:
        raise ValidationFailed(field_errors(outcome.errors))
    cleaned = dict(outcome.data)
    if any(isinstance(v, PendingFile) for v in cleaned.values()):
        with transaction.atomic():
            _store_files(compiled, cleaned, actor=actor, link=None)
    return cleaned


# --- public links ----------------------------------------------------------------------------


def link_url(token: str) -> str:
    return f"/f/{token}"


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(url, box_size=8, border=2).save(buffer)
    return buffer.getvalue()


def qr_data_url(url: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url)).decode()


def phone_field(compiled: CompiledForm) -> FieldDef | None:
    key = compiled.customer_fields.get("phone")
    if key:
        return compiled.by_key[key]
    return next((f for f in compiled.value_fields() if f.type.name == "phone"), None)


@transaction.atomic
def create_link(
    *,
    actor: User,
    form_code: str,
    expires_at: datetime | None = None,
    max_submissions: int | None = None,
    sms_verification: bool = False,
) -> PublicLink:
    require_perm(actor, MANAGE_LINKS)
    form, _version, compiled = published(form_code)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed.field("expires_at", "forms.link_expiry_past")
    if sms_verification and phone_field(compiled) is None:
        raise ValidationFailed.field("sms_verification", "forms.phone_field_missing")
    link = PublicLink.objects.create(
        token=secrets.token_urlsafe(24),
        form=form,
        created_by=actor,
        expires_at=expires_at,
        max_submissions=max_submissions,
        sms_verification=sms_verification,
    )
    audit.record(
        action="forms.link_created",
        actor=actor,
        target=link,
        target_label=form.name,
        extra={"form": form.code, "expires_at": expires_at and expires_at.isoformat()},
    )
    return link


def get_link(*, actor: User, link_id: int) -> PublicLink:
    require_perm(actor, MANAGE_LINKS)
    qs = PublicLink.objects.select_related("form", "created_by")
    return get_scoped(qs, actor, LINK_SCOPE, link_id)


@transaction.atomic
def deactivate_link(*, actor: User, link_id: int) -> PublicLink:
    link = get_link(actor=actor, link_id=link_id)
    if link.active:
        link.active = False
        link.deactivated_at = timezone.now()
        link.save(update_fields=["active", "deactivated_at"])
        audit.record(
            action="forms.link_deactivated",
            actor=actor,
            target=link,
            target_label=link.form.name,
        )
    return link


def link_status(link: PublicLink) -> str:
    if not link.active or not link.created_by.is_active or not link.form.is_active:
        return "inactive"
    if link.expires_at is not None and link.expires_at <= timezone.now():
        return "expired"
    if link.max_submissions is not None and link.submissions >= link.max_submissions:
        return "full"
    return "active"


class LinkGone(LoanDeskError):
    status = 410
    code = "forms.link_inactive"


def check_link_open(link: PublicLink) -> None:
    status = link_status(link)
    if status != "active":
        raise LinkGone(f"forms.link_{status}")


def open_link(token: str) -> PublicLink:
    """The link behind a public token, or 404 (unknown) / 410 (switched off, expired, full)."""
    if not token or len(token) > 64:
        raise NotFound()
    link = (
        PublicLink.objects.select_related("form", "form__current_version", "created_by")
        .filter(token=token)
        .first()
    )
    if link is None:
        raise NotFound()
    check_link_open(link)
    if link.form.current_version is None:
        raise LinkGone("forms.link_inactive")
    return link


def _sms_hash(link: PublicLink, mobile: str, code: str) -> str:
    return blind_index(f"{link.pk}:{mobile}:{code}", purpose="forms.sms")


def send_sms_code(*, token: str, phone: str, ip: str) -> dict[str, Any]:
    """Text a 6-digit code to the applicant (through the outbox: notify.sms)."""
    link = open_link(token)
    if not link.sms_verification:
        raise BadRequest("forms.sms_not_required")
    mobile = normalize_mobile(phone or "")
    if mobile is None:
        raise ValidationFailed.field("phone", "forms.field.phone")
    ratelimit.hit("sms_ip", ip, limit=SMS_PER_IP_PER_HOUR, window_seconds=3600)
    ratelimit.hit("sms_phone", mobile, limit=SMS_PER_PHONE_PER_HOUR, window_seconds=3600)
    bidx = phone_index(mobile)
    now = timezone.now()
    latest = SmsCode.objects.filter(link=link, phone_bidx=bidx).order_by("-created_at").first()
    if latest is not None and latest.created_at > now - SMS_RESEND:
        retry = int((latest.created_at + SMS_RESEND - now).total_seconds()) + 1
        raise RateLimited(details={"retry_after": retry})
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = int(SMS_TTL.total_seconds() // 60)
    with transaction.atomic():
        SmsCode.objects.create(
            link=link,
            phone_bidx=bidx,
            code_hash=_sms_hash(link, mobile, code),
            expires_at=now + SMS_TTL,
        )
        outbox.publish(
            "notify.sms",
            payload={
                "kind": "sms.verification",
                "phone_masked": mask_phone(mobile),
                "phone_encrypted": encrypt(mobile),
                "text": message("forms.sms_sent", {"code": code, "minutes": minutes}, lang=ZH),
            },
            aggregate_type="forms.public_link",
            aggregate_id=link.pk,
        )
    return {
        "sent": True,
        "phone": mask_phone(mobile),
        "expires_in": int(SMS_TTL.total_seconds()),
        "resend_after": int(SMS_RESEND.total_seconds()),
    }


def _check_sms(link: PublicLink, mobile: str, code: str | None) -> SmsCode:
    """The matching unused code; a wrong guess counts (committed even though the request fails)."""
    if not code:
        raise ValidationFailed.field("sms_code", "forms.field.sms_code_required")
    bidx = phone_index(mobile)
    latest = (
        SmsCode.objects.filter(link=link, phone_bidx=bidx, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if latest is None or latest.expires_at <= timezone.now():
        raise ValidationFailed.field("sms_code", "forms.field.sms_code")
    if latest.attempts >= SMS_MAX_ATTEMPTS:
        raise ValidationFailed.field("sms_code", "forms.field.sms_code_locked")
    if not secrets.compare_digest(latest.code_hash, _sms_hash(link, mobile, code.strip())):
        SmsCode.objects.filter(pk=latest.pk).update(attempts=latest.attempts + 1)
        raise ValidationFailed.field("sms_code", "forms.field.sms_code")
    return latest


def _consume_sms(code: SmsCode, mobile: str) -> None:
    if not SmsCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise ValidationFailed.field("sms_code", "forms.field.sms_code")


# --- the borrower's status page: token + phone verification --------------------------------


def status_record(token: str) -> Record:
    """The record behind a status token, or 404 (the same for every unknown token)."""
    if not token or len(token) > 64:
        raise NotFound()
    record = (
        Record.objects.select_related("form", "version", "link")
        .filter(status_token=token)
        .exclude(status_token__isnull=True)
        .first()
    )
    if record is None:
        raise NotFound()
    return record


def status_phone(record: Record) -> str | None:
    """The mobile number stored on the record (its form's phone field), or None."""
    field = phone_field(compiled_version(record.version))
    raw = record.data.get(field.key) if field is not None else None
    if not isinstance(raw, str) or not raw:
        return None
    try:
        plain = field.type.from_storage(raw) if field is not None else None
    except Exception:  # an unreadable value is no value to verify against
        return None
    return normalize_mobile(str(plain)) if plain else None


def status_verification(record: Record) -> dict[str, Any]:
    """What an unverified visitor may learn: how to verify, and the masked phone to expect."""
    mobile = status_phone(record) if record.link_id is not None else None
    if mobile is None:
        return {"verification": "unavailable", "phone_hint": None}
    return {"verification": "sms", "phone_hint": mask_phone(mobile)}


def _status_bidx(record: Record, mobile: str) -> str:
    # Not phone_index(mobile): the public form's submit never finds (or spends) these codes.
    return blind_index(f"{record.pk}:{mobile}", purpose="forms.status_sms")


def _status_hash(record: Record, mobile: str, code: str) -> str:
    return blind_index(f"{record.pk}:{mobile}:{code}", purpose="forms.status_sms_code")


def _status_locked(token: str) -> None:
    failures, retry = ratelimit.peek("status_fail", token, window_seconds=STATUS_FAIL_WINDOW)
    if failures >= STATUS_MAX_FAILURES:
        raise RateLimited(
            "forms.status.locked",
            params={"minutes": max(1, -(-retry // 60))},
            details={"retry_after": retry},
        )


def _status_mobile(record: Record) -> tuple[PublicLink, str]:
    """The link the codes hang on and the phone on the record; 409 when there is no phone."""
    link = record.link
    mobile = status_phone(record) if link is not None else None
    if link is None or mobile is None:
        raise Conflict("forms.status.no_phone")
    return link, mobile


def send_status_code(*, token: str, ip: str) -> dict[str, Any]:
    """Text a 6-digit code to the phone on the record (never a number the visitor chooses)."""
    ratelimit.hit("status_sms_ip", ip, limit=STATUS_SMS_PER_IP_PER_HOUR, window_seconds=3600)
    record = status_record(token)
    _status_locked(token)
    link, mobile = _status_mobile(record)
    ratelimit.hit(
        "status_sms_token", token, limit=STATUS_SMS_PER_TOKEN_PER_HOUR, window_seconds=3600
    )
    bidx = _status_bidx(record, mobile)
    now = timezone.now()
    last = SmsCode.objects.filter(link=link, phone_bidx=bidx).order_by("-created_at").first()
    if last is not None and last.created_at > now - SMS_RESEND:
        retry = int((last.created_at + SMS_RESEND - now).total_seconds()) + 1
        raise RateLimited(details={"retry_after": retry})
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = int(SMS_TTL.total_seconds() // 60)
    with transaction.atomic():
        SmsCode.objects.create(
            link=link,
            phone_bidx=bidx,
            code_hash=_status_hash(record, mobile, code),
            expires_at=now + SMS_TTL,
        )
        outbox.publish(
            "notify.sms",
            payload={
                "kind": "sms.verification",
                "phone_masked": mask_phone(mobile),
                "phone_encrypted": encrypt(mobile),
                "text": message(
                    "forms.status.sms_sent", {"code": code, "minutes": minutes}, lang=ZH
                ),
            },
            aggregate_type="forms.record",
            aggregate_id=record.pk,
        )
    return {
        "sent": True,
        "phone": mask_phone(mobile),
        "expires_in": int(SMS_TTL.total_seconds()),
        "resend_after": int(SMS_RESEND.total_seconds()),
    }


def _status_failed(token: str) -> LoanDeskError:
    """Count a wrong guess (committed although the request fails); locked at the limit."""
    failures = ratelimit.hit("status_fail", token, limit=10**9, window_seconds=STATUS_FAIL_WINDOW)
    left = STATUS_MAX_FAILURES - failures
    if left <= 0:
        try:
            _status_locked(token)
        except RateLimited as exc:
            return exc
    return ValidationFailed.field("code", "forms.status.code_wrong", left=max(left, 0))


def verify_status(*, token: str, code: str, ip: str) -> Record:
    """Check the code sent to the record's phone; the record, when it matches (code spent)."""
    ratelimit.hit("status_verify_ip", ip, limit=STATUS_VERIFY_PER_IP_PER_HOUR, window_seconds=3600)
    record = status_record(token)
    code = (code or "").strip()
    if not code:
        raise ValidationFailed.field("code", "forms.field.sms_code_required")
    _status_locked(token)
    link, mobile = _status_mobile(record)
    latest = (
        SmsCode.objects.filter(
            link=link, phone_bidx=_status_bidx(record, mobile), used_at__isnull=True
        )
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if (
        latest is None
        or latest.expires_at <= now
        or latest.attempts >= SMS_MAX_ATTEMPTS
        or not secrets.compare_digest(latest.code_hash, _status_hash(record, mobile, code))
    ):
        if latest is not None:
            SmsCode.objects.filter(pk=latest.pk).update(attempts=latest.attempts + 1)
        raise _status_failed(token)
    if not SmsCode.objects.filter(pk=latest.pk, used_at__isnull=True).update(used_at=now):
        raise _status_failed(token)
    return record


_GRANT_SALT = "loandesk.forms.status_grant"


def _grant_binding(record: Record) -> str:
    return blind_index(f"{record.pk}:{record.status_token}", purpose="forms.status_grant")


def status_grant(record: Record, *, issued_at: datetime | None = None) -> str:
    """A signed grant to this one record's status page, valid STATUS_GRANT_TTL from issue."""
    issued = issued_at or timezone.now()
    expires = int((issued + STATUS_GRANT_TTL).timestamp())
    return signing.dumps(
        {"r": record.pk, "b": _grant_binding(record), "e": expires}, salt=_GRANT_SALT
    )


def check_status_grant(record: Record, grant: str | None) -> bool:
    if not grant or len(grant) > 512:
        return False
    try:
        claims = signing.loads(grant, salt=_GRANT_SALT)
    except signing.BadSignature:
        return False
    if not isinstance(claims, dict) or claims.get("r") != record.pk:
        return False
    if not secrets.compare_digest(str(claims.get("b", "")), _grant_binding(record)):
        return False
    expires = claims.get("e")
    return isinstance(expires, int) and expires > timezone.now().timestamp()


def public_upload(*, token: str, content: bytes, name: str, ip: str) -> Upload:
    link = open_link(token)
    ratelimit.hit("public_upload", ip, limit=PUBLIC_UPLOADS_PER_HOUR, window_seconds=3600)
    return uploads.store(content=content, name=name, link=link)


def submit_public(
    *,
    token: str,
    data: Mapping[str, Any],
    sms_code: str | None,
    honeypot: str,
    ip: str,
    request: HttpRequest | None = None,
) -> Record:
    """An anonymous submission through a shared link: the record (and customer) belong to the
    officer who shared it. Every rejection stores nothing."""
    link = open_link(token)
    ratelimit.hit("public_submit", ip, limit=PUBLIC_SUBMITS_PER_HOUR, window_seconds=3600)
    if honeypot:
        audit.record(
            action="forms.public_rejected",
            actor_username=f"public:{link.token[:6]}",
            target=link,
            target_label=link.form.name,
            extra={"reason": "honeypot"},
            request=request,
        )
        raise BadRequest("forms.submission_rejected")
    form, version, compiled = published(link.form.code)
    owner = link.created_by
    modes = field_modes(compiled, None, public=True)
    resolver = DbResolver(actor=owner, link=link)
    sms = None
    if link.sms_verification:
        phone = phone_field(compiled)
        raw_phone = data.get(phone.key) if phone is not None else None
        mobile = normalize_mobile(str(raw_phone)) if isinstance(raw_phone, str | int) else None
        if phone is None or mobile is None:
            # let the pipeline name the phone field's problem first
            outcome = engine.process(compiled, data, today=today(), modes=modes, resolver=resolver)
            errors = field_errors(outcome.errors)
            if phone is not None and phone.key not in errors:
                errors[phone.key] = message("field.required")
            raise ValidationFailed(errors)
        sms = (_check_sms(link, mobile, sms_code), mobile)
    return _create(
        form=form,
        version=version,
        compiled=compiled,
        raw=data,
        actor=owner,
        owner=owner,
        modes=modes,
        resolver=resolver,
        link=link,
        sms=sms,
        request=request,
    )


def upload(*, actor: User, content: bytes, name: str) -> Upload:
    if not (has_perm(actor, SUBMIT) or has_perm(actor, DESIGN)):
        require_perm(actor, SUBMIT)
    return uploads.store(content=content, name=name, uploaded_by=actor)


def get_upload(*, actor: User, upload_id: Any) -> Upload:
    """The uploader sees their file; others when they may see the record that holds it."""
    try:
        upload_id = uuid.UUID(str(upload_id))
    except ValueError:
        raise NotFound() from None  # not an upload id at all: the same answer as an unknown one
    found = Upload.objects.select_related("record").filter(pk=upload_id).first()
    if found is None:
        raise NotFound()
    if found.uploaded_by_id == actor.pk:
        return found
    if found.record_id is not None and has_perm(actor, VIEW_RECORDS):
        visible = scoped(Record.objects.filter(pk=found.record_id), actor, RECORD_SCOPE)
        if visible.exists():
            return found
    raise NotFound()


# --- housekeeping ----------------------------------------------------------------------------


def cleanup(now: datetime | None = None) -> dict[str, int]:
    """Forget old rate counters and SMS codes; delete uploads no record took within a day."""
    now = now or timezone.now()
    counters = ratelimit.prune()
    codes, _ = SmsCode.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    orphans = 0
    stale = Upload.objects.filter(record__isnull=True, created_at__lt=now - timedelta(days=1))
    for orphan in stale[:1000]:
        uploads.delete(orphan)
        orphans += 1
    return {"rate_counters": counters, "sms_codes": codes, "uploads": orphans}
