import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver
from django.utils import translation

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loandesk.settings")
application = get_wsgi_application()

# Load what a worker's first request would otherwise load while a phone waits (~0.4 s on 2
# cores: the API's routers and schemas behind the URLconf, the message catalogs), so a new
# gunicorn worker is ready when it starts accepting.
get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect
for language, _ in settings.LANGUAGES:
    with translation.override(language):
        translation.gettext("LoanDesk")
