"""One error hierarchy for the whole API, rendered as {"code", "message", "details"}.

Services raise these; the API layer turns them (and framework errors) into 4xx responses with
messages in the caller's language. Nothing a client sends may produce a 500.
"""

from collections.abc import Mapping
from typing import Any

from loandesk.core.i18n import message


class LoanDeskError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        code: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        self.code = code or self.code
        self.params = dict(params or {})
        self.details = dict(details or {})
        if status is not None:
            self.status = status
        super().__init__(self.code)

    @property
    def message(self) -> str:
        return message(self.code, self.params)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


# SQLSTATEs of a value the database will not store as given: text too long, a number out of
# range, a character the encoding cannot hold.
_UNSTORABLE_SQLSTATES = {"22001", "22003", "22021", "22P05"}


def is_unstorable_input(exc: BaseException) -> bool:
    """True when the database refused a value the request carried (on PostgreSQL: a NUL
    character in text, a number past bigint, ...), as opposed to failing on its own (a division
    by zero in a report's SQL stays a server error)."""
    if getattr(exc.__cause__, "sqlstate", None) in _UNSTORABLE_SQLSTATES:
        return True
    return "NUL (0x00)" in str(exc)  # psycopg refuses these before sending (no SQLSTATE)


class BadRequest(LoanDeskError):
    status = 400
    code = "bad_request"


class ValidationFailed(LoanDeskError):
    """422 with per-field messages: details = {"fields": {name: message}}."""

    status = 422
    code = "validation_error"

    def __init__(
        self,
        fields: Mapping[str, str] | None = None,
        code: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(code, params=params, details={"fields": dict(fields or {})})

    @classmethod
    def field(cls, name: str, message_code: str, **params: Any) -> "ValidationFailed":
        return cls({name: message(message_code, params)})


class NotAuthenticated(LoanDeskError):
    status = 401
    code = "auth.not_authenticated"


class PermissionDenied(LoanDeskError):
    status = 403
    code = "permission_denied"


class NotFound(LoanDeskError):
    """Also used for records outside the caller's data scope, so ids are not confirmed."""

    status = 404
    code = "not_found"


class Conflict(LoanDeskError):
    status = 409
    code = "conflict"


class RateLimited(LoanDeskError):
    status = 429
    code = "rate_limited"
