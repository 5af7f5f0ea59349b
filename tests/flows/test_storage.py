"""Storage settings of the flow tables (migration flows 0003)."""

import pytest
from django.db import connection

from loandesk.flows.models import FlowInstance
from tests.flows.conftest import Flows


@pytest.mark.postgres(reason="SQLite has no fillfactor")
@pytest.mark.django_db
def test_instance_pages_keep_room_for_the_transitions() -> None:
    """PostgreSQL: an approval's update of its instance row stays on the page (HOT, no index
    entry written) only if the page has room; the instances table has fillfactor 70."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass",
            [FlowInstance._meta.db_table],
        )
        (options,) = cursor.fetchone()
    assert "fillfactor=70" in (options or [])


@pytest.mark.postgres(reason="SQLite stores the JSON as uncompressed text")
@pytest.mark.django_db
def test_instance_state_is_compressed_with_lz4(flows: Flows) -> None:
    """PostgreSQL (built with lz4, as Debian's is): the state JSON, which every approval stores
    again (~11.5 KB once approved), is compressed with lz4, not pglz (migration flows 0005)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("this PostgreSQL server was built without lz4")
        cursor.execute(
            "SELECT attcompression FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attname = 'state'",
            [FlowInstance._meta.db_table],
        )
        assert cursor.fetchone()[0] == "l"
    # An application submitted and approved once through the services: its stored state.
    instance = flows.submit()
    manager = flows.open_users(instance)[0]
    instance = flows.act(instance, manager)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_compression(state), pg_column_size(state),"
            " octet_length(state::text) FROM flows_flowinstance WHERE id = %s",
            [instance.pk],
        )
        method, stored, text = cursor.fetchone()
    assert stored < text  # stored compressed
    assert method == "lz4"
