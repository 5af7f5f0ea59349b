"""zh-CN / en-US texts for the customer center: errors, field labels, choice labels, timeline
lines and audit actions."""

from loandesk.core.i18n import message, register_messages

# Choice values and their labels; also what the Excel import accepts (either language).
CHOICES: dict[str, dict[str, tuple[str, str]]] = {
    "kind": {"individual": ("个人", "Individual"), "enterprise": ("企业", "Enterprise")},
    "status": {
        "active": ("正常", "Active"),
        "archived": ("已归档", "Archived"),
        "merged": ("已合并", "Merged"),
    },
    "credit_level": {
        "A": ("A", "A"),
        "B": ("B", "B"),
        "C": ("C", "C"),
        "watch": ("关注", "Watch"),
        "blacklist": ("黑名单", "Blacklist"),
    },
    "gender": {"male": ("男", "Male"), "female": ("女", "Female")},
    "marital_status": {
        "single": ("未婚", "Single"),
        "married": ("已婚", "Married"),
        "divorced": ("离异", "Divorced"),
        "widowed": ("丧偶", "Widowed"),
    },
    "education": {
        "primary": ("小学及以下", "Primary school or less"),
        "junior_high": ("初中", "Junior high school"),
        "senior_high": ("高中/中专", "Senior high / vocational school"),
        "college": ("大专", "College"),
        "bachelor": ("本科", "Bachelor"),
        "master": ("硕士", "Master"),
        "doctor": ("博士", "Doctorate"),
    },
    "source_channel": {
        "walk_in": ("自然到访", "Walk-in"),
        "referral": ("转介绍", "Referral"),
        "phone": ("电话营销", "Telemarketing"),
        "online": ("线上推广", "Online"),
        "partner": ("合作渠道", "Partner"),
        "public_link": ("公开链接", "Public link"),
        "import": ("Excel 导入", "Excel import"),
        "other": ("其他", "Other"),
    },
    "follow_up_kind": {
        "call": ("电话", "Call"),
        "visit": ("上门拜访", "Visit"),
        "wechat": ("微信", "WeChat"),
        "note": ("备注", "Note"),
    },
    "document_kind": {
        "id_front": ("身份证人像面", "ID card (photo side)"),
        "id_back": ("身份证国徽面", "ID card (emblem side)"),
        "income_proof": ("收入证明", "Proof of income"),
        "bank_statement": ("银行流水", "Bank statement"),
        "contract": ("合同", "Contract"),
        "photo": ("照片", "Photo"),
        "other": ("其他", "Other"),
    },
}

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "kind": ("客户类型", "Type"),
    "name": ("姓名/名称", "Name"),
    "status": ("状态", "Status"),
    "id_number": ("身份证号", "ID number"),
    "phone": ("手机号", "Mobile phone"),
    "bank_card": ("银行卡号", "Bank card"),
    "bank_name": ("开户行", "Bank"),
    "gender": ("性别", "Gender"),
    "birth_date": ("出生日期", "Date of birth"),
    "uscc": ("统一社会信用代码", "Unified social credit code"),
    "legal_representative": ("法定代表人", "Legal representative"),
    "industry": ("行业", "Industry"),
    "province_code": ("省份代码", "Province code"),
    "province_name": ("省份", "Province"),
    "city_code": ("城市代码", "City code"),
    "city_name": ("城市", "City"),
    "district_code": ("区县代码", "District code"),
    "district_name": ("区县", "District"),
    "address": ("详细地址", "Address"),
    "employer": ("工作单位", "Employer"),
    "monthly_income": ("月收入(元)", "Monthly income (yuan)"),
    "marital_status": ("婚姻状况", "Marital status"),
    "education": ("学历", "Education"),
    "credit_level": ("信用等级", "Credit level"),
    "source_channel": ("来源渠道", "Source channel"),
    "remark": ("备注", "Remark"),
    "owner": ("客户经理", "Loan officer"),
    "department": ("所属部门", "Department"),
    "tags": ("标签", "Tags"),
    "custom": ("自定义资料", "Custom fields"),
    "created_at": ("创建时间", "Created"),
    "updated_at": ("更新时间", "Updated"),
    "last_follow_up_at": ("最近跟进", "Last follow-up"),
    "next_follow_up_at": ("下次跟进", "Next follow-up"),
}


def field_label(field: str) -> str:
    return message(f"customers.field.{field}") if field in FIELD_LABELS else field


def choice_label(group: str, value: str) -> str:
    if not value or value not in CHOICES.get(group, {}):
        return ""
    return message(f"customers.choice.{group}.{value}")


register_messages({f"customers.field.{k}": v for k, v in FIELD_LABELS.items()})
register_messages(
    {
        f"customers.choice.{group}.{value}": texts
        for group, values in CHOICES.items()
        for value, texts in values.items()
    }
)

