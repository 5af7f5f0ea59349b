"""zh-CN / en-US texts of the form engine: field errors, design problems, links and audit."""

from loandesk.core.expression import MESSAGES as EXPRESSION_MESSAGES
from loandesk.core.i18n import register_messages

# The expression engine is plain Python; the forms app shows its errors, so it registers them.
register_messages(EXPRESSION_MESSAGES)

# Submission errors of single fields (details.fields values).
register_messages(
    {
        "forms.field.text": ("请输入文本", "Enter text"),
        "forms.field.number": ("请输入有效的数字", "Enter a valid number"),
        "forms.field.decimals": ("最多 {max} 位小数", "At most {max} decimals"),
        "forms.field.money": (
            "请输入有效的金额(元,最多两位小数)",
            "Enter a valid amount (yuan, at most two decimals)",
        ),
        "forms.field.integer": ("请输入整数", "Enter a whole number"),
        "forms.field.step": ("数值须按 {step} 递增", "The value must be in steps of {step}"),
        "forms.field.date": ("日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD"),
        "forms.field.datetime": (
            "日期时间格式应为 YYYY-MM-DDTHH:MM",
            "Date-times are YYYY-MM-DDTHH:MM",
        ),
        "forms.field.time": ("时间格式应为 HH:MM", "Times are HH:MM"),
        "forms.field.date_range": (
            "请填写开始和结束日期,且开始不晚于结束",
            "Give a start and an end date, the start not after the end",
        ),
        "forms.field.date_too_early": ("不能早于 {min}", "Must not be before {min}"),
        "forms.field.date_too_late": ("不能晚于 {max}", "Must not be after {max}"),
        "forms.field.boolean": ("应为是或否", "Expected yes or no"),
        "forms.field.must_accept": ("请勾选此项", "Please tick this"),
        "forms.field.choices_too_few": ("至少选择 {min} 项", "Choose at least {min}"),
        "forms.field.choices_too_many": ("最多选择 {max} 项", "Choose at most {max}"),
        "forms.field.rating": ("评分须在 1 到 {max} 之间", "The rating is 1 to {max}"),
        "forms.field.phone": ("请输入有效的手机号", "Enter a valid mobile number"),
        "forms.field.email": ("请输入有效的邮箱地址", "Enter a valid e-mail address"),
        "forms.field.id_number": ("身份证号码无效", "Invalid resident ID number"),
        "forms.field.uscc": ("统一社会信用代码无效", "Invalid unified social credit code"),
        "forms.field.bank_card": ("银行卡号无效", "Invalid bank card number"),
        "forms.field.url": (
            "请输入以 http:// 或 https:// 开头的网址",
            "Enter a URL starting with http:// or https://",
        ),
        "forms.field.region": ("请选择完整的省/市/区", "Choose the full province/city/district"),
        "forms.field.address": ("请填写详细地址", "Enter the street address"),
        "forms.field.location": ("位置坐标无效", "Invalid location"),
        "forms.field.files": ("文件列表无效", "Invalid list of files"),
        "forms.field.files_too_many": ("最多 {max} 个文件", "At most {max} files"),
        "forms.field.upload_missing": (
            "文件不存在或已被使用,请重新上传",
            "The file is missing or already used; upload it again",
        ),
        "forms.field.upload_not_image": ("请上传图片文件", "Upload an image"),
        "forms.field.signature": ("签名须为 PNG 图片", "The signature must be a PNG image"),
        "forms.field.reference": ("请选择有效的记录", "Choose a valid record"),
        "forms.field.not_found": ("选择的记录不存在或无权访问", "Not found, or no access to it"),
        "forms.field.user": ("选择的用户不存在或已停用", "No such active user"),
        "forms.field.department": ("选择的部门不存在", "No such department"),
        "forms.field.rows": ("应为若干行数据", "Expected a list of rows"),
        "forms.field.row": ("每一行应为一个对象", "Each row must be an object"),
        "forms.field.rows_too_few": ("至少填写 {min} 行", "At least {min} rows"),
        "forms.field.rows_too_many": ("最多 {max} 行", "At most {max} rows"),
        "forms.field.object": ("格式不正确", "Invalid value"),
        "forms.field.regex_custom": ("{message}", "{message}"),
        "forms.field.regex": ("格式不符合要求", "The value does not match the required format"),
        "forms.field.unique": ("该值已存在,不能重复", "This value already exists"),
        "forms.field.sms_code": ("验证码错误或已过期", "Wrong or expired verification code"),
        "forms.field.sms_code_required": (
            "请输入短信验证码",
            "Enter the verification code sent by SMS",
        ),
        "forms.field.sms_code_locked": (
            "验证码错误次数过多,请重新获取",
            "Too many wrong codes; request a new one",
        ),
    }
)

