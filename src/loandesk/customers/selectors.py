"""Customer-center reads. Every query is limited to the caller's data scope
(ScopeSpec(owner="owner", department="department")); ids outside it answer 404.

PII leaves here masked unless the caller holds customers.view_pii; every response that carries
plaintext PII writes one `pii.view` audit entry naming the customers shown.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Exists, F, Field, Func, OuterRef, Q, QuerySet
from django.db.models.lookups import Exact, GreaterThanOrEqual, In, LessThan
from django.http import HttpRequest
from django.utils import timezone

from loandesk.accounts.models import Department, User
from loandesk.accounts.phones import normalize_mobile
from loandesk.accounts.scoping import (
    DataScope,
    ScopeSpec,
    effective_scope,
    get_scoped,
    has_perm,
    require_perm,
    scope_q,
    scoped,
    subtree_ids,
)
from loandesk.core import audit
from loandesk.core.crypto import mask_bank_card
from loandesk.core.errors import NotFound
from loandesk.core.i18n import message
from loandesk.core.pagination import serial_plan
from loandesk.customers import identity
from loandesk.customers.messages import CHOICES, choice_label, field_label
from loandesk.customers.models import (
    BankCard,
    Customer,
    CustomerImport,
    CustomerNameGram,
    Document,
    FollowUp,
    Tag,
    TimelineEvent,
)
from loandesk.customers.profile import (
    bank_card_index,
    fen_to_yuan_text,
    id_number_index,
    masked_pii,
    phone_index,
)

CUSTOMER_SCOPE = ScopeSpec(owner="owner", department="department")
NESTED_SCOPE = ScopeSpec(owner="customer__owner", department="customer__department")
IMPORT_SCOPE = ScopeSpec(owner="created_by", department="department")
API = "/api/v1/customers"


# --- lookups --------------------------------------------------------------------------------


def visible_customers(actor: User) -> QuerySet[Customer]:
    require_perm(actor, "customers.view")
    return scoped(Customer.objects.all(), actor, CUSTOMER_SCOPE)


def customer_for(actor: User, customer_id: int, *, perm: str = "customers.view") -> Customer:
    """The customer if in the caller's scope, else 404. `perm` (checked first, so a missing
    permission is a 403 whatever the id) is the one the intended action needs."""
    require_perm(actor, perm)
    if perm != "customers.view":
        require_perm(actor, "customers.view")
    qs = Customer.objects.select_related("owner", "department", "merged_into", "created_by")
    return get_scoped(qs, actor, CUSTOMER_SCOPE, customer_id)


def get_customer(*, actor: User, customer_id: int) -> Customer:
    """For other engines: the customer if `actor` may see it, else NotFound (also when the
    actor lacks customers.view, so the id is never confirmed)."""
    if not has_perm(actor, "customers.view"):
        raise NotFound()
    return customer_for(actor, customer_id)


def customer_label(customer: Customer) -> str:
    """张伟 138****0001 / 某某科技有限公司 91110000…: a name plus a masked identifier."""
    if customer.kind == Customer.Kind.ENTERPRISE:
        return f"{customer.name} {customer.uscc}".strip() if customer.uscc else customer.name
    if customer.phone:
        return f"{customer.name} {masked_pii('phone', customer.phone)}"
    if customer.id_number:
        return f"{customer.name} {masked_pii('id_number', customer.id_number)}"
    return customer.name


# --- search ---------------------------------------------------------------------------------


def _prefix(field: str, prefix: str) -> Q:
    """Index-friendly prefix match on a lowercase ASCII column: LIKE 'p%' on PostgreSQL (served
    by the varchar_pattern_ops index); a range on SQLite, whose LIKE cannot use a BINARY index."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__startswith": prefix})
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": _after_prefix(prefix)})


