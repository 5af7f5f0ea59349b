"""Post-loan message codes (zh-CN, en-US)."""

from loandesk.core.i18n import register_messages

register_messages(
    {
        "postloan.cob_running": (
            "日终批处理正在运行,请稍后再试",
            "Close of business is already running; try again when it has finished",
        ),
        "postloan.nothing_to_run": (
            "{date} 已完成日终,没有需要运行的日期",
            "{date} is already closed: there is no date to run",
        ),
        "postloan.until_before_date": (
            "追赶日期不能早于开始日期",
            "The catch-up date cannot be before the start date",
        ),
        "postloan.date_gap": (
            "请先完成 {next} 的日终,不能跳到 {date}",
            "Close {next} first: COB cannot skip to {date}",
        ),
        "postloan.date_future": (
            "不能对今天({today})之后的日期做日终",
            "Cannot close a date after today ({today})",
        ),
        "postloan.too_many_days": (
            "一次最多追赶 {max} 天",
            "At most {max} days can be caught up at once",
        ),
        "postloan.workers_invalid": (
            "并行进程数应为 1 到 {max}",
            "Workers must be between 1 and {max}",
        ),
        "postloan.buckets_empty": ("至少需要一个逾期分档", "At least one bucket is required"),
        "postloan.buckets_too_many": (
            "逾期分档不能超过 {max} 个",
            "At most {max} buckets",
        ),
        "postloan.bucket_code_duplicate": ("分档代码重复", "Bucket codes must be unique"),
        "postloan.bucket_code_invalid": (
            "分档代码应为 1 到 8 个字符",
            "A bucket code has 1 to 8 characters",
        ),
        "postloan.buckets_gap": (
            "分档 {bucket} 应从逾期 {expected} 天开始(分档必须连续、不重叠)",
            "Bucket {bucket} must start at {expected} days past due (no gaps or overlaps)",
        ),
        "postloan.buckets_open_end": (
            "最后一档 {bucket} 不能设置上限",
            "The last bucket {bucket} must have no upper end",
        ),
        "postloan.bucket_range_invalid": (
            "分档 {bucket} 的天数范围无效",
            "Bucket {bucket} has an invalid day range",
        ),
        "postloan.bucket_current_invalid": (
            "第一档必须是未逾期(0 天到 0 天)",
            "The first bucket must be current (0 to 0 days)",
        ),
        "postloan.thresholds_incomplete": (
            "五级分类必须包含正常、关注、次级、可疑、损失各一项",
            "All five categories (normal to loss) are required, once each",
        ),
        "postloan.thresholds_normal_zero": (
            "“正常”必须从逾期 0 天开始",
            "'Normal' must start at 0 days past due",
        ),
        "postloan.thresholds_not_increasing": (
            "五级分类的起始天数必须依次递增({bucket})",
            "Category thresholds must increase in order ({bucket})",
        ),
    }
)

# --- collections ---------------------------------------------------------------------------------
register_messages(
    {
        "postloan.collections.loan_not_live": (
            "该贷款已结清或核销,不能开催收案件",
            "The loan is closed or written off: no collection case can be opened",
        ),
        "postloan.collections.case_closed": (
            "催收案件已结案",
            "The collection case is closed",
        ),
        "postloan.collections.team_unknown": (
            "催收团队不存在或已停用",
            "No such active collection team",
        ),
        "postloan.collections.no_next_team": (
            "没有可升级的下一个催收团队",
            "There is no next collection team to escalate to",
        ),
        "postloan.collections.same_team": (
            "案件已在该团队",
            "The case is already with this team",
        ),
        "postloan.collections.same_collector": (
            "案件已分配给该催收员",
            "The case is already assigned to this collector",
        ),
        "postloan.collections.not_a_collector": (
            "该用户不是有效的催收员(需启用且有催收权限)",
            "That user is not an active collector (collections permission needed)",
        ),
        "postloan.collections.next_action_range": (
            "下次跟进时间应在现在到一年以内",
            "The next action must be between now and one year from now",
        ),
        "postloan.collections.promise_date_past": (
            "承诺还款日期不能早于营业日 {today}",
            "The promise date cannot be before the business date {today}",
        ),
        "postloan.collections.promise_date_far": (
            "承诺还款日期不能晚于 {days} 天后",
            "The promise date must be within {days} days",
        ),
        "postloan.collections.amount_invalid": (
            "请输入大于 0、最多两位小数的金额",
            "Enter an amount above 0 with at most two decimals",
        ),
        "postloan.collections.amount_over_outstanding": (
            "承诺金额不能超过未还总额 {outstanding} 元",
            "The promised amount cannot exceed the outstanding {outstanding} yuan",
        ),
        "postloan.collections.promise_pending": (
            "已有待兑现的还款承诺,请等待其到期判定",
            "A promise to pay is already pending; wait until it is decided",
        ),
        "postloan.collections.team_name_taken": (
            "团队名称已存在",
            "A team with this name exists",
        ),
        "postloan.collections.bucket_unknown": (
            "未配置的逾期分档:{buckets}",
            "Unknown delinquency buckets: {buckets}",
        ),
        "postloan.collections.member_unknown": (
            "成员不存在或已停用",
            "A member does not exist or is inactive",
        ),
        # System entries in a case's action log.
        "postloan.collections.event.opened": (
            "开案({bucket},逾期 {dpd} 天),分配给 {collector}",
            "Case opened ({bucket}, {dpd} days past due), assigned to {collector}",
        ),
        "postloan.collections.event.escalated": (
            "升级:{from_team} → {to_team},催收员 {to_collector}",
            "Escalated: {from_team} → {to_team}, collector {to_collector}",
        ),
        "postloan.collections.event.reassigned": (
            "改派:{from_collector} → {to_collector}",
            "Reassigned: {from_collector} → {to_collector}",
        ),
        "postloan.collections.event.promise_made": (
            "承诺 {date} 前还款 {amount} 元",
            "Promised to pay {amount} yuan by {date}",
        ),
        "postloan.collections.event.promise_kept": (
            "还款承诺已兑现({date},已还 {paid} 元)",
            "Promise kept ({date}, {paid} yuan paid)",
        ),
        "postloan.collections.event.promise_broken": (
            "还款承诺未兑现({date},承诺 {amount} 元,已还 {paid} 元)",
            "Promise broken ({date}: {amount} yuan promised, {paid} yuan paid)",
        ),
        "postloan.collections.event.repayment": (
            "收到还款 {amount} 元",
            "Repayment of {amount} yuan received",
        ),
        "postloan.collections.event.closed": (
            "结案:{reason_label}",
            "Closed: {reason_label}",
        ),
        "postloan.collections.reason.paid": ("已还清", "paid"),
        "postloan.collections.reason.written_off": ("已核销", "written off"),
        "postloan.collections.reason.manual": ("手工结案", "closed by hand"),
    }
)
