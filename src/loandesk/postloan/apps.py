from django.apps import AppConfig


class PostloanConfig(AppConfig):
    name = "loandesk.postloan"
    label = "postloan"
    verbose_name = "Post-loan"

    def ready(self) -> None:
        from loandesk.demo import registry
        from loandesk.postloan import messages, permissions, schedule  # noqa: F401
        from loandesk.postloan.demo import seed

        registry.register(35, "postloan", seed)
