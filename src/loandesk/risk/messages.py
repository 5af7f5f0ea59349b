"""zh-CN / en-US texts of the risk codes (scorecard definition issues and service errors)."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        "risk.scorecard_invalid": ("评分卡配置有误", "The scorecard definition is invalid"),
        "risk.scorecard_missing": (
            "评分卡 {code} 不存在或未启用",
            "Scorecard {code} does not exist or is inactive",
        ),
        "risk.code_invalid": (
            "编码须以小写字母开头,只含小写字母、数字和下划线(最多 40 位)",
            "Codes start with a lowercase letter and use a-z, 0-9 and _ (at most 40)",
        ),
        "risk.code_taken": ("编码已存在", "This code is already taken"),
        "risk.code_immutable": ("编码创建后不可修改", "The code cannot change after creation"),
        "risk.name_invalid": (
            "名称不能为空,最多 100 个字符",
            "Name is required, at most 100 chars",
        ),
        "risk.description_too_long": ("说明最多 500 个字符", "Description: at most 500 characters"),
        "risk.version_conflict": (
            "评分卡已被他人修改(当前版本 {version}),请刷新后重试",
            "The scorecard changed meanwhile (now version {version}); reload and retry",
        ),
        "risk.input_invalid": ("不是有效的数值", "Not a valid number"),
        "risk.audit.scorecard_created": ("新建评分卡", "Scorecard created"),
        "risk.audit.scorecard_updated": ("修改评分卡", "Scorecard updated"),
        # definition issues (risk.def.*), keyed by the dotted path of the offending spot
        "risk.def.not_an_object": ("应为对象", "Must be an object"),
        "risk.def.unknown_key": ("不支持的配置项", "Unknown setting"),
        "risk.def.integer": ("应为整数", "Must be a whole number"),
        "risk.def.range": ("须在 {min} 到 {max} 之间", "Must be between {min} and {max}"),
        "risk.def.text": ("应为文本", "Must be text"),
        "risk.def.required": ("此项为必填项", "This field is required"),
        "risk.def.too_long": ("最多 {max} 个字符", "At most {max} characters"),
        "risk.def.choice": ("只能是:{choices}", "Must be one of: {choices}"),
        "risk.def.number": ("不是有效的数值", "Not a valid number"),
        "risk.def.min_not_below_max": ("上限须大于下限", "The upper bound must exceed the lower"),
        "risk.def.values_required": ("请至少选择一个取值", "Pick at least one value"),
        "risk.def.bad_value": (
            "取值 {value} 无效,可选:{choices}",
            "Value {value} is not valid; choose from: {choices}",
        ),
        "risk.def.value_twice": (
            "取值 {value} 已出现在第 {other} 档",
            "Value {value} is already in band {other}",
        ),
        "risk.def.bands_overlap": (
            "与第 {previous} 档区间重叠(下限须等于上一档的上限)",
            "Overlaps band {previous} (the lower bound must equal the previous upper bound)",
        ),
        "risk.def.bands_gap": (
            "与第 {previous} 档之间有空档(下限应为 {value})",
            "Gap after band {previous} (the lower bound should be {value})",
        ),
        "risk.def.bad_code": (
            "规则编码须以小写字母开头,只含小写字母、数字和下划线",
            "Rule codes start with a lowercase letter and use a-z, 0-9 and _",
        ),
        "risk.def.code_twice": (
            "规则编码 {code} 与第 {other} 条规则重复",
            "Rule code {code} repeats rule {other}",
        ),
        "risk.def.unknown_factor": ("请选择有效的评分因子", "Pick a valid factor"),
        "risk.def.no_bands": ("请至少设置一个分档", "Add at least one band"),
        "risk.def.too_many": ("最多 {max} 项", "At most {max} items"),
        "risk.def.no_rules": ("请至少设置一条规则", "Add at least one rule"),
        "risk.def.no_grades": ("请至少设置一个等级", "Add at least one grade"),
        "risk.def.bad_grade": (
            "等级须为 1–10 位字母或数字",
            "Grades are 1-10 letters or digits",
        ),
        "risk.def.grade_twice": ("等级 {grade} 重复", "Grade {grade} repeats"),
        "risk.def.last_grade_open": (
            "最后一个等级不设下限(兜底)",
            "The last grade has no lower bound (it catches the rest)",
        ),
        "risk.def.grades_not_descending": (
            "等级下限须从高到低递减",
            "Grade lower bounds must go strictly down",
        ),
    }
)
