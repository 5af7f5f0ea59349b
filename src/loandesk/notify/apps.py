from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "loandesk.notify"
    label = "notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from loandesk.notify import handlers, messages  # noqa: F401  (registrations)
