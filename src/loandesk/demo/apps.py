from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "loandesk.demo"
    label = "demo"
    verbose_name = "Demo data"
