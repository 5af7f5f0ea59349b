from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "loandesk.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from loandesk.accounts import messages, permissions  # noqa: F401  (registrations)
