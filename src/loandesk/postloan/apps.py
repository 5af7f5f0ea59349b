from django.apps import AppConfig


class PostloanConfig(AppConfig):
    name = "loandesk.postloan"
    label = "postloan"
    verbose_name = "Post-loan"

    def ready(self) -> None:
        from loandesk.demo import registry
        from loandesk.postloan import (  # noqa: F401  (registrations)
            collections,
            demo_collections,
            messages,
            permissions,
            rule_actions,
            schedule,
        )
        from loandesk.postloan.demo import seed

        registry.register(35, "postloan", seed)
        registry.register(75, "collections", demo_collections.seed)
        from loandesk.customers.selectors import register_tab_count
        from loandesk.postloan.selectors import count_customer_cases

        register_tab_count("collections", count_customer_cases)