# Design-time problems (POST /forms/{code}/draft/validate, publish).
register_messages(
    {
        "forms.schema.invalid": ("表单结构无效", "The form schema is invalid"),
        "forms.schema.not_object": ("应为对象", "Expected an object"),
        "forms.schema.fields_missing": ("表单至少需要一个字段", "A form needs at least one field"),
        "forms.schema.too_many_fields": ("字段过多(最多 {max} 个)", "Too many fields (max {max})"),
        "forms.schema.too_large": ("表单定义过大", "The form definition is too large"),
        "forms.schema.unknown_property": ("未知属性:{name}", "Unknown property: {name}"),
        "forms.schema.key_invalid": (
            "字段标识须为小写字母开头的 snake_case(最长 {max} 位)",
            "Field keys are snake_case starting with a letter (max {max})",
        ),
        "forms.schema.key_reserved": ("字段标识 {key} 为系统保留", "The key {key} is reserved"),
        "forms.schema.key_duplicate": ("字段标识 {key} 重复", "Duplicate field key {key}"),
        "forms.schema.type_unknown": ("未知的字段类型:{type}", "Unknown field type: {type}"),
        "forms.schema.label_missing": ("请填写字段名称", "Give the field a label"),
        "forms.schema.bad_value": ("{name} 的值无效", "Invalid value for {name}"),
        "forms.schema.options_missing": ("请至少添加一个选项", "Add at least one option"),
        "forms.schema.option_duplicate": ("选项值 {value} 重复", "Duplicate option value {value}"),
        "forms.schema.option_invalid": (
            "选项须包含 value 和 label",
            "Options need a value and a label",
        ),
        "forms.schema.min_above_max": ("最小值不能大于最大值", "The minimum is above the maximum"),
        "forms.schema.regex_invalid": (
            "正则表达式无效:{error}",
            "Invalid regular expression: {error}",
        ),
        "forms.schema.regex_too_long": (
            "正则表达式过长(最多 {max} 个字符)",
            "The regular expression is too long (max {max})",
        ),
        "forms.schema.regex_unsafe": (
            "正则表达式含有嵌套的重复,可能导致性能问题",
            "The regular expression nests repetitions, which can be very slow",
        ),
        "forms.schema.unique_not_supported": (
            "该类型的字段不支持唯一校验",
            "This field type cannot be unique",
        ),
        "forms.schema.index_not_supported": (
            "该类型的字段不能设为关键字段",
            "This field type cannot be a key field",
        ),
        "forms.schema.formula_missing": ("请填写公式", "Enter a formula"),
        "forms.schema.formula": (
            "公式错误(第 {position} 个字符):{error}",
            "Formula error at {position}: {error}",
        ),
        "forms.schema.condition": ("显示条件错误:{error}", "Visibility condition error: {error}"),
        "forms.schema.cycle": (
            "字段之间存在循环引用:{path}",
            "The fields refer to each other in a cycle: {path}",
        ),
        "forms.schema.source_invalid": (
            "请选择一个金额字段作为来源",
            "Choose a money field as the source",
        ),
        "forms.schema.relation_target": (
            "关联目标须为客户或某个表单",
            "The relation target is a customer or a form",
        ),
        "forms.schema.relation_form": (
            "关联的表单 {form} 不存在",
            "The related form {form} does not exist",
        ),
        "forms.schema.lookup_relation": (
            "请选择本表单中的一个关联字段",
            "Choose a relation field of this form",
        ),
        "forms.schema.lookup_field": (
            "关联表单中没有字段 {field}",
            "The related form has no field {field}",
        ),
        "forms.schema.serial_pattern": (
            "流水号规则须包含一个序号段,如 {0000}",
            "The serial pattern needs one counter such as {0000}",
        ),
        "forms.schema.serial_multiple": (
            "一个表单只能有一个流水号字段",
            "A form has at most one serial field",
        ),
        "forms.schema.children_missing": (
            "子表单至少需要一列",
            "A sub-table needs at least one column",
        ),
        "forms.schema.child_type": (
            "子表单中不能使用 {type} 类型",
            "A sub-table cannot contain {type} fields",
        ),
        "forms.schema.list_column": ("列表列 {key} 不存在", "The list column {key} does not exist"),
        "forms.schema.permission_mode": (
            "字段权限只能是 hidden、readonly 或 editable",
            "Field permissions are hidden, readonly or editable",
        ),
        "forms.schema.index_full": (
            "关键字段过多:{kind} 类最多 {max} 个",
            "Too many key fields: at most {max} of kind {kind}",
        ),
        "forms.schema.public_mapping": (
            "客户映射字段 {key} 不存在或类型不符",
            "The customer mapping field {key} is missing or of the wrong type",
        ),
    }
)

