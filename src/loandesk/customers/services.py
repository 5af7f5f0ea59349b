"""Customer-center writes: one function per use case, transactional, keyword-only, taking the
acting user and checking permission and data scope themselves.

Every write also records, in the same transaction, a timeline line, an audit entry (PII only
masked, with a keyed fingerprint so a change stays visible) and an outbox event.
"""

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from loandesk.accounts.models import DataScope, User
from loandesk.accounts.scoping import effective_scope, has_perm, require_perm, scoped
from loandesk.core import audit, outbox
from loandesk.core.crypto import mask_bank_card
from loandesk.core.errors import Conflict, NotFound, ValidationFailed
from loandesk.core.i18n import message
from loandesk.customers import files, identity
from loandesk.customers.messages import field_label
from loandesk.customers.models import (
    BankCard,
    Customer,
    Document,
    FollowUp,
    Tag,
    TimelineEvent,
)
from loandesk.customers.profile import (
    ENTERPRISE,
    INDIVIDUAL,
    PROFILE_FIELDS,
    Errors,
    bank_card_index,
    check_required,
    clean_fields,
    fingerprint,
    masked_pii,
)
from loandesk.customers.selectors import CUSTOMER_SCOPE

MAX_BANK_CARDS = 10
MAX_CUSTOM_KEYS = 100
MAX_TAGS_PER_CUSTOMER = 30
PII_FIELDS = ("id_number", "phone")
AUDIT_FIELDS = (
    "kind",
    "name",
    "status",
    "id_number",
    "phone",
    "uscc",
    "legal_representative",
    "industry",
    "province_code",
    "province_name",
    "city_code",
    "city_name",
    "district_code",
    "district_name",
    "address",
    "employer",
    "monthly_income",
    "marital_status",
    "education",
    "credit_level",
    "source_channel",
    "remark",
    "custom",
    "owner",
    "department",
    "tags",
    "merged_into",
)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

# Apps that hang records on a customer (applications, loans, …) register a function here;
# `merge_customers` calls each with (survivor, duplicate, actor) inside its transaction.
MergeHook = Callable[[Customer, Customer, User], None]
MERGE_HOOKS: list[MergeHook] = []


def register_merge_hook(hook: MergeHook) -> None:
    if hook not in MERGE_HOOKS:
        MERGE_HOOKS.append(hook)


# --- helpers --------------------------------------------------------------------------------


def audit_view(customer: Customer) -> dict[str, Any]:
    """The customer's audited fields with PII masked (+ a keyed fingerprint of the value)."""
    data: dict[str, Any] = {}
    for name in AUDIT_FIELDS:
        if name in PII_FIELDS:
            value = getattr(customer, name) or ""
            bidx = getattr(customer, f"{name}_bidx")
            data[name] = f"{masked_pii(name, value)} {fingerprint(bidx)}".strip()
        elif name == "tags":
            data[name] = sorted(customer.tags.values_list("name", flat=True)) if customer.pk else []
        elif name in ("owner", "department", "merged_into"):
            data[name] = getattr(customer, f"{name}_id")
        else:
            data[name] = getattr(customer, name)
    return data


def add_timeline_event(
    *,
    customer: Customer,
    kind: str,
    summary_code: str,
    params: Mapping[str, Any] | None = None,
    actor: User | None = None,
    ref_type: str = "",
    ref_id: str | int = "",
    at: datetime | None = None,
) -> TimelineEvent:
    """The one way to add a line to a customer's timeline (other apps use it too)."""
    return TimelineEvent.objects.create(
        customer=customer,
        kind=kind,
        summary_code=summary_code,
        params=dict(params or {}),
        actor=actor if actor is not None and actor.is_authenticated else None,
        ref_type=ref_type,
        ref_id=str(ref_id),
        at=at or timezone.now(),
    )


def _event_payload(customer: Customer, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer.pk,
        "kind": customer.kind,
        "owner_id": customer.owner_id,
        "department_id": customer.department_id,
        **extra,
    }


def _publish(topic: str, customer: Customer, **extra: Any) -> None:
    outbox.publish(
        topic,
        payload=_event_payload(customer, **extra),
        aggregate_type="customers.customer",
        aggregate_id=customer.pk,
    )


def user_in_scope(actor: User, user: User) -> bool:
    """May `actor` hand customers to `user` (or see theirs)? Same rule as data scope."""
    if user.pk == actor.pk:
        return True
    scope = effective_scope(actor)
    if scope == DataScope.ALL:
        return True
    if scope == DataScope.SELF or actor.department is None or user.department is None:
        return False
    if scope == DataScope.DEPARTMENT:
        return user.department_id == actor.department_id
    return user.department.path.startswith(actor.department.path)


