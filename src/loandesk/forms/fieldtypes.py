"""The field-type registry: what each of the form engine's field types means on the server.

Plain Python (no Django imports here): every type says how a submitted value is validated and
normalised (`clean`), how it is stored, what formulas and conditions see of it, how it renders in
a list column and in Excel, which filter operators apply and which index column kind holds it,
plus the metadata the designer's palette and the phone renderer need (labels, icon, settings).

Stored values are JSON: decimals are strings ("1234.50"), dates ISO strings, choices option
values, files upload ids, references integer ids. Errors are `FieldError(code, params)` with
message codes from `loandesk.forms.messages`, translated by the caller.

Deployment-specific pieces (the blind-index hash and field encryption for PII types, the local
time zone) are injected with `configure()` when Django starts.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from stdnum import luhn
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from loandesk.accounts.phones import normalize_mobile
from loandesk.core.crypto import mask_bank_card, mask_id_number, mask_phone
from loandesk.core.money import fen_to_yuan, format_yuan, to_chinese_capital, yuan_to_fen
from loandesk.forms.sanitize import html_to_text, sanitize_html

ZH, EN = "zh-CN", "en-US"


class FieldError(Exception):
    """A submitted value is wrong; `code` is a message code, `params` its placeholders."""

    def __init__(self, code: str, params: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.params = params or {}


class _Hooks:
    hash_pii: Callable[[str], str] = staticmethod(lambda value: value)
    encrypt: Callable[[str], str] = staticmethod(lambda value: value)
    decrypt: Callable[[str], str] = staticmethod(lambda value: value)
    tz: tzinfo = ZoneInfo("Asia/Shanghai")


HOOKS = _Hooks()


def configure(
    *,
    hash_pii: Callable[[str], str],
    encrypt: Callable[[str], str],
    decrypt: Callable[[str], str],
    tz: str,
) -> None:
    HOOKS.hash_pii = hash_pii
    HOOKS.encrypt = encrypt
    HOOKS.decrypt = decrypt
    HOOKS.tz = ZoneInfo(tz)


# --- compiled field ------------------------------------------------------------------------


@dataclass(eq=False)
class FieldDef:
    """One field of a compiled schema (see loandesk.forms.schema.compile_schema)."""

    key: str
    type: FieldType
    label: str
    label_en: str = ""
    required: bool = False
    default: Any = None
    validation: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    options: list[dict[str, Any]] = field(default_factory=list)
    option_values: frozenset[str] = frozenset()
    permissions: dict[str, str] = field(default_factory=dict)
    internal: bool = False
    indexed: bool = False
    unique: bool = False
    visible_when: Any = None
    formula_text: str = ""
    children: list[FieldDef] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    # filled by the schema compiler
    formula: Any = None  # compiled Formula
    order: list[FieldDef] = field(default_factory=list)  # children in dependency order
    deps: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)  # parsed settings (type-specific)

    def title(self, lang: str = ZH) -> str:
        return (self.label_en or self.label) if lang == EN else self.label


# --- settings catalogue (drives the designer's property panel) -----------------------------


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str  # integer | decimal | string | text | boolean | choice | field | form | date
    label_zh: str
    label_en: str
    default: Any = None
    choices: tuple[str, ...] = ()

    def meta(self, lang: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "label": self.label_en if lang == EN else self.label_zh,
            "default": self.default,
        }
        if self.choices:
            out["choices"] = list(self.choices)
        return out


RESULT_TYPES = ("number", "money", "percent", "text", "date", "boolean")

_SETTINGS = [
    # validation.*
    Setting("min_length", "integer", "最少字符数", "Minimum length"),
    Setting("max_length", "integer", "最多字符数", "Maximum length"),
    Setting("min", "decimal", "最小值", "Minimum"),
    Setting("max", "decimal", "最大值", "Maximum"),
    Setting("min_date", "date", "最早日期(或 today)", "Earliest date (or today)"),
    Setting("max_date", "date", "最晚日期(或 today)", "Latest date (or today)"),
    Setting("regex", "string", "正则表达式", "Regular expression"),
    Setting("regex_message", "string", "格式错误提示", "Message when the format is wrong"),
    Setting("unique", "boolean", "不允许重复", "Unique within the form", False),
    Setting("min_count", "integer", "最少选择/上传数", "Minimum count"),
    Setting("max_count", "integer", "最多选择/上传数", "Maximum count"),
    Setting("min_rows", "integer", "最少行数", "Minimum rows"),
    Setting("max_rows", "integer", "最多行数", "Maximum rows", 50),
    # settings.*
    Setting("precision", "integer", "小数位数", "Decimal places", 2),
    Setting("unit", "string", "单位", "Unit"),
    Setting("step", "decimal", "步长", "Step", 1),
    Setting("max_stars", "integer", "最高分", "Highest rating", 5),
    Setting("source", "field", "来源金额字段", "Source amount field"),
    Setting("level", "choice", "精确到", "Down to", "district", ("province", "city", "district")),
    Setting("pattern", "string", "编号规则", "Number pattern", "{yyyyMMdd}{0000}"),
    Setting("target", "choice", "关联对象", "Related to", "customer", ("customer", "record")),
    Setting("form", "form", "关联表单", "Related form"),
    Setting("relation", "field", "关联字段", "Relation field"),
    Setting("field", "string", "显示的字段", "Field to show", "label"),
    Setting("result_type", "choice", "结果类型", "Result type", "number", RESULT_TYPES),
    Setting("content", "text", "说明文字", "Text"),
    Setting("collapsible", "boolean", "可折叠", "Collapsible", False),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _SETTINGS}
VALIDATION_NAMES = frozenset(
    {"min_length", "max_length", "min", "max", "min_date", "max_date", "regex", "regex_message"}
    | {"unique", "min_count", "max_count", "min_rows", "max_rows"}
)

# Filter operators per value kind.
TEXT_OPS = ("eq", "ne", "in", "contains", "startswith", "empty")
EXACT_OPS = ("eq", "ne", "in", "empty")
PII_OPS = ("eq", "in", "empty")
RANGE_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "empty")
HAS_OPS = ("contains", "empty")
BOOL_OPS = ("eq",)
REF_OPS = ("eq", "in", "empty")

REGEX_MAX = 200
REGEX_INPUT_MAX = 1000
# A repeated group that itself repeats, e.g. (a+)+ or (\w*)* — the classic catastrophic pattern.
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251})$")
_REGION_CODE = re.compile(r"^\d{6}$")
_RUNS_OF_SPACE = re.compile(r"\s\s|[^\S ]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LEVELS = {"province": 1, "city": 2, "district": 3}
MAX_NUMBER = Decimal("1e15")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def fmt_decimal(value: Decimal) -> str:
    """Shortest plain string of a decimal: 3.50 → "3.5", 1E+2 → "100"."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def to_decimal(raw: Any, code: str = "forms.field.number") -> Decimal:
    if isinstance(raw, bool):
        raise FieldError(code)
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise FieldError(code)
        value = Decimal(repr(raw))  # the shortest decimal that round-trips: what was typed
    elif isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip().replace(",", "")
        if not text or len(text) > 40:
            raise FieldError(code)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise FieldError(code) from None
    else:
        raise FieldError(code)
    if not value.is_finite() or abs(value) >= MAX_NUMBER:
        raise FieldError(code)
    return value


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def to_text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise FieldError("forms.field.text")
    return str(raw)


def parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or len(raw.strip()) != 10:
        raise FieldError("forms.field.date")
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FieldError("forms.field.date") from None


def _setting_decimal(f: FieldDef, name: str, where: str = "validation") -> Decimal | None:
    source = f.validation if where == "validation" else f.settings
    value = source.get(name)
    if value is None or value == "":
        return None
    try:
        return to_decimal(value)
    except FieldError:
        raise SchemaError(f"{where}.{name}", "forms.schema.bad_value", name=name) from None


def _setting_int(
    f: FieldDef, name: str, *, where: str = "validation", low: int = 0, high: int = 1_000_000
) -> int | None:
    source = f.validation if where == "validation" else f.settings
    value = source.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SchemaError(f"{where}.{name}", "forms.schema.bad_value", name=name)
    return value


class SchemaError(Exception):
    """A design-time problem found while preparing one field."""

    def __init__(self, where: str, code: str, **params: Any) -> None:
        super().__init__(code)
        self.where = where
        self.code = code
        self.params = params


@dataclass
class DisplayContext:
    """What list and export rendering needs beyond the value: language and reference labels."""

    lang: str = ZH
    labels: dict[str, dict[Any, str]] = field(default_factory=dict)

    def label(self, kind: str, ref: Any) -> str:
        return self.labels.get(kind, {}).get(ref, f"#{ref}")

    def text(self, code: str) -> str:
        zh, en = _WORDS[code]
        return en if self.lang == EN else zh


_WORDS = {
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "files": ("个文件", "files"),
    "rows": ("行", "rows"),
}


# --- the base type -------------------------------------------------------------------------


class FieldType:
    name: ClassVar[str] = ""
    label_zh: ClassVar[str] = ""
    label_en: ClassVar[str] = ""
    icon: ClassVar[str] = "edit"
    group: ClassVar[str] = "basic"
    input: ClassVar[bool] = True  # entered by the user
    derived: ClassVar[bool] = False  # computed by the server (client input ignored)
    layout: ClassVar[bool] = False  # no value at all
    has_options: ClassVar[bool] = False
    has_children: ClassVar[bool] = False
    pii: ClassVar[bool] = False
    index_kind: ClassVar[str | None] = None  # text | number | date: column kind for key fields
    ops: ClassVar[tuple[str, ...]] = ()
    formula_kind: ClassVar[str | None] = "text"  # what a formula sees; None: not referable
    excel_format: ClassVar[str | None] = None
    settings: ClassVar[tuple[str, ...]] = ()
    validation: ClassVar[tuple[str, ...]] = ()
    value_doc: ClassVar[str] = "string"
    required_code: ClassVar[str] = "field.required"
    allowed_in_subtable: ClassVar[bool] = True

    # design time ---------------------------------------------------------------------------
    def prepare(self, f: FieldDef) -> None:
        """Parse the field's settings into f.extra; raise SchemaError for a bad setting."""

    # submission ----------------------------------------------------------------------------
    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        """Validate and normalise one submitted value; None means empty. Types without input
        (derived and layout types) keep this default: they take nothing from the client."""
        return None

    def is_blank(self, value: Any) -> bool:
        return is_empty(value)

    def typed(self, value: Any, f: FieldDef) -> Any:
        """The value formulas compute with."""
        return value

    def cond(self, value: Any, f: FieldDef) -> Any:
        """The value JSON-logic conditions see (what the phone sees, with numbers as numbers)."""
        return self.typed(value, f)

    # storage -------------------------------------------------------------------------------
    def to_storage(self, value: Any) -> Any:
        return HOOKS.encrypt(value) if self.pii and isinstance(value, str) else value

    def from_storage(self, value: Any) -> Any:
        return HOOKS.decrypt(value) if self.pii and isinstance(value, str) else value

    def mask(self, value: Any) -> Any:
        return value

    # lists, filters, exports ---------------------------------------------------------------
    def index_kind_of(self, f: FieldDef) -> str | None:
        return self.index_kind

    def ops_of(self, f: FieldDef) -> tuple[str, ...]:
        return self.ops

    def index(self, value: Any, f: FieldDef) -> Any:
        """The value of the key-field column (text ≤ 255 chars, Decimal or date)."""
        if value is None:
            return None
        if self.pii:
            return HOOKS.hash_pii(f"{self.name}:{value}")
        return str(value)[:255]

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        """A filter's query-string value as a key-column value (same encoding as index)."""
        return self.index(self.clean(text, _loose(f), today), f)

    def ref_kind(self, f: FieldDef) -> str | None:
        """Label kind for referenced ids ("user", "department", "customer", "record:<code>")."""
        return None

    def ref_ids(self, value: Any) -> list[Any]:
        return []

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else str(value)

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return self.display(value, f, ctx)

    def excel_format_of(self, f: FieldDef) -> str | None:
        return self.excel_format

    # palette -------------------------------------------------------------------------------
    def meta(self, lang: str) -> dict[str, Any]:
        return {
            "type": self.name,
            "label": self.label_en if lang == EN else self.label_zh,
            "icon": self.icon,
            "group": self.group,
            "input": self.input,
            "derived": self.derived,
            "layout": self.layout,
            "has_options": self.has_options,
            "has_children": self.has_children,
            "pii": self.pii,
            "indexable": self.index_kind is not None or self.name == "formula",
            "filter_ops": list(self.ops),
            "in_formulas": self.formula_kind is not None,
            "in_subtable": self.allowed_in_subtable,
            "value": self.value_doc,
            "validation": [SETTINGS[n].meta(lang) for n in self.validation],
            "settings": [SETTINGS[n].meta(lang) for n in self.settings],
        }


def _loose(f: FieldDef) -> FieldDef:
    """The field without its validation rules: filters accept any well-formed value."""
    loose = FieldDef(key=f.key, type=f.type, label=f.label, settings=f.settings, options=f.options)
    loose.option_values = f.option_values
    loose.extra = {k: v for k, v in f.extra.items() if k in ("precision", "level", "max_stars")}
    return loose


# --- text ------------------------------------------------------------------------------------