def _after_prefix(prefix: str) -> str:
    """The least string above every string that starts with `prefix` (its range's end)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _identifier_ids(q: str) -> set[int] | None:
    """Customer ids for a query that is a mobile, ID or bank-card number (exact, via blind
    index; merged duplicates lead to their survivor), or None when q is not such a number."""
    compact = "".join(ch for ch in q if ch not in " -")
    if not compact or not (compact.lstrip("+").isdigit() or identity.looks_like_id_number(q)):
        return None
    # One indexed equality per kind of number (an OR across them defeats the indexes).
    conditions: list[Q] = []
    mobile = normalize_mobile(q) if len(compact) <= 14 else None
    if mobile:
        conditions.append(Q(phone_bidx=phone_index(mobile)))
    if identity.looks_like_id_number(q):
        conditions.append(Q(id_number_bidx=id_number_index(compact.upper())))
    if identity.looks_like_bank_card(q):
        owners = BankCard.objects.filter(number_bidx=bank_card_index(compact))
        conditions.append(Q(pk__in=list(owners.values_list("customer_id", flat=True))))
    if not conditions:
        return None
    return {
        merged_into or pk
        for condition in conditions
        for pk, merged_into in Customer.objects.filter(condition)
        .order_by()
        .values_list("pk", "merged_into")
    }


# A text condition matching at most this many customers is resolved to ids first, through its
# own index (or one scan of the narrow name index); broader ones are left to the list query,
# which walks its (…, updated_at) index and finds a page of matches quickly.
NARROW_MATCHES = 5000


class BroadText(Q):
    """A text condition matching more than NARROW_MATCHES customers (left to the list walk).
    `walk` is the same condition in its walk form (see `_Unindexed`)."""

    walk: Q


def _narrowed(
    condition: Q, ids_query: QuerySet[Any, Any] | None = None, walk: Q | None = None
) -> Q:
    """`condition` resolved to at most NARROW_MATCHES ids, or marked broad. `ids_query` is a
    cheaper query of the same ids when there is one (a posting list, read index-only); `walk`
    the condition's walk form, when it differs."""
    if ids_query is None:
        ids_query = Customer.objects.filter(condition).order_by().values_list("pk", flat=True)
    bounded = ids_query[: NARROW_MATCHES + 1]
    if bounded.count() <= NARROW_MATCHES:
        # The ids as a bounded subquery (read again, index-only, by the list's query) rather
        # than a list: 5,000 ids fetched here and sent back as literals cost ~10 ms (surname
        # searches at 1m, p95 49.5-56 -> 43.5-45 ms; docs/performance.md, "Load test").
        # Matches added between the count and the page can push it past the bound: then
        # LIMIT keeps an arbitrary 5,001 and the page says "over 1,000", as a broad one.
        return Q(pk__in=bounded)
    broad = BroadText(condition)
    broad.walk = walk if walk is not None else condition
    return broad


# --- walk forms (SQLite) ----------------------------------------------------------------------
# A list with many matches is best read by walking its (…, status, updated_at) index newest
# first and checking each customer, stopping after a page: 20 hits of a 7 % condition are ~300
# rows. PostgreSQL's planner chooses that walk from its statistics. SQLite's does not: given an
# `IN (subquery)` or a range on an indexed column it collects every match first and sorts them
# (`张`: 70,000 posting-list rows, 330–460 ms at 1m customers; the one letter `z` through the
# initials index, 1.5 s). Walk forms state the same conditions so that SQLite can only check
# them row by row: an EXISTS probe instead of IN, and `+column` (same value, no index) for
# ranges and scope columns. They are used only for lists known to be broad (more than COUNT_CAP
# or NARROW_MATCHES matches), so the walk finds its page quickly (at least 1 row in 1,000).


class _Unindexed(Func):
    """`+column` on SQLite: the same value, but no index on the column can serve it."""

    template = "+%(expressions)s"


def _unindexed(column: str) -> _Unindexed:
    """`column` (a field name or attname: "owner" or "owner_id") as `+column`, typed like the
    column so values compare as its own (an owner id stays an integer: SQLite's `+` drops the
    column's affinity)."""
    field = Customer._meta.get_field(column)
    assert isinstance(field, Field)
    output = getattr(field, "target_field", field) if field.is_relation else field
    return _Unindexed(F(field.attname), output_field=output)


def _walk_prefix(field: str, prefix: str) -> Q:
    upper = _after_prefix(prefix)
    return Q(GreaterThanOrEqual(_unindexed(field), prefix)) & Q(LessThan(_unindexed(field), upper))


def _gram_exists(gram: str) -> Exists:
    return Exists(CustomerNameGram.objects.filter(gram=gram, customer_id=OuterRef("pk")))