def can_see(actor: User, customer: Customer) -> bool:
    return scoped(Customer.objects.filter(pk=customer.pk), actor, CUSTOMER_SCOPE).exists()


def _owner_for(actor: User, owner_id: int | None, errors: Errors, field: str = "owner_id") -> User:
    if owner_id is None or owner_id == actor.pk:
        return actor
    owner = User.objects.select_related("department").filter(pk=owner_id, is_active=True).first()
    if owner is None or not user_in_scope(actor, owner):
        errors.add(field, "customers.owner_invalid")
        return actor
    return owner


def _tags_for(tag_ids: Iterable[int], errors: Errors, field: str = "tag_ids") -> list[Tag]:
    ids = list(dict.fromkeys(tag_ids))
    if len(ids) > MAX_TAGS_PER_CUSTOMER:
        errors.add(field, "field.too_long", max=MAX_TAGS_PER_CUSTOMER)
        return []
    tags = list(Tag.objects.filter(pk__in=ids))
    missing = set(ids) - {t.pk for t in tags}
    if missing:
        errors.add(field, "customers.tag_invalid", value=", ".join(map(str, sorted(missing))))
    return tags


def form_validator() -> Callable[..., dict[str, Any]] | None:
    """The form engine's `validate_form_data`, when the form engine provides it."""
    try:
        form_services = importlib.import_module("loandesk.forms.services")
    except ImportError:
        return None
    return getattr(form_services, "validate_form_data", None)


def clean_custom(
    actor: User | None,
    custom: Any,
    errors: Errors,
    *,
    partial: bool = False,
) -> dict[str, Any] | None:
    """Admin-defined profile fields, validated and normalised by the form engine against the
    published 客户档案 form ("customer_profile"); without that form (or before the form engine
    provides `validate_form_data`), any JSON object of at most 100 keys."""
    if custom is None:
        return None
    if not isinstance(custom, dict) or len(custom) > MAX_CUSTOM_KEYS:
        errors.add("custom", "customers.custom_invalid", max=MAX_CUSTOM_KEYS)
        return None
    validate = form_validator()
    if validate is None:
        return dict(custom)
    try:
        cleaned = validate(form_code="customer_profile", data=custom, actor=actor, partial=partial)
    except NotFound:
        return dict(custom)  # no published 客户档案 form
    except ValidationFailed as exc:
        for key, text in (exc.details.get("fields") or {}).items():
            errors.add_text(f"custom.{key}", str(text), code="customers.custom_field")
        return None
    return dict(cleaned)


def _ensure_editable(customer: Customer) -> None:
    if customer.status == Customer.Status.MERGED:
        raise Conflict("customers.merged", details={"merged_into_id": customer.merged_into_id})
    if customer.status == Customer.Status.ARCHIVED:
        raise Conflict("customers.archived")


def survivor_of(customer: Customer) -> Customer:
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def find_duplicate(
    *,
    kind: str,
    id_number_bidx: str | None = None,
    phone_bidx: str | None = None,
    uscc: str | None = None,
    exclude_pk: int | None = None,
) -> tuple[Customer, str] | None:
    """The customer (followed to the merge survivor) already holding one of these identifiers."""
    checks: list[tuple[str, Q]] = []
    if id_number_bidx:
        checks.append(("id_number", Q(id_number_bidx=id_number_bidx)))
    if uscc:
        checks.append(("uscc", Q(uscc=uscc)))
    if phone_bidx:
        checks.append(("phone", Q(phone_bidx=phone_bidx, kind=kind)))
    for field, condition in checks:
        qs = Customer.objects.filter(condition)
        if exclude_pk is not None:
            qs = qs.exclude(pk=exclude_pk)
        found = qs.first()
        if found is not None:
            survivor = survivor_of(found)
            if exclude_pk is not None and survivor.pk == exclude_pk:
                continue
            return survivor, field
    return None


def duplicate_error(actor: User | None, existing: Customer, field: str) -> Conflict:
    accessible = (
        actor is not None and has_perm(actor, "customers.view") and can_see(actor, existing)
    )
    return Conflict(
        "customers.duplicate",
        params={"field": field_label(field)},
        details={
            "customer_id": existing.pk,
            "field": field,
            "accessible": accessible,
            "owner_name": str(existing.owner),
        },
    )


