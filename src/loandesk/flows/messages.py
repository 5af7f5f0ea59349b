"""Messages (zh-CN, en-US) and permission codes of the flows app."""

from loandesk.accounts.permissions import register_permissions
from loandesk.core.i18n import message, register_messages

DESIGN = "flows.design"
ADMIN = "flows.admin"
ANALYTICS = "flows.analytics"

register_permissions(
    ("审批流程", "Approval flows"),
    {
        DESIGN: ("设计审批流程", "Design approval flows"),
        ADMIN: ("管理审批实例(重试、取消、查看全部)", "Administer flow instances"),
        ANALYTICS: ("查看流程分析", "View process analytics"),
    },
)

# Engine refusals (engine.ERROR_STATUS) and the Django layer's own codes.
ERRORS: dict[str, tuple[str, str]] = {
    "flow.conflict": (
        "审批单已被他人处理,请刷新后重试",
        "The approval changed meanwhile; refresh and retry",
    ),
    "flow.definition_mismatch": (
        "审批单与流程版本不一致",
        "The instance belongs to another version",
    ),
    "flow.instance_finished": ("审批已结束", "This approval has already finished"),
    "flow.task_not_found": ("待办不存在", "No such task"),
    "flow.step_not_found": ("自动步骤不存在", "No such automated step"),
    "flow.not_your_task": ("这不是您的待办", "This task is not yours"),
    "flow.not_initiator": ("只有发起人可以执行此操作", "Only the initiator may do this"),
    "flow.task_closed": ("该待办已处理", "This task has already been handled"),
    "flow.action_not_allowed": ("当前节点不允许此操作", "This action is not allowed here"),
    "flow.invalid_target": ("目标无效", "Invalid target"),
    "flow.duplicate_assignee": (
        "该人员已在当前节点处理中",
        "That person already holds a task on this node",
    ),
    "flow.field_not_editable": (
        "字段「{field}」在当前节点不可修改",
        "Field “{field}” cannot be edited at this step",
    ),
    "flow.edit_not_allowed": (
        "该操作不能同时修改表单",
        "This action cannot change the form",
    ),
    "flow.withdraw_not_allowed": (
        "审批人已处理,不能撤回",
        "An approver has already decided; it cannot be withdrawn",
    ),
    "flow.urge_too_soon": ("催办太频繁,请稍后再试", "Urged recently; try again later"),
    "flow.nothing_to_urge": ("当前没有待处理的审批人", "Nobody is waited for"),
    "flow.not_returned": ("审批单未被退回", "The approval has not been returned"),
    "flow.not_in_error": ("审批单不在异常状态", "The approval is not in error"),
    "flow.bad_command": ("请求无效", "Bad request"),
    "flow.no_working_day": (
        "节假日日历中 60 天内没有工作日",
        "The holiday calendar has no working day within 60 days",
    ),
    "flow.definition_invalid": (
        "流程定义有 {count} 处问题",
        "The flow definition has {count} problem(s)",
    ),
    # Django layer
    "flow.no_active_flow": ("该表单没有启用的审批流程", "This form has no active approval flow"),
    "flow.not_published": ("流程尚未发布", "The flow has not been published"),
    "flow.already_started": ("该记录已有进行中的审批", "This record already has a live approval"),
    "flow.key_taken": ("流程标识已被使用", "This flow key is already taken"),
    "flow.form_not_found": ("表单不存在", "No such form"),
    "flow.form_taken": (
        "该表单已绑定其他启用的流程",
        "Another active flow is already bound to this form",
    ),
    "flow.no_assignee": ("找不到审批人", "No approver could be found"),
    "flow.automated_failed": ("自动步骤失败", "The automated step failed"),
    "flow.unknown_action": ("未注册的自动动作「{action}」", "Unknown automated action “{action}”"),
    "flow.action_crashed": ("自动动作执行出错", "The automated action crashed"),
    "flow.update_record_invalid": (
        "更新记录失败:{detail}",
        "Could not update the record: {detail}",
    ),
    "flow.choices_required": ("请选择审批人", "Please choose the approvers"),
    "flow.too_many_tasks": ("一次最多处理 {max} 个待办", "At most {max} tasks at once"),
    "flow.bad_cursor": ("分页参数无效", "Invalid cursor"),
}

