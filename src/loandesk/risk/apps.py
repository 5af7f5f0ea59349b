from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "loandesk.risk"
    label = "risk"
    verbose_name = "Risk"
