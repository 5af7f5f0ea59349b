from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "loandesk.forms"
    label = "forms"
    verbose_name = "Forms"
