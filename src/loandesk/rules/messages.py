"""Rule engine message codes (zh-CN, en-US)."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        "rules.name_required": ("请填写规则名称", "Give the rule a name"),
        "rules.record_type_invalid": ("请选择有效的记录类型", "Choose a valid record type"),
        "rules.form_invalid": ("请选择已发布的表单", "Choose a published form"),
        "rules.trigger_type_invalid": (
            "触发方式应为 记录事件、日期相对 或 定时",
            "The trigger must be a record event, date-relative or cron",
        ),
        "rules.trigger_invalid": ("触发设置不完整或格式不对", "The trigger settings are invalid"),
        "rules.event_kind_invalid": (
            "事件类型应为 新建、修改、字段变为某值 或 业务事件",
            "The event must be created, updated, field changed or a domain event",
        ),
        "rules.field_unknown": ("没有字段“{field}”", "There is no field '{field}'"),
        "rules.topic_unknown": (
            "该记录类型没有事件“{topic}”",
            "This record type has no event '{topic}'",
        ),
        "rules.date_field_invalid": (
            "“{field}”不能用作日期触发(需要已建索引的日期字段)",
            "'{field}' cannot drive a date trigger (an indexed date field is needed)",
        ),
        "rules.days_invalid": (
            "天数应为 -{max} 到 {max} 之间的整数",
            "Days must be a whole number between -{max} and {max}",
        ),
        "rules.time_invalid": ("时间应为 HH:MM(00:00–23:59)", "Time must be HH:MM (00:00–23:59)"),
        "rules.cron_invalid": (
            "Cron 表达式无效({detail}):应为 5 段,分 时 日 月 周",
            "Invalid cron expression ({detail}): five fields, minute hour day month weekday",
        ),
        "rules.record_type_required": (
            "此触发方式需要选择记录类型",
            "This trigger needs a record type",
        ),
        "rules.condition_invalid": ("条件无效:{detail}", "Invalid condition: {detail}"),
        "rules.actions_invalid": (
            "动作应为 1 到 {max} 个",
            "A rule has 1 to {max} actions",
        ),
        "rules.action_name_invalid": ("动作名称无效", "Invalid action name"),
        "rules.action_type_mismatch": (
            "动作“{action}”不适用于此记录类型",
            "Action '{action}' does not apply to this record type",
        ),
        "rules.param_unknown": ("未知参数“{param}”", "Unknown parameter '{param}'"),
        "rules.param_required": ("请填写参数“{param}”", "Parameter '{param}' is required"),
        "rules.param_invalid": (
            "参数“{param}”的值无效",
            "Parameter '{param}' has an invalid value",
        ),
        "rules.field_not_settable": (
            "这些字段不能由规则修改:{fields}",
            "These fields cannot be set by a rule: {fields}",
        ),
        "rules.user_invalid": ("用户不存在或已停用", "The user does not exist or is inactive"),
        "rules.assign_unsupported": (
            "“{type}”不支持分配负责人",
            "Assigning an owner is not supported for '{type}'",
        ),
        "rules.run_as_inactive": (
            "规则的执行身份用户已停用,请重新保存规则",
            "The user this rule runs as is inactive; save the rule again",
        ),
        "rules.unknown_action": (
            "未知动作“{action}”(尚未安装或已移除)",
            "Unknown action '{action}' (not installed or removed)",
        ),
        "rules.action_failed": ("动作执行失败", "The action failed"),
        "rules.record_gone": ("记录已不存在", "The record no longer exists"),
        "rules.not_failed": ("只有失败的执行可以重试", "Only failed firings can be retried"),
        "rules.condition_error": (
            "条件无法计算:{detail}",
            "The condition cannot be evaluated: {detail}",
        ),
        "rules.too_large": ("内容太大(最多 {max} 字符)", "Too large (at most {max} characters)"),
    }
)
