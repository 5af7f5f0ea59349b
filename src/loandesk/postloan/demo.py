"""Post-loan demo data: the demo roles' post-loan permissions."""

from typing import Any

from django.db import transaction

from loandesk.accounts.models import Role
from loandesk.postloan.permissions import DEMO_ROLE_GRANTS


@transaction.atomic
def seed(context: dict[str, Any]) -> int:
    """Idempotent: permissions are only ever added."""
    changed = 0
    for code, perms in DEMO_ROLE_GRANTS.items():
        role = Role.objects.filter(code=code).first()
        if role is not None and set(perms) - set(role.permissions):
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])
            changed += 1
    return changed