class TextType(FieldType):
    name = "text"
    label_zh, label_en, icon = "单行文本", "Text", "edit"
    index_kind: ClassVar[str | None] = "text"
    ops: ClassVar[tuple[str, ...]] = TEXT_OPS
    validation: ClassVar[tuple[str, ...]] = (
        "min_length",
        "max_length",
        "regex",
        "regex_message",
        "unique",
    )
    default_max = 200
    multiline = False

    def prepare(self, f: FieldDef) -> None:
        f.extra["min_length"] = _setting_int(f, "min_length") or 0
        f.extra["max_length"] = _setting_int(f, "max_length") or self.default_max
        if f.extra["min_length"] > f.extra["max_length"]:
            raise SchemaError("validation.min_length", "forms.schema.min_above_max")
        pattern = f.validation.get("regex")
        f.extra["regex"] = compile_regex(pattern) if pattern else None

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None:
            return None
        text = _CONTROL.sub("", to_text(raw)).strip()
        if not self.multiline and _RUNS_OF_SPACE.search(text):
            text = " ".join(text.split())
        if not text:
            return None
        extra = f.extra
        if len(text) > extra.get("max_length", self.default_max):
            raise FieldError("field.too_long", {"max": extra.get("max_length", self.default_max)})
        if len(text) < extra.get("min_length", 0):
            raise FieldError("field.too_short", {"min": extra["min_length"]})
        regex = extra.get("regex")
        if regex is not None and (len(text) > REGEX_INPUT_MAX or not regex.fullmatch(text)):
            if f.validation.get("regex_message"):
                message = str(f.validation["regex_message"])
                raise FieldError("forms.field.regex_custom", {"message": message})
            raise FieldError("forms.field.regex")
        return text


def compile_regex(pattern: Any) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise SchemaError("validation.regex", "forms.schema.bad_value", name="regex")
    if len(pattern) > REGEX_MAX:
        raise SchemaError("validation.regex", "forms.schema.regex_too_long", max=REGEX_MAX)
    if _NESTED_QUANTIFIER.search(pattern):
        raise SchemaError("validation.regex", "forms.schema.regex_unsafe")
    try:
        return re.compile(pattern)
    except re.error as exc:
        problem = SchemaError("validation.regex", "forms.schema.regex_invalid", error=str(exc))
        raise problem from None


class TextareaType(TextType):
    name = "textarea"
    label_zh, label_en, icon = "多行文本", "Paragraph", "notes-o"
    index_kind = None
    ops = ()
    validation = ("min_length", "max_length")
    default_max = 5000
    multiline = True


class RichTextType(FieldType):
    name = "richtext"
    label_zh, label_en, icon = "富文本", "Rich text", "description"
    value_doc = "sanitised HTML string"
    validation = ("max_length",)
    max_html = 50_000

    def prepare(self, f: FieldDef) -> None:
        f.extra["max_length"] = _setting_int(f, "max_length") or 20_000

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None:
            return None
        text = to_text(raw)
        if len(text) > self.max_html:
            raise FieldError("field.too_long", {"max": self.max_html})
        cleaned = sanitize_html(text)
        visible = html_to_text(cleaned)
        if not visible and "<hr>" not in cleaned:
            return None
        if len(visible) > f.extra.get("max_length", 20_000):
            raise FieldError("field.too_long", {"max": f.extra["max_length"]})
        return cleaned

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else html_to_text(value)[:200]

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return "" if value is None else html_to_text(value)


# --- numbers ---------------------------------------------------------------------------------


