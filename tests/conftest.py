import os
from typing import Any

import pytest
from django.apps import AppConfig
from django.conf import settings
from django.db import connections
from django.db.models.signals import post_migrate

from tests import demo_snapshot as demo_snapshot_module
from tests.demo_snapshot import Snapshot, seed_for_test
from tests.factories import ApiClient


def _clear_report_fact_residue(sender: AppConfig, using: str = "default", **_: object) -> None:
    """A transactional test's flush on SQLite is one DELETE per table in set (hash) order:
    when the report fact tables go before the loans, customers and installments, those
    deletes fire the fact triggers and leave negative deltas for the next test (a loan
    count below zero in the next COB snapshot). PostgreSQL truncates, which fires no row
    trigger. Flush ends with post_migrate, so the residue goes there."""
    conn = connections[using]
    if sender.label != "reports" or conn.vendor != "sqlite":
        return
    from loandesk.reports.models import DailyFact, PortfolioFact

    with conn.cursor() as cursor:
        for model in (PortfolioFact, DailyFact):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")


post_migrate.connect(_clear_report_fact_residue, dispatch_uid="tests-clear-report-fact-residue")


_DATABASE_FIXTURES = {"_django_db_helper", "django_db_setup"}


def _fixture_closure(item: pytest.Item) -> set[str]:
    """Every fixture the test can reach, through overridden fixtures too (pytest's own
    `fixturenames` stops at a fixture that overrides one of the same name)."""
    manager = item.session._fixturemanager
    seen: set[str] = set()
    stack = list(getattr(item, "fixturenames", ()))
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            for definition in manager.getfixturedefs(name, item) or ():
                stack.extend(definition.argnames)
    return seen


def _skip_postgres_only_tests_on_sqlite(items: list[pytest.Item]) -> None:
    """`@pytest.mark.postgres(reason=...)`: the test needs PostgreSQL (concurrent writers,
    several processes on one database, storage settings); on SQLite it is skipped, saying why."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker is not None:
            why = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            if not why:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.postgres needs a reason")
            item.add_marker(
                pytest.mark.skip(
                    reason=f"needs PostgreSQL: {why} (DATABASE_URL=postgres://… to run it)"
                )
            )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """LOANDESK_DATABASE_TESTS_ONLY=1 (the Makefile's PostgreSQL pass): keep only the tests
    that use a database. The others (the expression language, the loan math, the flow engine
    core: half the suite) do not depend on the engine and already ran in the SQLite pass; so
    did the per-app role x endpoint matrices (marked `decided_in_python`): whether a role may
    call an endpoint is decided in Python, and the SQL of the data scopes runs on PostgreSQL in
    the authorization sweep (every endpoint as every role, in and out of scope) and in the
    apps' own scope tests (e.g. tests/forms/test_authorization.py::test_records_are_scoped)."""
    _skip_postgres_only_tests_on_sqlite(items)
    if os.environ.get("LOANDESK_DATABASE_TESTS_ONLY") != "1":
        return
    kept, dropped = [], []
    for item in items:
        uses_db = item.get_closest_marker("django_db") or _DATABASE_FIXTURES & _fixture_closure(
            item
        )
        if item.get_closest_marker("decided_in_python"):
            uses_db = False
        (kept if uses_db else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True, scope="session")
def _fast_hashing() -> None:
    """Argon2 is for production (tested on its own); tests hash fast so seeding stays quick."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    # Tests that need the sample approvals seed them themselves (flows.demo.seed_samples).
    settings.LOANDESK_DEMO_FLOW_SAMPLES = False
    # Every test client builds its own middleware chain, and WhiteNoise's production mode lists
    # and stats every static file (~340) when it is built: ~0.05 s per client, thousands of
    # clients. Its autorefresh mode looks a file up when a request asks for it instead.
    settings.WHITENOISE_AUTOREFRESH = True


_snapshots: list[Snapshot | None] = []


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """pytest-django's, then `seed_demo()`'s rows taken on the freshly migrated database, before
    any test or module fixture has written anything (tests/demo_snapshot.py)."""
    with django_db_blocker.unblock():
        _snapshots.append(demo_snapshot_module.take())


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup: None) -> Snapshot | None:
    return _snapshots[-1] if _snapshots else None


@pytest.fixture
def demo(db: None, demo_snapshot: Snapshot | None) -> dict[str, object]:
    """The demo organisation, roles and one user per role."""
    from loandesk.accounts.models import Department, User

    seed_for_test(demo_snapshot)
    return {
        "users": {u.username: u for u in User.objects.all()},
        "departments": {d.name: d for d in Department.objects.all()},
    }


@pytest.fixture
def client_for(demo: dict[str, object]):  # type: ignore[no-untyped-def]
    """client_for("officer1") → an ApiClient logged in through the real login endpoint."""

    def make(username: str) -> ApiClient:
        client = ApiClient()
        client.login_as(username, settings.LOANDESK_DEMO_PASSWORD)
        return client

    return make


@pytest.fixture
def anon() -> ApiClient:
    return ApiClient()
