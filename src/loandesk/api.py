"""The JSON API: one NinjaAPI at /api/v1 that mounts every app's router.

All errors leave here as {"code", "message", "details"} in the caller's language.
"""

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema

from loandesk import __version__
from loandesk.accounting.api import accounting_router
from loandesk.accounts.api import accounts_router, auth_router
from loandesk.accounts.auth import api_auth
from loandesk.core import audit
from loandesk.core.api import audit_router, core_router
from loandesk.core.errors import LoanDeskError, PermissionDenied, is_unstorable_input
from loandesk.core.i18n import EN, current_language, message
from loandesk.core.openapi import LoanDeskOpenAPISchema
from loandesk.customers.api import customers_router
from loandesk.flows.api import flows_router
from loandesk.forms.api import forms_router, public_router
from loandesk.lending.api import calculator_router, calendar_router, lending_router
from loandesk.lending.calculator import error_fields
from loandesk.lending.contracts_api import contracts_router
from loandesk.lending.finance import FinanceInputError
from loandesk.notify.api import notify_router
from loandesk.postloan.api import postloan_router
from loandesk.reports.api import reports_router
from loandesk.risk.api import risk_router
from loandesk.rules.api import rules_router

logger = logging.getLogger("loandesk.api")


class LoanDeskAPI(NinjaAPI):
    """NinjaAPI whose 405 answers use the error shape (Ninja's own are plain text) and whose
    OpenAPI document has one component per schema class and documents the error shape."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return LoanDeskOpenAPISchema(self, path_prefix)

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_method_not_allowed(pattern.callback)
        return urls


def _json_method_not_allowed(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)  # keeps csrf_exempt, like Ninja's own view
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = sorted(m.strip() for m in response["Allow"].split(",") if m.strip())
            json_response = error_response(request, 405, "method_not_allowed", {"allowed": allowed})
            json_response["Allow"] = ", ".join(allowed)
            return json_response
        return response

    return wrapper


api = LoanDeskAPI(
    title="LoanDesk API",
    version=__version__,
    urls_namespace="api-v1",
    auth=api_auth,
    docs_url="/docs",
    openapi_url="/openapi.json",
    description=(
        "Session cookie (with X-CSRFToken on writes) or `Authorization: Bearer <token>`. "
        'Errors: {"code", "message", "details"}; messages follow Accept-Language (zh-CN, en-US).'
    ),
)


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    details: dict[str, Any] | None = None,
    **params: Any,
) -> HttpResponse:
    body = {"code": code, "message": message(code, params), "details": details or {}}
    return api.create_response(request, body, status=status)


# Pydantic error types → our field message codes.
_PYDANTIC_CODES = {
    "missing": ("field.required", {}),
    "string_too_long": ("field.too_long", {"max": "max_length"}),
    "string_too_short": ("field.too_short", {"min": "min_length"}),
    "too_long": ("field.too_long", {"max": "max_length"}),
    "too_short": ("field.too_short", {"min": "min_length"}),
    "less_than_equal": ("field.too_large", {"max": "le"}),
    "less_than": ("field.too_large", {"max": "lt"}),
    "greater_than_equal": ("field.too_small", {"min": "ge"}),
    "greater_than": ("field.too_small", {"min": "gt"}),
    "literal_error": ("field.choice", {}),
    "enum": ("field.choice", {}),
    "extra_forbidden": ("field.unknown", {}),
}
_TYPE_NAMES = {
    "int": ("整数", "integer"),
    "float": ("数字", "number"),
    "decimal": ("数字", "number"),
    "bool": ("布尔值", "boolean"),
    "string": ("文本", "string"),
    "str": ("文本", "string"),
    "date": ("日期", "date"),
    "datetime": ("日期时间", "datetime"),
    "list": ("列表", "list"),
    "dict": ("对象", "object"),
    "model": ("对象", "object"),
    "uuid": ("UUID", "UUID"),
}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "payload", "data")]
    return ".".join(parts) or "body"


def _field_message(err: dict[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in _PYDANTIC_CODES:
        code, mapping = _PYDANTIC_CODES[kind]
        return message(code, {k: ctx.get(v) for k, v in mapping.items()})
    if kind.endswith(("_type", "_parsing")) or kind.endswith("_from_datetime_parsing"):
        base = kind.split("_")[0]
        zh, en = _TYPE_NAMES.get(base, (base, base))
        return message("field.type", {"expected": en if current_language() == EN else zh})
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    return message("field.invalid")


@api.exception_handler(LoanDeskError)
def _loandesk_error(request: HttpRequest, exc: LoanDeskError) -> HttpResponse:
    if isinstance(exc, PermissionDenied):
        audit.record(
            action="permission_denied",
            actor=getattr(request, "user", None),
            request=request,
            extra={"method": request.method, "path": request.path, "code": exc.code, **exc.details},
        )
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(FinanceInputError)
def _finance_error(request: HttpRequest, exc: FinanceInputError) -> HttpResponse:
    details = {"fields": error_fields(exc), "error": exc.code, "params": exc.message_params}
    return error_response(request, 422, "validation_error", details)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for err in exc.errors:
        name = _field_name(err.get("loc", ()))
        if name == "body" and err.get("type") in ("json_invalid", "model_attributes_type"):
            return error_response(request, 400, "malformed_json")
        fields.setdefault(name, _field_message(err))
    return error_response(request, 422, "validation_error", {"fields": fields})


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, "auth.not_authenticated")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and "parse" in str(exc).lower():
        return error_response(request, 400, "malformed_json")
    code = {401: "auth.not_authenticated", 403: "permission_denied", 404: "not_found"}.get(
        exc.status_code, "bad_request"
    )
    return error_response(request, exc.status_code, code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found")


@api.exception_handler(DjangoPermissionDenied)
def _denied(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
    return error_response(request, 403, "permission_denied")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, "payload_too_large")


@api.exception_handler(json.JSONDecodeError)
def _bad_json(request: HttpRequest, exc: json.JSONDecodeError) -> HttpResponse:
    return error_response(request, 400, "malformed_json")


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # A number too big for the database (SQLite stores 64-bit integers) or for date arithmetic:
    # it can only come from the request, so it is the caller's error, not the server's.
    logger.warning("number out of range on %s %s: %s", request.method, request.path, exc)
    return error_response(request, 422, "number_out_of_range")


@api.exception_handler(DataError)
def _data_error(request: HttpRequest, exc: DataError) -> HttpResponse:
    if not is_unstorable_input(exc):
        return _unexpected(request, exc)
    logger.warning("value refused by the database on %s %s: %s", request.method, request.path, exc)
    return error_response(request, 422, "value_not_storable")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(request, 500, "internal_error")


api.add_router("/auth", auth_router)
api.add_router("/accounts", accounts_router)
api.add_router("/audit", audit_router)
api.add_router("", core_router)
api.add_router("/calculator", calculator_router)
api.add_router("/lending", calendar_router)
api.add_router("/lending", lending_router)
api.add_router("/customers", customers_router)
api.add_router("/forms", forms_router)
api.add_router("/public", public_router)
api.add_router("/flows", flows_router)
api.add_router("/risk", risk_router)
api.add_router("/contracts", contracts_router)
api.add_router("/postloan", postloan_router)
api.add_router("/notify", notify_router)
api.add_router("/rules", rules_router)
api.add_router("/accounting", accounting_router)
api.add_router("/reports", reports_router)
