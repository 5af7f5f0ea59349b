"""Login and an authenticated list endpoint through the full Django stack, in process.

Baseline: the unauthenticated health endpoint on the same stack (the framework's floor), so the
ratio shows what authentication, scoping and serialisation cost on top of it.
"""

import json

from django.conf import settings
from django.db import connection
from django.test import Client

from bench.harness import Row, measure, row_from


def _client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="zh-CN")


def run(scale: str) -> list[Row]:
    engine = connection.vendor
    repeat = 200 if scale == "small" else 1000
    anonymous = _client()
    health = measure(lambda: anonymous.get("/api/v1/health"), repeat=repeat)
    base = row_from("health (baseline)", engine, health)

    def login() -> None:
        client = _client()
        response = client.post(
            "/api/v1/auth/login",
            json.dumps({"username": "admin", "password": settings.LOANDESK_DEMO_PASSWORD}),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    logged_in = _client()
    logged_in.post(
        "/api/v1/auth/login",
        json.dumps({"username": "admin", "password": settings.LOANDESK_DEMO_PASSWORD}),
        content_type="application/json",
    )

    def list_users() -> None:
        response = logged_in.get("/api/v1/accounts/users", {"page_size": 20})
        assert response.status_code == 200

    rows = [base]
    login_times = measure(login, repeat=max(20, repeat // 10))
    rows.append(
        row_from(
            "login (argon2id)",
            engine,
            login_times,
            baseline="health",
            baseline_median_ms=base.median_ms,
            target="p95 <= 500 ms",
        )
    )
    rows[-1].met = rows[-1].p95_ms <= 500
    list_times = measure(list_users, repeat=repeat)
    list_row = row_from(
        "GET /accounts/users (20)",
        engine,
        list_times,
        baseline="health",
        baseline_median_ms=base.median_ms,
        target="p95 <= 50 ms",
    )
    list_row.met = list_row.p95_ms <= 50
    rows.append(list_row)
    return rows
