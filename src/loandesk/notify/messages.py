"""Messages (zh-CN, en-US) of the notify app: API errors and the texts of in-app messages."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        "notify.bad_cursor": ("分页游标无效,请从头加载", "Invalid cursor; reload from the start"),
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
