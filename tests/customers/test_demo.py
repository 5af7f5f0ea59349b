"""The demo seeder: realistic, valid and idempotent; demo roles get their customer permissions."""

from typing import Any

from loandesk.accounts.models import Role
from loandesk.customers import identity
from loandesk.customers.models import Customer, FollowUp, Tag, TimelineEvent
from loandesk.customers.permissions import DEMO_ROLE_GRANTS
from loandesk.demo.services import seed_demo


def test_demo_customers_are_valid(demo: Any) -> None:
    customers = list(Customer.objects.all())
    assert len(customers) == 40
    people = [c for c in customers if c.kind == "individual"]
    assert len(people) == 36
    for c in people:
        rid = identity.clean_id_number(c.id_number)
        assert (rid.gender, rid.birth_date) == (c.gender, c.birth_date)
        assert c.phone[:3] in ("138", "139", "135", "136", "137", "150", "151", "152", "158",
                               "159", "186", "187", "188", "189", "180", "181", "183")  # fmt: skip
        assert c.name_pinyin and c.name_initials
    for c in customers:
        if c.kind == "enterprise":
            assert identity.clean_uscc(c.uscc or "") == c.uscc
    assert {c.owner.username for c in customers} == {"officer1", "officer2"}
    assert {c.department.name for c in customers if c.department} == {"北京一组", "上海一组"}
    assert FollowUp.objects.filter(next_follow_up_at__isnull=False).exists()
    assert Tag.objects.count() >= 4
    assert TimelineEvent.objects.filter(kind="created").count() == 40


def test_seeding_twice_duplicates_nothing(demo: Any) -> None:
    counts = (Customer.objects.count(), FollowUp.objects.count(), Tag.objects.count())
    seed_demo()
    assert counts == (Customer.objects.count(), FollowUp.objects.count(), Tag.objects.count())


def test_demo_roles_hold_their_customer_permissions(demo: Any) -> None:
    for code, perms in DEMO_ROLE_GRANTS.items():
        assert set(perms) <= set(Role.objects.get(code=code).permissions), code
    admin = set(Role.objects.get(code="admin").permissions)
    assert {"customers.merge", "customers.delete", "customers.import"} <= admin
