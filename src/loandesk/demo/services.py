"""Seeding the demo data. Idempotent: running it again changes nothing that exists."""

from django.conf import settings
from django.db import transaction

from loandesk.accounts.models import Department, Role, User
from loandesk.accounts.permissions import CATALOG
from loandesk.accounts.phones import phone_index
from loandesk.demo import registry
from loandesk.demo.data import DEPARTMENTS, ROLES, USERS


@transaction.atomic
def seed_demo() -> dict[str, int]:
    created = {"departments": 0, "roles": 0, "users": 0}
    departments: dict[str, Department] = {}
    for name, parent_name in DEPARTMENTS:
        parent = departments[parent_name] if parent_name else None
        dept = Department.objects.filter(name=name, parent=parent).first()
        if dept is None:
            dept = Department.objects.create(name=name, parent=parent)
            created["departments"] += 1
        expected_path = f"{parent.path if parent else '/'}{dept.pk}/"
        if dept.path != expected_path:
            dept.path = expected_path
            dept.save(update_fields=["path"])
        departments[name] = dept

    roles: dict[str, Role] = {}
    for spec in ROLES:
        perms = sorted(CATALOG) if spec["permissions"] == "*" else list(spec["permissions"])  # type: ignore[call-overload]
        role, was_created = Role.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "data_scope": spec["data_scope"],
                "permissions": perms,
                "is_system": True,
            },
        )
        if not was_created and spec["permissions"] == "*" and set(perms) - set(role.permissions):
            # New apps add permission codes; the admin role keeps holding all of them.
            role.permissions = sorted(set(role.permissions) | set(perms))
            role.save(update_fields=["permissions"])
        created["roles"] += int(was_created)
        roles[str(spec["code"])] = role

    for username, full_name, role_code, dept_name, phone, heads in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                full_name=full_name,
                department=departments[dept_name],
                phone=phone,
                phone_bidx=phone_index(phone),
                is_staff=username == "admin",
                is_superuser=username == "admin",
            )
            user.set_password(settings.LOANDESK_DEMO_PASSWORD)
            user.save()
            user.roles.set([roles[role_code]])
            created["users"] += 1
        if heads and departments[heads].head_id is None:
            departments[heads].head = user
            departments[heads].save(update_fields=["head"])
    context = {"users": {u.username: u for u in User.objects.all()}, "departments": departments}
    for _order, name, seeder in registry.seeders():
        result = seeder(context)
        if isinstance(result, int):
            created[name] = result
    return created


def has_data() -> bool:
    return User.objects.exists()
