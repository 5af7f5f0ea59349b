import pytest
from django.conf import settings

from tests.factories import ApiClient


@pytest.fixture(autouse=True, scope="session")
def _fast_hashing() -> None:
    """Argon2 is for production (tested on its own); tests hash fast so seeding stays quick."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    # Tests that need the sample approvals seed them themselves (flows.demo.seed_samples).
    settings.LOANDESK_DEMO_FLOW_SAMPLES = False


@pytest.fixture
def demo(db: None) -> dict[str, object]:
    """The demo organisation, roles and one user per role."""
    from loandesk.accounts.models import Department, User
    from loandesk.demo.services import seed_demo

    seed_demo()
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
