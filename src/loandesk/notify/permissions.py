from loandesk.accounts.permissions import register_permissions

MANAGE_CHANNELS = "notify.manage_channels"

register_permissions(
    ("通知", "Notifications"),
    {
        MANAGE_CHANNELS: (
            "配置通知渠道、模板与发送规则,查看发送记录",
            "Configure notification channels, templates and sending rules; read the delivery log",
        ),
    },
)

# Demo role → notify permissions (the admin role holds every code anyway).
DEMO_ROLE_GRANTS: dict[str, list[str]] = {}
