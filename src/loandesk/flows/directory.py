"""`OrgDirectory`: the engine's `Directory` over accounts, customers and form records.

- roles: active users holding the role (`Role.code`);
- department heads: `Department.head`. ``dept_head(user, levels_up)`` takes the department
  `levels_up` steps above the user's own; when that department has no head, the nearest head
  above it answers (a team without a leader reports to its branch's head). None when the tree is
  not that deep or nobody above has a head;
- form user fields: the user ids a `user` field (or a list of them) holds;
- customer owner: the owner of the customer the data's relation field names (default the
  record's customer);
- admins: active superusers and holders of ``flows.admin``.

One directory serves one command; lookups are cached for its lifetime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q

from loandesk.accounts.models import Department, Role, User
from loandesk.flows.messages import ADMIN


class OrgDirectory:
    def __init__(self, *, customer_id: int | None = None) -> None:
        self.customer_id = customer_id
        self._roles: dict[str, list[str]] = {}
        self._admins: list[str] | None = None
        self._depts: dict[int, tuple[int | None, int | None]] | None = None
        self._member: dict[str, int | None] = {}

    def users_with_role(self, role: str) -> Sequence[str]:
        if role not in self._roles:
            ids = User.objects.filter(roles__code=role, is_active=True).order_by("pk")
            self._roles[role] = [str(pk) for pk in ids.values_list("pk", flat=True).distinct()]
        return list(self._roles[role])

    def _tree(self) -> dict[int, tuple[int | None, int | None]]:
        if self._depts is None:
            active_heads = set(
                User.objects.filter(
                    is_active=True, pk__in=Department.objects.values("head")
                ).values_list("pk", flat=True)
            )
            self._depts = {
                pk: (parent, head if head in active_heads else None)
                for pk, parent, head in Department.objects.values_list("pk", "parent_id", "head_id")
            }
        return self._depts

    def dept_head(self, user_id: str, levels_up: int) -> str | None:
        if user_id not in self._member:
            self._member[user_id] = (
                User.objects.filter(pk=_int(user_id) or 0)
                .values_list("department_id", flat=True)
                .first()
            )
        dept = self._member[user_id]
        tree = self._tree()
        for _ in range(levels_up):
            if dept is None:
                return None
            dept = tree.get(dept, (None, None))[0]
        while dept is not None:
            parent, head = tree.get(dept, (None, None))
            if head is not None:
                return str(head)
            dept = parent
        return None

    def form_field_users(self, data: Mapping[str, Any], field: str) -> Sequence[str]:
        value = data.get(field)
        values = value if isinstance(value, list | tuple) else [value]
        ids = [_int(v) for v in values if v not in (None, "")]
        ids = [i for i in ids if i is not None]
        if not ids:
            return []
        found = set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
        return [str(i) for i in ids if i in found]

    def customer_owner(self, data: Mapping[str, Any], field: str) -> str | None:
        from loandesk.customers.models import Customer

        ref = data.get(field) if field else None
        customer_id = _int(ref) if ref not in (None, "") else self.customer_id
        if customer_id is None:
            return None
        owner = (
            Customer.objects.filter(pk=customer_id, owner__is_active=True)
            .values_list("owner_id", flat=True)
            .first()
        )
        return None if owner is None else str(owner)

    def admins(self) -> Sequence[str]:
        if self._admins is None:
            roles = [r.pk for r in Role.objects.all() if ADMIN in (r.permissions or [])]
            qs = User.objects.filter(Q(is_superuser=True) | Q(roles__in=roles), is_active=True)
            self._admins = [
                str(pk) for pk in qs.order_by("pk").values_list("pk", flat=True).distinct()
            ]
        return list(self._admins)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
