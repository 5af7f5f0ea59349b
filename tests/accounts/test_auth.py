"""Login, lockout, sessions, CSRF, password change, TOTP and API tokens."""

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from loandesk.accounts.middleware import LAST_SEEN, LOGIN_AT
from loandesk.accounts.models import ApiToken
from loandesk.core.models import AuditEntry
from tests.factories import ApiClient

PASSWORD = "LoanDesk@2026"


def test_login_with_username_returns_me(demo: Any) -> None:
    client = ApiClient()
    me = client.login_as("officer1", PASSWORD).json()
    assert me["username"] == "officer1"
    assert me["department"]["path"] == "总部 / 北京分公司 / 北京一组"
    assert me["roles"][0]["code"] == "officer"
    assert me["phone"] == "139****0005"
    assert client.get("auth/me").json()["id"] == me["id"]


def test_login_with_phone_number(demo: Any) -> None:
    client = ApiClient()
    assert client.login_as("139 1000 0005", PASSWORD).json()["username"] == "officer1"


def test_wrong_password_is_401_in_users_language(demo: Any) -> None:
    response = ApiClient(language="en-US").post(
        "auth/login", {"username": "officer1", "password": "nope-nope-nope"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "code": "auth.invalid_credentials",
        "message": "Wrong username or password",
        "details": {},
    }
    response = ApiClient().post("auth/login", {"username": "ghost", "password": "x"})
    assert response.json()["message"] == "用户名或密码错误"


def test_inactive_user_cannot_log_in(demo: Any) -> None:
    demo["users"]["officer2"].is_active = False
    demo["users"]["officer2"].save()
    response = ApiClient().post("auth/login", {"username": "officer2", "password": PASSWORD})
    assert response.status_code == 401


def test_lockout_after_five_failures_per_account_and_address(demo: Any) -> None:
    attacker = ApiClient(remote_addr="10.0.0.9")
    for _ in range(5):
        response = attacker.post("auth/login", {"username": "officer1", "password": "bad-guess-1"})
        assert response.status_code in (401, 429)
    # Even the right password is refused while locked.
    locked = attacker.post("auth/login", {"username": "officer1", "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.json()["code"] == "auth.locked_out"
    # The same account from another address, and another account from this one, still work.
    ApiClient(remote_addr="10.0.0.10").login_as("officer1", PASSWORD)
    ApiClient(remote_addr="10.0.0.9").login_as("officer2", PASSWORD)
    assert AuditEntry.objects.filter(action="auth.locked_out", actor_username="officer1").exists()
    # After 15 minutes the lock lifts.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    ApiClient(remote_addr="10.0.0.9").login_as("officer1", PASSWORD)


def test_csrf_is_required_for_session_writes(demo: Any) -> None:
    client = ApiClient()
    client.login_as("officer1", PASSWORD)
    raw = client.client.post(
        "/api/v1/auth/tokens", '{"name": "x"}', content_type="application/json"
    )
    assert raw.status_code == 403
    assert raw.json()["code"] == "csrf_failed"
    assert client.post("auth/tokens", {"name": "x"}).status_code == 201


def test_login_itself_requires_csrf(demo: Any) -> None:
    client = ApiClient()
    raw = client.client.post(
        "/api/v1/auth/login",
        '{"username": "officer1", "password": "LoanDesk@2026"}',
        content_type="application/json",
    )
    assert raw.status_code == 403


def test_logout_ends_the_session(demo: Any) -> None:
    client = ApiClient()
    client.login_as("officer1", PASSWORD)
    assert client.post("auth/logout").status_code == 204
    assert client.get("auth/me").status_code == 401


def _age_session(client: ApiClient, *, login_ago: float, seen_ago: float) -> None:
    session = client.client.session
    now = timezone.now().timestamp()
    session[LOGIN_AT] = now - login_ago
    session[LAST_SEEN] = now - seen_ago
    session.save()


def test_session_expires_after_inactivity(demo: Any) -> None:
    client = ApiClient()
    client.login_as("officer1", PASSWORD)
    _age_session(client, login_ago=100, seen_ago=settings.LOANDESK_SESSION_IDLE_SECONDS + 5)
    response = client.get("auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.session_expired"
    assert client.get("auth/me").json()["code"] == "auth.not_authenticated"


def test_session_has_an_absolute_lifetime(demo: Any) -> None:
    client = ApiClient()
    client.login_as("officer1", PASSWORD)
    _age_session(client, login_ago=settings.LOANDESK_SESSION_MAX_SECONDS + 5, seen_ago=1)
    assert client.get("auth/me").json()["code"] == "auth.session_expired"


def test_active_session_stays_alive(demo: Any) -> None:
    client = ApiClient()
    client.login_as("officer1", PASSWORD)
    _age_session(client, login_ago=600, seen_ago=settings.LOANDESK_SESSION_IDLE_SECONDS - 60)
    assert client.get("auth/me").status_code == 200
    assert client.get("auth/me").status_code == 200


def test_password_change_needs_current_and_ends_other_sessions(demo: Any) -> None:
    phone, laptop = ApiClient(), ApiClient()
    phone.login_as("officer1", PASSWORD)
    laptop.login_as("officer1", PASSWORD)
    wrong = phone.post(
        "auth/password", {"current_password": "not-it-at-all", "new_password": "Brand-New-2026"}
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.json()["details"]["fields"]
    weak = phone.post("auth/password", {"current_password": PASSWORD, "new_password": "123"})
    assert weak.status_code == 422
    assert "new_password" in weak.json()["details"]["fields"]
    ok = phone.post(
        "auth/password", {"current_password": PASSWORD, "new_password": "Brand-New-2026"}
    )
    assert ok.status_code == 204
    assert phone.get("auth/me").status_code == 200
    assert laptop.get("auth/me").status_code == 401
    ApiClient().login_as("officer1", "Brand-New-2026")


def test_language_preference_is_saved(demo: Any) -> None:
    client = ApiClient()
    client.login_as("officer1", PASSWORD)
    assert client.patch("auth/me", {"language": "en-US"}).json()["language"] == "en-US"
    assert client.patch("auth/me", {"language": "fr-FR"}).status_code == 422


def _current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_totp_enrolment_and_login(demo: Any) -> None:
    client = ApiClient()
    client.login_as("risk", PASSWORD)
    setup = client.post("auth/otp/setup").json()
    assert setup["otpauth_url"].startswith("otpauth://totp/")
    assert setup["qr_png"].startswith("data:image/png;base64,")
    device = TOTPDevice.objects.get(user__username="risk")
    assert client.post("auth/otp/confirm", {"code": "000000"}).status_code == 422
    device.refresh_from_db()
    device.throttle_reset()  # django-otp throttles after a wrong code; a person would wait
    me = client.post("auth/otp/confirm", {"code": _current_code(device)}).json()
    assert me["otp_enabled"] is True

    fresh = ApiClient()
    step1 = fresh.post("auth/login", {"username": "risk", "password": PASSWORD})
    assert step1.status_code == 401
    assert step1.json()["code"] == "auth.otp_required"
    bad = fresh.post("auth/login", {"username": "risk", "password": PASSWORD, "otp_code": "123456"})
    assert bad.json()["code"] == "auth.otp_invalid"
    device.refresh_from_db()
    device.last_t = -1  # allow the same code again for the next login in this test
    device.save()
    device.throttle_reset()
    ok = fresh.post(
        "auth/login",
        {"username": "risk", "password": PASSWORD, "otp_code": _current_code(device)},
    )
    assert ok.status_code == 200, ok.content

    assert client.post("auth/otp/disable", {"password": "wrong-wrong"}).status_code == 422
    assert client.post("auth/otp/disable", {"password": PASSWORD}).json()["otp_enabled"] is False
    ApiClient().login_as("risk", PASSWORD)


def test_roles_can_be_forced_to_enrol_totp(demo: Any, settings: Any) -> None:
    settings.LOANDESK_OTP_REQUIRED_ROLES = ["admin"]
    client = ApiClient()
    me = client.login_as("admin", PASSWORD).json()
    assert me["otp_required"] is True
    blocked = client.get("accounts/users")
    assert blocked.status_code == 403
    assert blocked.json()["code"] == "auth.otp_setup_required"
    client.post("auth/otp/setup")
    device = TOTPDevice.objects.get(user__username="admin")
    client.post("auth/otp/confirm", {"code": _current_code(device)})
    assert client.get("accounts/users").status_code == 200
    # Roles outside the list are unaffected.
    officer = ApiClient()
    officer.login_as("officer1", PASSWORD)
    assert officer.get("auth/tokens").status_code == 200


def test_api_token_create_use_revoke(demo: Any) -> None:
    client = ApiClient()
    client.login_as("gm", PASSWORD)
    created = client.post("auth/tokens", {"name": "报表同步"})
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("ld_") and created.json()["prefix"] == raw[:8]
    stored = ApiToken.objects.get(pk=created.json()["id"])
    assert raw not in stored.key_hash and len(stored.key_hash) == 64

    integration = ApiClient()
    integration.token = raw
    assert integration.get("auth/me").json()["username"] == "gm"
    # Bearer requests need no CSRF token.
    assert integration.patch("auth/me", {"language": "en-US"}).status_code == 200
    listed = client.get("auth/tokens").json()
    assert listed[0]["last_used_at"] is not None and listed[0]["revoked"] is False

    assert client.delete(f"auth/tokens/{stored.pk}").status_code == 204
    denied = integration.get("auth/me")
    assert denied.status_code == 401
    assert denied.json()["code"] == "auth.invalid_token"
    assert client.get("auth/tokens").json()[0]["revoked"] is True


def test_cannot_revoke_someone_elses_token(demo: Any) -> None:
    owner = ApiClient()
    owner.login_as("gm", PASSWORD)
    token_id = owner.post("auth/tokens", {"name": "x"}).json()["id"]
    other = ApiClient()
    other.login_as("officer1", PASSWORD)
    assert other.delete(f"auth/tokens/{token_id}").status_code == 404
    assert ApiToken.objects.get(pk=token_id).revoked_at is None


def test_garbage_bearer_token_is_401(demo: Any) -> None:
    client = ApiClient()
    client.token = "ld_not-a-real-token"
    assert client.get("auth/me").json()["code"] == "auth.invalid_token"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "", "password": "x"},
        {"username": "a" * 151, "password": "x"},
        {"username": ["officer1"], "password": "x"},
        {"password": "x"},
    ],
)
def test_bad_login_bodies_are_422(demo: Any, body: dict[str, Any]) -> None:
    response = ApiClient().post("auth/login", body)
    assert response.status_code == 422
    assert "username" in response.json()["details"]["fields"]


def test_production_hasher_is_argon2() -> None:
    from loandesk import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
