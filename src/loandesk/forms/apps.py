from django.apps import AppConfig


class FormsConfig(AppConfig):
    name = "loandesk.forms"
    label = "forms"
    verbose_name = "Forms"

    def ready(self) -> None:
        from django.conf import settings

        from loandesk.core import crypto
        from loandesk.demo import registry
        from loandesk.forms import demo, fieldtypes, messages, permissions, tasks  # noqa: F401

        fieldtypes.configure(
            hash_pii=lambda value: crypto.blind_index(value, purpose="forms.key"),
            encrypt=crypto.encrypt,
            decrypt=crypto.decrypt,
            tz=settings.TIME_ZONE,
        )
        registry.register(40, "forms", demo.seed)
