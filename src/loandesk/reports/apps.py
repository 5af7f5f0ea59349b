from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "loandesk.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from loandesk.demo import registry
        from loandesk.reports import messages, permissions, subscriptions  # noqa: F401
        from loandesk.reports.demo import seed

        registry.register(90, "reports", seed)
