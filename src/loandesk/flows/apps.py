from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "loandesk.flows"
    label = "flows"
    verbose_name = "Flows"