def _walk_scope(actor: User) -> Q:
    """`scope_q(actor, CUSTOMER_SCOPE)` in walk form: the same customers. An officer's own
    book stays an indexed equality: (owner, status, updated_at) is itself an ordered walk."""
    return scope_q(actor, CUSTOMER_SCOPE, column=_unindexed)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _gram_ids(gram: str) -> QuerySet[CustomerNameGram, Any]:
    ids: QuerySet[CustomerNameGram, Any] = CustomerNameGram.objects.filter(gram=gram).values(
        "customer_id"
    )
    return ids


def name_contains_q(text: str) -> Q:
    """Names holding `text` (ASCII letters case-insensitive, everything else exact), through
    the name-gram index on both engines: a one- or two-character text is one posting list;
    a longer one is the customers holding all its two-character pieces, checked in full."""
    text = text.translate(_ASCII_LOWER)
    if len(text) <= 2:
        return Q(pk__in=_gram_ids(text))
    pairs = sorted({text[i : i + 2] for i in range(len(text) - 1)})
    condition = Q(name__icontains=text)
    for pair in pairs:
        condition &= Q(pk__in=_gram_ids(pair))
    return condition


def search_q(q: str) -> Q:
    """The condition for the search box: identifiers exactly, pinyin/initials by prefix
    (张伟 ← "zhangwei", "zw", "zhangw"), Chinese text anywhere in the name."""
    q = q.strip()[:100]
    ids = _identifier_ids(q)
    if ids is not None:
        return Q(pk__in=ids)
    key = None if identity.has_cjk(q) else identity.pinyin_query(q)
    if not key:
        text = identity.clean_name(q).translate(_ASCII_LOWER)
        if len(text) <= 2:  # one posting list: count it from the gram index alone
            grams = CustomerNameGram.objects.filter(gram=text).order_by()
            return _narrowed(
                name_contains_q(text),
                grams.values_list("customer_id", flat=True),
                walk=Q(_gram_exists(text)),
            )
        return _narrowed(name_contains_q(text), walk=Q(name__icontains=text))
    if len(key) == 1:
        condition = _prefix("name_initials", key)  # same set as the full pinyin's first letter
        walk = _walk_prefix("name_initials", key)
    else:
        condition = _prefix("name_pinyin", key) | _prefix("name_initials", key)
        walk = _walk_prefix("name_pinyin", key) | _walk_prefix("name_initials", key)
    if len(key) == 18:
        condition |= Q(uscc=q.strip().upper())
        walk |= Q(Exact(_unindexed("uscc"), q.strip().upper()))
    return _narrowed(condition, walk=walk)


def search_customers(*, actor: User, **filters: Any) -> QuerySet[Customer]:
    """The customers matching the list filters (see `search`), newest first."""
    return search(actor=actor, **filters).queryset


@dataclass
class CustomerSearch:
    queryset: QuerySet[Customer]
    # A text search matching too many names to count cheaply: the list walks its index and
    # the total is not counted (counting a broad match within a scope costs a scan).
    broad_text: bool = False
    # The text matched at most NARROW_MATCHES customers (a bounded id subquery): the whole
    # match can be sorted and counted apart (`_small_match_page`).
    narrowed: bool = False
    # SQLite: the same filter in walk form, for reading a page of a broad list.
    walk: QuerySet[Customer] | None = None


