"""`loandesk backup` / `loandesk restore` round trip: every table comes back identical."""

from pathlib import Path

import pytest
from django.core.management import call_command

from loandesk.accounts.models import User
from loandesk.core.backup import table_fingerprints


@pytest.mark.django_db(transaction=True)
def test_backup_restore_round_trip(tmp_path: Path) -> None:
    from loandesk.demo.services import seed_demo

    seed_demo()
    before = table_fingerprints()
    target = tmp_path / "backup.bin"
    call_command("backup", "--output", str(target))
    assert target.stat().st_size > 0

    # Damage the data after the backup: change a row, delete rows, add rows.
    User.objects.filter(username="officer1").update(full_name="被改掉")
    User.objects.filter(username="collector").delete()
    seed_count = User.objects.count()
    assert table_fingerprints() != before

    call_command("restore", str(target), "--yes")
    after = table_fingerprints()
    assert after == before
    assert User.objects.get(username="officer1").full_name == "王小明"
    assert User.objects.count() == seed_count + 1


@pytest.mark.django_db
def test_restore_refuses_a_missing_file(tmp_path: Path) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no backup"):
        call_command("restore", str(tmp_path / "nope"), "--yes")
