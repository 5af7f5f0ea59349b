from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "loandesk.flows"
    label = "flows"
    verbose_name = "Flows"

    def ready(self) -> None:
        from loandesk.demo import registry
        from loandesk.flows import actions, demo, messages, tasks  # noqa: F401  (registrations)
        from loandesk.flows.selectors import public_status_extra
        from loandesk.flows.services import on_record_created
        from loandesk.forms.selectors import register_public_status_extra
        from loandesk.forms.services import register_record_created_hook

        actions.register()
        register_record_created_hook(on_record_created)
        register_public_status_extra(public_status_extra)
        registry.register(60, "flows", demo.seed)
        from loandesk.customers.selectors import register_tab_count
        from loandesk.flows.selectors import count_customer_applications

        register_tab_count("applications", count_customer_applications)
