"""Authentication for the JSON API: session cookie (with CSRF on writes) or Bearer API token."""

import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.utils import check_csrf

from loandesk.accounts.models import ApiToken, User
from loandesk.core.errors import LoanDeskError, NotAuthenticated, PermissionDenied

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
TOKEN_TOUCH_SECONDS = 60


class CsrfFailed(LoanDeskError):
    status = 403
    code = "csrf_failed"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def enforce_csrf(request: HttpRequest) -> None:
    if request.method not in SAFE_METHODS and check_csrf(request) is not None:
        raise CsrfFailed()


def user_from_token(raw: str) -> User:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        raise NotAuthenticated("auth.invalid_token")
    now = timezone.now()
    if (
        token.last_used_at is None
        or (now - token.last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def otp_setup_missing(user: User) -> bool:
    """True when one of the user's roles requires TOTP and no confirmed device exists."""
    required = set(settings.LOANDESK_OTP_REQUIRED_ROLES)
    if not required or not user.roles.filter(code__in=required).exists():
        return False
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


class ApiAuth:
    """Ninja auth callable. `allow_otp_setup` marks the auth endpoints a user may reach before
    enrolling a required second factor."""

    def __init__(self, *, allow_otp_setup: bool = False) -> None:
        self.allow_otp_setup = allow_otp_setup

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            token_user = user_from_token(header[7:].strip())
            request.user = token_user
            request.auth_method = "token"  # type: ignore[attr-defined]
            return token_user
        user = request.user
        if not isinstance(user, User) or not user.is_authenticated:
            if getattr(request, "session_expired", False):
                raise NotAuthenticated("auth.session_expired")
            raise NotAuthenticated()
        enforce_csrf(request)
        if not self.allow_otp_setup and otp_setup_missing(user):
            raise PermissionDenied("auth.otp_setup_required")
        request.auth_method = "session"  # type: ignore[attr-defined]
        return user


api_auth = ApiAuth()
auth_endpoint_auth = ApiAuth(allow_otp_setup=True)
