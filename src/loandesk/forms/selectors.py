"""Form engine reads, each limited by the caller's permissions, data scope and field permissions."""

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from loandesk.accounts.models import Department, User
from loandesk.accounts.scoping import has_perm, require_perm, scoped
from loandesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from loandesk.core.i18n import current_language, message
from loandesk.core.models import AuditEntry
from loandesk.forms import storage
from loandesk.forms.fieldtypes import DisplayContext, FieldDef, FieldError
from loandesk.forms.models import FormDefinition, FormVersion, PublicLink, Record
from loandesk.forms.permissions import DESIGN, EXPORT, MANAGE_LINKS, SUBMIT, VIEW_RECORDS
from loandesk.forms.schema import BUILTIN_COLUMNS, HIDDEN, READONLY, CompiledForm
from loandesk.forms.services import (
    LINK_SCOPE,
    RECORD_SCOPE,
    STATUS_GRANT_TTL,
    compiled_version,
    draft_of,
    field_modes,
    get_form,
    link_status,
    link_url,
    published,
    status_record,
    status_verification,
    today,
)

EXPORT_MAX_ROWS = 50_000
FILTER_PREFIX = "f."
BUILTIN_SORTS = {"created_at", "updated_at", "serial_no"}
_OPERATOR_LOOKUPS = {
    "eq": "exact",
    "ne": "exact",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "contains": "icontains",
    "startswith": "startswith",
    "in": "in",
}


def _user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "full_name": user.full_name or user.username}


# --- forms -----------------------------------------------------------------------------------


def _can_use(actor: User) -> bool:
    return any(has_perm(actor, p) for p in (DESIGN, VIEW_RECORDS, SUBMIT, MANAGE_LINKS))


def forms_visible(*, actor: User) -> list[FormDefinition]:
    """Designers see every form; other users the published, active ones they may work with."""
    if not _can_use(actor):
        raise PermissionDenied(details={"permission": VIEW_RECORDS})
    qs = FormDefinition.objects.select_related("current_version").order_by("id")
    if not has_perm(actor, DESIGN):
        qs = qs.filter(is_active=True, current_version__isnull=False)
    forms = list(qs)
    drafts = set(
        FormVersion.objects.filter(published_at__isnull=True, form__in=forms).values_list(
            "form_id", flat=True
        )
    )
    for form in forms:
        form.has_draft = form.pk in drafts  # type: ignore[attr-defined]
    return forms


def form_row(form: FormDefinition, has_draft: bool | None = None) -> dict[str, Any]:
    version = form.current_version
    if has_draft is None:
        has_draft = getattr(form, "has_draft", None)
    if has_draft is None:
        has_draft = draft_of(form) is not None
    return {
        "id": form.pk,
        "code": form.code,
        "name": form.name,
        "description": form.description,
        "kind": form.kind,
        "is_active": form.is_active,
        "version": version.number if version else None,
        "published_at": version.published_at if version else None,
        "has_draft": has_draft,
        "updated_at": form.updated_at,
    }


def renderer_schema(
    compiled: CompiledForm, modes: Mapping[str, str], *, public: bool = False
) -> dict[str, Any]:
    """The schema as one user may fill it: fields hidden to them removed, read-only ones marked,
    role permissions (internal detail) left out."""
    schema = copy.deepcopy(compiled.raw)
    fields = []
    for raw in schema.get("fields", []):
        key = raw.get("key")
        mode = modes.get(key)
        if mode == HIDDEN or (public and raw.get("internal")):
            continue
        raw.pop("permissions", None)
        if mode == READONLY:
            raw["readonly"] = True
        fields.append(raw)
    schema["fields"] = fields
    if public:
        schema.pop("customer_fields", None)
        schema.pop("list_columns", None)
    else:
        schema["list_columns"] = [k for k in compiled.list_columns if modes.get(k) != HIDDEN]
    return schema


