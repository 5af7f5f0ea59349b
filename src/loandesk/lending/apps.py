from django.apps import AppConfig


class LendingConfig(AppConfig):
    name = "loandesk.lending"
    label = "lending"
    verbose_name = "Lending"

    def ready(self) -> None:
        from loandesk.customers.services import register_merge_hook
        from loandesk.demo import registry
        from loandesk.lending import flow_steps, messages, permissions  # noqa: F401  (registrations)
        from loandesk.lending.demo import seed
        from loandesk.lending.loans import move_loans_on_merge

        registry.register(30, "lending", seed)
        register_merge_hook(move_loans_on_merge)
        from loandesk.customers.selectors import register_tab_count
        from loandesk.lending.loans import count_customer_loans
        from loandesk.lending.repayment_reads import count_customer_repayments

        register_tab_count("loans", count_customer_loans)
        register_tab_count("repayments", count_customer_repayments)
        flow_steps.register()

        from loandesk.flows.automation import register_action
        from loandesk.lending.contracts import run_generate_contract, seed_demo_templates

        registry.register(32, "contracts", seed_demo_templates)
        from loandesk.lending import demo_portfolio

        registry.register(70, "lending_portfolio", demo_portfolio.seed)
        register_action("generate_contract", run_generate_contract)
