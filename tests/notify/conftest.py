"""The flows fixtures (demo organisation, submit/act helpers) for the notify tests, and a
customer factory for the channel tests."""

from collections.abc import Callable
from typing import Any

import pytest

from tests.flows.conftest import flows  # noqa: F401  (fixture)


@pytest.fixture
def make_customer(demo: dict[str, Any]) -> Callable[..., Any]:
    from loandesk.accounts.models import User
    from loandesk.accounts.phones import phone_index
    from loandesk.customers.models import Customer

    def make(phone: str = "13812345678", owner: str = "officer1", name: str = "张三") -> Any:
        user = User.objects.get(username=owner)
        return Customer.objects.create(
            name=name,
            phone=phone,
            phone_bidx=phone_index(phone),
            owner=user,
            department=user.department,
        )

    return make