def form_detail(*, actor: User, code: str) -> dict[str, Any]:
    if not _can_use(actor):
        raise PermissionDenied(details={"permission": VIEW_RECORDS})
    form = get_form(code)
    row = form_row(form)
    if form.current_version is None:
        if not has_perm(actor, DESIGN):
            raise NotFound()
        return {**row, "schema": None, "modes": {}}
    if not form.is_active and not has_perm(actor, DESIGN):
        raise NotFound()
    version = form.current_version
    version.form = form
    compiled = compiled_version(version)
    modes = field_modes(compiled, actor)
    return {**row, "schema": renderer_schema(compiled, modes), "modes": modes}


def draft(*, actor: User, code: str) -> FormVersion:
    require_perm(actor, DESIGN)
    form = get_form(code)
    found = draft_of(form)
    if found is None:
        raise NotFound("forms.no_draft")
    return found


def versions(*, actor: User, code: str) -> list[dict[str, Any]]:
    require_perm(actor, DESIGN)
    form = get_form(code)
    rows = (
        FormVersion.objects.filter(form=form, published_at__isnull=False)
        .select_related("published_by")
        .order_by("-number")
    )
    return [version_row(v) for v in rows]


def version_row(version: FormVersion, *, with_schema: bool = False) -> dict[str, Any]:
    fields = version.schema.get("fields") or []
    row = {
        "number": version.number,
        "published_at": version.published_at,
        "published_by": _user_ref(version.published_by),
        "field_count": len(fields),
    }
    if with_schema:
        row["schema"] = version.schema
    return row


def version_detail(*, actor: User, code: str, number: int) -> dict[str, Any]:
    require_perm(actor, DESIGN)
    form = get_form(code)
    version = (
        FormVersion.objects.filter(form=form, number=number).select_related("published_by").first()
    )
    if version is None:
        raise NotFound()
    return version_row(version, with_schema=True)


# --- records ---------------------------------------------------------------------------------


def _labels(
    items: Iterable[tuple[Iterable[FieldDef], Mapping[str, Any]]],
    keys: Iterable[str] | None = None,
) -> dict[str, dict[Any, str]]:
    """Labels for every user/department/customer/record id referenced by these rows (each a
    list of field definitions and the data), loaded in one query per kind."""
    wanted: dict[str, set[Any]] = {}
    key_filter = set(keys) if keys is not None else None
    for fields, data in items:
        for f in fields:
            if key_filter is not None and f.key not in key_filter:
                continue
            kind = f.type.ref_kind(f)
            if kind is not None and data.get(f.key) is not None:
                wanted.setdefault(kind, set()).update(f.type.ref_ids(data.get(f.key)))
    labels: dict[str, dict[Any, str]] = {}
    for kind, ids in wanted.items():
        if kind == "user":
            labels[kind] = {
                pk: full or name
                for pk, full, name in User.objects.filter(pk__in=ids).values_list(
                    "pk", "full_name", "username"
                )
            }
        elif kind == "department":
            labels[kind] = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
        elif kind == "customer":
            labels[kind] = _customer_labels(ids)
        elif kind.startswith("record:"):
            labels[kind] = {
                pk: serial or f"#{pk}"
                for pk, serial in Record.objects.filter(
                    pk__in=ids, form__code=kind.split(":", 1)[1]
                ).values_list("pk", "serial_no")
            }
    return labels


def _customer_labels(ids: set[Any]) -> dict[Any, str]:
    from loandesk.customers.models import Customer
    from loandesk.customers.selectors import customer_label

    return {c.pk: customer_label(c) for c in Customer.objects.filter(pk__in=ids)}


def _display(
    compiled: CompiledForm, data: Mapping[str, Any], keys: Iterable[str], ctx: DisplayContext
) -> dict[str, str]:
    out = {}
    for key in keys:
        f = compiled.by_key.get(key)
        if f is not None and not f.type.layout:
            out[key] = f.type.display(data.get(key), f, ctx)
    return out


