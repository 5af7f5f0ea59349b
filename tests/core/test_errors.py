"""One error shape for the whole API: {"code", "message", "details"}, in the caller's language.
Bad input must get a 4xx that says what is wrong, never a 500."""

import logging
import string
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from loandesk.core import i18n
from loandesk.core.errors import (
    BadRequest,
    Conflict,
    LoanDeskError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from tests.factories import ApiClient

# --- the message catalogue ----------------------------------------------------------------


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_code_exists_in_both_languages() -> None:
    import loandesk.api  # noqa: F401  (imports every app, so every app's messages are registered)

    codes = i18n.all_codes()
    assert len(codes) > 20
    for code, texts in codes.items():
        assert set(texts) == {i18n.ZH, i18n.EN}, code
        zh, en = texts[i18n.ZH], texts[i18n.EN]
        assert zh.strip(), f"{code} has no zh-CN text"
        assert en.strip(), f"{code} has no en-US text"
        assert zh != code and en != code
        assert _placeholders(zh) == _placeholders(en), f"{code}: placeholders differ"


def test_message_lookup_and_formatting() -> None:
    assert i18n.message("field.too_long", {"max": 5}, lang=i18n.EN) == "At most 5 characters"
    assert i18n.message("field.too_long", {"max": 5}, lang=i18n.ZH) == "长度不能超过 5 个字符"
    # Missing params leave the template rather than failing.
    assert i18n.message("field.too_long", {"other": 1}, lang=i18n.EN) == "At most {max} characters"
    assert i18n.message("no.such.code") == "no.such.code"
    with translation.override("en"):
        assert i18n.current_language() == i18n.EN
        assert i18n.message("not_found") == "Not found, or you have no access to it"
    with translation.override("zh-hans"):
        assert i18n.current_language() == i18n.ZH
        assert i18n.message("not_found") == "记录不存在或无权访问"


@pytest.mark.parametrize(
    ("value", "lang"),
    [("en-US", "en-US"), ("EN", "en-US"), ("en-gb", "en-US"), ("zh-CN", "zh-CN"), ("", "zh-CN")],
)
def test_normalize_language(value: str, lang: str) -> None:
    assert i18n.normalize_language(value) == lang
    assert i18n.normalize_language(None) == i18n.ZH


def test_error_classes() -> None:
    cases: list[tuple[LoanDeskError, int, str]] = [
        (BadRequest(), 400, "bad_request"),
        (ValidationFailed(), 422, "validation_error"),
        (NotAuthenticated(), 401, "auth.not_authenticated"),
        (PermissionDenied(), 403, "permission_denied"),
        (NotFound(), 404, "not_found"),
        (Conflict(), 409, "conflict"),
        (RateLimited(), 429, "rate_limited"),
        (Conflict("accounts.token_limit"), 409, "accounts.token_limit"),
        (BadRequest(status=418), 418, "bad_request"),
    ]
    for exc, status, code in cases:
        assert exc.status == status
        assert exc.code == code
        body = exc.as_dict()
        assert set(body) == {"code", "message", "details"}
        assert body["code"] == code
    with translation.override("en"):
        exc = ValidationFailed.field("name", "field.too_long", max=3)
        assert exc.as_dict() == {
            "code": "validation_error",
            "message": "The submitted data is invalid",
            "details": {"fields": {"name": "At most 3 characters"}},
        }
    # a custom status on one instance does not leak into the class
    assert BadRequest().status == 400


# --- the API error shape ------------------------------------------------------------------


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["message"] != code  # a real, translated text
    return body


@pytest.fixture
def admin_en(client_for: Any) -> ApiClient:
    client = client_for("admin")
    client.language = "en-US"
    return client


@pytest.fixture
def admin_zh(client_for: Any) -> ApiClient:
    return client_for("admin")


def test_malformed_json(admin_zh: ApiClient, admin_en: ApiClient) -> None:
    body = _error(admin_zh.post("auth/tokens", "{not json"), 400, "malformed_json")
    assert body["message"] == "请求体不是有效的 JSON"
    assert body["details"] == {}
    body = _error(admin_en.post("auth/tokens", '{"name": '), 400, "malformed_json")
    assert body["message"] == "The request body is not valid JSON"


def test_body_that_is_not_an_object_is_a_4xx(admin_en: ApiClient) -> None:
    for raw in ("[1, 2]", '"text"', "42", "null"):
        response = admin_en.post("auth/tokens", raw)
        assert response.status_code in (400, 422), (raw, response.content)
        assert response.json()["code"] in ("malformed_json", "validation_error")


def test_wrong_type(admin_zh: ApiClient, admin_en: ApiClient, demo: dict[str, Any]) -> None:
    user_id = demo["users"]["officer1"].pk
    body = _error(
        admin_en.patch(f"accounts/users/{user_id}", {"is_active": "maybe"}),
        422,
        "validation_error",
    )
    assert body["message"] == "The submitted data is invalid"
    assert body["details"]["fields"] == {"is_active": "Wrong type, expected boolean"}

    body = _error(
        admin_zh.patch(f"accounts/users/{user_id}", {"is_active": "maybe"}),
        422,
        "validation_error",
    )
    assert body["message"] == "提交的数据有误"
    assert body["details"]["fields"] == {"is_active": "类型不正确,应为布尔值"}

    body = _error(
        admin_en.patch(f"accounts/users/{user_id}", {"department_id": "north"}),
        422,
        "validation_error",
    )
    assert body["details"]["fields"] == {"department_id": "Wrong type, expected integer"}


def test_wrong_type_in_path_and_query(admin_en: ApiClient) -> None:
    body = _error(admin_en.get("accounts/users/abc"), 422, "validation_error")
    assert body["details"]["fields"] == {"user_id": "Wrong type, expected integer"}
    body = _error(admin_en.get("audit/entries", {"page": "first"}), 422, "validation_error")
    assert body["details"]["fields"] == {"page": "Wrong type, expected integer"}
    body = _error(admin_en.get("audit/entries", {"page": 0}), 422, "validation_error")
    assert body["details"]["fields"] == {"page": "Must be at least 1"}


def test_missing_field(admin_zh: ApiClient, admin_en: ApiClient) -> None:
    body = _error(admin_en.post("auth/tokens", {}), 422, "validation_error")
    assert body["details"]["fields"] == {"name": "This field is required"}
    body = _error(admin_zh.post("auth/tokens", {}), 422, "validation_error")
    assert body["details"]["fields"] == {"name": "此项为必填项"}


def test_string_too_long(admin_en: ApiClient) -> None:
    body = _error(admin_en.post("auth/tokens", {"name": "x" * 101}), 422, "validation_error")
    assert body["details"]["fields"] == {"name": "At most 100 characters"}


def test_several_fields_are_reported_together(admin_en: ApiClient) -> None:
    body = _error(
        admin_en.post("accounts/users", {"username": "", "role_ids": "x"}),
        422,
        "validation_error",
    )
    fields = body["details"]["fields"]
    assert {"full_name", "department_id", "password", "role_ids"} <= set(fields)


def test_unknown_route_under_api(admin_en: ApiClient, anon: ApiClient) -> None:
    for path in ("/api/v1/no-such-thing", "/api/v2/health", "/api/", "/api/v1/accounts/nope/1"):
        body = _error(admin_en.get(path), 404, "route_not_found")
        assert body["message"] == "No such endpoint"
    body = _error(anon.get("/api/v1/no-such-thing"), 404, "route_not_found")
    assert body["message"] == "接口不存在"
    body = _error(anon.post("/api/v1/no-such-thing", {}), 404, "route_not_found")


def test_unknown_id(admin_en: ApiClient) -> None:
    body = _error(admin_en.get("accounts/users/999999"), 404, "not_found")
    assert body["message"] == "Not found, or you have no access to it"
    _error(admin_en.patch("accounts/users/999999", {"full_name": "x"}), 404, "not_found")


def test_integer_beyond_64_bits(admin_en: ApiClient) -> None:
    # Found by the API fuzz test: SQLite cannot bind an integer past 64 bits (OverflowError, a
    # 500); PostgreSQL compares it as a numeric and finds nothing.
    huge = 2**70
    listed = admin_en.get("accounts/users", {"department_id": huge})
    fetched = admin_en.get(f"accounts/users/{huge}")
    if connection.vendor == "sqlite":
        body = _error(listed, 422, "number_out_of_range")
        assert body["message"] == "A number is out of the allowed range"
    else:
        assert listed.status_code == 200 and listed.json()["items"] == []
    _error(fetched, 404, "not_found")


def test_method_not_allowed(admin_en: ApiClient, admin_zh: ApiClient) -> None:
    response = admin_en.delete("health")
    body = _error(response, 405, "method_not_allowed")
    assert body["message"] == "Method not allowed"
    assert body["details"] == {"allowed": ["GET"]}
    assert response["Allow"] == "GET"

    response = admin_zh.post("audit/entries", {})
    body = _error(response, 405, "method_not_allowed")
    assert body["message"] == "不支持该请求方法"

    response = admin_zh.delete("business-date")
    body = _error(response, 405, "method_not_allowed")
    assert body["details"] == {"allowed": ["GET", "PUT"]}


def test_huge_body(admin_en: ApiClient) -> None:
    huge = '{"name": "' + "x" * 3_000_000 + '"}'
    body = _error(admin_en.post("auth/tokens", huge), 413, "payload_too_large")
    assert body["message"] == "The request is too large"


def test_not_authenticated(anon: ApiClient) -> None:
    anon.language = "en-US"
    body = _error(anon.get("auth/me"), 401, "auth.not_authenticated")
    assert body["message"] == "Please log in"


def test_missing_csrf_token(client_for: Any) -> None:
    admin = client_for("admin")
    raw: Client = admin.client
    response = raw.post(
        "/api/v1/auth/tokens",
        '{"name": "x"}',
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en-US",
    )
    body = _error(response, 403, "csrf_failed")
    assert "CSRF" in body["message"]


def test_unexpected_exception_is_a_json_500(
    anon: ApiClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, db: None
) -> None:
    from loandesk.core import selectors

    def explode() -> str:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(selectors, "database_vendor", explode)
    anon.language = "en-US"
    with caplog.at_level(logging.ERROR, logger="loandesk.api"):
        response = anon.get("health")
    body = _error(response, 500, "internal_error")
    assert body["message"] == "Internal server error, please retry later"
    assert body["details"] == {}
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    assert any("GET /api/v1/health" in r.getMessage() for r in caplog.records)
