"""An officer's day on LoanDesk, for locust (run it with `python -m bench.load`, see
docs/performance.md "Load test").

Each simulated user is one phone signed in as a demo account (the plan, bench/load/plan.py,
says which and what it looks at). It logs in once — GET / (the app shell, which sets the
CSRF cookie the app reads; it calls GET /auth/csrf only when that cookie is missing), POST
/auth/login — and keeps the session cookie for the rest of the run, as the phone app does,
then taps through screens with think time in between. A screen is the requests the app sends
when it opens (the 360 view: the customer and its follow-ups tab; the dashboard: the list, the
dashboard and one query per widget). Every response is checked — status and some content —
and a failed check is a locust failure.

Think time: LOANDESK_LOAD_THINK="min,max" seconds between screens (default 3,10): an officer
reads a screen for a few seconds before the next tap, so 50 users make ~8 screens/s, not a
tight loop.
"""

import itertools
import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, task
from locust.exception import StopUser

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOANDESK_LOAD_PLAN"]).read_text())
THINK = tuple(float(x) for x in os.environ.get("LOANDESK_LOAD_THINK", "3,10").split(","))
API = "/api/v1"
# LOANDESK_LOAD_SMOKE=1: each phone opens every screen once right after logging in (the test
# that keeps this file from rotting runs for a few seconds only).
SMOKE = os.environ.get("LOANDESK_LOAD_SMOKE") == "1"
# LOANDESK_LOAD_ANALYSIS=0: leave out the dashboards' vintage and roll-rate widgets (they read
# the month-end facts of ADR 0013; before those, each request restated every month end from the
# installments, tens of seconds at 1m; the switch compares runs with and without them).
ANALYSIS = os.environ.get("LOANDESK_LOAD_ANALYSIS", "1") != "0"

# Tasks taken by one phone are not offered to another (one locust process, one event loop):
# two phones signed in as the same approver never race for the same task.
_claimed: set[int] = set()


def _accounts(role: str) -> list[dict[str, Any]]:
    return [a for a in PLAN["accounts"] if a["role"] == role]


def _rotation(role: str) -> "itertools.cycle[dict[str, Any]]":
    """The accounts of a role in proportion to their share, interleaved (a, b, a, b, a, c…)."""
    accounts = _accounts(role)
    slots = sorted(
        ((k + 0.5) / a["share"], i) for i, a in enumerate(accounts) for k in range(a["share"])
    )
    return itertools.cycle([accounts[i] for _, i in slots])


_next_account = {role: _rotation(role) for role in ("officer", "approver") if _accounts(role)}


