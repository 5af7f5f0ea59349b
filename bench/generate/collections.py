"""Collection cases, their logs and promises to pay for the loans overdue at `loans.CLOSED`.

One open case per overdue loan, as the shipped rules would have left it: opened on the day the
loan became overdue (due date + grace + 1, bucket M1) and routed like `collections.open_case`
(the active team serving the bucket, its collector by the team's strategy: round robin through
the team's cursor, the loan's owner, or the fixed user); a loan that has since moved past M1 was
escalated like `collections.escalate_case` the day its bucket changed (the next team serving the
current bucket, its collector by that team's strategy). Bucket, DPD, overdue amount and priority
are what COB's ``collections`` step computes for `CLOSED`, so a COB run for `CLOSED` leaves them.

The log: the system entries (opened, escalated, promise made / broken) and one to four calls,
SMS or visits with results. Promises: about a quarter of the cases have a broken promise (date
passed, nothing paid since: COB would decide it broken) and about one in eight a pending one
(dated after `AS_OF`; the case is `promised`). No kept promises: the generated borrowers never
pay after their due date, so a kept promise would contradict the installments.
"""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from django.db import connection

from loandesk.accounts.models import User
from loandesk.postloan import collections
from loandesk.postloan.models import CollectionTeam

CASE_COLUMNS = (
    "id", "loan_id", "customer_id", "collector_id", "team_id", "department_id", "opened_bucket",
    "opened_dpd", "bucket", "dpd", "overdue_fen", "priority", "status", "close_reason", "source",
    "opened_by_id", "opened_at", "closed_at", "next_action_at", "last_action_at", "last_result",
    "promise_date", "updated_at",
)  # fmt: skip
ACTION_COLUMNS = ("case_id", "kind", "result", "event", "params", "note", "at", "by_id")
PROMISE_COLUMNS = (
    "case_id", "loan_id", "date", "amount_fen", "paid_before_fen", "paid_fen", "status",
    "created_on", "decided_on", "note", "created_by_id", "created_at",
)  # fmt: skip
SOURCE = "rule"
OPENED_BUCKET = "M1"
SCRIPT = (
    ("call", "no_answer", "上午拨打两次无人接听"),
    ("call", "promised", "客户表示近期还款"),
    ("sms", "other", "已发送还款提醒短信"),
    ("call", "refused", "客户称资金紧张，暂无法还款"),
    ("visit", "other", "上门走访，家中无人"),
    ("call", "lost_contact", "号码已停机"),
)
SCRIPT_WEIGHTS = (35, 15, 20, 15, 8, 7)


@dataclass(frozen=True)
class Overdue:
    """What the loan generator knows of one overdue loan."""

    loan_id: int
    customer_id: int
    owner_id: int
    department_id: int | None
    bucket: str
    dpd: int
    overdue_since: date
    grace: int
    overdue_fen: int  # unpaid of the installments due by CLOSED
    paid_fen: int  # everything paid on the loan


class Router:
    """Team and collector choice of `collections` (route_team / next_team / pick_collector),
    with each team's round-robin cursor kept in memory and saved at the end."""

    def __init__(self) -> None:
        self.teams = {t.pk: t for t in CollectionTeam.objects.filter(active=True)}
        self.members = {
            pk: [u.pk for u in collections.active_members(t)] for pk, t in self.teams.items()
        }
        self.cursor = {pk: t.rr_cursor for pk, t in self.teams.items()}
        self.names = dict(User.objects.values_list("pk", "full_name"))
        self.route: dict[tuple[str, int | None], CollectionTeam | None] = {}

    def team(self, bucket: str, after: CollectionTeam | None = None) -> CollectionTeam | None:
        key = (bucket, after.pk if after else None)
        if key not in self.route:
            if after is None:
                self.route[key] = collections.route_team(bucket)
            else:
                self.route[key] = collections.next_team(after, bucket)
        return self.route[key]

    def collector(self, team: CollectionTeam | None, owner_id: int) -> int | None:
        if team is None or team.strategy == CollectionTeam.Strategy.OWNER:
            return owner_id
        members = self.members[team.pk]
        if team.strategy == CollectionTeam.Strategy.FIXED:
            if team.fixed_user_id is not None:
                return team.fixed_user_id
            return members[0] if members else None
        if not members:
            return None
        chosen = members[self.cursor[team.pk] % len(members)]
        self.cursor[team.pk] += 1
        return chosen

    def save(self) -> None:
        for pk, value in self.cursor.items():
            if value != self.teams[pk].rr_cursor:
                CollectionTeam.objects.filter(pk=pk).update(rr_cursor=value)

    def label(self, user_id: int | None) -> str:
        return self.names.get(user_id, "") if user_id else ""