# Forms, versions, links, public submissions.
register_messages(
    {
        "forms.code_taken": ("表单编码已存在", "A form with this code already exists"),
        "forms.code_invalid": (
            "表单编码须为小写字母开头的 snake_case",
            "Form codes are snake_case starting with a letter",
        ),
        "forms.not_published": ("表单尚未发布", "The form has not been published yet"),
        "forms.no_draft": ("没有需要发布的草稿", "There is no draft to publish"),
        "forms.version_immutable": ("已发布的版本不能修改", "A published version cannot change"),
        "forms.draft_invalid": (
            "草稿存在问题,无法发布",
            "The draft has problems and cannot be published",
        ),
        "forms.filter_unknown": ("不能按 {key} 筛选", "Cannot filter by {key}"),
        "forms.filter_operator": (
            "{key} 不支持 {op} 筛选",
            "{key} does not support the {op} filter",
        ),
        "forms.filter_value": ("{key} 的筛选值无效", "Invalid filter value for {key}"),
        "forms.sort_unknown": ("不能按 {key} 排序", "Cannot sort by {key}"),
        "forms.export_too_large": (
            "导出的记录过多(最多 {max} 条),请先筛选",
            "Too many records to export (max {max}); filter first",
        ),
        "forms.upload_type": (
            "不支持的文件类型(支持图片、PDF、Word、Excel)",
            "Unsupported file type (images, PDF, Word, Excel)",
        ),
        "forms.upload_too_large": (
            "文件过大(最大 {max} MB)",
            "The file is too large (max {max} MB)",
        ),
        "forms.upload_empty": ("文件为空", "The file is empty"),
        "forms.link_inactive": ("该链接已停用", "This link has been switched off"),
        "forms.link_expired": ("该链接已过期", "This link has expired"),
        "forms.link_full": ("该链接的提交次数已满", "This link has reached its submission limit"),
        "forms.link_expiry_past": ("过期时间须晚于现在", "The expiry must be in the future"),
        "forms.sms_not_required": ("该链接无需短信验证", "This link does not use SMS verification"),
        "forms.sms_sent": (
            "【LoanDesk】您的验证码是 {code},{minutes} 分钟内有效。如非本人操作请忽略。",
            "[LoanDesk] Your verification code is {code}, valid for {minutes} minutes.",
        ),
        "forms.submission_rejected": ("提交未被接受,请稍后重试", "The submission was not accepted"),
        "forms.phone_field_missing": (
            "表单缺少用于短信验证的手机号字段",
            "The form has no phone field for SMS verification",
        ),
        "forms.yes": ("是", "Yes"),
        "forms.no": ("否", "No"),
        "forms.files_count": ("{count} 个文件", "{count} files"),
        "forms.rows_count": ("{count} 行", "{count} rows"),
        "forms.column.serial_no": ("编号", "Number"),
        "forms.column.owner": ("负责人", "Owner"),
        "forms.column.created_at": ("提交时间", "Submitted"),
        "forms.column.updated_at": ("更新时间", "Updated"),
        "forms.column.row": ("所属记录", "Record"),
        "forms.status.submitted": ("已提交", "Submitted"),
        "forms.status.sms_sent": (
            "【LoanDesk】您正在查看申请进度,验证码是 {code},{minutes} 分钟内有效。"
            "如非本人操作请忽略。",
            "[LoanDesk] Your code to view your application's progress is {code}, valid for "
            "{minutes} minutes.",
        ),
        "forms.status.no_phone": (
            "这份申请没有留下手机号,无法在线验证身份。请联系为您办理的客户经理查询进度。",
            "This application has no mobile number to verify, so its progress cannot be shown "
            "online. Please ask your loan officer.",
        ),
        "forms.status.code_wrong": (
            "验证码错误或已过期,还可尝试 {left} 次",
            "Wrong or expired code; {left} attempts left",
        ),
        "forms.status.locked": (
            "验证失败次数过多,请 {minutes} 分钟后再试",
            "Too many failed attempts; try again in {minutes} minutes",
        ),
    }
)

register_messages(
    {
        "audit.forms.form_created": ("新建表单", "Form created"),
        "audit.forms.form_updated": ("修改表单", "Form updated"),
        "audit.forms.draft_saved": ("保存表单草稿", "Form draft saved"),
        "audit.forms.published": ("发布表单版本", "Form version published"),
        "audit.forms.link_created": ("创建表单分享链接", "Form link created"),
        "audit.forms.link_deactivated": ("停用表单分享链接", "Form link switched off"),
        "audit.forms.exported": ("导出表单数据", "Form records exported"),
        "audit.forms.public_rejected": ("拒绝公开表单提交", "Public submission rejected"),
    }
)
