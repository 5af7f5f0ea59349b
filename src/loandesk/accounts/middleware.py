"""Session inactivity timeout and absolute lifetime."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LOGIN_AT = "ld_login_at"
LAST_SEEN = "ld_last_seen"
TOUCH_EVERY = 60  # seconds: write the session at most once a minute per user


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.session_expired = False  # type: ignore[attr-defined]
        if request.user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            login_at = request.session.get(LOGIN_AT, now)
            last_seen = request.session.get(LAST_SEEN, now)
            if (
                now - login_at > settings.LOANDESK_SESSION_MAX_SECONDS
                or now - last_seen > settings.LOANDESK_SESSION_IDLE_SECONDS
            ):
                logout(request)
                request.session_expired = True  # type: ignore[attr-defined]
            elif now - last_seen > TOUCH_EVERY or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
                request.session.setdefault(LOGIN_AT, now)
        return self.get_response(request)
