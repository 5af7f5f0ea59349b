from django.apps import AppConfig


class PostloanConfig(AppConfig):
    name = "loandesk.postloan"
    label = "postloan"
    verbose_name = "Post-loan"