class Phone(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(THINK[0], THINK[1])
    # One keep-alive connection per phone, as a phone has.
    concurrency = 1

    account: dict[str, Any]
    csrf = ""
    opened = False
    permissions: frozenset[str] = frozenset()

    # -- plumbing ------------------------------------------------------------------------

    def _cookie(self, name: str) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == name:
                return str(cookie.value)
        return ""

    def get(self, path: str, name: str, check: Any, **kwargs: Any) -> Any:
        return self._call("GET", path, name, check, **kwargs)

    def post(self, path: str, name: str, check: Any, status: int = 200, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self.csrf, "Content-Type": "application/json"}
        return self._call("POST", path, name, check, status=status, headers=headers, **kwargs)

    def _call(
        self, method: str, path: str, name: str, check: Any, status: int = 200, **kwargs: Any
    ) -> Any:
        """One request; the response must have `status` and a JSON body for which `check`
        returns true. Returns the body, or None when the check failed."""
        with self.client.request(
            method, API + path, name=name, catch_response=True, **kwargs
        ) as response:
            if response.status_code != status:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return None
            try:
                body = response.json()
            except ValueError:
                response.failure("not JSON")
                return None
            try:
                ok = check(body)
            except (KeyError, TypeError, IndexError) as exc:
                ok = False
                response.failure(f"unexpected body ({exc!r}): {(response.text or '')[:200]}")
                return None
            if not ok:
                response.failure(f"check failed: {(response.text or '')[:200]}")
                return None
            response.success()
            return body

    def open_app(self) -> bool:
        """GET / as the phone's browser does: the app shell (index.html) and its CSRF cookie."""
        with self.client.request("GET", "/", name="GET / (app shell)", catch_response=True) as r:
            if r.status_code != 200 or '<div id="app"' not in (r.text or ""):
                r.failure(f"HTTP {r.status_code}: {(r.text or '')[:200]}")
                return False
            if not self._cookie("csrftoken"):
                r.failure("no csrftoken cookie")
                return False
            r.success()
            return True

    # -- the day ---------------------------------------------------------------------------

    def on_start(self) -> None:
        self.account = next(_next_account[self.role])
        self.rng = random.Random()
        if not self.open_app():
            raise StopUser()
        self.csrf = self._cookie("csrftoken")
        me = self.post(
            "/auth/login",
            "POST /auth/login",
            lambda b: b["username"] == self.account["username"],
            json={"username": self.account["username"], "password": PLAN["password"]},
        )
        if me is None:
            raise StopUser()
        self.csrf = self._cookie("csrftoken")  # Django rotates the token at login
        self.permissions = frozenset(me["permissions"])
        self.home()
        if SMOKE:  # every screen once, so that a short run covers them all
            for name in sorted(n for n in dir(self) if n.startswith("t_")):
                getattr(self, name)()
            for kind in sorted({t["kind"] for t in self.account["terms"]}):
                self.search(kind)

    def badges(self) -> Any:
        """What the app sends on every route change: the 审批 and 消息 tab-bar badges."""
        counts = self.inbox_counts()
        self.get("/notify/unread-count", "GET /notify/unread-count", lambda b: b["unread"] >= 0)
        return counts

    def home(self) -> None:
        """首页: the signed-in user (once, when the app opens), the badges, the to-do card."""
        if not self.opened:
            self.get(
                "/auth/me", "GET /auth/me", lambda b: b["username"] == self.account["username"]
            )
            self.opened = True
        self.badges()
        self.get(
            "/customers/follow-ups/todo?within_days=7&page=1&page_size=5",
            "GET /customers/follow-ups/todo",
            lambda b: isinstance(b["items"], list) and b["count"] >= len(b["items"]),
        )

    def inbox_counts(self) -> Any:
        return self.get(
            "/flows/inbox/counts",
            "GET /flows/inbox/counts",
            lambda b: all(b[k] >= 0 for k in ("todo", "done", "cc_unread", "mine_running")),
        )

    def customer_list(self) -> None:
        """客户 tab: the newest 20 in scope."""
        self.badges()
        self.get(
            "/customers?page=1&page_size=20",
            "GET /customers",
            lambda b: len(b["items"]) == 20 and all("name" in c for c in b["items"]),
        )

    def search(self, kind: str | None = None) -> None:
        """The search box, with a term taken from a customer in scope: it must be found."""
        self.badges()
        terms = [t for t in self.account["terms"] if kind is None or t["kind"] == kind]
        term = self.rng.choice(terms)
        self.get(
            "/customers",
            f"GET /customers?q= ({term['kind']})",
            lambda b: len(b["items"]) >= 1,
            params={"q": term["q"], "page": 1, "page_size": 20},
        )

    def customer_360(self) -> None:
        """The 360 view of a customer in scope, and one more tab (follow-ups or timeline)."""
        self.badges()
        cid = self.rng.choice(self.account["customers"])
        self.get(f"/customers/{cid}", "GET /customers/{id}", lambda b: b["id"] == cid)
        if self.rng.random() < 0.5:
            self.get(
                f"/customers/{cid}/follow-ups?page=1&page_size=20",
                "GET /customers/{id}/follow-ups",
                lambda b: isinstance(b["items"], list),
            )
        else:
            self.get(
                f"/customers/{cid}/timeline?page=1&page_size=30",
                "GET /customers/{id}/timeline",
                lambda b: isinstance(b["items"], list),
            )

    def add_follow_up(self) -> None:
        """写跟进: open the form (it loads the customer), save a call note with a next date."""
        self.badges()
        cid = self.rng.choice(self.account["follow_up"])
        self.get(f"/customers/{cid}", "GET /customers/{id}", lambda b: b["id"] == cid)
        content = f"负载测试:电话回访,客户表示本月内补充收入证明。#{self.rng.randrange(10**6)}"
        nxt = (datetime.now(UTC) + timedelta(days=self.rng.randint(1, 14))).isoformat()
        self.post(
            f"/customers/{cid}/follow-ups",
            "POST /customers/{id}/follow-ups",
            lambda b: b["customer_id"] == cid and b["content"] == content,
            status=201,
            json={"kind": "call", "content": content, "next_follow_up_at": nxt},
        )

    def inbox(self) -> Any:
        """审批 tab: the badges and the 待办 list."""
        counts = self.badges()
        page = self.get(
            "/flows/inbox/todo",
            "GET /flows/inbox/todo",
            lambda b: (
                isinstance(b["items"], list)
                and (counts is None or len(b["items"]) <= max(counts["todo"], 20))
            ),
        )
        return page

    def approve(self) -> None:
        """Open a waiting task from the 待办 list and approve it."""
        page = self.inbox()
        if not page:
            return
        todo = [i for i in page["items"] if i["task_id"] not in _claimed]
        while not todo and page.get("next"):
            page = self.get(
                "/flows/inbox/todo",
                "GET /flows/inbox/todo",
                lambda b: isinstance(b["items"], list),
                params={"cursor": page["next"]},
            )
            if not page:
                return
            todo = [i for i in page["items"] if i["task_id"] not in _claimed]
        if not todo:
            return  # nothing left to approve for this account
        item = todo[0]
        _claimed.add(item["task_id"])
        iid = item["instance_id"]
        self.badges()  # the instance page
        detail = self.get(
            f"/flows/instances/{iid}",
            "GET /flows/instances/{id}",
            lambda b: (
                b["id"] == iid
                and b["my_task"] is not None
                and b["my_task"]["id"] == item["task_id"]
                and "approve" in b["my_task"]["actions"]
            ),
        )
        if detail is None:
            return
        self.post(
            f"/flows/instances/{iid}/act",
            "POST /flows/instances/{id}/act (approve)",
            lambda b: (
                b["id"] == iid and (b["my_task"] is None or b["my_task"]["id"] != item["task_id"])
            ),
            json={
                "task_id": item["task_id"],
                "action": "approve",
                "comment": "同意。负载测试",
                "expected_version": detail["version"],
            },
        )
        self.inbox_counts()  # the page refreshes the badge after acting

    def dashboard(self) -> None:
        """看板: the list, the first dashboard, and each widget's query, as the page loads."""
        if "reports.view" not in self.permissions:
            return
        self.badges()
        boards = self.get("/reports/dashboards", "GET /reports/dashboards", lambda b: len(b) > 0)
        if not boards:
            return
        did = boards[0]["id"]
        board = self.get(
            f"/reports/dashboards/{did}", "GET /reports/dashboards/{id}", lambda b: b["id"] == did
        )
        if board is None:
            return
        for widget in board["widgets"]:
            if widget["chart"] in ("vintage", "roll_rate") and not ANALYSIS:
                continue
            if widget["chart"] == "vintage":
                query = widget["query"]
                self.post(
                    "/reports/vintage",
                    "POST /reports/vintage",
                    lambda b: "cohorts" in b,
                    json={"period": query.get("period"), "filters": query.get("filters") or {}},
                )
            elif widget["chart"] == "roll_rate":
                query = widget["query"]
                self.post(
                    "/reports/roll-rate",
                    "POST /reports/roll-rate",
                    lambda b: isinstance(b, dict),
                    json={"period": query.get("period"), "filters": query.get("filters") or {}},
                )
            else:
                self.post(
                    "/reports/query",
                    f"POST /reports/query ({widget['chart']})",
                    lambda b: isinstance(b["rows"], list) and len(b["metrics"]) >= 1,
                    json=widget["query"],
                )


class Officer(Phone):
    """客户经理: customers, follow-ups, own applications; glances at the inbox and dashboard."""

    weight = sum(a["share"] for a in _accounts("officer"))
    role = "officer"

    @task(2)
    def t_home(self) -> None:
        self.home()

    @task(3)
    def t_list(self) -> None:
        self.customer_list()

    @task(5)
    def t_search(self) -> None:
        self.search()

    @task(5)
    def t_360(self) -> None:
        self.customer_360()

    @task(2)
    def t_follow_up(self) -> None:
        if self.account["follow_up"]:
            self.add_follow_up()

    @task(1)
    def t_inbox(self) -> None:
        self.inbox()

    @task(1)
    def t_dashboard(self) -> None:
        self.dashboard()


class Approver(Phone):
    """审批人 (业务经理 / 风控 / 总经理): the inbox, approvals, 360 views and the dashboard."""

    weight = sum(a["share"] for a in _accounts("approver"))
    role = "approver"

    @task(2)
    def t_home(self) -> None:
        self.home()

    @task(3)
    def t_inbox(self) -> None:
        self.inbox()

    @task(3)
    def t_approve(self) -> None:
        self.approve()

    @task(3)
    def t_360(self) -> None:
        self.customer_360()

    @task(1)
    def t_list(self) -> None:
        self.customer_list()

    @task(2)
    def t_search(self) -> None:
        self.search()

    @task(2)
    def t_dashboard(self) -> None:
        self.dashboard()
