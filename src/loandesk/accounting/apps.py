from django.apps import AppConfig


class AccountingConfig(AppConfig):
    name = "loandesk.accounting"
    label = "accounting"
    verbose_name = "Accounting"

    def ready(self) -> None:
        from loandesk.accounting import handlers, messages, permissions, writeoff  # noqa: F401
        from loandesk.accounting.demo import seed
        from loandesk.demo import registry

        writeoff.register()
        # After forms (40) and flows (60): the write-off form and flow use both engines.
        registry.register(65, "accounting", seed)
