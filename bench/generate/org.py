"""The demo organisation plus enough loan officers to spread a large book over it."""

from loandesk.accounts.models import Department, Role, User
from loandesk.demo.services import seed_demo

GROUPS = ("北京一组", "北京二组", "上海一组", "上海二组")
OFFICERS_PER_GROUP = 12
PASSWORD = "bench-only-not-a-login"


def ensure_org() -> list[User]:
    """The demo org (idempotent) and bench officers bench_o01…bench_o48 in the four groups;
    returns every officer that may own customers, officer1 and officer2 first."""
    seed_demo()
    role = Role.objects.get(code="officer")
    officers = list(User.objects.filter(username__in=["officer1", "officer2"]).order_by("username"))
    n = 0
    for group in GROUPS:
        department = Department.objects.get(name=group)
        for _ in range(OFFICERS_PER_GROUP):
            n += 1
            username = f"bench_o{n:02d}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, full_name=f"客户经理{n:02d}", department=department)
                user.set_unusable_password()
                user.save()
                user.roles.add(role)
            officers.append(user)
    return officers
