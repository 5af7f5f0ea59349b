from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "loandesk.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from loandesk.customers import messages, permissions, tasks  # noqa: F401  (registrations)
        from loandesk.customers.demo import seed
        from loandesk.demo import registry

        registry.register(20, "customers", seed)
