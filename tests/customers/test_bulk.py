"""customers.bulk.reserve_ids: fresh primary keys for a bulk insert (imports, the bench
generator), on both engines."""

import pytest

from loandesk.accounts.models import Department
from loandesk.customers import bulk
from tests.factories import make_department


@pytest.mark.django_db
def test_reserved_ids_are_fresh_and_the_table_goes_on_after_them() -> None:
    before = make_department("before")
    assert bulk.reserve_ids(Department, 0) == []
    ids = bulk.reserve_ids(Department, 5)
    assert len(ids) == 5 and ids == sorted(set(ids)) and ids[0] > before.id
    Department.objects.bulk_create([Department(id=i, name=f"reserved {i}") for i in ids])
    after = make_department("after")
    assert after.id > ids[-1]
    # A second reservation does not hand out any id again.
    more = bulk.reserve_ids(Department, 3)
    assert min(more) > after.id
