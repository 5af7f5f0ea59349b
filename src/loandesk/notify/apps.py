from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "loandesk.notify"
    label = "notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from loandesk.notify import (  # noqa: F401  (registrations)
            handlers,
            messages,
            permissions,
            rule_actions,
            tasks,
        )
