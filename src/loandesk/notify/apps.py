from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "loandesk.notify"
    label = "notify"
    verbose_name = "Notifications"
