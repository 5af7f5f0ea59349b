from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "loandesk.risk"
    label = "risk"
    verbose_name = "Risk"

    def ready(self) -> None:
        from loandesk.demo import registry
        from loandesk.flows.automation import register_action
        from loandesk.risk import messages, permissions  # noqa: F401  (registrations)
        from loandesk.risk.demo import seed
        from loandesk.risk.services import run_scorecard_step

        registry.register(35, "risk", seed)
        register_action("risk_scorecard", run_scorecard_step)
