from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "loandesk.customers"
    label = "customers"
    verbose_name = "Customers"
