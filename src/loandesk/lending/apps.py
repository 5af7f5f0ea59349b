from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "loandesk.lending"
    label = "lending"
    verbose_name = "Lending"

    def ready(self) -> None:
        from loandesk.lending import messages, permissions  # noqa: F401  (registrations)