def record_out(
    record: Record, *, actor: User, compiled: CompiledForm | None = None
) -> dict[str, Any]:
    """One record as its reader may see it: PII masked, fields hidden to their role left out."""
    compiled = compiled or compiled_version(record.version)
    modes = field_modes(compiled, actor)
    plain = storage.unseal(compiled, record.data)
    data = storage.without_hidden(storage.masked(compiled, plain), modes)
    pairs: list[tuple[Iterable[FieldDef], Mapping[str, Any]]] = [(compiled.value_fields(), data)]
    for sub in compiled.value_fields():
        if sub.children:
            pairs += [(sub.children, row) for row in data.get(sub.key) or []]
    ctx = DisplayContext(lang=current_language(), labels=_labels(pairs))
    return {
        "id": record.pk,
        "form": record.version.form.code,
        "version": record.version.number,
        "serial_no": record.serial_no,
        "data": data,
        "display": _display(compiled, data, data.keys(), ctx),
        "modes": modes,
        "owner": _user_ref(record.owner),
        "department_id": record.department_id,
        "created_via": record.created_via,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def record_detail(*, actor: User, code: str, record_id: int) -> dict[str, Any]:
    require_perm(actor, VIEW_RECORDS)
    form = get_form(code)
    from loandesk.forms.services import get_record

    record = get_record(actor=actor, form=form, record_id=record_id)
    return record_out(record, actor=actor)


def _parse_filters(
    compiled: CompiledForm,
    form: FormDefinition,
    params: Mapping[str, str],
    modes: Mapping[str, str],
) -> Q:
    """`f.<key>` and `f.<key>__<op>` query parameters → one Q over indexed columns."""
    q = Q()
    slots = form.index_slots or {}
    day = today()
    for name, raw in params.items():
        if not name.startswith(FILTER_PREFIX):
            continue
        key, _, op = name[len(FILTER_PREFIX) :].partition("__")
        op = op or "eq"
        where = f"{name}"
        text = str(raw).strip()
        if key in ("created_at", "updated_at"):
            if op not in ("gte", "lte", "gt", "lt"):
                raise ValidationFailed(
                    {where: message("forms.filter_operator", {"key": key, "op": op})}
                )
            try:
                bound = date.fromisoformat(text)
            except ValueError:
                raise ValidationFailed(
                    {where: message("forms.filter_value", {"key": key})}
                ) from None
            q &= Q(**{f"{key}__date__{op}": bound})
            continue
        if key == "owner":
            ids = [p for p in text.split(",") if p.strip().isdigit()]
            if op not in ("eq", "in") or not ids:
                raise ValidationFailed({where: message("forms.filter_value", {"key": key})})
            q &= Q(owner_id__in=[int(i) for i in ids])
            continue
        f = compiled.by_key.get(key)
        is_serial = (f is not None and f.type.name == "serial") or key == "serial_no"
        if is_serial:
            if op not in ("eq", "startswith", "contains"):
                raise ValidationFailed(
                    {where: message("forms.filter_operator", {"key": key, "op": op})}
                )
            q &= Q(**{f"serial_no__{_OPERATOR_LOOKUPS[op]}": text[:64]})
            continue
        slot = slots.get(key)
        if f is None or slot is None or modes.get(key) == HIDDEN:
            raise ValidationFailed({where: message("forms.filter_unknown", {"key": key})})
        if op not in f.type.ops_of(f):
            raise ValidationFailed(
                {where: message("forms.filter_operator", {"key": key, "op": op})}
            )
        if op == "empty":
            empty = text.lower() in ("1", "true", "yes", "")
            q &= Q(**{f"{slot}__isnull": empty})
            continue
        try:
            if op == "in":
                values = [f.type.filter_value(p, f, day) for p in text.split(",") if p.strip()][
                    :100
                ]
                q &= Q(**{f"{slot}__in": values})
                continue
            value = f.type.filter_value(text, f, day)
        except FieldError:
            raise ValidationFailed({where: message("forms.filter_value", {"key": key})}) from None
        if value is None:
            raise ValidationFailed({where: message("forms.filter_value", {"key": key})})
        condition = Q(**{f"{slot}__{_OPERATOR_LOOKUPS[op]}": value})
        q &= ~condition if op == "ne" else condition
    return q


def _order(
    compiled: CompiledForm, form: FormDefinition, sort: str, modes: Mapping[str, str]
) -> list[str]:
    sort = (sort or "-created_at").strip()
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key in BUILTIN_SORTS:
        column = key
    else:
        column = (form.index_slots or {}).get(key, "")
        if not column or key not in compiled.by_key or modes.get(key) == HIDDEN:
            raise ValidationFailed({"sort": message("forms.sort_unknown", {"key": key})})
    if descending:
        return [f"-{column}", "-id"] if column != "created_at" else ["-created_at", "-id"]
    return [column, "id"]


def records_query(
    *, actor: User, code: str, params: Mapping[str, str], sort: str = ""
) -> tuple[FormDefinition, CompiledForm, dict[str, str], QuerySet[Record]]:
    form, _version, compiled = published(code, for_reading=True)
    modes = field_modes(compiled, actor)
    qs = scoped(Record.objects.filter(form=form), actor, RECORD_SCOPE)
    qs = qs.filter(_parse_filters(compiled, form, params, modes))
    qs = qs.order_by(*_order(compiled, form, sort, modes))
    return form, compiled, modes, qs


def columns(
    compiled: CompiledForm, form: FormDefinition, modes: Mapping[str, str], keys: list[str]
) -> list[dict[str, Any]]:
    lang = current_language()
    out = []
    slots = form.index_slots or {}
    for key in keys:
        if key in BUILTIN_COLUMNS:
            out.append(
                {
                    "key": key,
                    "label": message(f"forms.column.{key}"),
                    "type": "builtin",
                    "sortable": key != "owner",
                    "filter_ops": ["eq", "startswith"]
                    if key == "serial_no"
                    else (["gte", "lte"] if key != "owner" else ["eq", "in"]),
                }
            )
            continue
        f = compiled.by_key[key]
        if modes.get(key) == HIDDEN:
            continue
        indexed = key in slots or f.type.name == "serial"
        out.append(
            {
                "key": key,
                "label": f.title(lang),
                "type": f.type.name,
                "sortable": key in slots,
                "filter_ops": list(f.type.ops_of(f)) if indexed else [],
            }
        )
    return out


def records_page(
    *,
    actor: User,
    code: str,
    params: Mapping[str, str],
    sort: str,
    page: int,
    page_size: int,
) -> dict[str, Any]:
    require_perm(actor, VIEW_RECORDS)
    form, compiled, modes, qs = records_query(actor=actor, code=code, params=params, sort=sort)
    cols = columns(compiled, form, modes, compiled.list_columns)
    keys = [c["key"] for c in cols if c["type"] != "builtin"]
    start = (page - 1) * page_size
    records = list(qs.select_related("owner", "version__form")[start : start + page_size])
    prepared = []
    for record in records:
        rc = compiled_version(record.version)
        plain = storage.unseal(rc, {k: v for k, v in record.data.items() if k in keys})
        prepared.append((record, rc, storage.masked(rc, plain)))
    ctx = DisplayContext(
        lang=current_language(),
        labels=_labels([(rc.value_fields(), data) for _, rc, data in prepared], keys),
    )
    items = [
        {
            "id": record.pk,
            "serial_no": record.serial_no,
            "version": record.version.number,
            "owner": _user_ref(record.owner),
            "created_via": record.created_via,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "values": {k: data.get(k) for k in keys},
            "display": _display(rc, data, keys, ctx),
        }
        for record, rc, data in prepared
    ]
    return {
        "columns": cols,
        "items": items,
        "count": qs.count(),
        "page": page,
        "page_size": page_size,
    }


def history(*, actor: User, code: str, record_id: int) -> list[AuditEntry]:
    require_perm(actor, VIEW_RECORDS)
    form = get_form(code)
    from loandesk.forms.services import get_record

    record = get_record(actor=actor, form=form, record_id=record_id)
    compiled = compiled_version(record.version)
    hidden = {k for k, mode in field_modes(compiled, actor).items() if mode == HIDDEN}
    entries = list(
        AuditEntry.objects.filter(
            target_type="forms.record", target_id=str(record.pk), action__startswith="record."
        ).order_by("at", "id")
    )
    for entry in entries:
        entry.changes = {k: v for k, v in entry.changes.items() if k not in hidden}
    return entries


# --- export ----------------------------------------------------------------------------------

_INJECTION_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (kept literal)."""
    if isinstance(value, str) and value.startswith(_INJECTION_START):
        return "'" + value
    return value


def export_rows(
    *, actor: User, code: str, params: Mapping[str, str], sort: str = ""
) -> tuple[
    FormDefinition,
    list[dict[str, Any]],
    list[tuple[FieldDef, list[dict[str, Any]]]],
    Iterator[tuple[list[Any], dict[str, list[list[Any]]]]],
    int,
]:
    """Columns and rows for the Excel export (masked PII; the caller writes the workbook)."""
    require_perm(actor, EXPORT)
    require_perm(actor, VIEW_RECORDS)
    form, compiled, modes, qs = records_query(actor=actor, code=code, params=params, sort=sort)
    total = qs.count()
    if total > EXPORT_MAX_ROWS:
        raise ValidationFailed(
            {"export": message("forms.export_too_large", {"max": EXPORT_MAX_ROWS})}
        )
    lang = current_language()
    fields = [f for f in compiled.value_fields() if modes.get(f.key) != HIDDEN and not f.children]
    subtables = [f for f in compiled.value_fields() if f.children and modes.get(f.key) != HIDDEN]
    head: list[dict[str, Any]] = [
        {"label": message("forms.column.serial_no"), "format": None},
        *[{"label": f.title(lang), "format": f.type.excel_format_of(f)} for f in fields],
        {"label": message("forms.column.owner"), "format": None},
        {"label": message("forms.column.created_at"), "format": "yyyy-mm-dd hh:mm"},
        {"label": message("forms.column.updated_at"), "format": "yyyy-mm-dd hh:mm"},
    ]
    sub_heads: list[tuple[FieldDef, list[dict[str, Any]]]] = [
        (
            sub,
            [
                {"label": message("forms.column.row"), "format": None},
                *[
                    {"label": c.title(lang), "format": c.type.excel_format_of(c)}
                    for c in sub.children
                    if not c.type.layout
                ],
            ],
        )
        for sub in subtables
    ]

    def rows() -> Iterator[tuple[list[Any], dict[str, list[list[Any]]]]]:
        chunk: list[Record] = []
        for record in qs.select_related("owner", "version__form").iterator(chunk_size=500):
            chunk.append(record)
            if len(chunk) == 500:
                yield from _export_chunk(chunk, fields, subtables, lang)
                chunk = []
        if chunk:
            yield from _export_chunk(chunk, fields, subtables, lang)

    return form, head, sub_heads, rows(), total


def _local(value: datetime) -> datetime:
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0)


def _export_chunk(
    records: list[Record], fields: list[FieldDef], subtables: list[FieldDef], lang: str
) -> Iterator[tuple[list[Any], dict[str, list[list[Any]]]]]:
    prepared = []
    for record in records:
        rc = compiled_version(record.version)
        prepared.append((record, rc, storage.masked(rc, storage.unseal(rc, record.data))))
    pairs: list[tuple[Iterable[FieldDef], Mapping[str, Any]]] = []
    for _, rc, data in prepared:
        pairs.append((rc.value_fields(), data))
        for sub in subtables:
            own = rc.by_key.get(sub.key)
            if own is not None:
                pairs += [(own.children, row) for row in data.get(sub.key) or []]
    ctx = DisplayContext(lang=lang, labels=_labels(pairs))
    for record, rc, data in prepared:
        serial = record.serial_no or f"#{record.pk}"
        line: list[Any] = [serial]
        for f in fields:
            own = rc.by_key.get(f.key)
            value = data.get(f.key)
            line.append(
                safe_cell(own.type.excel(value, own, ctx)) if own and value is not None else None
            )
        owner = record.owner.full_name or record.owner.username
        line += [safe_cell(owner), _local(record.created_at), _local(record.updated_at)]
        sub_rows: dict[str, list[list[Any]]] = {}
        for sub in subtables:
            own_sub = rc.by_key.get(sub.key)
            out = []
            for row in data.get(sub.key) or []:
                cells: list[Any] = [serial]
                for child in sub.children:
                    if child.type.layout:
                        continue
                    own_child = (
                        next((c for c in own_sub.children if c.key == child.key), None)
                        if own_sub
                        else None
                    )
                    value = row.get(child.key)
                    cells.append(
                        safe_cell(own_child.type.excel(value, own_child, ctx))
                        if own_child is not None and value is not None
                        else None
                    )
                out.append(cells)
            sub_rows[sub.key] = out
        yield line, sub_rows


# --- links -----------------------------------------------------------------------------------


def link_row(link: PublicLink, *, qr: str | None = None) -> dict[str, Any]:
    return {
        "id": link.pk,
        "token": link.token,
        "url": link_url(link.token),
        "qr_png": qr,
        "form": link.form.code,
        "form_name": link.form.name,
        "created_by": _user_ref(link.created_by),
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "max_submissions": link.max_submissions,
        "submissions": link.submissions,
        "sms_verification": link.sms_verification,
        "active": link.active,
        "status": link_status(link),
    }


def links(*, actor: User, code: str) -> QuerySet[PublicLink]:
    require_perm(actor, MANAGE_LINKS)
    form = get_form(code)
    qs = PublicLink.objects.filter(form=form).select_related("form", "created_by")
    return scoped(qs, actor, LINK_SCOPE)


def public_form(link: PublicLink) -> dict[str, Any]:
    from loandesk.forms.services import field_modes as modes_for

    _form, version, compiled = published(link.form.code)
    modes = modes_for(compiled, None, public=True)
    return {
        "form": {"name": link.form.name, "description": link.form.description},
        "version": version.number,
        "schema": renderer_schema(compiled, modes, public=True),
        "sms_verification": link.sms_verification,
        "expires_at": link.expires_at,
        "shared_by": (link.created_by.full_name or link.created_by.username),
    }


PublicStatusExtra = Callable[[Record], Mapping[str, Any]]
_public_status_extras: list[PublicStatusExtra] = []


def register_public_status_extra(extra: PublicStatusExtra) -> None:
    """`extra(record)` adds keys to the borrower's status page (e.g. the flows app's `flow`)."""
    if extra not in _public_status_extras:
        _public_status_extras.append(extra)


def public_status(status_token: str) -> dict[str, Any]:
    """The full status of a submission (serial number, status, the flow's progress): for a
    visitor who proved the phone on the record (see `public_status_page`)."""
    return public_status_of(status_record(status_token))


def public_status_of(record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {
        "form_name": record.form.name,
        "serial_no": record.serial_no,
        "submitted_at": record.created_at,
        "status": "submitted",
        "status_label": message("forms.status.submitted"),
    }
    for extra in _public_status_extras:
        out.update(extra(record))
    return out


def public_status_page(record: Record, *, verified: bool) -> dict[str, Any]:
    """The status page's answer: without verification only the form's name and how to verify
    (the masked phone on the record); with it, everything."""
    out: dict[str, Any] = {
        "form_name": record.form.name,
        "verified": verified,
        **status_verification(record),
    }
    if verified:
        out.update(public_status_of(record))
        out["grant_expires_in"] = int(STATUS_GRANT_TTL.total_seconds())
    return out
