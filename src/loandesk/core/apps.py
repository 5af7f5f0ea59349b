from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "loandesk.core"
    label = "core"
    verbose_name = "LoanDesk core"

    def ready(self) -> None:
        from loandesk.core import tasks  # noqa: F401  (registers the outbox task)
