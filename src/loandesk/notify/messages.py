"""Messages (zh-CN, en-US) of the notify app: API errors and the texts of in-app messages."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        "notify.bad_cursor": ("分页游标无效,请从头加载", "Invalid cursor; reload from the start"),
        # Channels, templates, deliveries (通知渠道)
        "notify.bad_channel": ("不支持的渠道", "Unsupported channel"),
        "notify.bad_category": (
            "类别须为交易通知、营销或催收",
            "Category must be transactional, marketing or collection",
        ),
        "notify.bad_dedupe_key": (
            "去重键须为 1–200 个字符",
            "The dedupe key must be 1–200 characters",
        ),
        "notify.bad_provider": ("不支持的服务商", "Unsupported provider"),
        "notify.bad_setting": ("不支持的配置项:{names}", "Unknown settings: {names}"),
        "notify.setting_too_long": ("配置值过长", "A setting value is too long"),
        "notify.required": ("必填", "Required"),
        "notify.bad_code": (
            "编码只能包含字母、数字、下划线和短横线",
            "Codes may contain letters, digits, underscores and hyphens only",
        ),
        "notify.code_taken": ("编码已被使用", "This code is already in use"),
        "notify.builtin_channel": (
            "短信和邮件渠道不能新建或删除,只能修改",
            "The SMS and e-mail channels cannot be created or deleted, only edited",
        ),
        "notify.bad_url": (
            "须为 http:// 或 https:// 开头的地址",
            "Must be an http:// or https:// URL",
        ),
        "notify.bad_phone": (
            "请输入有效的中国大陆手机号",
            "Enter a valid mainland China mobile number",
        ),
        "notify.bad_email": ("请输入有效的邮箱地址", "Enter a valid e-mail address"),
        "notify.email_only": (
            "只有邮件可以带 HTML 正文和附件",
            "Only e-mail can carry an HTML body and attachments",
        ),
        "notify.html_too_long": (
            "HTML 正文不能超过 {max} 个字符",
            "The HTML body may not exceed {max} characters",
        ),
        "notify.attachments_too_large": (
            "附件最多 {count} 个,合计不超过 {mb} MB",
            "At most {count} attachments, {mb} MB in all",
        ),
        "notify.bad_attachment": (
            "附件的文件名或类型无效",
            "An attachment has an invalid file name or type",
        ),
        "notify.no_recipient": ("找不到可用的收件人", "No usable recipient"),
        "notify.no_endpoint": (
            "找不到已启用的机器人或 Webhook:{code}",
            "No enabled robot or webhook: {code}",
        ),
        "notify.template_missing": (
            "找不到已启用的模板:{code}",
            "No enabled template: {code}",
        ),
        "notify.template_category": (
            "类别与模板的类别({category})不一致",
            "The category differs from the template's ({category})",
        ),
        "notify.body_required": ("没有模板时必须提供正文", "A body is required without a template"),
        "notify.template.unknown_variable": (
            "使用了未声明的变量:{names}",
            "Undeclared variables used: {names}",
        ),
        "notify.template.missing_variable": (
            "缺少变量的值:{names}",
            "Values missing for: {names}",
        ),
        "notify.template.bad_brace": (
            "花括号不成对;字面花括号请写成 {{ 或 }}",
            "Unpaired brace; write literal braces as {{ or }}",
        ),
        "notify.template.bad_variable_name": (
            "变量名须以字母或下划线开头,只含字母、数字、下划线:{names}",
            "Variable names start with a letter or underscore and use letters, digits, "
            "underscores: {names}",
        ),
        "notify.bad_time": ("时间格式须为 HH:MM", "Time must be HH:MM"),
        "notify.bad_timezone": ("未知的时区", "Unknown time zone"),
        "notify.bad_caps": (
            "上限须为 渠道.类别 → 0–1000 的整数",
            "Caps must map channel.category to an integer 0–1000",
        ),
        "notify.not_dead": ("只有失败的记录可以重试", "Only dead deliveries can be retried"),
        "notify.opt_out_exists": ("该客户已退订此渠道", "This customer already opted out"),
        "notify.rule.recipient": (
            "收件人须为 客户、客户经理、角色或用户",
            "Recipient must be customer, owner, role or user",
        ),
        "notify.rule.no_customer": ("记录没有关联客户", "The record has no customer"),
        # Titles and bodies of in-app messages, rendered in the recipient's language.
        "notify.task.title": (
            "{initiator} 的贷款申请待你审批",
            "{initiator}'s loan application awaits your approval",
        ),
        "notify.task.body": ("{title} · {node}", "{title} · {node}"),
        "notify.escalation.title": (
            "超时审批已升级给你:{initiator} 的贷款申请",
            "An overdue approval was escalated to you: {initiator}'s loan application",
        ),
        "notify.escalation.body": ("{title} · {node}", "{title} · {node}"),
        "notify.reminder.title": ("审批即将超时,请尽快处理", "An approval is due soon"),
        "notify.reminder.body": ("{title} · 截止 {due}", "{title} · due {due}"),
        "notify.reminder.body_nodue": ("{title}", "{title}"),
        "notify.urge.title": ("{initiator} 催你审批", "{initiator} is asking you to decide"),
        "notify.urge.body": ("{title}", "{title}"),
        "notify.returned.title": ("你的申请已退回", "Your application was returned"),
        "notify.returned.body": ("{title} · 请修改后重新提交", "{title} · edit and resubmit it"),
        "notify.finished.approved.title": ("你的申请已通过", "Your application was approved"),
        "notify.finished.rejected.title": ("你的申请已拒绝", "Your application was rejected"),
        "notify.finished.cancelled.title": ("你的申请已取消", "Your application was cancelled"),
        "notify.finished.other.title": ("你的申请已结束", "Your application has finished"),
        "notify.finished.body": ("{title}", "{title}"),
        "notify.cc.title": (
            "{initiator} 的贷款申请抄送给你",
            "{initiator}'s loan application was copied to you",
        ),
        "notify.cc.body": ("{title}", "{title}"),
        "notify.escalation_failed.title": (
            "审批超时升级失败",
            "An overdue approval could not be escalated",
        ),
        "notify.escalation_failed.body": (
            "{title} · 找不到可升级的审批人,待办仍由原审批人处理",
            "{title} · nobody to escalate to; the task stays with its approver",
        ),
        "notify.automated_failed.title": ("自动步骤失败,审批已暂停", "An automated step failed"),
        "notify.automated_failed.body": ("{title} · {message}", "{title} · {message}"),
        "notify.no_assignee.title": ("审批节点找不到审批人", "No approver found for a step"),
        "notify.no_assignee.body": ("{title} · {message}", "{title} · {message}"),
        "notify.message.title": ("{title}", "{title}"),
        "notify.message.body": ("{text}", "{text}"),
    }
)
