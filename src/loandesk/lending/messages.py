"""zh-CN / en-US texts for the loan-math error codes (finance.*) and lending messages."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        "finance.required": ("此项为必填项", "This field is required"),
        "finance.unknown_parameter": ("未知参数:{name}", "Unknown parameter: {name}"),
        "finance.invalid_number": ("不是有效的数字:{value}", "Not a valid number: {value}"),
        "finance.invalid_integer": ("不是有效的整数:{value}", "Not a valid integer: {value}"),
        "finance.invalid_boolean": ("应为是/否:{value}", "Expected true or false: {value}"),
        "finance.invalid_date": (
            "日期格式应为 YYYY-MM-DD:{value}",
            "Dates are YYYY-MM-DD: {value}",
        ),
        "finance.invalid_choice": ("不支持的选项:{value}", "Unsupported choice: {value}"),
        "finance.float_not_allowed": (
            '金额和利率请以字符串传入(如 "6.5"),避免浮点误差',
            'Send amounts and rates as strings (e.g. "6.5") to avoid float errors',
        ),
        "finance.too_many_decimals": ("最多 {max} 位小数", "At most {max} decimals"),
        "finance.principal_out_of_range": (
            "贷款金额须大于 0 且不超过 100 亿元",
            "The principal must be above 0 and at most 10,000,000,000 yuan",
        ),
        "finance.rate_out_of_range": (
            "年利率须在 {min}% 到 {max}% 之间",
            "The annual rate must be between {min}% and {max}%",
        ),
        "finance.periods_out_of_range": (
            "期数须在 {min} 到 {max} 之间",
            "The number of periods must be between {min} and {max}",
        ),
        "finance.first_due_not_after_start": (
            "首期还款日必须晚于放款日",
            "The first due date must be after the start date",
        ),
        "finance.first_due_too_late": (
            "首期还款日过晚,最晚 {latest}",
            "The first due date is too late; the latest is {latest}",
        ),
        "finance.first_due_not_applicable": (
            "{frequency} 频率不支持指定首期还款日",
            "A first due date does not apply to {frequency} loans",
        ),
        "finance.first_due_not_on_due_day": (
            "首期还款日与每月还款日不一致",
            "The first due date is not on the due day of month",
        ),
        "finance.due_day_out_of_range": (
            "每月还款日须在 {min} 到 {max} 之间",
            "The due day must be between {min} and {max}",
        ),
        "finance.due_day_not_applicable": (
            "{frequency} 频率不支持指定每月还款日",
            "A due day of month does not apply to {frequency} loans",
        ),
        "finance.installment_multiple_invalid": (
            "取整单位须为正数(如 0.01、1、10)",
            "The rounding multiple must be positive (e.g. 0.01, 1, 10)",
        ),
        "finance.grace_out_of_range": (
            "宽限期数须小于总期数",
            "Grace periods must be fewer than the number of periods",
        ),
        "finance.interest_grace_out_of_range": (
            "利息宽限期数不能超过本金宽限期数",
            "Interest grace cannot exceed the principal grace",
        ),
        "finance.grace_not_applicable": (
            "{method} 还款方式不支持宽限期",
            "Grace periods do not apply to {method}",
        ),
        "finance.grace_days_out_of_range": (
            "宽限天数超出范围:{value}",
            "Grace days out of range: {value}",
        ),
        "finance.fee_out_of_range": ("费用超出范围", "The fee is out of range"),
        "finance.amount_not_positive": ("金额必须大于 0", "The amount must be above 0"),
        "finance.amount_negative": ("金额不能为负数", "The amount cannot be negative"),
        "finance.amount_out_of_range": ("金额超出范围:{value}", "Amount out of range: {value}"),
        "finance.multiplier_out_of_range": (
            "罚息倍数超出范围:{value}",
            "Penalty multiplier out of range: {value}",
        ),
        "finance.apr_above_cap": (
            "年化利率 {apr}% 超过上限 {cap}%",
            "The APR {apr}% is above the cap of {cap}%",
        ),
        "finance.as_of_before_start": (
            "计算日 {as_of} 早于放款日 {start}",
            "The quote date {as_of} is before the start date {start}",
        ),
        "finance.no_remaining_installments": (
            "{as_of} 之后没有剩余期次",
            "No installments remain after {as_of}",
        ),
        "finance.overdue_not_past_due": (
            "第 {seq} 期在 {as_of} 尚未逾期",
            "Installment {seq} is not past due on {as_of}",
        ),
        "finance.duplicate_installment": ("期次重复", "Duplicate installment"),
        "finance.range_reversed": ("开始日期晚于结束日期", "The start is after the end"),
        "finance.prepayment_out_of_range": (
            "提前还款金额须大于 0 且小于剩余本金",
            "The prepayment must be above 0 and below the outstanding principal",
        ),
        "finance.prepayment_mode_not_supported": (
            "{method} 还款方式不支持该提前还款方式",
            "This prepayment mode is not supported for {method}",
        ),
        "finance.allocation_order_invalid": ("分配顺序无效", "Invalid allocation order"),
        "finance.calendar_conflict": (
            "同一天不能既是节假日又是调休上班日:{dates}",
            "A day cannot be both a holiday and a make-up workday: {dates}",
        ),
        "finance.calendar_no_working_day": (
            "{from} 起 {days} 天内没有工作日,请检查节假日设置",
            "No working day within {days} days of {from}; check the holiday calendar",
        ),
        "finance.invalid_calendar": ("节假日日历无效", "Invalid holiday calendar"),
        "finance.calendar_year_not_covered": (
            "{year} 年节假日未设置,仅按周末顺延",
            "No holidays entered for {year}; only weekends were skipped",
        ),
    }
)

register_messages(
    {
        # products
        "lending.number_invalid": ("不是有效的数字", "Not a valid number"),
        "lending.integer_invalid": ("不是有效的整数", "Not a valid whole number"),
        "lending.boolean_invalid": ("应为是/否", "Expected true or false"),
        "lending.too_many_decimals": ("最多 {max} 位小数", "At most {max} decimals"),
        "lending.value_out_of_range": (
            "须在 {min} 到 {max} 之间",
            "Must be between {min} and {max}",
        ),
        "lending.choice_invalid": (
            "不支持的选项,可选:{choices}",
            "Unsupported choice; one of: {choices}",
        ),
        "lending.product.code_invalid": (
            "编码只能包含字母、数字、下划线和连字符,以字母或数字开头,最多 40 个字符",
            "Letters, digits, _ and - only, starting with a letter or digit, at most 40",
        ),
        "lending.product.code_taken": ("产品编码已存在", "This product code is taken"),
        "lending.product.code_immutable": (
            "产品编码创建后不能修改",
            "A product code cannot change after creation",
        ),
        "lending.product.name_invalid": (
            "请填写产品名称(最多 100 个字符)",
            "Enter a product name (at most 100 characters)",
        ),
        "lending.product.max_below_min": (
            "不能小于下限 {min}",
            "Cannot be below the minimum of {min}",
        ),
        "lending.product.allocation_order_invalid": (
            "须为 罚息、费用、利息、本金 四项各出现一次的顺序",
            "Must list penalty, fee, interest and principal, each exactly once",
        ),
        # terms
        "lending.product_inactive": (
            "产品「{product}」已停用",
            "The product {product} is inactive",
        ),
        "lending.amount_out_of_range": (
            "金额须在 {min} 到 {max} 之间",
            "The amount must be between {min} and {max}",
        ),
        "lending.periods_out_of_range": (
            "期数须在 {min} 到 {max} 期之间",
            "The term must be between {min} and {max} periods",
        ),
        "lending.rate_out_of_range": (
            "年利率须在 {min}% 到 {max}% 之间",
            "The annual rate must be between {min}% and {max}%",
        ),
        "lending.apr_above_cap": (
            "年化利率 {apr}% 超过产品利率上限 {cap}%,不能放款",
            "The APR {apr}% is above the product's cap of {cap}%; the loan is refused",
        ),
        # disbursement
        "lending.idempotency_key_required": (
            "缺少幂等键(Idempotency-Key)",
            "An idempotency key (Idempotency-Key) is required",
        ),
        "lending.idempotency_key_invalid": (
            "幂等键须为 8–100 位字母、数字或 _ . : -",
            "The idempotency key must be 8-100 letters, digits or _ . : -",
        ),
        "lending.idempotency_key_mismatch": (
            "请求头与请求体中的幂等键不一致",
            "The Idempotency-Key header and the body disagree",
        ),
        "lending.idempotency_conflict": (
            "该幂等键已用于另一笔条件不同的放款,请刷新后重新发起",
            "This idempotency key was already used for a disbursement with other terms",
        ),
        "lending.customer_inactive": (
            "客户已归档或已合并,不能放款",
            "The customer is archived or merged; no loan can be disbursed",
        ),
        "lending.account_number_invalid": (
            "收款账号应为 8–30 位数字",
            "The account number must be 8-30 digits",
        ),
        "lending.timeline.disbursed": (
            "放款 {amount}({product},{periods} 期),合同号 {contract_no}",
            "Disbursed {amount} ({product}, {periods} periods), contract {contract_no}",
        ),
    }
)

register_messages(
    {
        # contract templates
        "contracts.code_invalid": (
            "编码只能包含字母、数字、下划线和连字符,以字母或数字开头,最多 40 个字符",
            "Letters, digits, _ and - only, starting with a letter or digit, at most 40",
        ),
        "contracts.code_taken": ("模板编码已存在", "This template code is taken"),
        "contracts.name_invalid": (
            "请填写模板名称(最多 100 个字符)",
            "Enter a template name (at most 100 characters)",
        ),
        "contracts.body_empty": ("请填写合同正文", "Enter the contract text"),
        "contracts.body_too_long": (
            "合同正文最多 {max} 个字符",
            "The contract text is at most {max} characters",
        ),
        "contracts.unknown_placeholder": (
            "第 {line} 行:未知的占位符 {{{{{name}}}}}",
            "Line {line}: unknown placeholder {{{{{name}}}}}",
        ),
        "contracts.placeholder_unclosed": (
            "第 {line} 行:占位符缺少结尾的 }}}}",
            "Line {line}: a placeholder is missing its closing }}}}",
        ),
        "contracts.block_placeholder_alone": (
            "第 {line} 行:{{{{{name}}}}} 须单独成段(前后各空一行)",
            "Line {line}: {{{{{name}}}}} must be a paragraph of its own (blank lines around it)",
        ),
        "contracts.block_in_heading": (
            "第 {line} 行:标题中不能使用占位符 {{{{{name}}}}}",
            "Line {line}: {{{{{name}}}}} cannot be used in a heading",
        ),
        "contracts.template_not_found": (
            "合同模板「{code}」不存在",
            "The contract template {code} does not exist",
        ),
        "contracts.template_inactive": (
            "合同模板「{code}」已停用",
            "The contract template {code} is inactive",
        ),
        "contracts.version_conflict": (
            "模板已被他人修改(当前版本 {version}),请刷新后再保存",
            "Someone else changed the template (now version {version}); reload and save again",
        ),
        "contracts.values_invalid": ("预览参数无效", "Invalid preview values"),
        "contracts.product_unknown": (
            "产品「{product}」不存在",
            "The product {product} does not exist",
        ),
        "contracts.text_too_long": ("最多 {max} 个字符", "At most {max} characters"),
        # generating a contract (also the automated step's failure codes)
        "contracts.no_record": ("找不到申请记录", "The application record was not found"),
        "contracts.no_customer": (
            "申请未关联客户,不能生成合同",
            "The application has no customer; no contract can be generated",
        ),
        "contracts.customer_inactive": (
            "客户已归档或已合并,不能生成合同",
            "The customer is archived or merged; no contract can be generated",
        ),
        "contracts.no_product": (
            "申请未选择有效的贷款产品「{product}」,不能生成合同",
            "The application names no valid loan product ({product}); no contract",
        ),
        "contracts.bad_terms": (
            "贷款条件无效:{errors}",
            "The loan terms are invalid: {errors}",
        ),
        "contracts.no_actor": (
            "找不到执行该步骤的用户",
            "The user the step runs for was not found",
        ),
        "contracts.bad_params": (
            "自动步骤参数无效:template 须为模板编码",
            "Invalid step parameters: template must be a template code",
        ),
        "contracts.timeline.generated": (
            "生成合同 {contract_no}({template},{amount})",
            "Contract {contract_no} generated ({template}, {amount})",
        ),
    }
)

register_messages(
    {
        # repayments (还款登记), reversal (红冲), prepayment (提前还款)
        "lending.repayment.amount_invalid": (
            "还款金额应为数字(元,最多两位小数)",
            "The amount must be a number of yuan with at most two decimals",
        ),
        "lending.repayment.amount_not_positive": (
            "还款金额须大于 0",
            "The amount must be above 0",
        ),
        "lending.repayment.amount_too_large": (
            "还款金额不能超过 {max}",
            "The amount cannot exceed {max}",
        ),
        "lending.repayment.exceeds_owed": (
            "还款金额超过当前应还 {owed};产品不挂账多余款项,请使用提前还款",
            "The amount is more than the {owed} owed; this product keeps no credit, "
            "use a prepayment",
        ),
        "lending.repayment.value_date_invalid": (
            "入账日期格式应为 YYYY-MM-DD",
            "The value date must be YYYY-MM-DD",
        ),
        "lending.repayment.value_date_future": (
            "入账日期不能晚于营业日 {date}",
            "The value date cannot be after the business date {date}",
        ),
        "lending.repayment.value_date_before_start": (
            "入账日期不能早于放款日 {date}",
            "The value date cannot be before the loan's start {date}",
        ),
        "lending.repayment.loan_not_open": (
            "贷款状态为「{status}」,不能登记还款",
            "The loan is {status}; no repayment can be posted",
        ),
        "lending.repayment.idempotency_conflict": (
            "该幂等键已用于另一笔不同的还款,请刷新后重新登记",
            "This idempotency key was already used for a different repayment",
        ),
        "lending.repayment.already_reversed": (
            "该笔还款已红冲",
            "This repayment has already been reversed",
        ),
        "lending.prepayment.arrears": (
            "请先结清逾期及到期欠款(金额不足以覆盖应还部分)",
            "Pay what is due first: the amount does not cover the arrears",
        ),
        "lending.prepayment.nothing_to_prepay": (
            "本期已有提前还款或已无未到期期次,暂不能提前还款",
            "Nothing to prepay now: no future installment, or this period already had one",
        ),
        "lending.prepayment.amount_short": (
            "金额不足,提前还款需 {total}",
            "Not enough: the prepayment needs {total}",
        ),
        "lending.prepayment.quote_changed": (
            "报价已变化,最新应付 {total},请重新确认",
            "The quote has changed to {total}; please confirm again",
        ),
        "lending.timeline.repayment_posted": (
            "还款 {amount}({channel},{date}),合同号 {contract_no}",
            "Repayment {amount} ({channel}, {date}), contract {contract_no}",
        ),
        "lending.timeline.prepayment_posted": (
            "提前还款 {amount}({channel},{date}),合同号 {contract_no}",
            "Prepayment {amount} ({channel}, {date}), contract {contract_no}",
        ),
        "lending.timeline.repayment_reversed": (
            "红冲 {date} 的还款 {amount},合同号 {contract_no},原因:{reason}",
            "Reversed the repayment of {amount} on {date}, contract {contract_no}: {reason}",
        ),
    }
)