class NumberType(FieldType):
    name = "number"
    label_zh, label_en, icon, group = "数字", "Number", "balance-o", "number"
    index_kind = "number"
    ops = RANGE_OPS
    formula_kind = "number"
    settings: ClassVar[tuple[str, ...]] = ("precision", "unit")
    validation: ClassVar[tuple[str, ...]] = ("min", "max", "unique")
    value_doc = 'decimal string, e.g. "36" or "3.5"'
    default_precision = 2

    def prepare(self, f: FieldDef) -> None:
        precision = _setting_int(f, "precision", where="settings", high=6)
        f.extra["precision"] = self.default_precision if precision is None else precision
        f.extra["min"] = _setting_decimal(f, "min")
        f.extra["max"] = _setting_decimal(f, "max")
        low, high = f.extra["min"], f.extra["max"]
        if low is not None and high is not None and low > high:
            raise SchemaError("validation.min", "forms.schema.min_above_max")

    def parse(self, raw: Any, f: FieldDef) -> Decimal | None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        value = to_decimal(raw)
        precision = f.extra.get("precision", self.default_precision)
        if decimal_places(value) > precision:
            if precision == 0:
                raise FieldError("forms.field.integer")
            raise FieldError("forms.field.decimals", {"max": precision})
        return value

    def bounds(self, value: Decimal, f: FieldDef) -> None:
        low, high = f.extra.get("min"), f.extra.get("max")
        if low is not None and value < low:
            raise FieldError("field.too_small", {"min": fmt_decimal(low)})
        if high is not None and value > high:
            raise FieldError("field.too_large", {"max": fmt_decimal(high)})

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        value = self.parse(raw, f)
        if value is None:
            return None
        self.bounds(value, f)
        return fmt_decimal(value)

    def typed(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else Decimal(value)

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else Decimal(value)

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        if value is None:
            return ""
        unit = f.settings.get("unit") or ""
        return f"{value}{unit}"

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return None if value is None else Decimal(value)

    def excel_format_of(self, f: FieldDef) -> str | None:
        precision = f.extra.get("precision", self.default_precision)
        return "0" if precision == 0 else "0." + "0" * precision


class MoneyType(NumberType):
    name = "money"
    label_zh, label_en, icon = "金额", "Amount", "gold-coin-o"
    settings = ()
    value_doc = 'yuan as a string with two decimals, e.g. "500000.00"'
    default_precision = 2

    def prepare(self, f: FieldDef) -> None:
        super().prepare(f)
        f.extra["precision"] = 2
        if f.extra["min"] is None:
            f.extra["min"] = Decimal(0)

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        value = to_decimal(raw, "forms.field.money")
        try:
            fen = yuan_to_fen(value)
        except ValueError:
            raise FieldError("forms.field.money") from None
        amount = fen_to_yuan(fen)
        self.bounds(amount, f)
        return str(amount)

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else format_yuan(Decimal(value))

    def excel_format_of(self, f: FieldDef) -> str | None:
        return "#,##0.00"


class PercentType(NumberType):
    name = "percent"
    label_zh, label_en, icon = "百分比", "Percentage", "chart-trending-o"
    settings = ("precision",)
    value_doc = 'percentage points as a string, e.g. "6.5" for 6.5 % (formulas see 0.065)'
    default_precision = 4

    def typed(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else Decimal(value) / 100

    def cond(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else Decimal(value)

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else f"{value}%"

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return None if value is None else Decimal(value) / 100

    def excel_format_of(self, f: FieldDef) -> str | None:
        return "0.00##%"


class RatingType(NumberType):
    name = "rating"
    label_zh, label_en, icon, group = "评分", "Rating", "star-o", "choice"
    settings = ("max_stars",)
    validation = ()
    value_doc = "integer from 1 to max_stars"

    def prepare(self, f: FieldDef) -> None:
        f.extra["max_stars"] = _setting_int(f, "max_stars", where="settings", low=1, high=10) or 5
        f.extra["precision"] = 0

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or raw == "" or raw == 0:
            return None
        top = f.extra.get("max_stars", 5)
        try:
            value = to_decimal(raw)
        except FieldError:
            raise FieldError("forms.field.rating", {"max": top}) from None
        if value != value.to_integral_value() or not 1 <= value <= top:
            raise FieldError("forms.field.rating", {"max": top})
        return int(value)

    def typed(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else Decimal(value)

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else "★" * int(value)

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return value

    def excel_format_of(self, f: FieldDef) -> str | None:
        return "0"


class SliderType(NumberType):
    name = "slider"
    label_zh, label_en, icon, group = "滑块", "Slider", "exchange", "number"
    settings = ("step", "unit")
    validation = ("min", "max")
    value_doc = "decimal string between min and max, on the step"

    def prepare(self, f: FieldDef) -> None:
        super().prepare(f)
        f.extra["precision"] = 6
        if f.extra["min"] is None:
            f.extra["min"] = Decimal(0)
        if f.extra["max"] is None:
            f.extra["max"] = Decimal(100)
        step = _setting_decimal(f, "step", where="settings") or Decimal(1)
        if step <= 0:
            raise SchemaError("settings.step", "forms.schema.bad_value", name="step")
        f.extra["step"] = step

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        value = self.parse(raw, f)
        if value is None:
            return None
        self.bounds(value, f)
        step = f.extra.get("step", Decimal(1))
        if (value - f.extra.get("min", Decimal(0))) % step != 0:
            raise FieldError("forms.field.step", {"step": fmt_decimal(step)})
        return fmt_decimal(value)


# --- dates and times -------------------------------------------------------------------------


def _date_bound(f: FieldDef, name: str) -> date | str | None:
    raw = f.validation.get(name)
    if raw in (None, ""):
        return None
    if raw == "today":
        return "today"
    try:
        return parse_date(raw)
    except FieldError:
        raise SchemaError(f"validation.{name}", "forms.schema.bad_value", name=name) from None


def _check_date_bounds(value: date, f: FieldDef, today: date) -> None:
    low = f.extra.get("min_date")
    high = f.extra.get("max_date")
    low = today if low == "today" else low
    high = today if high == "today" else high
    if isinstance(low, date) and value < low:
        raise FieldError("forms.field.date_too_early", {"min": low.isoformat()})
    if isinstance(high, date) and value > high:
        raise FieldError("forms.field.date_too_late", {"max": high.isoformat()})


class DateType(FieldType):
    name = "date"
    label_zh, label_en, icon, group = "日期", "Date", "calendar-o", "date"
    index_kind = "date"
    ops = RANGE_OPS
    formula_kind = "date"
    excel_format = "yyyy-mm-dd"
    validation = ("min_date", "max_date")
    value_doc = '"YYYY-MM-DD"'

    def prepare(self, f: FieldDef) -> None:
        f.extra["min_date"] = _date_bound(f, "min_date")
        f.extra["max_date"] = _date_bound(f, "max_date")

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or raw == "":
            return None
        value = parse_date(raw)
        _check_date_bounds(value, f, today)
        return value.isoformat()

    def typed(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else date.fromisoformat(value)

    def cond(self, value: Any, f: FieldDef) -> Any:
        return value

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else date.fromisoformat(value)

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return None if value is None else date.fromisoformat(value)


class DateTimeType(FieldType):
    name = "datetime"
    label_zh, label_en, icon, group = "日期时间", "Date and time", "clock-o", "date"
    index_kind = "date"  # the local calendar date
    ops = RANGE_OPS
    formula_kind = "date"
    excel_format = "yyyy-mm-dd hh:mm"
    validation = ("min_date", "max_date")
    value_doc = 'ISO 8601 in UTC, e.g. "2026-03-01T02:30:00Z" (naive input is local time)'

    def prepare(self, f: FieldDef) -> None:
        f.extra["min_date"] = _date_bound(f, "min_date")
        f.extra["max_date"] = _date_bound(f, "max_date")

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str) or len(raw) > 40:
            raise FieldError("forms.field.datetime")
        try:
            value = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
        except ValueError:
            raise FieldError("forms.field.datetime") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=HOOKS.tz)
        _check_date_bounds(value.astimezone(HOOKS.tz).date(), f, today)
        return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def local(self, value: str) -> datetime:
        return datetime.fromisoformat(value).astimezone(HOOKS.tz)

    def typed(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else self.local(value)

    def cond(self, value: Any, f: FieldDef) -> Any:
        return value

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else self.local(value).date()

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        return parse_date(text)

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else self.local(value).strftime("%Y-%m-%d %H:%M")

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return None if value is None else self.local(value).replace(tzinfo=None)


class TimeType(FieldType):
    name = "time"
    label_zh, label_en, icon, group = "时间", "Time", "underway-o", "date"
    index_kind = "text"
    ops = RANGE_OPS
    value_doc = '"HH:MM" or "HH:MM:SS"'

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str) or len(raw.strip()) not in (5, 8):
            raise FieldError("forms.field.time")
        try:
            value = time.fromisoformat(raw.strip())
        except ValueError:
            raise FieldError("forms.field.time") from None
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")


class DateRangeType(FieldType):
    name = "date_range"
    label_zh, label_en, icon, group = "日期区间", "Date range", "calendar-o", "date"
    index_kind = "date"  # the start date
    ops = RANGE_OPS
    formula_kind = None
    validation = ("min_date", "max_date")
    value_doc = '{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}'

    def prepare(self, f: FieldDef) -> None:
        f.extra["min_date"] = _date_bound(f, "min_date")
        f.extra["max_date"] = _date_bound(f, "max_date")

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if is_empty(raw):
            return None
        if isinstance(raw, list | tuple) and len(raw) == 2:
            start_raw, end_raw = raw
        elif isinstance(raw, dict) and set(raw) <= {"start", "end"}:
            start_raw, end_raw = raw.get("start"), raw.get("end")
        else:
            raise FieldError("forms.field.date_range")
        if is_empty(start_raw) or is_empty(end_raw):
            raise FieldError("forms.field.date_range")
        start, end = parse_date(start_raw), parse_date(end_raw)
        if start > end:
            raise FieldError("forms.field.date_range")
        _check_date_bounds(start, f, today)
        _check_date_bounds(end, f, today)
        return {"start": start.isoformat(), "end": end.isoformat()}

    def cond(self, value: Any, f: FieldDef) -> Any:
        return value

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else date.fromisoformat(value["start"])

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        return parse_date(text)

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else f"{value['start']} ~ {value['end']}"


# --- choices ---------------------------------------------------------------------------------


class SelectType(FieldType):
    name = "select"
    label_zh, label_en, icon, group = "下拉单选", "Drop-down", "arrow-down", "choice"
    has_options = True
    index_kind = "text"
    ops = EXACT_OPS
    validation = ("unique",)
    value_doc = "the chosen option's value (string)"

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise FieldError("field.choice")
        value = str(raw)
        if value not in f.option_values:
            raise FieldError("field.choice")
        return value

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else option_label(f, value, ctx.lang)


def option_label(f: FieldDef, value: str, lang: str) -> str:
    for option in f.options:
        if option["value"] == value:
            if lang == EN and option.get("label_en"):
                return str(option["label_en"])
            return str(option["label"])
    return value


class RadioType(SelectType):
    name = "radio"
    label_zh, label_en, icon = "单选按钮", "Radio buttons", "circle"


class MultiSelectType(FieldType):
    name = "multiselect"
    label_zh, label_en, icon, group = "下拉多选", "Multi-select", "filter-o", "choice"
    has_options = True
    index_kind = "text"  # ",a,b," so that "contains" finds one option
    ops = HAS_OPS
    formula_kind = "list"
    validation = ("min_count", "max_count")
    value_doc = "list of option values, in option order"

    def prepare(self, f: FieldDef) -> None:
        f.extra["min_count"] = _setting_int(f, "min_count") or 0
        f.extra["max_count"] = _setting_int(f, "max_count")

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if is_empty(raw):
            return None
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or len(raw) > 500:
            raise FieldError("field.choice")
        chosen = set()
        for item in raw:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise FieldError("field.choice")
            if str(item) not in f.option_values:
                raise FieldError("field.choice")
            chosen.add(str(item))
        if len(chosen) < f.extra.get("min_count", 0):
            raise FieldError("forms.field.choices_too_few", {"min": f.extra["min_count"]})
        top = f.extra.get("max_count")
        if top is not None and len(chosen) > top:
            raise FieldError("forms.field.choices_too_many", {"max": top})
        return [o["value"] for o in f.options if o["value"] in chosen]

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if not value else ("," + ",".join(value) + ",")[:255]

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        if text not in f.option_values:
            raise FieldError("field.choice")
        return f",{text},"

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if not value else "、".join(option_label(f, v, ctx.lang) for v in value)


class CheckboxType(MultiSelectType):
    name = "checkbox"
    label_zh, label_en, icon = "复选框", "Checkboxes", "passed"


class SwitchType(FieldType):
    name = "switch"
    label_zh, label_en, icon, group = "开关", "Switch", "checked", "choice"
    index_kind = "text"
    ops = BOOL_OPS
    formula_kind = "boolean"
    value_doc = "true or false (required means it must be true)"
    required_code = "forms.field.must_accept"

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            return raw
        if raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0"):
            return raw.strip().lower() in ("true", "1")
        raise FieldError("forms.field.boolean")

    def is_blank(self, value: Any) -> bool:
        return value is not True

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else ("true" if value else "false")

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else ctx.text("yes" if value else "no")


# --- contact and identity --------------------------------------------------------------------


class PhoneType(FieldType):
    name = "phone"
    label_zh, label_en, icon, group = "手机号", "Mobile number", "phone-o", "contact"
    pii = True
    index_kind = "text"
    ops = PII_OPS
    validation = ("unique",)
    value_doc = 'CN mobile number, 11 digits, e.g. "13800138000" (masked when read)'

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        mobile = normalize_mobile(to_text(raw))
        if mobile is None:
            raise FieldError("forms.field.phone")
        return mobile

    def mask(self, value: Any) -> Any:
        return None if value is None else mask_phone(value)


class EmailType(FieldType):
    name = "email"
    label_zh, label_en, icon, group = "邮箱", "E-mail", "envelop-o", "contact"
    index_kind = "text"
    ops = TEXT_OPS
    validation = ("unique",)

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        text = to_text(raw).strip()
        if len(text) > 254 or not _EMAIL.match(text) or "." not in text.rsplit("@", 1)[1]:
            raise FieldError("forms.field.email")
        local, domain = text.rsplit("@", 1)
        if domain.startswith(".") or domain.endswith(".") or ".." in domain:
            raise FieldError("forms.field.email")
        return f"{local}@{domain.lower()}"


class IdNumberType(FieldType):
    name = "id_number"
    label_zh, label_en, icon, group = "身份证号", "Resident ID number", "idcard", "contact"
    pii = True
    index_kind = "text"
    ops = PII_OPS
    validation = ("unique",)
    value_doc = "18-character resident ID number (masked when read)"

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            return str(ric.validate(to_text(raw).strip().upper()))
        except StdnumError:
            raise FieldError("forms.field.id_number") from None

    def mask(self, value: Any) -> Any:
        return None if value is None else mask_id_number(value)


class UsccType(FieldType):
    name = "uscc"
    label_zh, label_en = "统一社会信用代码", "Unified social credit code"
    icon, group = "shop-o", "contact"
    index_kind = "text"
    ops = EXACT_OPS
    validation = ("unique",)
    value_doc = "18-character code"

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            return str(uscc.validate(to_text(raw).strip().upper()))
        except StdnumError:
            raise FieldError("forms.field.uscc") from None


class BankCardType(FieldType):
    name = "bank_card"
    label_zh, label_en, icon, group = "银行卡号", "Bank card number", "card", "contact"
    pii = True
    index_kind = "text"
    ops = PII_OPS
    validation = ("unique",)
    value_doc = "12–19 digits passing the Luhn check (masked when read)"

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        digits = re.sub(r"[\s-]", "", to_text(raw))
        if not digits.isdigit() or not 12 <= len(digits) <= 19 or not digits.isascii():
            raise FieldError("forms.field.bank_card")
        try:
            luhn.validate(digits)
        except StdnumError:
            raise FieldError("forms.field.bank_card") from None
        return digits

    def mask(self, value: Any) -> Any:
        return None if value is None else mask_bank_card(value)


class UrlType(FieldType):
    name = "url"
    label_zh, label_en, icon, group = "网址", "URL", "link-o", "contact"
    index_kind = "text"
    ops = TEXT_OPS

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        text = to_text(raw).strip()
        if len(text) > 2000 or any(c.isspace() for c in text):
            raise FieldError("forms.field.url")
        try:
            parts = urlsplit(text)
        except ValueError:
            raise FieldError("forms.field.url") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise FieldError("forms.field.url")
        return text


# --- places ----------------------------------------------------------------------------------


def _clean_region(raw: Any, level: int) -> dict[str, Any]:
    """{"codes": ["110000", "110100", "110105"], "names": ["北京市", "市辖区", "朝阳区"]}."""
    if isinstance(raw, list):
        raw = {"codes": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("codes"), list):
        raise FieldError("forms.field.region")
    codes = [str(c) for c in raw["codes"] if not is_empty(c)]
    names = raw.get("names") or []
    if len(codes) != level or not all(_REGION_CODE.match(c) for c in codes):
        raise FieldError("forms.field.region")
    if not codes[0].endswith("0000") or codes[0] == "000000":
        raise FieldError("forms.field.region")
    if level >= 2 and (codes[1][:2] != codes[0][:2] or not codes[1].endswith("00")):
        raise FieldError("forms.field.region")
    if level >= 2 and codes[1] == codes[0]:
        raise FieldError("forms.field.region")
    if level == 3 and (codes[2][:4] != codes[1][:4] or codes[2] == codes[1]):
        raise FieldError("forms.field.region")
    if not isinstance(names, list) or (names and len(names) != level):
        raise FieldError("forms.field.region")
    clean_names = [" ".join(to_text(n).split())[:50] for n in names]
    return {"codes": codes, "names": clean_names}


class RegionType(FieldType):
    name = "region"
    label_zh, label_en, icon, group = "省市区", "Region", "map-marked", "place"
    index_kind = "text"  # the deepest code: "startswith 11" finds Beijing
    ops: ClassVar[tuple[str, ...]] = ("eq", "startswith", "empty")
    formula_kind = None
    settings = ("level",)
    value_doc = '{"codes": ["110000","110100","110105"], "names": ["北京市","市辖区","朝阳区"]}'

    def prepare(self, f: FieldDef) -> None:
        level = f.settings.get("level", "district")
        if level not in LEVELS:
            raise SchemaError("settings.level", "forms.schema.bad_value", name="level")
        f.extra["level"] = LEVELS[level]

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if is_empty(raw):
            return None
        return _clean_region(raw, f.extra.get("level", 3))

    def cond(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else value["codes"]

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else value["codes"][-1]

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        if not text.isdigit() or len(text) > 6:
            raise FieldError("forms.field.region")
        return text

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        if value is None:
            return ""
        return "".join(value["names"]) if value["names"] else "/".join(value["codes"])


class AddressType(RegionType):
    name = "address"
    label_zh, label_en, icon = "地址", "Address", "location-o"
    index_kind = "text"  # the full text, for "contains"
    ops = ("contains", "empty")
    value_doc = '{"codes": [...], "names": [...], "detail": "建国路 88 号"}'

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if is_empty(raw):
            return None
        if not isinstance(raw, dict):
            raise FieldError("forms.field.address")
        detail = " ".join(to_text(raw.get("detail") or "").split())
        codes = raw.get("codes")
        if is_empty(codes) and not detail:
            return None
        if not detail:
            raise FieldError("forms.field.address")
        if len(detail) > 200:
            raise FieldError("field.too_long", {"max": 200})
        region = _clean_region({"codes": codes, "names": raw.get("names")}, f.extra.get("level", 3))
        return {**region, "detail": detail}

    def cond(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else self.display(value, f, DisplayContext())

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else self.display(value, f, DisplayContext())[:255]

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        return text[:255]

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        if value is None:
            return ""
        return super().display(value, f, ctx) + value["detail"]


class LocationType(FieldType):
    name = "location"
    label_zh, label_en, icon, group = "定位", "Location", "aim", "place"
    formula_kind = None
    value_doc = '{"lat": "39.9087", "lng": "116.3975", "accuracy": "30", "address": "…"}'

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if is_empty(raw):
            return None
        if not isinstance(raw, dict) or not set(raw) <= {"lat", "lng", "accuracy", "address"}:
            raise FieldError("forms.field.location")
        try:
            lat = to_decimal(raw.get("lat"), "forms.field.location")
            lng = to_decimal(raw.get("lng"), "forms.field.location")
            accuracy = raw.get("accuracy")
            acc = None if is_empty(accuracy) else to_decimal(accuracy, "forms.field.location")
        except FieldError:
            raise FieldError("forms.field.location") from None
        in_range = -90 <= lat <= 90 and -180 <= lng <= 180
        if not in_range or (acc is not None and not 0 <= acc <= 100000):
            raise FieldError("forms.field.location")
        seven = Decimal("0.0000001")
        out: dict[str, Any] = {
            "lat": fmt_decimal(lat.quantize(seven, ROUND_HALF_UP)),
            "lng": fmt_decimal(lng.quantize(seven, ROUND_HALF_UP)),
        }
        if acc is not None:
            out["accuracy"] = fmt_decimal(acc.quantize(Decimal("0.1"), ROUND_HALF_UP))
        address = " ".join(to_text(raw.get("address") or "").split())[:200]
        if address:
            out["address"] = address
        return out

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        if value is None:
            return ""
        return value.get("address") or f"{value['lat']},{value['lng']}"


# --- files -----------------------------------------------------------------------------------


class AttachmentType(FieldType):
    name = "attachment"
    label_zh, label_en, icon, group = "附件", "Attachments", "paperclip", "media"
    formula_kind = None
    validation = ("min_count", "max_count")
    value_doc = "list of upload ids (from POST /forms/uploads)"
    default_max = 10
    images_only = False

    def prepare(self, f: FieldDef) -> None:
        f.extra["min_count"] = _setting_int(f, "min_count") or 0
        f.extra["max_count"] = _setting_int(f, "max_count", high=50) or self.default_max

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if is_empty(raw):
            return None
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            raise FieldError("forms.field.files")
        ids: list[str] = []
        for item in raw:
            if isinstance(item, dict):  # the renderer may send back {"id": …, "name": …}
                item = item.get("id")
            if not isinstance(item, str) or not _UUID.match(item.lower()):
                raise FieldError("forms.field.files")
            if item.lower() not in ids:
                ids.append(item.lower())
        top = f.extra.get("max_count", self.default_max)
        if len(ids) > top:
            raise FieldError("forms.field.files_too_many", {"max": top})
        if len(ids) < f.extra.get("min_count", 0):
            raise FieldError("forms.field.choices_too_few", {"min": f.extra["min_count"]})
        return ids

    def ref_ids(self, value: Any) -> list[Any]:
        return list(value or [])

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if not value else f"{len(value)} {ctx.text('files')}"


class ImageType(AttachmentType):
    name = "image"
    label_zh, label_en, icon = "图片", "Images", "photo-o"
    default_max = 9
    images_only = True


@dataclass(frozen=True)
class PendingFile:
    """A file that arrived inside the submission (a signature); stored when the record is."""

    content: bytes
    content_type: str
    name: str


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SIGNATURE_MAX_BYTES = 512 * 1024


class SignatureType(FieldType):
    name = "signature"
    label_zh, label_en, icon, group = "手写签名", "Signature", "sign", "media"
    formula_kind = None
    allowed_in_subtable = False
    value_doc = 'input: "data:image/png;base64,…"; stored: the upload id of the PNG'

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        if is_empty(raw):
            return None
        if not isinstance(raw, str):
            raise FieldError("forms.field.signature")
        if _UUID.match(raw.lower()):
            return raw.lower()  # unchanged: the id of the stored signature
        prefix = "data:image/png;base64,"
        if not raw.startswith(prefix) or len(raw) > SIGNATURE_MAX_BYTES * 4 // 3 + 100:
            raise FieldError("forms.field.signature")
        try:
            content = base64.b64decode(raw[len(prefix) :], validate=True)
        except (binascii.Error, ValueError):
            raise FieldError("forms.field.signature") from None
        if not content.startswith(PNG_MAGIC) or len(content) > SIGNATURE_MAX_BYTES:
            raise FieldError("forms.field.signature")
        return PendingFile(content, "image/png", "signature.png")

    def ref_ids(self, value: Any) -> list[Any]:
        return [value] if isinstance(value, str) else []

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if value is None else f"1 {ctx.text('files')}"


# --- generated and referenced ----------------------------------------------------------------

_SERIAL_TOKEN = re.compile(r"\{([^{}]*)\}")
_DATE_TOKEN = re.compile(r"^(?:yyyy|yy|MM|dd)+$")
_COUNTER_TOKEN = re.compile(r"^0{1,10}$")


@dataclass(frozen=True)
class SerialPattern:
    parts: tuple[tuple[str, str], ...]  # (kind, text): literal | date | counter

    @classmethod
    def parse(cls, pattern: Any) -> SerialPattern:
        if not isinstance(pattern, str) or not 0 < len(pattern) <= 40:
            raise SchemaError("settings.pattern", "forms.schema.serial_pattern")
        parts: list[tuple[str, str]] = []
        pos = 0
        for match in _SERIAL_TOKEN.finditer(pattern):
            if match.start() > pos:
                parts.append(("literal", pattern[pos : match.start()]))
            token = match.group(1)
            if _DATE_TOKEN.match(token):
                parts.append(("date", token))
            elif _COUNTER_TOKEN.match(token):
                parts.append(("counter", token))
            else:
                raise SchemaError("settings.pattern", "forms.schema.serial_pattern")
            pos = match.end()
        if pos < len(pattern):
            parts.append(("literal", pattern[pos:]))
        literal = "".join(text for kind, text in parts if kind == "literal")
        if "{" in literal or "}" in literal or sum(k == "counter" for k, _ in parts) != 1:
            raise SchemaError("settings.pattern", "forms.schema.serial_pattern")
        return cls(tuple(parts))

    @staticmethod
    def _date(token: str, day: date) -> str:
        out = token.replace("yyyy", "%Y").replace("yy", "%y")
        return day.strftime(out.replace("MM", "%m").replace("dd", "%d"))

    def period(self, day: date) -> str:
        """The pattern with its date parts filled and the counter left out: the counter's key."""
        return "".join(
            self._date(text, day) if kind == "date" else (text if kind == "literal" else "#")
            for kind, text in self.parts
        )

    def render(self, day: date, number: int) -> str:
        out = []
        for kind, text in self.parts:
            if kind == "date":
                out.append(self._date(text, day))
            elif kind == "counter":
                out.append(str(number).zfill(len(text)))
            else:
                out.append(text)
        return "".join(out)


class SerialType(FieldType):
    name = "serial"
    label_zh, label_en, icon, group = "流水号", "Serial number", "orders-o", "advanced"
    input = False
    derived = True
    index_kind = "text"  # in the record's own serial_no column
    ops = ("eq", "startswith", "contains")
    settings = ("pattern",)
    allowed_in_subtable = False
    value_doc = 'generated at submit from settings.pattern, e.g. "SQ202603010001"'

    def prepare(self, f: FieldDef) -> None:
        f.extra["pattern"] = SerialPattern.parse(f.settings.get("pattern") or "{yyyyMMdd}{0000}")

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        return text.strip()[:64]


def _parse_ref(raw: Any, code: str) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, dict):  # the renderer may send back {"id": 7, "label": "…"}
        raw = raw.get("id")
    if isinstance(raw, bool):
        raise FieldError(code)
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or not 0 < raw < 2**63:
        raise FieldError(code)
    return raw


class UserType(FieldType):
    name = "user"
    label_zh, label_en, icon, group = "成员", "User", "manager-o", "relation"
    index_kind = "number"
    ops = REF_OPS
    formula_kind = "number"
    value_doc = "user id (integer)"
    ref_code = "forms.field.user"

    def clean(self, raw: Any, f: FieldDef, today: date) -> Any:
        return _parse_ref(raw, self.ref_code)

    def index(self, value: Any, f: FieldDef) -> Any:
        return None if value is None else Decimal(value)

    def ref_kind(self, f: FieldDef) -> str | None:
        return self.name

    def ref_ids(self, value: Any) -> list[Any]:
        return [] if value is None else [value]

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        kind = self.ref_kind(f)
        return "" if value is None or kind is None else ctx.label(kind, value)


class DepartmentType(UserType):
    name = "department"
    label_zh, label_en, icon = "部门", "Department", "cluster-o"
    value_doc = "department id (integer)"
    ref_code = "forms.field.department"


class RelationType(UserType):
    name = "relation"
    label_zh, label_en, icon = "关联记录", "Related record", "friends-o"
    settings = ("target", "form")
    value_doc = "id of the related customer or record (integer)"
    ref_code = "forms.field.reference"

    def prepare(self, f: FieldDef) -> None:
        target = f.settings.get("target", "customer")
        if target not in ("customer", "record"):
            raise SchemaError("settings.target", "forms.schema.relation_target")
        if target == "record" and not _is_code(f.settings.get("form")):
            raise SchemaError("settings.form", "forms.schema.relation_target")
        f.extra["target"] = target

    def ref_kind(self, f: FieldDef) -> str | None:
        target = f.settings.get("target", "customer")
        return "customer" if target == "customer" else f"record:{f.settings.get('form')}"


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"[a-z][a-z0-9_]{0,49}", value))


class LookupType(FieldType):
    name = "lookup"
    label_zh, label_en, icon, group = "关联显示", "Looked-up value", "search", "relation"
    input = False
    derived = True
    index_kind = "text"
    ops = TEXT_OPS
    settings = ("relation", "field")
    value_doc = "text copied from the related record at submit time"

    def prepare(self, f: FieldDef) -> None:
        if not isinstance(f.settings.get("relation"), str):
            raise SchemaError("settings.relation", "forms.schema.lookup_relation")
        looked = f.settings.get("field", "label")
        if not isinstance(looked, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,49}", looked):
            raise SchemaError("settings.field", "forms.schema.bad_value", name="field")

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        return text.strip()[:255]


# --- structure and computation ---------------------------------------------------------------


class SubtableType(FieldType):
    name = "subtable"
    label_zh, label_en, icon, group = "子表单", "Sub-table", "bars", "advanced"
    has_children = True
    formula_kind = "rows"
    allowed_in_subtable = False
    validation = ("min_rows", "max_rows")
    value_doc = "list of row objects {child_key: value}"
    hard_max_rows = 200

    def prepare(self, f: FieldDef) -> None:
        f.extra["min_rows"] = _setting_int(f, "min_rows", high=self.hard_max_rows) or 0
        f.extra["max_rows"] = _setting_int(f, "max_rows", high=self.hard_max_rows) or 50
        if f.extra["min_rows"] > f.extra["max_rows"]:
            raise SchemaError("validation.min_rows", "forms.schema.min_above_max")

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return "" if not value else f"{len(value)} {ctx.text('rows')}"


class FormulaType(FieldType):
    name = "formula"
    label_zh, label_en, icon, group = "公式", "Formula", "cashier-o", "advanced"
    input = False
    derived = True
    settings = ("result_type", "precision")
    value_doc = "stored like its result_type (number/money/percent: decimal string)"

    def result(self, f: FieldDef) -> FieldType:
        return _RESULT_TYPES[f.settings.get("result_type", "number")]

    def prepare(self, f: FieldDef) -> None:
        result_type = f.settings.get("result_type", "number")
        if result_type not in _RESULT_TYPES:
            raise SchemaError("settings.result_type", "forms.schema.bad_value", name="result_type")
        precision = _setting_int(f, "precision", where="settings", high=6)
        default = 4 if result_type == "percent" else 2
        f.extra["precision"] = default if precision is None else precision

    def from_result(self, value: Any, f: FieldDef) -> Any:
        """Normalise what the formula engine returned into the stored form."""
        if value is None or value == "":
            return None
        kind = f.settings.get("result_type", "number")
        if kind in ("number", "money", "percent"):
            number = to_decimal(value)
            if kind == "percent":
                number *= 100
            places = 2 if kind == "money" else f.extra.get("precision", 2)
            number = number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
            return str(number) if kind == "money" else fmt_decimal(number)
        if kind == "date":
            return parse_date(value if isinstance(value, date) else str(value)[:10]).isoformat()
        if kind == "boolean":
            return bool(value)
        return str(value)[:1000]

    def formula_kind_of(self, f: FieldDef) -> str | None:
        return self.result(f).formula_kind

    def typed(self, value: Any, f: FieldDef) -> Any:
        return self.result(f).typed(value, f)

    def cond(self, value: Any, f: FieldDef) -> Any:
        return self.result(f).cond(value, f)

    def index_kind_of(self, f: FieldDef) -> str | None:
        return self.result(f).index_kind

    def ops_of(self, f: FieldDef) -> tuple[str, ...]:
        return self.result(f).ops

    def index(self, value: Any, f: FieldDef) -> Any:
        return self.result(f).index(value, f)

    def filter_value(self, text: str, f: FieldDef, today: date) -> Any:
        return self.result(f).filter_value(text, f, today)

    def display(self, value: Any, f: FieldDef, ctx: DisplayContext) -> str:
        return self.result(f).display(value, f, ctx)

    def excel(self, value: Any, f: FieldDef, ctx: DisplayContext) -> Any:
        return self.result(f).excel(value, f, ctx)

    def excel_format_of(self, f: FieldDef) -> str | None:
        return self.result(f).excel_format_of(f)


class AmountCapitalType(FieldType):
    name = "amount_capital"
    label_zh, label_en, icon, group = "大写金额", "Amount in words", "balance-list-o", "number"
    input = False
    derived = True
    settings = ("source",)
    value_doc = "金额大写 of the source money field, e.g. 伍拾万元整"

    def prepare(self, f: FieldDef) -> None:
        if not isinstance(f.settings.get("source"), str):
            raise SchemaError("settings.source", "forms.schema.source_invalid")

    @staticmethod
    def compute(amount: Any) -> str | None:
        if amount is None:
            return None
        try:
            return to_chinese_capital(Decimal(amount))
        except (ValueError, InvalidOperation):
            return None


class SectionType(FieldType):
    name = "section"
    label_zh, label_en, icon, group = "分组标题", "Section", "apps-o", "layout"
    input = False
    layout = True
    formula_kind = None
    settings = ("collapsible",)
    value_doc = "no value (layout)"


class DescriptionType(FieldType):
    name = "description"
    label_zh, label_en, icon, group = "说明文字", "Description", "info-o", "layout"
    input = False
    layout = True
    formula_kind = None
    settings = ("content",)
    value_doc = "no value (static text from settings.content)"


_RESULT_TYPES: dict[str, FieldType] = {
    "number": NumberType(),
    "money": MoneyType(),
    "percent": PercentType(),
    "text": TextType(),
    "date": DateType(),
    "boolean": SwitchType(),
}

# Palette order.
TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        TextType(),
        TextareaType(),
        RichTextType(),
        NumberType(),
        MoneyType(),
        PercentType(),
        AmountCapitalType(),
        SliderType(),
        DateType(),
        DateTimeType(),
        TimeType(),
        DateRangeType(),
        SelectType(),
        MultiSelectType(),
        RadioType(),
        CheckboxType(),
        SwitchType(),
        RatingType(),
        PhoneType(),
        EmailType(),
        IdNumberType(),
        UsccType(),
        BankCardType(),
        UrlType(),
        RegionType(),
        AddressType(),
        LocationType(),
        ImageType(),
        AttachmentType(),
        SignatureType(),
        SerialType(),
        UserType(),
        DepartmentType(),
        RelationType(),
        LookupType(),
        SubtableType(),
        FormulaType(),
        SectionType(),
        DescriptionType(),
    )
}

GROUPS = {
    "basic": ("基础", "Basic"),
    "number": ("数值", "Numbers"),
    "date": ("日期时间", "Dates and times"),
    "choice": ("选择", "Choices"),
    "contact": ("联系与证件", "Contact and identity"),
    "place": ("地区与位置", "Places"),
    "media": ("图片与文件", "Images and files"),
    "relation": ("成员与关联", "People and relations"),
    "advanced": ("高级", "Advanced"),
    "layout": ("布局", "Layout"),
}


def formula_kind(f: FieldDef) -> str | None:
    if isinstance(f.type, FormulaType):
        return f.type.formula_kind_of(f)
    return f.type.formula_kind


def palette(lang: str) -> list[dict[str, Any]]:
    return [t.meta(lang) for t in TYPES.values()]


def group_labels(lang: str) -> dict[str, str]:
    return {k: (en if lang == EN else zh) for k, (zh, en) in GROUPS.items()}


def value_fields(fields: Iterable[FieldDef]) -> list[FieldDef]:
    return [f for f in fields if not f.type.layout]
