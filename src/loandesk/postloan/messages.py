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
