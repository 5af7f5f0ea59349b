"""The `Directory` protocol: how the engine turns assignee specs into user ids.

The Django layer implements it over accounts (roles, the department tree) and the form record;
`StaticDirectory` is an in-memory version for tests, the benchmark and demos. User ids are
strings everywhere in the engine (``str(user.pk)``).

``dept_head(user_id, levels_up)``: the head of `user_id`'s department (levels_up=0), of its
parent (1), and so on; None when the tree is not that deep or the department has no head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Directory(Protocol):
    def users_with_role(self, role: str) -> Sequence[str]: ...

    def dept_head(self, user_id: str, levels_up: int) -> str | None: ...

    def form_field_users(self, data: Mapping[str, Any], field: str) -> Sequence[str]: ...

    def customer_owner(self, data: Mapping[str, Any], field: str) -> str | None: ...

    def admins(self) -> Sequence[str]: ...


@dataclass
class StaticDirectory:
    """A directory from plain dicts.

    `departments` maps a department to (parent department or None, head user or None);
    `member_of` maps a user to their department; `customer_owners` maps a customer id (read
    from the data field named in the spec, default ``customer_id``) to its owner.
    """

    roles: dict[str, list[str]] = field(default_factory=dict)
    departments: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    member_of: dict[str, str] = field(default_factory=dict)
    customer_owners: dict[str, str] = field(default_factory=dict)
    admin_ids: list[str] = field(default_factory=list)

    def users_with_role(self, role: str) -> Sequence[str]:
        return list(self.roles.get(role, []))

    def dept_head(self, user_id: str, levels_up: int) -> str | None:
        dept = self.member_of.get(user_id)
        for _ in range(levels_up):
            if dept is None:
                return None
            dept = self.departments.get(dept, (None, None))[0]
        if dept is None:
            return None
        return self.departments.get(dept, (None, None))[1]

    def form_field_users(self, data: Mapping[str, Any], field: str) -> Sequence[str]:
        value = data.get(field)
        if value is None or value == "":
            return []
        if isinstance(value, list | tuple):
            return [str(v) for v in value if v not in (None, "")]
        return [str(value)]

    def customer_owner(self, data: Mapping[str, Any], field: str) -> str | None:
        customer = data.get(field or "customer_id")
        return None if customer is None else self.customer_owners.get(str(customer))

    def admins(self) -> Sequence[str]:
        return list(self.admin_ids)
