"""API fuzzing: schemathesis over the whole OpenAPI document, in-process, on the real database.

Every operation Django Ninja documents at /api/v1/openapi.json becomes one test. Each one sends
schema-conforming and schema-violating requests through Django's real WSGI handler (middleware,
auth, services, database — nothing mocked), signed in as the demo admin with an API token, and
checks that the server never answers 5xx, that every status code is documented, and that every
body matches the schema documented for its status code.

The demo organisation is seeded once for the module inside a transaction that is rolled back at
the end, so nothing leaks into other test modules; every example runs in a savepoint of its own,
so each request sees the same seeded data and a failure replays exactly.

Budget: a fixed seed and a small number of examples per operation keep the run deterministic and
within a few minutes on SQLite on 2 cores (docs/api.md, "Fuzzing", shows a bigger local run).
"""

import os
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from loandesk.api import api
from tests.demo_snapshot import Snapshot, seed_for_test

EXAMPLES = int(os.environ.get("LOANDESK_FUZZ_EXAMPLES", "4"))
COVERAGE = os.environ.get("LOANDESK_FUZZ_COVERAGE", "") == "1"
USER = os.environ.get("LOANDESK_FUZZ_USER", "admin")  # any demo username, e.g. officer1
SEED = int(os.environ.get("LOANDESK_FUZZ_SEED", "20261206"))

schema = schemathesis.openapi.from_dict(
    api.get_openapi_schema(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"coverage": {"enabled": COVERAGE}},
        }
    ),
)
schema.app = WSGIHandler()

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def token(  # type: ignore[no-untyped-def]
    django_db_setup: None, django_db_blocker, demo_snapshot: Snapshot | None
) -> Iterator[str]:
    """The demo data and an API token of USER, seeded once and rolled back after the module."""
    from loandesk.accounts.models import User
    from loandesk.accounts.services import create_token

    with django_db_blocker.unblock(), transaction.atomic():
        seed_for_test(demo_snapshot)
        _token, raw = create_token(actor=User.objects.get(username=USER), name="fuzz")
        yield raw
        transaction.set_rollback(True)


@pytest.fixture
def in_process_connection() -> Iterator[None]:
    """Keep the test's transaction open across requests: Django's WSGI handler closes the
    connection after each request unless told otherwise (the test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
# `db` only grants database access: each example rolls back its own savepoint below.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_api_fuzz(case: Case, token: str, db: None, in_process_connection: None) -> None:
    with transaction.atomic():
        case.call_and_validate(
            headers={
                "Authorization": f"Bearer {token}",
                "Accept-Language": settings.LANGUAGE_CODE,
            },
            checks=CHECKS,
        )
        transaction.set_rollback(True)


def test_fuzz_requests_are_signed_in(token: str, db: None, in_process_connection: None) -> None:
    """The fuzz run exercises the endpoints, not only the 401 answer: the token signs USER in."""
    case = schema["/api/v1/auth/me"]["GET"].Case()
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["username"] == USER
    assert case.call().status_code == 401  # and without it, the API refuses
