"""Message catalogue for API errors and labels, in zh-CN and en-US.

A plain dictionary instead of gettext catalogues: codes are stable identifiers the front end
and integrations rely on, every code must exist in both languages (a test checks), and there is
no compile step to forget. Apps register their own messages with `register_messages`.
"""

from collections.abc import Mapping
from typing import Any

from django.utils import translation

ZH = "zh-CN"
EN = "en-US"
SUPPORTED = (ZH, EN)

_MESSAGES: dict[str, dict[str, str]] = {}


def register_messages(messages: Mapping[str, tuple[str, str]]) -> None:
    """Register codes as {code: (zh-CN text, en-US text)}; texts may use {name} placeholders."""
    for code, (zh, en) in messages.items():
        _MESSAGES[code] = {ZH: zh, EN: en}


def current_language() -> str:
    lang = (translation.get_language() or "zh-hans").lower()
    return EN if lang.startswith("en") else ZH


def normalize_language(value: str | None) -> str:
    return EN if (value or "").lower().startswith("en") else ZH


def message(code: str, params: Mapping[str, Any] | None = None, lang: str | None = None) -> str:
    texts = _MESSAGES.get(code)
    if texts is None:
        return code
    text = texts[lang or current_language()]
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def all_codes() -> dict[str, dict[str, str]]:
    return dict(_MESSAGES)


register_messages(
    {
        "internal_error": (
            "服务器内部错误,请稍后重试",
            "Internal server error, please retry later",
        ),
        "validation_error": ("提交的数据有误", "The submitted data is invalid"),
        "bad_request": ("请求无效", "Bad request"),
        "malformed_json": ("请求体不是有效的 JSON", "The request body is not valid JSON"),
        "not_found": ("记录不存在或无权访问", "Not found, or you have no access to it"),
        "route_not_found": ("接口不存在", "No such endpoint"),
        "method_not_allowed": ("不支持该请求方法", "Method not allowed"),
        "permission_denied": ("没有权限执行此操作", "You do not have permission to do this"),
        "conflict": ("数据已被修改,请刷新后重试", "The data changed meanwhile; refresh and retry"),
        "rate_limited": ("请求过于频繁,请稍后再试", "Too many requests, please slow down"),
        "csrf_failed": (
            "安全校验失败(CSRF),请刷新页面后重试",
            "Security check failed (CSRF); reload the page and retry",
        ),
        "payload_too_large": ("提交的数据过大", "The request is too large"),
        "number_out_of_range": ("数值超出允许范围", "A number is out of the allowed range"),
        "value_not_storable": (
            "数据中有无法保存的内容(如空字符 \\0、过长的文本或过大的数值)",
            "The data holds something that cannot be stored (a NUL character, too long a text "
            "or too large a number)",
        ),
        "field.required": ("此项为必填项", "This field is required"),
        "field.invalid": ("格式不正确", "Invalid value"),
        "field.type": ("类型不正确,应为{expected}", "Wrong type, expected {expected}"),
        "field.too_long": ("长度不能超过 {max} 个字符", "At most {max} characters"),
        "field.too_short": ("长度不能少于 {min} 个字符", "At least {min} characters"),
        "field.too_large": ("不能大于 {max}", "Must be at most {max}"),
        "field.too_small": ("不能小于 {min}", "Must be at least {min}"),
        "field.choice": ("不是有效的选项", "Not a valid choice"),
        "field.unknown": ("不允许的字段", "Unknown field"),
        "business_date.invalid": ("营业日不能早于当前营业日", "The business date cannot go back"),
    }
)

register_messages(
    {
        "audit.auth.login_success": ("登录成功", "Logged in"),
        "audit.auth.login_failed": ("登录失败", "Login failed"),
        "audit.auth.locked_out": ("登录被锁定", "Login locked out"),
        "audit.auth.logout": ("退出登录", "Logged out"),
        "audit.auth.password_changed": ("修改密码", "Password changed"),
        "audit.auth.otp_enabled": ("启用两步验证", "Two-factor enabled"),
        "audit.auth.otp_disabled": ("关闭两步验证", "Two-factor disabled"),
        "audit.auth.token_created": ("创建 API 令牌", "API token created"),
        "audit.auth.token_revoked": ("撤销 API 令牌", "API token revoked"),
        "audit.permission_denied": ("权限拒绝", "Permission denied"),
        "audit.record.create": ("新建记录", "Record created"),
        "audit.record.update": ("修改记录", "Record updated"),
        "audit.record.delete": ("删除记录", "Record deleted"),
        "audit.pii.reveal": ("查看敏感信息", "Personal data revealed"),
        "audit.business_date.set": ("设置营业日", "Business date set"),
        "audit.accounts.password_reset": ("重置密码", "Password reset"),
    }
)