class Collector:
    def __init__(self, seed: int, closed: date) -> None:
        self.rng = random.Random(seed + 13)
        self.closed = closed
        self.router = Router()
        self.adapt_dt = connection.ops.adapt_datetimefield_value
        self.adapt_d = connection.ops.adapt_datefield_value
        self.json = connection.ops.adapt_json_value

    def _at(self, d: date, hour: int = 2) -> Any:
        return self.adapt_dt(datetime.combine(d, dtime(hour, self.rng.randrange(60)), tzinfo=UTC))

    def _params(self, params: dict[str, Any]) -> Any:
        return self.json(params, None)

    def case(
        self, case_id: int, o: Overdue
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng, router = self.rng, self.router
        opened_on = o.overdue_since + timedelta(days=o.grace + 1)
        opened_dpd = (opened_on - o.overdue_since).days
        team = router.team(OPENED_BUCKET)
        collector = router.collector(team, o.owner_id)
        actions: list[tuple[Any, ...]] = []
        opened_at = self._at(opened_on)
        actions.append(
            (case_id, "system", "", "opened",
             self._params({"team": team.name if team else "", "collector": router.label(collector),
                           "bucket": OPENED_BUCKET, "dpd": opened_dpd}), "", opened_at, None)
        )  # fmt: skip
        worked_by = collector
        assigned_on = opened_on
        if o.bucket != OPENED_BUCKET and team is not None:
            escalate_on = o.overdue_since + timedelta(days=31)  # the day the bucket left M1
            # The shipped rule escalates once, when the bucket turns M2 (`dpd30_escalation`).
            target = router.team("M2", after=team)
            if target is not None and target.pk != team.pk:
                new = router.collector(target, o.owner_id)
                actions.append(
                    (case_id, "system", "", "escalated",
                     self._params({"from_team": team.name, "to_team": target.name,
                                   "from_collector": router.label(collector),
                                   "to_collector": router.label(new), "bucket": "M2"}),
                     "", self._at(escalate_on, 1), None)
                )  # fmt: skip
                team, collector, worked_by = target, new, new
                assigned_on = escalate_on
        days = (self.closed - opened_on).days
        last_at = None
        last_result = ""
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            kind, result, note = rng.choices(SCRIPT, weights=SCRIPT_WEIGHTS)[0]
            on = assigned_on + timedelta(
                days=rng.randint(0, max((self.closed - assigned_on).days, 0))
            )
            at = self._at(on, 3 + rng.randrange(6))
            actions.append((case_id, kind, result, "", self._params({}), note, at, worked_by))
            if last_at is None or at > last_at:
                last_at, last_result = at, result
        promises: list[tuple[Any, ...]] = []
        status, promise_date = "open", None
        u = rng.random()
        amount = max(o.overdue_fen, 100)
        if u < 0.25 and days >= 9:
            made = opened_on + timedelta(days=rng.randint(0, days - 8))
            due = made + timedelta(days=rng.randint(3, 7))
            decided = due + timedelta(days=1)
            yuan = f"{amount // 100}.{amount % 100:02d}"
            promises.append(
                (case_id, o.loan_id, self.adapt_d(due), amount, o.paid_fen, 0, "broken",
                 self.adapt_d(made), self.adapt_d(decided), "客户承诺按期还款", worked_by,
                 self._at(made, 4))
            )  # fmt: skip
            actions.append(
                (case_id, "system", "", "promise_made",
                 self._params({"date": due.isoformat(), "amount": yuan}), "客户承诺按期还款",
                 self._at(made, 4), worked_by)
            )  # fmt: skip
            actions.append(
                (case_id, "system", "", "promise_broken",
                 self._params({"date": due.isoformat(), "amount": yuan, "paid": "0.00"}), "",
                 self._at(decided, 0), None)
            )  # fmt: skip
        elif u < 0.375:
            made = self.closed - timedelta(days=rng.randint(0, min(3, max(days, 0))))
            due = self.closed + timedelta(days=rng.randint(2, 10))
            yuan = f"{amount // 100}.{amount % 100:02d}"
            promises.append(
                (case_id, o.loan_id, self.adapt_d(due), amount, o.paid_fen, 0, "pending",
                 self.adapt_d(made), None, "客户承诺近期还款", worked_by, self._at(made, 5))
            )  # fmt: skip
            actions.append(
                (case_id, "system", "", "promise_made",
                 self._params({"date": due.isoformat(), "amount": yuan}), "客户承诺近期还款",
                 self._at(made, 5), worked_by)
            )  # fmt: skip
            status, promise_date = "promised", self.adapt_d(due)
        next_at = None
        if rng.random() < 0.5:
            next_at = self._at(self.closed + timedelta(days=rng.randint(1, 7)), 2)
        priority = collections.priority_score(o.overdue_fen, o.dpd)
        case = (
            case_id, o.loan_id, o.customer_id, collector, team.pk if team else None,
            o.department_id, OPENED_BUCKET, opened_dpd, o.bucket, o.dpd, o.overdue_fen, priority,
            status, "", SOURCE, None, opened_at, None, next_at, last_at, last_result,
            promise_date, last_at or opened_at,
        )  # fmt: skip
        return case, actions, promises
