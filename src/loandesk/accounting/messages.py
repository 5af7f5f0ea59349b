"""Accounting message codes (zh-CN, en-US)."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        # chart and posting map
        "accounting.code_invalid": (
            "科目编码须为 4-20 位数字",
            "An account code is 4 to 20 digits",
        ),
        "accounting.code_taken": ("科目编码已存在", "That account code exists already"),
        "accounting.parent_invalid": (
            "上级科目须为已有科目,且编码是本科目编码的前缀",
            "The parent must be an existing account whose code prefixes this one",
        ),
        "accounting.type_mismatch": (
            "下级科目的类别须与上级科目一致",
            "A sub-account has the type of its parent",
        ),
        "accounting.account_in_use": (
            "记账规则仍在使用该科目,不能停用",
            "The posting map still uses this account; it cannot be deactivated",
        ),
        "accounting.account_inactive": ("科目已停用", "The account is inactive"),
        "accounting.same_account": (
            "借方与贷方科目不能相同",
            "Debit and credit accounts must differ",
        ),
        "accounting.unknown_component": ("没有这个记账项目", "No such posting component"),
        # journal
        "accounting.period_invalid": (
            "会计期间格式为 YYYY-MM",
            "The accounting period is written YYYY-MM",
        ),
        "accounting.layout_invalid": (
            "导出格式只能是 kingdee 或 yonyou",
            "The export layout is kingdee or yonyou",
        ),
        "accounting.unbalanced": (
            "凭证借贷不平衡:借方 {debit},贷方 {credit}",
            "The entry does not balance: debit {debit}, credit {credit}",
        ),
        "accounting.components_mismatch": (
            "还款分配合计 {parts} 与金额 {amount} 不一致",
            "The repayment's allocation {parts} does not add up to its amount {amount}",
        ),
        "accounting.missing_rule": (
            "记账规则缺少项目 {component}",
            "The posting map has no rule for {component}",
        ),
        # bank statements
        "accounting.file_required": ("请选择流水文件", "Choose a statement file"),
        "accounting.file_too_large": (
            "文件超过 {max_mb} MB",
            "The file is larger than {max_mb} MB",
        ),
        "accounting.file_invalid": (
            "无法识别的文件:请上传 CSV 或 Excel(.xlsx)银行流水",
            "Not a statement file: upload a CSV or Excel (.xlsx) bank statement",
        ),
        "accounting.file_empty": ("文件中没有流水记录", "The file holds no statement rows"),
        "accounting.too_many_rows": (
            "一次最多导入 {max} 行",
            "At most {max} rows can be imported at once",
        ),
        "accounting.no_header": (
            "找不到表头:需要交易日期、金额等列",
            "No header row found: a statement needs date and amount columns",
        ),
        "accounting.mapping_required": (
            "请指定 {field} 所在的列",
            "Choose the column that holds {field}",
        ),
        "accounting.mapping_unknown_column": (
            "文件中没有列「{column}」",
            "The file has no column “{column}”",
        ),
        "accounting.mapping_unknown_field": ("未知的字段 {field}", "Unknown field {field}"),
        "accounting.statement_not_checked": (
            "请先预检流水",
            "Run the dry run before posting",
        ),
        "accounting.line_not_resolvable": (
            "第 {row} 行不能手工指定贷款",
            "Row {row} cannot be matched by hand",
        ),
        "accounting.reason.contract_not_found": (
            "摘要中的合同号不存在",
            "The contract number in the memo is unknown",
        ),
        "accounting.reason.loan_not_open": (
            "贷款已结清或已核销",
            "The loan is closed or written off",
        ),
        "accounting.reason.no_match": (
            "摘要无合同号,付款账号也未登记",
            "No contract number in the memo and no known payer account",
        ),
        "accounting.reason.several_loans": (
            "付款人有多笔在贷贷款,请手工选择",
            "The payer has several open loans: choose one",
        ),
        "accounting.reason.serial_imported": (
            "流水号已导入过",
            "This bank serial was imported before",
        ),
        "accounting.reason.serial_repeated": (
            "文件中流水号重复",
            "The serial appears twice in the file",
        ),
        "accounting.reason.bad_date": ("交易日期无法识别", "Unreadable transaction date"),
        "accounting.reason.bad_amount": ("金额无法识别", "Unreadable amount"),
        "accounting.reason.outflow": ("支出流水,不入账", "An outgoing payment: not posted"),
        "accounting.repayments_unavailable": (
            "还款服务尚未启用",
            "The repayment service is not available",
        ),
        # write-off
        "accounting.write_off.loan_not_open": (
            "只有还款中或逾期的贷款可以核销",
            "Only an active or overdue loan can be written off",
        ),
        "accounting.write_off.pending": (
            "该贷款已有审批中的核销申请",
            "A write-off of this loan is already waiting for approval",
        ),
        "accounting.write_off.no_flow": (
            "核销审批流程未启用,请联系管理员",
            "The write-off approval flow is not set up; ask an administrator",
        ),
        "accounting.write_off.reason_required": (
            "请填写核销原因",
            "Give the reason for the write-off",
        ),
        "accounting.write_off.no_request": (
            "找不到对应的核销申请",
            "No write-off request belongs to this approval",
        ),
    }
)

# Audit log labels of the accounting actions.
register_messages(
    {
        "audit.accounting.account_created": ("新增会计科目", "Account added"),
        "audit.accounting.posting_rule_changed": ("修改记账规则", "Posting rule changed"),
        "audit.accounting.vouchers_exported": ("导出凭证", "Vouchers exported"),
        "audit.accounting.statement_uploaded": ("上传银行流水", "Bank statement uploaded"),
        "audit.accounting.statement_posted": ("银行流水入账", "Bank statement posted"),
        "audit.accounting.write_off_requested": ("申请核销", "Write-off requested"),
        "audit.loan.write_off": ("贷款核销", "Loan written off"),
    }
)
