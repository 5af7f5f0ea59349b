"""Lending demo data: the three demo products and the demo roles' lending permissions."""

from typing import Any

from django.db import transaction

from loandesk.accounts.models import Role
from loandesk.lending.permissions import DEMO_ROLE_GRANTS
from loandesk.lending.products import seed_demo_products


def grant_demo_permissions() -> None:
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    """Idempotent: products are matched by code, permissions only ever added."""
    grant_demo_permissions()
    return seed_demo_products()
