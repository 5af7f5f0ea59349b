"""zh-CN / en-US texts for the engine's error codes, for `loandesk.core.i18n.register_messages`.

Kept here as plain data (the engine imports no Django); the app that shows these errors (forms)
registers them: `register_messages(MESSAGES)`. Placeholders are the errors' `params`, plus
`column` (1-based position) that the caller may add.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "formula.syntax": ("公式语法错误:“{token}”附近", "Formula syntax error near “{token}”"),
    "formula.empty": ("公式为空", "The formula is empty"),
    "formula.too_long": ("公式太长(最多 {max} 个字符)", "The formula is too long (max {max})"),
    "formula.too_deep": (
        "公式嵌套太深(最多 {max} 层)",
        "The formula is nested too deep (at most {max} levels)",
    ),
    "formula.unknown_function": ("没有函数 {function}", "Unknown function {function}"),
    "formula.wrong_arity": (
        "函数 {function} 的参数个数不对",
        "Wrong number of arguments for {function}",
    ),
    "formula.unknown_field": ("没有字段 {field}", "Unknown field {field}"),
    "formula.column_outside_aggregate": (
        "子表列 {field} 只能用在 SUM、AVERAGE、MIN、MAX、COUNT、COUNTA 之中",
        "The sub-table column {field} can only be used inside SUM, AVERAGE, MIN, MAX, COUNT, "
        "COUNTA",
    ),
    "formula.subtable_needs_column": (
        "子表 {field} 需要写明列,例如 SUM({field}.列名);行数用 ROWS({field})",
        "Name a column of the sub-table {field}, e.g. SUM({field}.column); "
        "ROWS({field}) counts rows",
    ),
    "formula.division_by_zero": ("除数为零", "Division by zero"),
    "formula.type_error": ("数据类型不对", "Wrong type of value"),
    "formula.invalid_date": ("日期无效", "Invalid date"),
    "formula.invalid_argument": ("参数无效", "Invalid argument"),
    "formula.overflow": ("数值超出范围", "Number out of range"),
    "formula.text_too_long": ("文本太长(最多 {max} 个字符)", "Text too long (max {max})"),
    "formula.no_match": ("IFS 没有成立的条件", "No condition of IFS holds"),
    "formula.evaluation_failed": ("公式计算失败", "The formula could not be evaluated"),
    "condition.malformed": ("条件格式不正确", "Malformed condition"),
    "condition.unknown_operator": (
        "不支持的条件运算 {operator}",
        "Unsupported operator {operator}",
    ),
    "condition.unknown_field": ("条件中没有字段 {field}", "Unknown field {field} in condition"),
    "condition.wrong_arity": (
        "条件运算 {operator} 的参数个数不对",
        "Wrong arguments for {operator}",
    ),
    "condition.too_deep": ("条件嵌套太深", "The condition is nested too deep"),
}
