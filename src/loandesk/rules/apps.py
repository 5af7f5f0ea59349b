from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "loandesk.rules"
    label = "rules"
    verbose_name = "Rules"

    def ready(self) -> None:
        from loandesk.demo import registry
        from loandesk.rules import actions, handlers, messages, permissions, tasks  # noqa: F401
        from loandesk.rules.demo import seed

        # After lending (30), postloan (35), forms (40) and flows (60): shipped rules.
        registry.register(80, "rules", seed)
