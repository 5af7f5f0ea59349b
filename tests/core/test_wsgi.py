import os
import subprocess
import sys


def test_a_worker_loads_the_urlconf_before_its_first_request(tmp_path):
    """gunicorn imports loandesk.wsgi in each worker before it accepts: the URLconf (the API's
    routers) must be loaded then, not by the first phone's request."""
    probe = (
        "import sys, loandesk.wsgi; "
        "print(all(m in sys.modules for m in ('loandesk.urls', 'loandesk.api', "
        "'loandesk.customers.api', 'loandesk.flows.api')))"
    )
    env = {**os.environ, "LOANDESK_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "True"
