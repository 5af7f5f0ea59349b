"""Log in with a username or a mobile phone number."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from loandesk.accounts.models import User
from loandesk.accounts.phones import normalize_mobile, phone_index


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            mobile = normalize_mobile(username)
            if mobile:
                user = User.objects.filter(phone_bidx=phone_index(mobile)).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
