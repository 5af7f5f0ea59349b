from loandesk.core.i18n import register_messages

register_messages(
    {
        "auth.not_authenticated": ("请先登录", "Please log in"),
        "auth.session_expired": (
            "登录已过期,请重新登录",
            "Your session expired; please log in again",
        ),
        "auth.invalid_credentials": ("用户名或密码错误", "Wrong username or password"),
        "auth.inactive": ("账号已停用", "This account is disabled"),
        "auth.locked_out": (
            "登录失败次数过多,账号已锁定 15 分钟,请稍后再试",
            "Too many failed logins; locked for 15 minutes, try again later",
        ),
        "auth.otp_required": ("请输入两步验证码", "Enter your two-factor code"),
        "auth.otp_invalid": ("验证码错误", "Wrong verification code"),
        "auth.otp_setup_required": (
            "您的角色要求启用两步验证,请先在“我的 > 两步验证”中设置",
            "Your role requires two-factor authentication; set it up under Me > Two-factor",
        ),
        "auth.otp_not_enabled": ("尚未启用两步验证", "Two-factor authentication is not enabled"),
        "auth.otp_already_enabled": ("已启用两步验证", "Two-factor is already enabled"),
        "auth.invalid_token": ("API 令牌无效或已撤销", "The API token is invalid or revoked"),
        "auth.wrong_password": ("当前密码不正确", "The current password is wrong"),
        "auth.password_weak": ("密码不符合要求:{reason}", "Password rejected: {reason}"),
        "accounts.username_taken": ("用户名已存在", "This username is taken"),
        "accounts.username_invalid": (
            "用户名只能包含字母、数字和 @.+-_",
            "Usernames may contain letters, digits and @.+-_ only",
        ),
        "accounts.phone_taken": ("手机号已被其他用户使用", "This phone number is already in use"),
        "accounts.phone_invalid": ("手机号格式不正确", "Not a valid mobile phone number"),
        "accounts.email_invalid": ("邮箱格式不正确", "Not a valid e-mail address"),
        "accounts.department_not_empty": (
            "部门下还有用户或子部门,不能删除",
            "The department still has users or sub-departments",
        ),
        "accounts.department_cycle": (
            "不能把部门移动到它自己的下级",
            "A department cannot move under itself",
        ),
        "accounts.department_name_taken": (
            "同级已有同名部门",
            "A sibling department already has this name",
        ),
        "accounts.role_code_taken": ("角色编码已存在", "This role code is taken"),
        "accounts.unknown_permission": ("未知的权限:{code}", "Unknown permission: {code}"),
        "accounts.cannot_deactivate_self": ("不能停用自己的账号", "You cannot disable yourself"),
        "accounts.token_limit": ("令牌数量已达上限", "Too many API tokens"),
    }
)