def _clean_cards(
    cards: Iterable[Mapping[str, Any]], errors: Errors, field: str = "bank_cards"
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, card in enumerate(cards):
        try:
            number = identity.clean_bank_card(str(card.get("number") or ""))
        except identity.IdentityError as exc:
            errors.add(f"{field}.{i}.number", exc.code)
            continue
        bank_name = identity.clean_name(str(card.get("bank_name") or ""), max_length=50)
        if number not in seen:
            seen.add(number)
            out.append((number, bank_name))
    if len(out) > MAX_BANK_CARDS:
        errors.add(field, "customers.bank_card_limit", max=MAX_BANK_CARDS)
    return out


# --- customers ------------------------------------------------------------------------------


@transaction.atomic
def create_customer(
    *,
    actor: User,
    data: Mapping[str, Any],
    owner_id: int | None = None,
    tag_ids: Iterable[int] = (),
    bank_cards: Iterable[Mapping[str, Any]] = (),
    custom: Any = None,
    on_duplicate: str = "error",
    request: HttpRequest | None = None,
) -> tuple[Customer, bool]:
    """(customer, created). A person already on file answers 409 `customers.duplicate`, or,
    with on_duplicate="link", the existing customer when the caller may see it."""
    require_perm(actor, "customers.create")
    kind = str(data.get("kind") or INDIVIDUAL)
    errors = Errors()
    profile = {k: v for k, v in data.items() if k in PROFILE_FIELDS}
    profile.setdefault("name", "")
    fields = clean_fields(profile, kind=kind, errors=errors)
    if "name" in fields:
        check_required(fields, kind, errors)
    owner = _owner_for(actor, owner_id, errors)
    tags = _tags_for(tag_ids, errors)
    cards = _clean_cards(bank_cards, errors)
    custom_data = clean_custom(actor, custom, errors)
    errors.raise_if_any()
    duplicate = find_duplicate(
        kind=kind,
        id_number_bidx=fields.get("id_number_bidx"),
        phone_bidx=fields.get("phone_bidx"),
        uscc=fields.get("uscc"),
    )
    if duplicate is not None:
        existing, field = duplicate
        if (
            on_duplicate == "link"
            and has_perm(actor, "customers.view")
            and can_see(actor, existing)
        ):
            return existing, False
        raise duplicate_error(actor, existing, field)
    return (
        _insert_customer(
            actor=actor,
            kind=kind,
            fields=fields,
            owner=owner,
            tags=tags,
            cards=cards,
            custom=custom_data or {},
            summary_code="customers.timeline.created",
            request=request,
        ),
        True,
    )


def _insert_customer(
    *,
    actor: User | None,
    kind: str,
    fields: dict[str, Any],
    owner: User,
    tags: list[Tag],
    cards: list[tuple[str, str]],
    custom: dict[str, Any],
    summary_code: str,
    request: HttpRequest | None = None,
) -> Customer:
    now = timezone.now()
    customer = Customer(
        kind=kind,
        owner=owner,
        department_id=owner.department_id,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        custom=custom,
        created_at=now,
        updated_at=now,
        **fields,
    )
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        # Lost a race with another request creating the same person: report it as a duplicate.
        duplicate = find_duplicate(
            kind=kind,
            id_number_bidx=fields.get("id_number_bidx"),
            phone_bidx=fields.get("phone_bidx"),
            uscc=fields.get("uscc"),
        )
        if duplicate is None:
            raise
        raise duplicate_error(actor, *duplicate) from exc
    if tags:
        customer.tags.set(tags)
    for number, bank_name in cards:
        BankCard.objects.create(
            customer=customer,
            number=number,
            number_bidx=bank_card_index(number),
            bank_name=bank_name,
            created_by=customer.created_by,
        )
    add_timeline_event(
        customer=customer,
        kind="created",
        summary_code=summary_code,
        actor=actor,
        ref_type="customers.customer",
        ref_id=customer.pk,
    )
    audit.record_change(
        actor=actor, instance=customer, before=None, after=audit_view(customer), request=request
    )
    _publish("customer.created", customer, source_channel=customer.source_channel)
    return customer


@transaction.atomic
def update_customer(
    *,
    actor: User,
    customer: Customer,
    changes: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Customer:
    """PATCH semantics: only the keys present change. Region codes are replaced together.
    Changing the owner transfers the customer (and its department) to that officer."""
    require_perm(actor, "customers.update")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _ensure_editable(customer)
    before = audit_view(customer)
    errors = Errors()
    profile = {k: v for k, v in changes.items() if k in PROFILE_FIELDS}
    fields = clean_fields(profile, kind=customer.kind, errors=errors)
    owner = None
    if changes.get("owner_id") is not None and changes["owner_id"] != customer.owner_id:
        owner = _owner_for(actor, changes["owner_id"], errors)
    tags = _tags_for(changes["tag_ids"], errors) if changes.get("tag_ids") is not None else None
    custom = None
    if changes.get("custom") is not None:
        patch = clean_custom(actor, changes["custom"], errors, partial=True)
        if patch is not None:
            merged = {**customer.custom, **patch}
            custom = {k: v for k, v in merged.items() if v is not None}
            if len(custom) > MAX_CUSTOM_KEYS:
                errors.add("custom", "customers.custom_invalid", max=MAX_CUSTOM_KEYS)
    for name, value in fields.items():
        setattr(customer, name, value)
    check_required(
        {f: getattr(customer, f) for f in ("name", "id_number", "phone", "uscc")},
        customer.kind,
        errors,
    )
    errors.raise_if_any()
    identifiers = {
        k: fields.get(k) for k in ("id_number_bidx", "phone_bidx", "uscc") if fields.get(k)
    }
    if identifiers:
        duplicate = find_duplicate(kind=customer.kind, exclude_pk=customer.pk, **identifiers)
        if duplicate is not None:
            raise duplicate_error(actor, *duplicate)
        _release_from_merged(customer, identifiers)
    if owner is not None:
        customer.owner = owner
        customer.department_id = owner.department_id
    if custom is not None:
        customer.custom = custom
    if tags is not None:
        customer.tags.set(tags)
    after = audit_view(customer)
    changed = [k for k in audit.diff(before, after)]
    if not changed:
        return customer
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        duplicate = find_duplicate(kind=customer.kind, exclude_pk=customer.pk, **identifiers)
        if duplicate is None:
            raise
        raise duplicate_error(actor, *duplicate) from exc
    audit.record_change(actor=actor, instance=customer, before=before, after=after, request=request)
    if owner is not None:
        add_timeline_event(
            customer=customer,
            kind="transferred",
            summary_code="customers.timeline.transferred",
            params={"owner": str(owner)},
            actor=actor,
        )
    profile_changed = [k for k in changed if k not in ("owner", "department")]
    if profile_changed:
        add_timeline_event(
            customer=customer,
            kind="updated",
            summary_code="customers.timeline.updated",
            params={"fields": profile_changed},
            actor=actor,
        )
    _publish("customer.updated", customer, fields=changed)
    return customer


def _release_from_merged(customer: Customer, identifiers: Mapping[str, Any]) -> None:
    """A value this customer takes back from one of its own merged duplicates (which kept it
    for search) leaves the duplicate, so the unique indexes hold."""
    merged = Customer.objects.filter(merged_into=customer, status=Customer.Status.MERGED)
    for column, value in identifiers.items():
        holders = merged.filter(**{column: value})
        if column == "phone_bidx":
            holders = holders.filter(kind=customer.kind)
        holders.update(**{column: None})


@transaction.atomic
def archive_customer(
    *, actor: User, customer: Customer, request: HttpRequest | None = None
) -> Customer:
    require_perm(actor, "customers.delete")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _ensure_editable(customer)
    return _set_status(actor, customer, Customer.Status.ARCHIVED, "archived", request)


@transaction.atomic
def restore_customer(
    *, actor: User, customer: Customer, request: HttpRequest | None = None
) -> Customer:
    require_perm(actor, "customers.delete")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.status != Customer.Status.ARCHIVED:
        raise Conflict("customers.not_archived")
    return _set_status(actor, customer, Customer.Status.ACTIVE, "restored", request)


def _set_status(
    actor: User, customer: Customer, status: str, kind: str, request: HttpRequest | None
) -> Customer:
    before = audit_view(customer)
    customer.status = status
    customer.updated_at = timezone.now()
    customer.save(update_fields=["status", "updated_at"])
    audit.record_change(
        actor=actor, instance=customer, before=before, after=audit_view(customer), request=request
    )
    add_timeline_event(
        customer=customer, kind=kind, summary_code=f"customers.timeline.{kind}", actor=actor
    )
    _publish("customer.updated", customer, fields=["status"], status=status)
    return customer


def _touch(customer: Customer, **values: Any) -> None:
    values["updated_at"] = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(**values)
    for name, value in values.items():
        setattr(customer, name, value)


# --- tags -----------------------------------------------------------------------------------


@transaction.atomic
def create_tag(*, actor: User, name: str, color: str = "#1989fa") -> Tag:
    require_perm(actor, "customers.manage_tags")
    errors = Errors()
    clean = identity.clean_name(name, max_length=1000)
    if not clean:
        errors.add("name", "field.required")
    elif len(clean) > 30:
        errors.add("name", "field.too_long", max=30)
    if not _COLOR.match(color or ""):
        errors.add("color", "customers.color_invalid")
    errors.raise_if_any()
    if Tag.objects.filter(name=clean).exists():
        raise Conflict("customers.tag_name_taken", details={"field": "name"})
    tag = Tag.objects.create(name=clean, color=color.lower(), created_by=actor)
    audit.record_change(
        actor=actor, instance=tag, before=None, after={"name": tag.name, "color": tag.color}
    )
    return tag


# --- bank cards -----------------------------------------------------------------------------


@transaction.atomic
def add_bank_card(*, actor: User, customer: Customer, number: str, bank_name: str = "") -> BankCard:
    require_perm(actor, "customers.update")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _ensure_editable(customer)
    errors = Errors()
    cards = _clean_cards([{"number": number, "bank_name": bank_name}], errors, field="bank_card")
    if not errors and customer.bank_cards.count() >= MAX_BANK_CARDS:
        errors.add("number", "customers.bank_card_limit", max=MAX_BANK_CARDS)
    if "bank_card.0.number" in errors.items:
        errors.items["number"] = errors.items.pop("bank_card.0.number")
    errors.raise_if_any()
    card_number, clean_bank = cards[0]
    bidx = bank_card_index(card_number)
    if customer.bank_cards.filter(number_bidx=bidx).exists():
        raise Conflict("customers.bank_card_exists", details={"field": "number"})
    card = BankCard.objects.create(
        customer=customer,
        number=card_number,
        number_bidx=bidx,
        bank_name=clean_bank,
        created_by=actor,
    )
    masked = mask_bank_card(card_number)
    audit.record_change(
        actor=actor,
        instance=card,
        before=None,
        after={
            "customer": customer.pk,
            "number": f"{masked} {fingerprint(bidx)}",
            "bank_name": clean_bank,
        },
    )
    add_timeline_event(
        customer=customer,
        kind="updated",
        summary_code="customers.timeline.bank_card_added",
        params={"card": masked},
        actor=actor,
        ref_type="customers.bankcard",
        ref_id=card.pk,
    )
    _touch(customer)
    _publish("customer.updated", customer, fields=["bank_cards"])
    return card


@transaction.atomic
def remove_bank_card(*, actor: User, customer: Customer, card_id: int) -> None:
    require_perm(actor, "customers.update")
    _ensure_editable(customer)
    card = BankCard.objects.filter(customer=customer, pk=card_id).first()
    if card is None:
        raise NotFound()
    masked = mask_bank_card(card.number)
    audit.record_change(
        actor=actor,
        instance=card,
        before={"customer": customer.pk, "number": f"{masked} {fingerprint(card.number_bidx)}"},
        after=None,
    )
    card.delete()
    add_timeline_event(
        customer=customer,
        kind="updated",
        summary_code="customers.timeline.bank_card_removed",
        params={"card": masked},
        actor=actor,
    )
    _touch(customer)
    _publish("customer.updated", customer, fields=["bank_cards"])


# --- reveal ---------------------------------------------------------------------------------


@transaction.atomic
def reveal_pii(
    *,
    actor: User,
    customer: Customer,
    field: str,
    bank_card_id: int | None = None,
    request: HttpRequest | None = None,
) -> str:
    """The plaintext of one PII field, for holders of customers.view_pii; always audited.

    A customer's owner may reveal that customer's phone without view_pii: an officer must be
    able to call their own customers (the reveal is audited like any other)."""
    if not (field == "phone" and customer.owner_id == actor.pk):
        require_perm(actor, "customers.view_pii")
    extra: dict[str, Any] = {"field": field, "customer_id": customer.pk}
    if field == "bank_card":
        cards = list(customer.bank_cards.all())
        if bank_card_id is not None:
            cards = [c for c in cards if c.pk == bank_card_id]
            if not cards:
                raise NotFound()
        elif len(cards) > 1:
            raise ValidationFailed.field("bank_card_id", "customers.bank_card_choose")
        if not cards:
            raise NotFound("customers.no_value")
        value = cards[0].number
        extra["bank_card_id"] = cards[0].pk
    else:
        value = getattr(customer, field)
        if not value:
            raise NotFound("customers.no_value")
    audit.record(action="pii.reveal", actor=actor, target=customer, extra=extra, request=request)
    add_timeline_event(
        customer=customer,
        kind="reveal",
        summary_code="customers.timeline.reveal",
        params={"field": field},
        actor=actor,
    )
    return str(value)


# --- follow-ups -----------------------------------------------------------------------------


@transaction.atomic
def create_follow_up(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    content: str,
    photo_ids: Iterable[int] = (),
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    location_address: str = "",
    next_follow_up_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> FollowUp:
    """Records a contact; closes earlier planned follow-ups of the customer (they are done) and
    makes this one's next time the customer's next follow-up."""
    require_perm(actor, "customers.update")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    _ensure_editable(customer)
    errors = Errors()
    text = (content or "").strip()
    if not text:
        errors.add("content", "field.required")
    elif len(text) > 5000:
        errors.add("content", "field.too_long", max=5000)
    if (latitude is None) != (longitude is None) or (
        latitude is not None
        and longitude is not None
        and not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
    ):
        errors.add("latitude", "customers.location_invalid")
    now = timezone.now()
    if next_follow_up_at is not None and next_follow_up_at < now - timedelta(minutes=5):
        errors.add("next_follow_up_at", "customers.next_follow_up_past")
    ids = list(dict.fromkeys(photo_ids))
    photos = list(
        Document.objects.filter(
            pk__in=ids,
            customer=customer,
            deleted_at__isnull=True,
            content_type__startswith="image/",
        )
    )
    if len(photos) != len(ids) or len(ids) > 20:
        errors.add("photo_ids", "customers.photo_invalid")
    address = identity.clean_name(location_address or "", max_length=1000)
    if len(address) > 200:
        errors.add("location_address", "field.too_long", max=200)
    errors.raise_if_any()
    FollowUp.objects.filter(
        customer=customer, closed_at__isnull=True, next_follow_up_at__isnull=False
    ).update(closed_at=now)
    follow_up = FollowUp.objects.create(
        customer=customer,
        author=actor,
        kind=kind,
        content=text,
        latitude=latitude,
        longitude=longitude,
        location_address=address,
        next_follow_up_at=next_follow_up_at,
        created_at=now,
    )
    if photos:
        follow_up.photos.set(photos)
    _touch(customer, last_follow_up_at=now, next_follow_up_at=next_follow_up_at)
    add_timeline_event(
        customer=customer,
        kind="follow_up",
        summary_code="customers.timeline.follow_up",
        params={"kind": kind, "excerpt": text[:60]},
        actor=actor,
        ref_type="customers.followup",
        ref_id=follow_up.pk,
        at=now,
    )
    audit.record_change(
        actor=actor,
        instance=follow_up,
        before=None,
        after={
            "customer": customer.pk,
            "kind": kind,
            "content": text[:200],
            "next_follow_up_at": next_follow_up_at.isoformat() if next_follow_up_at else None,
            "photos": [p.pk for p in photos],
        },
        request=request,
    )
    outbox.publish(
        "follow_up.created",
        payload={
            "follow_up_id": follow_up.pk,
            "customer_id": customer.pk,
            "author_id": actor.pk,
            "owner_id": customer.owner_id,
            "kind": kind,
            "next_follow_up_at": next_follow_up_at.isoformat() if next_follow_up_at else None,
        },
        aggregate_type="customers.customer",
        aggregate_id=customer.pk,
    )
    return follow_up


# --- documents ------------------------------------------------------------------------------


def upload_document(
    *,
    actor: User,
    customer: Customer,
    kind: str,
    fh: IO[bytes],
    original_name: str,
    request: HttpRequest | None = None,
) -> Document:
    """Checks the bytes (type from magic numbers, size, images decode), stores the file under
    a random name, then records it. The file is removed again if the database write fails."""
    require_perm(actor, "customers.update")
    _ensure_editable(customer)
    try:
        checked = files.check_upload(fh)
    except files.FileRejected as exc:
        raise ValidationFailed(
            {"file": message(exc.code, {"max_mb": files.MAX_DOCUMENT_BYTES // (1024 * 1024)})},
            code=exc.code,
            params={"max_mb": files.MAX_DOCUMENT_BYTES // (1024 * 1024)},
        ) from exc
    stored = default_storage.save(files.random_name("customers", checked.extension), File(fh))
    try:
        with transaction.atomic():
            return _record_document(actor, customer, kind, stored, original_name, checked, request)
    except BaseException:
        default_storage.delete(stored)
        raise


def _record_document(
    actor: User,
    customer: Customer,
    kind: str,
    stored: str,
    original_name: str,
    checked: files.CheckedFile,
    request: HttpRequest | None,
) -> Document:
    document = Document.objects.create(
        customer=customer,
        kind=kind,
        file=stored,
        original_name=files.safe_original_name(original_name),
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
    )
    add_timeline_event(
        customer=customer,
        kind="document",
        summary_code="customers.timeline.document",
        params={"name": document.original_name, "kind": kind},
        actor=actor,
        ref_type="customers.document",
        ref_id=document.pk,
    )
    audit.record_change(
        actor=actor,
        instance=document,
        before=None,
        after={
            "customer": customer.pk,
            "kind": kind,
            "original_name": document.original_name,
            "content_type": document.content_type,
            "size": document.size,
            "sha256": document.sha256,
        },
        request=request,
    )
    _touch(customer)
    _publish("customer.document_added", customer, document_id=document.pk, document_kind=kind)
    return document


@transaction.atomic
def delete_document(
    *, actor: User, customer: Customer, document_id: int, request: HttpRequest | None = None
) -> None:
    """Soft delete: the file is kept for the retention period but no longer listed or served."""
    require_perm(actor, "customers.update")
    _ensure_editable(customer)
    document = (
        Document.objects.select_for_update()
        .filter(customer=customer, pk=document_id, deleted_at__isnull=True)
        .first()
    )
    if document is None:
        raise NotFound()
    document.deleted_at = timezone.now()
    document.deleted_by = actor
    document.save(update_fields=["deleted_at", "deleted_by"])
    audit.record_change(
        actor=actor,
        instance=document,
        before={"customer": customer.pk, "original_name": document.original_name},
        after=None,
        request=request,
    )
    add_timeline_event(
        customer=customer,
        kind="document",
        summary_code="customers.timeline.document_deleted",
        params={"name": document.original_name},
        actor=actor,
        ref_type="customers.document",
        ref_id=document.pk,
    )
    _touch(customer)
    _publish("customer.updated", customer, fields=["documents"])


def record_download(*, actor: User, document: Document, request: HttpRequest | None) -> None:
    audit.record(
        action="customers.document_download",
        actor=actor,
        target=document,
        extra={"customer_id": document.customer_id, "kind": document.kind},
        request=request,
    )


# --- merge ----------------------------------------------------------------------------------

_FILLABLE = (
    "legal_representative",
    "industry",
    "address",
    "employer",
    "monthly_income",
    "marital_status",
    "education",
    "remark",
)


@transaction.atomic
def merge_customers(
    *,
    actor: User,
    survivor: Customer,
    duplicate: Customer,
    request: HttpRequest | None = None,
) -> Customer:
    """Fold `duplicate` into `survivor`: follow-ups, documents, bank cards, tags and timeline
    move; identifiers and profile fields the survivor lacks are taken over; the duplicate
    stays (status merged, merged_into=survivor) so its history and audit trail remain."""
    require_perm(actor, "customers.merge")
    if survivor.pk == duplicate.pk:
        raise ValidationFailed.field("duplicate_id", "customers.merge_self")
    locked = {
        c.pk: c
        for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
    }
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    if survivor.status != Customer.Status.ACTIVE or duplicate.status != Customer.Status.ACTIVE:
        raise Conflict("customers.merge_state")
    if survivor.kind != duplicate.kind:
        raise ValidationFailed.field("duplicate_id", "customers.merge_kind")
    before_survivor, before_duplicate = audit_view(survivor), audit_view(duplicate)

    # Identifiers the survivor lacks move to it; the others stay on the duplicate, so a search
    # or a dedupe check for them still leads to the survivor (through merged_into).
    moved: dict[str, Any] = {}
    dup_updates: dict[str, Any] = {}
    if duplicate.id_number_bidx and not survivor.id_number_bidx:
        moved.update(
            id_number=duplicate.id_number,
            id_number_bidx=duplicate.id_number_bidx,
            gender=duplicate.gender,
            birth_date=duplicate.birth_date,
        )
        dup_updates["id_number_bidx"] = None
    if duplicate.phone_bidx and not survivor.phone_bidx:
        moved.update(phone=duplicate.phone, phone_bidx=duplicate.phone_bidx)
        dup_updates["phone_bidx"] = None
    if duplicate.uscc and not survivor.uscc:
        moved["uscc"] = duplicate.uscc
        dup_updates["uscc"] = None
    for name in _FILLABLE:
        if getattr(survivor, name) in ("", None) and getattr(duplicate, name) not in ("", None):
            moved[name] = getattr(duplicate, name)
    if not survivor.province_code and duplicate.province_code:
        for level in ("province", "city", "district"):
            moved[f"{level}_code"] = getattr(duplicate, f"{level}_code")
            moved[f"{level}_name"] = getattr(duplicate, f"{level}_name")
    if duplicate.custom:
        moved["custom"] = {**duplicate.custom, **survivor.custom}

    now = timezone.now()
    for name, value in dup_updates.items():
        setattr(duplicate, name, value)
    duplicate.status = Customer.Status.MERGED
    duplicate.merged_into = survivor
    duplicate.updated_at = now
    duplicate.save()
    for name, value in moved.items():
        setattr(survivor, name, value)

    # Records hanging on the duplicate move to the survivor.
    FollowUp.objects.filter(customer=duplicate).update(customer=survivor)
    Document.objects.filter(customer=duplicate).update(customer=survivor)
    TimelineEvent.objects.filter(customer=duplicate).update(customer=survivor)
    survivor_cards = set(survivor.bank_cards.values_list("number_bidx", flat=True))
    for card in duplicate.bank_cards.all():
        if card.number_bidx in survivor_cards:
            card.delete()
        else:
            BankCard.objects.filter(pk=card.pk).update(customer=survivor)
    survivor.tags.add(*duplicate.tags.all())
    Customer.objects.filter(merged_into=duplicate).update(merged_into=survivor)
    for hook in MERGE_HOOKS:
        hook(survivor, duplicate, actor)

    open_plans = FollowUp.objects.filter(
        customer=survivor, closed_at__isnull=True, next_follow_up_at__isnull=False
    ).order_by("next_follow_up_at")
    first_plan = open_plans.first()
    if first_plan is not None:
        # One open plan per customer, as recording a follow-up keeps it (the to-do list walks
        # customers by next_follow_up_at): the soonest of the two records' plans stays.
        open_plans.exclude(pk=first_plan.pk).update(closed_at=now)
    survivor.next_follow_up_at = first_plan.next_follow_up_at if first_plan else None
    last = FollowUp.objects.filter(customer=survivor).order_by("-created_at").first()
    survivor.last_follow_up_at = last.created_at if last else None
    survivor.updated_at = now
    survivor.save()

    audit.record(
        action="customers.merge",
        actor=actor,
        target=survivor,
        changes=audit.diff(before_survivor, audit_view(survivor)),
        extra={"survivor_id": survivor.pk, "duplicate_id": duplicate.pk},
        request=request,
    )
    audit.record_change(
        actor=actor,
        instance=duplicate,
        before=before_duplicate,
        after=audit_view(duplicate),
        request=request,
    )
    add_timeline_event(
        customer=survivor,
        kind="merged",
        summary_code="customers.timeline.merged",
        params={"name": duplicate.name, "id": duplicate.pk},
        actor=actor,
        ref_type="customers.customer",
        ref_id=duplicate.pk,
    )
    add_timeline_event(
        customer=duplicate,
        kind="merged",
        summary_code="customers.timeline.merged_into",
        params={"name": survivor.name, "id": survivor.pk},
        actor=actor,
        ref_type="customers.customer",
        ref_id=survivor.pk,
    )
    outbox.publish(
        "customer.merged",
        payload={
            "survivor_id": survivor.pk,
            "duplicate_id": duplicate.pk,
            "owner_id": survivor.owner_id,
            "fields_taken": sorted(k for k in moved if not k.endswith("_bidx")),
        },
        aggregate_type="customers.customer",
        aggregate_id=survivor.pk,
    )
    return survivor


# --- for other engines ----------------------------------------------------------------------


@transaction.atomic
def find_or_create_customer(
    *,
    actor: User | None,
    owner: User,
    name: str,
    id_number: str | None,
    phone: str | None,
    source_channel: str,
) -> tuple[Customer, bool]:
    """For the form engine's public links: the customer with this ID number or mobile number
    (blind index; merged duplicates lead to the survivor), or a new individual customer owned
    by `owner`. No permission check — the caller (a public link's configuration) decides;
    invalid input raises ValidationFailed naming the field."""
    errors = Errors()
    data: dict[str, Any] = {"name": name, "id_number": id_number or "", "phone": phone or ""}
    fields = clean_fields(data, kind=INDIVIDUAL, errors=errors)
    check_required(fields, INDIVIDUAL, errors)
    channel = (source_channel or "").strip()[:30]
    errors.raise_if_any()
    duplicate = find_duplicate(
        kind=INDIVIDUAL,
        id_number_bidx=fields.get("id_number_bidx"),
        phone_bidx=fields.get("phone_bidx"),
    )
    if duplicate is not None:
        return duplicate[0], False
    fields["source_channel"] = channel
    try:
        with transaction.atomic():
            customer = _insert_customer(
                actor=actor,
                kind=INDIVIDUAL,
                fields=fields,
                owner=owner,
                tags=[],
                cards=[],
                custom={},
                summary_code="customers.timeline.created_by_link",
            )
    except Conflict:
        duplicate = find_duplicate(
            kind=INDIVIDUAL,
            id_number_bidx=fields.get("id_number_bidx"),
            phone_bidx=fields.get("phone_bidx"),
        )
        if duplicate is None:
            raise
        return duplicate[0], False
    return customer, True


__all__ = [
    "ENTERPRISE",
    "INDIVIDUAL",
    "add_bank_card",
    "add_timeline_event",
    "archive_customer",
    "create_customer",
    "create_follow_up",
    "create_tag",
    "delete_document",
    "find_or_create_customer",
    "merge_customers",
    "register_merge_hook",
    "remove_bank_card",
    "restore_customer",
    "reveal_pii",
    "update_customer",
    "upload_document",
]