def search(
    *,
    actor: User,
    q: str | None = None,
    tag: int | None = None,
    owner_id: int | None = None,
    credit_level: str | None = None,
    kind: str | None = None,
    mine: bool | None = None,
    department_id: int | None = None,
    status: str | None = "active",
) -> CustomerSearch:
    qs = visible_customers(actor)
    walking = connection.vendor == "sqlite"
    walk = Customer.objects.filter(_walk_scope(actor)) if walking else Customer.objects.none()
    broad_text = narrowed = False

    def both(condition: Q, walk_form: Q | None = None) -> None:
        nonlocal qs, walk
        qs = qs.filter(condition)
        if walking:
            walk = walk.filter(condition if walk_form is None else walk_form)

    if status and status != "all":
        both(Q(status=status))
    if q and q.strip():
        condition = search_q(q)
        broad_text = isinstance(condition, BroadText)
        narrowed = not broad_text
        both(condition, condition.walk if isinstance(condition, BroadText) else None)
    if tag:
        tagged = Customer.tags.through.objects.filter(customer_id=OuterRef("pk"), tag_id=tag)
        both(Q(tags__id=tag), Q(Exists(tagged)))
    if mine:
        both(Q(owner_id=actor.pk))
    elif mine is False:
        both(~Q(owner_id=actor.pk))
    if owner_id:
        both(Q(owner_id=owner_id))
    if credit_level is not None and credit_level != "":
        both(Q(credit_level="" if credit_level == "none" else credit_level))
    if kind:
        both(Q(kind=kind))
    if department_id:
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            return CustomerSearch(qs.none())
        both(
            Q(department__path__startswith=department.path),
            Q(In(_unindexed("department_id"), subtree_ids(department.path))),
        )
    order = ("-updated_at", "-id")
    return CustomerSearch(
        qs.order_by(*order), broad_text, narrowed, walk.order_by(*order) if walking else None
    )


# --- rendering ------------------------------------------------------------------------------


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "full_name": user.full_name or user.username}


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _pii(value: str, field: str, unmasked: bool) -> str:
    return value if unmasked or not value else masked_pii(field, value)


def _audit_unmasked(actor: User, customers: list[Customer], request: HttpRequest | None) -> None:
    """One `pii.view` entry per response that shows plaintext PII."""
    shown = [c for c in customers if c.phone or c.id_number]
    fields = ["id_number", "phone"]
    if not shown:
        return
    if len(shown) == 1:
        audit.record(
            action="pii.view",
            actor=actor,
            target=shown[0],
            extra={"customer_ids": [shown[0].pk], "fields": fields},
            request=request,
        )
    else:
        audit.record(
            action="pii.view",
            actor=actor,
            target_type="customers.customer",
            target_label=f"{len(shown)} customers",
            extra={"customer_ids": [c.pk for c in shown], "fields": fields},
            request=request,
        )


def customer_rows(
    actor: User,
    customers: Iterable[Customer],
    *,
    request: HttpRequest | None = None,
    record: bool = True,
) -> list[dict[str, Any]]:
    """List items. Call with a page of customers (tags, owner, department are prefetched)."""
    items = list(customers)
    unmasked = has_perm(actor, "customers.view_pii")
    today = timezone.localdate()
    rows = [
        {
            "id": c.pk,
            "kind": c.kind,
            "name": c.name,
            "status": c.status,
            "phone": _pii(c.phone, "phone", unmasked),
            "id_number": _pii(c.id_number, "id_number", unmasked),
            "uscc": c.uscc or "",
            "gender": c.gender,
            "age": _age(c.birth_date, today),
            "credit_level": c.credit_level,
            "source_channel": c.source_channel,
            "owner": user_ref(c.owner),
            "department": {"id": c.department.pk, "name": c.department.name}
            if c.department
            else None,
            "tags": [{"id": t.pk, "name": t.name, "color": t.color} for t in c.tags.all()],
            "last_follow_up_at": c.last_follow_up_at,
            "next_follow_up_at": c.next_follow_up_at,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "pii_masked": not unmasked,
        }
        for c in items
    ]
    if unmasked and record:
        _audit_unmasked(actor, items, request)
    return rows


COUNT_CAP = 1_000