register_messages(
    {
        # identity and contact
        "customers.duplicate": (
            "已存在{field}相同的客户",
            "A customer with the same {field} already exists",
        ),
        "customers.id_number_invalid": (
            "身份证号格式不正确,应为 18 位(最后一位可为 X)",
            "Not a valid resident ID number: 18 characters, the last may be X",
        ),
        "customers.id_number_checksum": (
            "身份证号校验位不正确,请核对",
            "The ID number's check digit is wrong; please check it",
        ),
        "customers.id_number_birth_date": (
            "身份证号中的出生日期无效",
            "The date of birth in the ID number is not valid",
        ),
        "customers.phone_invalid": (
            "手机号格式不正确,应为 11 位中国大陆手机号",
            "Not a valid mainland China mobile number (11 digits)",
        ),
        "customers.uscc_invalid": (
            "统一社会信用代码格式或校验位不正确",
            "Not a valid unified social credit code",
        ),
        "customers.bank_card_invalid": (
            "银行卡号不正确(应为 12-19 位数字并通过校验)",
            "Not a valid bank card number (12-19 digits with a valid check digit)",
        ),
        "customers.bank_card_exists": (
            "该客户已绑定这张银行卡",
            "This bank card is already on the customer",
        ),
        "customers.bank_card_limit": (
            "每位客户最多 {max} 张银行卡",
            "At most {max} bank cards per customer",
        ),
        "customers.contact_required": (
            "个人客户至少需要手机号或身份证号之一",
            "An individual needs a mobile number or an ID number",
        ),
        "customers.uscc_required": (
            "企业客户需要统一社会信用代码",
            "An enterprise needs its unified social credit code",
        ),
        "customers.not_for_kind": (
            "此项不适用于该客户类型",
            "This field does not apply to this type of customer",
        ),
        "customers.region_invalid": (
            "地区代码不正确(省/市/区县 6 位代码须逐级对应)",
            "Invalid region codes (6-digit province/city/district codes must nest)",
        ),
        "customers.income_invalid": (
            "金额格式不正确,应为不小于 0 的数字,最多两位小数",
            "Not a valid amount: a number of at least 0 with at most two decimals",
        ),
        "customers.income_float": (
            '金额请以字符串传入(如 "8000.50"),避免浮点误差',
            'Send amounts as strings (e.g. "8000.50") to avoid float errors',
        ),
        "customers.owner_invalid": (
            "客户经理不存在、已停用或不在您的管理范围内",
            "The loan officer does not exist, is disabled or is outside your scope",
        ),
        "customers.tag_invalid": ("标签不存在:{value}", "No such tag: {value}"),
        "customers.tag_name_taken": ("已有同名标签", "A tag with this name exists"),
        "customers.color_invalid": (
            "颜色格式应为 #RRGGBB",
            "Colours are written #RRGGBB",
        ),
        "customers.custom_invalid": (
            "自定义资料应为最多 {max} 项的对象",
            "Custom fields must be an object of at most {max} keys",
        ),
        "customers.custom_field": ("自定义资料填写有误", "Invalid custom field"),
        "customers.merged": (
            "该客户已合并到其他客户,请在合并后的客户上操作",
            "This customer was merged into another one; work on that one",
        ),
        "customers.archived": (
            "该客户已归档,请先恢复",
            "This customer is archived; restore it first",
        ),
        "customers.not_archived": ("该客户未归档", "This customer is not archived"),
        "customers.merge_self": (
            "不能把客户合并到它自己",
            "A customer cannot be merged into itself",
        ),
        "customers.merge_kind": (
            "个人客户和企业客户不能合并",
            "An individual and an enterprise cannot be merged",
        ),
        "customers.merge_state": (
            "只能合并两个正常状态的客户",
            "Only two active customers can be merged",
        ),
        "customers.no_value": ("该客户没有此项信息", "The customer has no such value"),
        "customers.bank_card_choose": (
            "该客户有多张银行卡,请指定 bank_card_id",
            "The customer has several bank cards: give bank_card_id",
        ),
        # follow-ups
        "customers.photo_invalid": (
            "照片须是该客户名下已上传的图片资料",
            "Photos must be images already uploaded to this customer",
        ),
        "customers.next_follow_up_past": (
            "下次跟进时间不能早于现在",
            "The next follow-up cannot be in the past",
        ),
        "customers.location_invalid": (
            "定位须同时提供合法的经度和纬度",
            "A location needs a valid latitude and longitude together",
        ),
        # files
        "customers.file_required": ("请选择要上传的文件", "Choose a file to upload"),
        "customers.file_type": (
            "不支持的文件类型:仅支持 JPEG、PNG、WebP、HEIC 图片和 PDF",
            "Unsupported file type: JPEG, PNG, WebP and HEIC images and PDF only",
        ),
        "customers.file_too_large": (
            "文件过大,不能超过 {max_mb} MB",
            "The file is too large: at most {max_mb} MB",
        ),
        "customers.file_corrupt": (
            "文件已损坏或无法识别",
            "The file is damaged or cannot be read",
        ),
        # export
        "customers.export_too_large": (
            "导出结果超过 {max} 条,请缩小筛选范围",
            "More than {max} rows to export; narrow the filters",
        ),
        # import
        "customers.import_file_invalid": (
            "无法读取该文件,请上传 .xlsx 格式的 Excel 文件",
            "Cannot read this file; upload an Excel .xlsx file",
        ),
        "customers.import_file_too_large": (
            "文件过大,不能超过 {max_mb} MB",
            "The file is too large: at most {max_mb} MB",
        ),
        "customers.import_too_many_rows": (
            "单次最多导入 {max} 行,请拆分文件",
            "At most {max} rows per import; split the file",
        ),
        "customers.import_empty": (
            "表格第一行应为表头,且至少有一行数据",
            "The first row must hold the headers, followed by at least one data row",
        ),
        "customers.import_unknown_column": ("表头中没有该列:{value}", "No such column: {value}"),
        "customers.import_unknown_field": ("未知的目标字段:{value}", "Unknown field: {value}"),
        "customers.import_field_twice": (
            "字段 {value} 被映射了多次",
            "Field {value} is mapped more than once",
        ),
        "customers.import_name_required": (
            "必须指定哪一列是姓名/名称",
            "Map a column to the name",
        ),
        "customers.import_state": (
            "该导入已提交,不能再次操作",
            "This import was already committed",
        ),
        "customers.import_not_checked": (
            "请先预检(dry-run)再提交",
            "Run the dry run before committing",
        ),
        "customers.import_has_errors": (
            "有 {count} 行数据不合格,未导入任何数据;请修正,或选择跳过错误行",
            "{count} rows are invalid and nothing was imported; fix them or skip bad rows",
        ),
        "customers.import_failed_conflict": (
            "导入期间有人新建了其中的客户,本次未导入任何数据;请重新提交",
            "Someone created one of these customers meanwhile; nothing was imported. Commit again",
        ),
        "customers.import_failed_error": (
            "导入出错,未导入任何数据;请重新提交",
            "The import failed and nothing was imported; commit again",
        ),
        "customers.import_failed_worker": (
            "后台任务中断,未导入任何数据;请重新提交(已存在的客户不会重复导入)",
            "The background task stopped and nothing was imported; commit again "
            "(existing customers are never imported twice)",
        ),
        "customers.import_failed_actor": (
            "提交导入的用户已停用,未导入任何数据",
            "The user who started the import is no longer active; nothing was imported",
        ),
        "customers.import_duplicate_row": (
            "与第 {row} 行重复({field})",
            "Duplicates row {row} ({field})",
        ),
        "customers.import_duplicate_customer": (
            "与已有客户重复({field}),客户编号 {customer_id}",
            "Duplicates existing customer {customer_id} ({field})",
        ),
        "customers.import_choice": ("无法识别的选项:{value}", "Unknown option: {value}"),
        "customers.import_owner_unknown": (
            "找不到客户经理:{value}",
            "No such loan officer: {value}",
        ),
        "customers.import_too_long": (
            "内容过长,最多 {max} 个字符",
            "Too long: at most {max} characters",
        ),
        # timeline
        "customers.timeline.created": ("新建客户", "Customer created"),
        "customers.timeline.created_by_import": (
            "通过 Excel 导入创建",
            "Created by an Excel import",
        ),
        "customers.timeline.created_by_link": (
            "通过公开链接创建",
            "Created through a public link",
        ),
        "customers.timeline.updated": ("修改资料:{fields}", "Profile changed: {fields}"),
        "customers.timeline.transferred": (
            "客户移交给 {owner}",
            "Transferred to {owner}",
        ),
        "customers.timeline.archived": ("客户已归档", "Customer archived"),
        "customers.timeline.restored": ("客户已恢复", "Customer restored"),
        "customers.timeline.follow_up": ("{kind}跟进:{excerpt}", "{kind}: {excerpt}"),
        "customers.timeline.document": ("上传资料:{name}", "Document uploaded: {name}"),
        "customers.timeline.document_deleted": (
            "删除资料:{name}",
            "Document deleted: {name}",
        ),
        "customers.timeline.bank_card_added": (
            "添加银行卡 {card}",
            "Bank card {card} added",
        ),
        "customers.timeline.bank_card_removed": (
            "删除银行卡 {card}",
            "Bank card {card} removed",
        ),
        "customers.timeline.merged": (
            "合并了重复客户 {name}(编号 {id})",
            "Merged duplicate {name} (no. {id})",
        ),
        "customers.timeline.merged_into": (
            "已合并到客户 {name}(编号 {id})",
            "Merged into {name} (no. {id})",
        ),
        "customers.timeline.reveal": ("查看了{field}明文", "Viewed the {field} unmasked"),
        # audit actions
        "audit.pii.view": ("查看敏感信息(明文展示)", "Personal data shown unmasked"),
        "audit.pii.export": ("导出敏感信息明文", "Personal data exported unmasked"),
        "audit.customers.merge": ("合并客户", "Customers merged"),
        "audit.customers.import": ("Excel 导入客户", "Customers imported from Excel"),
        "audit.customers.export": ("导出客户", "Customers exported"),
        "audit.customers.document_download": ("下载客户资料", "Customer document downloaded"),
    }
)