DEF_ISSUES: dict[str, tuple[str, str]] = {
    "flow.def.not_an_object": ("流程定义必须是对象", "The definition must be an object"),
    "flow.def.no_nodes": ("流程没有节点", "The flow has no nodes"),
    "flow.def.bad_nodes": ("节点列表格式错误", "Malformed node list"),
    "flow.def.bad_key": ("流程标识格式错误", "Malformed flow key"),
    "flow.def.bad_version": ("版本号错误", "Bad version number"),
    "flow.def.bad_settings": ("流程设置错误", "Bad flow settings"),
    "flow.def.unknown_key": ("不支持的属性", "Unknown property"),
    "flow.def.unknown_kind": ("未知的节点类型", "Unknown node kind"),
    "flow.def.bad_id": ("节点标识格式错误", "Malformed node id"),
    "flow.def.duplicate_id": ("节点标识重复", "Duplicate node id"),
    "flow.def.missing_start": ("缺少发起节点", "The start node is missing"),
    "flow.def.several_starts": ("只能有一个发起节点", "Only one start node is allowed"),
    "flow.def.start_not_first": ("发起节点必须在最前", "The start node must come first"),
    "flow.def.missing_end": ("流程必须以结束节点收尾", "The flow must end with an end node"),
    "flow.def.unreachable": ("该节点永远不会被执行", "This node can never be reached"),
    "flow.def.no_assignee": ("请设置审批人", "Set the approvers"),
    "flow.def.bad_assignee": ("审批人设置错误", "Bad approver setting"),
    "flow.def.bad_user": ("人员设置错误", "Bad user"),
    "flow.def.bad_choice": ("选项无效", "Invalid choice"),
    "flow.def.bad_flag": ("开关值必须是是/否", "Must be true or false"),
    "flow.def.bad_text": ("文本无效", "Invalid text"),
    "flow.def.bad_ui": ("界面设置必须是对象", "UI settings must be an object"),
    "flow.def.bad_number": ("数字无效", "Invalid number"),
    "flow.def.percent_range": ("比例必须在 1–100 之间", "The percentage must be 1–100"),
    "flow.def.percent_without_mode": (
        "只有按比例会签才能设置比例",
        "A percentage needs the percent mode",
    ),
    "flow.def.deadline_positive": ("时限必须大于 0", "The deadline must be positive"),
    "flow.def.reminder_positive": ("提醒时间必须大于 0", "The reminder must be positive"),
    "flow.def.reminder_not_before_deadline": (
        "提醒必须早于时限",
        "The reminder must come before the deadline",
    ),
    "flow.def.bad_deadline": ("时限设置错误", "Bad deadline"),
    "flow.def.unknown_node_action": ("未知的操作", "Unknown action"),
    "flow.def.approve_required": ("审批节点必须允许同意", "An approval node must allow approve"),
    "flow.def.no_return_target": ("请选择可退回的节点", "Choose where it may be returned to"),
    "flow.def.bad_return_target": ("退回目标不存在", "Unknown return target"),
    "flow.def.return_not_earlier": (
        "只能退回到之前的审批节点",
        "Returns may only go to an earlier approval node",
    ),
    "flow.def.bad_branches": ("条件分支设置错误", "Bad branches"),
    "flow.def.default_branch_count": (
        "必须有且只有一个默认分支",
        "Exactly one default branch is needed",
    ),
    "flow.def.no_conditional_branch": ("至少需要一个条件分支", "At least one conditional branch"),
    "flow.def.default_with_condition": (
        "默认分支不能设置条件",
        "The default branch cannot have a condition",
    ),
    "flow.def.bad_condition": ("条件无效", "Invalid condition"),
    "flow.def.unknown_automated_action": ("未知的自动动作", "Unknown automated action"),
    "flow.def.bad_params": ("参数必须是对象", "Parameters must be an object"),
    "flow.def.bad_field": ("字段名无效", "Invalid field name"),
    "flow.def.bad_field_permissions": ("字段权限设置错误", "Bad field permissions"),
    "flow.def.unknown_form_field": (
        "字段权限中的「{field}」不是所绑定表单的字段",
        "“{field}” in the field permissions is not a field of the bound form",
    ),
    "flow.def.no_recipients": ("请设置抄送人", "Set the CC recipients"),
    "flow.def.unknown_user": (
        "用户「{user}」不存在或已停用",
        "User “{user}” does not exist or is deactivated",
    ),
}

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "flow.status.running": ("审批中", "In progress"),
    "flow.status.returned": ("已退回", "Returned"),
    "flow.status.error": ("异常", "Error"),
    "flow.status.approved": ("已通过", "Approved"),
    "flow.status.rejected": ("已拒绝", "Rejected"),
    "flow.status.withdrawn": ("已撤回", "Withdrawn"),
    "flow.status.cancelled": ("已取消", "Cancelled"),
    # The customer 360 申请 tab's state of an application.
    "flow.stage.running_at": ("审批中 · {node}", "In progress · {node}"),
    "flow.stage.disbursed": ("已放款", "Disbursed"),
}

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "flow.action.submitted": ("提交", "Submitted"),
    "flow.action.resubmitted": ("重新提交", "Resubmitted"),
    "flow.action.approved": ("同意", "Approved"),
    "flow.action.rejected": ("拒绝", "Rejected"),
    "flow.action.returned": ("退回", "Returned"),
    "flow.action.transferred": ("转交", "Transferred"),
    "flow.action.add_signer_before": ("前加签", "Added a signer before"),
    "flow.action.add_signer_after": ("后加签", "Added a signer after"),
    "flow.action.commented": ("评论", "Commented"),
    "flow.action.auto_approved": ("自动同意", "Approved automatically"),
    "flow.action.auto_rejected": ("自动拒绝", "Rejected automatically"),
    "flow.action.auto_passed": ("无审批人,自动通过", "No approver; passed"),
    "flow.action.assignee_fallback": ("审批人为空,转交管理员", "No approver; sent to admins"),
    "flow.action.node_approved": ("节点通过", "Step approved"),
    "flow.action.node_rejected": ("节点拒绝", "Step rejected"),
    "flow.action.branch_chosen": ("条件分支", "Branch chosen"),
    "flow.action.cc": ("抄送", "CC"),
    "flow.action.automated_started": ("自动步骤开始", "Automated step started"),
    "flow.action.automated_done": ("自动步骤完成", "Automated step done"),
    "flow.action.automated_failed": ("自动步骤失败", "Automated step failed"),
    "flow.action.reminded": ("超时提醒", "Reminder"),
    "flow.action.urged": ("催办", "Urged"),
    "flow.action.escalated": ("超时升级", "Escalated"),
    "flow.action.escalation_failed": ("升级失败", "Escalation failed"),
    "flow.action.withdrawn": ("撤回", "Withdrawn"),
    "flow.action.cancelled": ("取消", "Cancelled"),
    "flow.action.retried": ("重试", "Retried"),
    "flow.action.finished": ("结束", "Finished"),
    "flow.initiator": ("发起人", "Initiator"),
    "flow.system": ("系统", "System"),
    "audit.flow.definition_created": ("新建审批流程", "Flow created"),
    "audit.flow.definition_updated": ("修改审批流程", "Flow updated"),
    "audit.flow.published": ("发布审批流程", "Flow published"),
    "audit.flow.started": ("发起审批", "Approval started"),
    "audit.flow.acted": ("处理审批", "Approval acted on"),
    "audit.flow.withdrawn": ("撤回审批", "Approval withdrawn"),
    "audit.flow.resubmitted": ("重新提交审批", "Approval resubmitted"),
    "audit.flow.retried": ("重试审批", "Approval retried"),
    "audit.flow.cancelled": ("取消审批", "Approval cancelled"),
}

register_messages({**ERRORS, **DEF_ISSUES, **STATUS_LABELS, **ACTION_LABELS})


def status_label(status: str) -> str:
    return message(f"flow.status.{status}")


def action_label(action: str) -> str:
    return message(f"flow.action.{action}")
