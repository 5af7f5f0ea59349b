"""Migrations are committed and reversible: the models match them, and every app's migrations
unapply to nothing and apply again on the test database (both engines)."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db
def test_models_have_no_unmigrated_changes() -> None:
    # Raises SystemExit(1) when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_every_migration_reverses_and_reapplies() -> None:
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    ours = [app for app, _ in leaves if apps.get_app_config(app).name.startswith("loandesk.")]
    assert "flows" in ours and "lending" in ours
    # Back to before each of our apps' first migration (Django orders the dependants first).
    executor.migrate([(app, None) for app in ours])
    executor = MigrationExecutor(connection)
    tables = set(connection.introspection.table_names())
    assert not {t for t in tables if t.startswith(("flows_", "lending_", "postloan_", "core_"))}
    executor.migrate(leaves)
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(leaves), "not every migration re-applied"
    assert "flows_flowtask" in connection.introspection.table_names()
