"""The load test's plan: which demo accounts log in, how many simulated phones each gets, and
what each one looks at (customers in its scope, search terms that exist in the data).

Read-only: it runs against the data set before the test (`python -m bench.load` calls
`build()` in a child process) and writes JSON that the locustfile reads. Search terms come from
customers the account can see, so every search finds something: the full name, the surname,
the given name, the full pinyin, the initials and the full mobile number (the app searches a
mobile exactly, through its blind index; a partial number is not a search it offers).
"""

import json
import random
from pathlib import Path
from typing import Any

# (username, share of the simulated users, role in the day). The demo accounts that own or
# approve data: the two officers own customers (officer1 carries ~8 % of a generated book),
# the manager sees the 北京 branch tree and approves 业务经理初审, risk approves 风控审核 and gm
# 总经理终审 (they see every customer). Password: LOANDESK_DEMO_PASSWORD.
ACCOUNTS: list[tuple[str, int, str]] = [
    ("officer1", 14, "officer"),
    ("officer2", 14, "officer"),
    ("manager", 10, "approver"),
    ("risk", 8, "approver"),
    ("gm", 4, "approver"),
]

SAMPLE = 300  # customers per account, picked at random in its scope
SEED = 20261206


def _terms(customer: Any) -> list[dict[str, str]]:
    terms = [{"kind": "name", "q": customer.name}]
    if customer.kind == "individual" and len(customer.name) >= 2:
        terms.append({"kind": "surname", "q": customer.name[0]})
        terms.append({"kind": "given", "q": customer.name[1:]})
    if customer.name_pinyin:
        terms.append({"kind": "pinyin", "q": customer.name_pinyin})
    if customer.name_initials and len(customer.name_initials) >= 2:
        terms.append({"kind": "initials", "q": customer.name_initials})
    if customer.phone:
        terms.append({"kind": "phone", "q": customer.phone})
    return terms


def build(*, sample: int = SAMPLE, seed: int = SEED) -> dict[str, Any]:
    """The plan for the data set Django is connected to."""
    from django.conf import settings
    from django.db.models import Max, Min

    from loandesk.accounts.models import User
    from loandesk.accounts.scoping import has_perm
    from loandesk.customers.selectors import visible_customers

    rng = random.Random(seed)
    accounts = []
    for username, share, role in ACCOUNTS:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            continue
        visible = visible_customers(user).filter(status="active")
        # A random sample without sorting a million rows: random ids in the id range, kept
        # when visible (scoped accounts see a slice of the range, so draw more).
        bounds = visible.aggregate(lo=Min("pk"), hi=Max("pk"))
        picked: dict[int, Any] = {}
        if bounds["lo"] is not None:
            lo, hi = bounds["lo"], bounds["hi"]
            for _ in range(20):
                ids = [rng.randint(lo, hi) for _ in range(sample * 4)]
                for c in visible.filter(pk__in=ids).only(
                    "id", "kind", "name", "name_pinyin", "name_initials", "phone", "owner_id"
                ):
                    picked.setdefault(c.pk, c)
                if len(picked) >= sample:
                    break
            if len(picked) < sample:  # a small scope: take what there is
                for c in visible.order_by("-pk")[:sample]:
                    picked.setdefault(c.pk, c)
        customers = list(picked.values())[:sample]
        can_update = has_perm(user, "customers.update")
        accounts.append(
            {
                "username": username,
                "share": share,
                "role": role,
                "customers": [c.pk for c in customers],
                "follow_up": [c.pk for c in customers] if can_update and role == "officer" else [],
                "terms": [t for c in customers for t in _terms(c)],
            }
        )
    return {"password": settings.LOANDESK_DEMO_PASSWORD, "accounts": accounts}


def write(path: Path, **kwargs: Any) -> dict[str, Any]:
    plan = build(**kwargs)
    path.write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    return plan


def main() -> int:
    import argparse
    import os
    from datetime import date

    parser = argparse.ArgumentParser(prog="python -m bench.load.plan")
    parser.add_argument("out", type=Path)
    parser.add_argument("--business-date", type=date.fromisoformat)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loandesk.settings")
    import django

    django.setup()
    if args.business_date:
        from loandesk.core.services import get_business_date, set_business_date

        if get_business_date() != args.business_date:
            set_business_date(actor=None, new_date=args.business_date, allow_backwards=True)
    write(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