def paginate_customers(found: CustomerSearch, page: int, page_size: int) -> dict[str, Any]:
    """Like core.pagination.paginate, tuned for a million customers.

    Up to COUNT_CAP matches: their (id, updated_at) are read without ordering (the planner
    then uses the selective index: a posting list, the blind index, a prefix) and sorted and
    counted in the database (`_small_match_page`), so a small match never walks the whole
    (status, updated_at) index looking for 20 rows, and the count is exact. More matches: the
    page walks the list index (20 hits come quickly) and the count says "over COUNT_CAP". A
    broad text search is not counted at all (count None): counting a common surname within
    one officer's book costs a scan."""
    qs = found.queryset
    size = min(page_size, settings.LOANDESK_MAX_PAGE_SIZE)
    start = (page - 1) * size
    result: dict[str, Any] = {"page": page, "page_size": size}
    if not found.broad_text:
        limit = max(COUNT_CAP, NARROW_MATCHES) if found.narrowed else COUNT_CAP
        ids, matches = _small_match_page(qs, limit, start, size)
        if matches <= limit:
            rows = {c.pk: c for c in page_queryset(Customer.objects.filter(pk__in=ids))}
            items = [rows[pk] for pk in ids if pk in rows]
            capped = matches > COUNT_CAP
            count = COUNT_CAP if capped else matches
            return {**result, "items": items, "count": count, "count_capped": capped}
    # Broad: a page walked from the list index (in walk form on SQLite), by one process.
    with serial_plan():
        items = list(page_queryset(qs if found.walk is None else found.walk)[start : start + size])
    if found.broad_text:
        return {**result, "items": items, "count": None, "count_capped": True}
    return {**result, "items": items, "count": COUNT_CAP, "count_capped": True}


def _small_match_page(
    qs: QuerySet[Customer], limit: int, start: int, size: int
) -> tuple[list[int], int]:
    """The ids of one page of `qs` (newest first) and how many match, counting at most
    limit + 1. The inner query reads at most that many (id, updated_at) unordered, so the
    planner serves it from the selective index (a posting list, a blind index, an id list)
    instead of walking the list index; the outer one sorts and counts them in the database.
    (Reading all the pairs and sorting them in Python cost ~15 ms more at 5,000 matches: the
    rows' transfer and their timestamps' parsing.)"""
    try:
        matches = qs.order_by().values("id", "updated_at")[: limit + 1]
        inner, params = matches.query.sql_with_params()
    except EmptyResultSet:  # a number nobody has, a department that does not exist
        return [], 0
    # `inner` is the ORM's own SQL, its values are in `params`.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.id, count(*) OVER () FROM ({inner}) AS m"  # noqa: S608
            " ORDER BY m.updated_at DESC, m.id DESC LIMIT %s OFFSET %s",
            [*params, size, start],
        )
        rows = cursor.fetchall()
        if rows:
            return [pk for pk, _ in rows], int(rows[0][1])
        # A page past the end.
        cursor.execute(f"SELECT count(*) FROM ({inner}) AS m", params)  # noqa: S608
        return [], int(cursor.fetchone()[0])


