"""Report message codes (zh-CN, en-US)."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        "reports.unknown_metric": ("未知指标:{key}", "Unknown metric: {key}"),
        "reports.unknown_dimension": ("未知维度:{key}", "Unknown dimension: {key}"),
        "reports.dimension_unsupported": (
            "指标「{metric}」不支持按「{dimension}」分析",
            "Metric '{metric}' cannot be broken down by '{dimension}'",
        ),
        "reports.metrics_required": ("请至少选择一个指标", "Pick at least one metric"),
        "reports.too_many_metrics": ("一次最多 {max} 个指标", "At most {max} metrics at once"),
        "reports.mixed_series": (
            "按两个维度分析时只能选一个指标",
            "A breakdown by two dimensions takes exactly one metric",
        ),
        "reports.bad_date": ("日期格式应为 YYYY-MM-DD", "Dates must look like YYYY-MM-DD"),
        "reports.period_order": ("开始日期不能晚于结束日期", "The start cannot be after the end"),
        "reports.period_too_long": (
            "时间范围最长 {max} 天",
            "The period can span at most {max} days",
        ),
        "reports.bad_grain": (
            "时间粒度应为 day / week / month / quarter / year",
            "The time grain must be day, week, month, quarter or year",
        ),
        "reports.bad_filter": ("筛选条件「{key}」无效", "Filter '{key}' is not valid"),
        "reports.too_many_values": (
            "筛选条件「{key}」最多 {max} 个值",
            "Filter '{key}' takes at most {max} values",
        ),
        "reports.no_records": (
            "指标「{metric}」没有明细记录",
            "Metric '{metric}' has no underlying records",
        ),
        "reports.bad_chart": ("未知图表类型:{key}", "Unknown chart type: {key}"),
        "reports.too_many_widgets": (
            "一个看板最多 {max} 个图表",
            "A dashboard holds at most {max} charts",
        ),
        "reports.bad_layout": ("图表位置或大小无效", "A chart's position or size is not valid"),
        "reports.name_required": ("请填写名称", "A name is required"),
        "reports.unknown_role": ("未知角色:{code}", "Unknown role: {code}"),
        "reports.refresh_invalid": (
            "自动刷新间隔应为 0(关闭)或 {min} 到 {max} 秒",
            "Auto-refresh must be 0 (off) or {min} to {max} seconds",
        ),
        "reports.key_invalid": (
            "代码只能包含小写字母、数字和下划线,并以字母开头",
            "The key may hold lower-case letters, digits and underscores, starting with a letter",
        ),
        "reports.key_taken": ("代码「{key}」已被使用", "The key '{key}' is already taken"),
        "reports.unknown_form": ("未知表单:{code}", "Unknown form: {code}"),
        "reports.field_not_indexed": (
            "字段「{field}」不是关键字段(需在表单设计器中勾选「关键字段」)",
            "Field '{field}' is not a key field (mark it as key in the form designer)",
        ),
        "reports.field_not_number": (
            "「{agg}」只能用于数字或金额类关键字段",
            "'{agg}' works only on a number or money key field",
        ),
        "reports.bad_aggregation": (
            "聚合方式应为 count / sum / avg / distinct",
            "The aggregation must be count, sum, avg or distinct",
        ),
        "reports.bad_operator": ("不支持的比较方式:{op}", "Unsupported comparison: {op}"),
        "reports.export_too_large": (
            "导出最多 {max} 行,请缩小范围",
            "An export holds at most {max} rows: narrow the query",
        ),
        "reports.bad_month": ("月份格式应为 YYYY-MM", "Months must look like YYYY-MM"),
        "reports.bad_amount": ("金额无效", "The amount is not valid"),
        "reports.cost_not_number": (
            "请输入数字金额(元),如 1234.50",
            "Enter the cost as a number of yuan, e.g. 1234.50",
        ),
        "reports.cost_negative": ("成本不能为负数", "The cost cannot be negative"),
        "reports.cost_too_large": (
            "成本不能超过 {max} 元,请检查是否多输了数字",
            "The cost cannot exceed {max} yuan: check for extra digits",
        ),
        "reports.cost_precision": (
            "金额最多保留两位小数(到分)",
            "At most 2 decimal places (fen)",
        ),
        "reports.unknown_channel": ("未知渠道:{channel}", "Unknown channel: {channel}"),
        "reports.field_required": ("请选择字段", "Pick a field"),
        "reports.bad_unit": (
            "该聚合方式不支持此显示格式",
            "This display format does not fit the aggregation",
        ),
        "reports.filter_not_number": ("请输入数字", "Enter a number"),
        "reports.filter_not_date": (
            "日期格式应为 YYYY-MM-DD",
            "Dates must look like YYYY-MM-DD",
        ),
        "reports.metric_in_use": (
            "该指标正被看板使用:{names}。请先从看板中移除相关图表",
            "Dashboards use this metric: {names}. Remove those charts first",
        ),
        "reports.agg_sum": ("求和", "Sum"),
        "reports.agg_avg": ("平均", "Average"),
        "reports.too_many_costs": (
            "一次最多保存 {max} 条渠道成本",
            "At most {max} channel costs at once",
        ),
        "reports.bad_time": ("发送时间应为 HH:MM", "The time must look like HH:MM"),
        "reports.bad_image": (
            "图表 {widget} 的图片无效(须为不超过 {mb} MB 的 PNG 或 JPEG)",
            "The image of chart {widget} is invalid (a PNG or JPEG of at most {mb} MB)",
        ),
        "reports.bad_weekday": (
            "星期应为 0(周一)到 6(周日)",
            "The weekday must be 0 (Monday) to 6 (Sunday)",
        ),
        "reports.recipients_required": (
            "请至少选择一个接收人或角色",
            "Pick at least one recipient or role",
        ),
        "reports.too_many_recipients": (
            "接收人和角色最多 {max} 个",
            "At most {max} recipients and roles",
        ),
        "reports.unknown_user": (
            "接收人不存在或已停用",
            "A recipient does not exist or is disabled",
        ),
    }
)