def page_queryset(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    return qs.select_related("owner", "department").prefetch_related("tags")


# Counts for the 360 tabs that later apps fill (applications, loans, repayments, collections):
# each app registers how many of the customer's rows the actor may see, counted the way its tab
# lists them (customers knows nothing of those apps). A tab nobody registered counts 0.
TabCounter = Callable[[User, Customer], int]
TAB_COUNTERS: dict[str, TabCounter] = {}


def register_tab_count(tab: str, counter: TabCounter) -> None:
    TAB_COUNTERS[tab] = counter


def _tab_count(tab: str, actor: User, customer: Customer) -> int:
    counter = TAB_COUNTERS.get(tab)
    return counter(actor, customer) if counter is not None else 0


def customer_detail(
    actor: User, customer: Customer, *, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The 360° header and profile, with counts for the tabs."""
    fresh = page_queryset(Customer.objects.filter(pk=customer.pk)).get()
    row = customer_rows(actor, [fresh], record=False)[0]
    unmasked = not row["pii_masked"]
    counts = {
        "follow_ups": FollowUp.objects.filter(customer=customer).count(),
        "documents": Document.objects.filter(customer=customer, deleted_at__isnull=True).count(),
    }
    cards = list(customer.bank_cards.all())
    row.update(
        {
            "birth_date": customer.birth_date,
            "legal_representative": customer.legal_representative,
            "industry": customer.industry,
            "province_code": customer.province_code,
            "province_name": customer.province_name,
            "city_code": customer.city_code,
            "city_name": customer.city_name,
            "district_code": customer.district_code,
            "district_name": customer.district_name,
            "address": customer.address,
            "employer": customer.employer,
            "monthly_income": fen_to_yuan_text(customer.monthly_income),
            "marital_status": customer.marital_status,
            "education": customer.education,
            "remark": customer.remark,
            "custom": customer.custom,
            "bank_cards": [
                {
                    "id": card.pk,
                    "number": card.number if unmasked else mask_bank_card(card.number),
                    "bank_name": card.bank_name,
                    "created_at": card.created_at,
                }
                for card in cards
            ],
            "merged_into": (
                {"id": customer.merged_into.pk, "name": customer.merged_into.name}
                if customer.merged_into_id and customer.merged_into
                else None
            ),
            "created_by": user_ref(customer.created_by),
            "counts": {
                "follow_ups": counts["follow_ups"],
                "documents": counts["documents"],
                **{
                    tab: _tab_count(tab, actor, customer)
                    for tab in ("applications", "loans", "repayments", "collections")
                },
            },
        }
    )
    if unmasked:
        fields = [f for f in ("id_number", "phone") if getattr(customer, f)]
        if cards:
            fields.append("bank_card")
        if fields:
            audit.record(
                action="pii.view",
                actor=actor,
                target=customer,
                extra={"customer_ids": [customer.pk], "fields": fields},
                request=request,
            )
    return row


# --- tags -----------------------------------------------------------------------------------


def tags(*, actor: User) -> list[dict[str, Any]]:
    require_perm(actor, "customers.view")
    rows = Tag.objects.annotate(
        customer_count=Count("customers", filter=Q(customers__status="active"))
    ).order_by("name")
    return [
        {"id": t.pk, "name": t.name, "color": t.color, "customer_count": t.customer_count}
        for t in rows
    ]


# --- timeline -------------------------------------------------------------------------------


def timeline(*, actor: User, customer: Customer) -> QuerySet[TimelineEvent]:
    require_perm(actor, "customers.view")
    return (
        TimelineEvent.objects.filter(customer=customer)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def _render_params(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    if isinstance(out.get("fields"), list):
        sep = "、" if message("customers.field.name") != "Name" else ", "
        out["fields"] = sep.join(field_label(str(f)) for f in out["fields"])
    if isinstance(out.get("field"), str):
        out["field"] = field_label(out["field"])
    if isinstance(out.get("kind"), str) and out["kind"] in CHOICES["follow_up_kind"]:
        out["kind"] = choice_label("follow_up_kind", out["kind"])
    return out


def timeline_rows(events: Iterable[TimelineEvent]) -> list[dict[str, Any]]:
    return [
        {
            "id": e.pk,
            "at": e.at,
            "kind": e.kind,
            "actor": user_ref(e.actor),
            "summary": message(e.summary_code, _render_params(e.params)),
            "ref_type": e.ref_type,
            "ref_id": e.ref_id,
        }
        for e in events
    ]


# --- follow-ups -----------------------------------------------------------------------------


def follow_ups(*, actor: User, customer: Customer) -> QuerySet[FollowUp]:
    require_perm(actor, "customers.view")
    return (
        FollowUp.objects.filter(customer=customer)
        .select_related("author")
        .prefetch_related("photos")
        .order_by("-created_at", "-id")
    )


def _document_url(document: Document) -> str:
    return f"{API}/{document.customer_id}/documents/{document.pk}/file"


def follow_up_rows(items: Iterable[FollowUp]) -> list[dict[str, Any]]:
    return [
        {
            "id": f.pk,
            "customer_id": f.customer_id,
            "author": user_ref(f.author),
            "kind": f.kind,
            "content": f.content,
            "photos": [
                {
                    "id": p.pk,
                    "original_name": p.original_name,
                    "content_type": p.content_type,
                    "url": _document_url(p),
                }
                for p in f.photos.all()
                if p.deleted_at is None
            ],
            "latitude": str(f.latitude) if f.latitude is not None else None,
            "longitude": str(f.longitude) if f.longitude is not None else None,
            "location_address": f.location_address,
            "next_follow_up_at": f.next_follow_up_at,
            "closed_at": f.closed_at,
            "created_at": f.created_at,
        }
        for f in items
    ]


# The to-do card counts exactly up to here and shows "99+" above (an officer at a million
# customers has ~40,000 plans due within the week: an exact count cost 200+ ms per home screen).
FOLLOW_UP_DUE_COUNT_CAP = 99


def todo(*, actor: User, within_days: int = 7) -> QuerySet[FollowUp]:
    """The caller's open planned follow-ups (written by them or on customers they own), due or
    due within `within_days`, soonest first; only customers still in their scope and active."""
    require_perm(actor, "customers.view")
    horizon = timezone.now() + timedelta(days=within_days)
    planned = FollowUp.objects.filter(
        closed_at__isnull=True, next_follow_up_at__isnull=False, next_follow_up_at__lte=horizon
    )
    # Not `author OR customer owner`: an OR across a join that PostgreSQL answers by joining
    # every open follow-up to its customer (seconds at a million customers). On customers the
    # actor owns: a customer's planned follow-up is its next_follow_up_at (the service closes
    # the earlier ones), so cust_owner_next_fu finds those customers first.
    if effective_scope(actor) == DataScope.SELF:
        # Only own customers are in scope: what the actor wrote on others' is out of it. In
        # the customers' next_follow_up_at order (the same as their plans'), so that the
        # database walks cust_owner_next_fu and stops after a page instead of sorting every
        # plan due this week (0.4 ms instead of 200 ms at 40,000 due plans).
        qs = planned.filter(
            customer__owner=actor,
            customer__next_follow_up_at__lte=horizon,
            customer__status=Customer.Status.ACTIVE,
        )
        order: tuple[str, ...] = ("customer__next_follow_up_at", "customer_id", "id")
    else:
        owned = Customer.objects.filter(
            owner=actor, next_follow_up_at__lte=horizon, status=Customer.Status.ACTIVE
        ).values("pk")
        # Written by the actor (the partial index fu_author_open_next) or on own customers.
        ids = (
            planned.filter(author=actor)
            .order_by()
            .values("pk")
            .union(planned.filter(customer__in=owned).order_by().values("pk"))
        )
        qs = FollowUp.objects.filter(pk__in=ids, customer__status=Customer.Status.ACTIVE)
        order = ("next_follow_up_at", "id")
    return scoped(qs, actor, NESTED_SCOPE).select_related("customer", "author").order_by(*order)


def todo_count(qs: QuerySet[FollowUp]) -> tuple[int, bool]:
    """(count, capped): exact up to the cap; above it the cap + 1 and True."""
    n = qs.order_by()[: FOLLOW_UP_DUE_COUNT_CAP + 1].count()
    return n, n > FOLLOW_UP_DUE_COUNT_CAP


def todo_rows(items: Iterable[FollowUp]) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "follow_up_id": f.pk,
            "customer": {"id": f.customer_id, "name": f.customer.name},
            "author": user_ref(f.author),
            "kind": f.kind,
            "content": f.content[:200],
            "next_follow_up_at": f.next_follow_up_at,
            "overdue": f.next_follow_up_at is not None and f.next_follow_up_at <= now,
        }
        for f in items
    ]


# --- documents ------------------------------------------------------------------------------


def documents(*, actor: User, customer: Customer, kind: str | None = None) -> QuerySet[Document]:
    require_perm(actor, "customers.view")
    qs = Document.objects.filter(customer=customer, deleted_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.select_related("uploaded_by").order_by("-created_at", "-id")


def document_rows(items: Iterable[Document]) -> list[dict[str, Any]]:
    return [
        {
            "id": d.pk,
            "customer_id": d.customer_id,
            "kind": d.kind,
            "original_name": d.original_name,
            "content_type": d.content_type,
            "size": d.size,
            "sha256": d.sha256,
            "uploaded_by": user_ref(d.uploaded_by),
            "created_at": d.created_at,
            "url": _document_url(d),
        }
        for d in items
    ]


def document_for(*, actor: User, customer: Customer, document_id: int) -> Document:
    document = documents(actor=actor, customer=customer).filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    return document


# --- imports --------------------------------------------------------------------------------


def import_for(*, actor: User, import_id: int) -> CustomerImport:
    require_perm(actor, "customers.import")
    return get_scoped(CustomerImport.objects.all(), actor, IMPORT_SCOPE, import_id)


# --- choices for the UI ---------------------------------------------------------------------


def meta() -> dict[str, Any]:
    """Every choice list with labels in the caller's language, for pickers and filters."""
    return {
        group: [{"value": value, "label": choice_label(group, value)} for value in values]
        for group, values in CHOICES.items()
    }
