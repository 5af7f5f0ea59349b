"""Settings read from the environment (src/loandesk/settings.py)."""

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from loandesk import settings as module
from loandesk.settings import _env_int


@pytest.mark.parametrize(
    ("name", "good", "setting", "wrong"),
    [
        ("LOANDESK_DB_CONN_MAX_AGE", "30", None, "-1"),
        ("LOANDESK_PROXY_COUNT", "2", "AXES_IPWARE_PROXY_COUNT", "one"),
        ("LOANDESK_SESSION_IDLE_SECONDS", "600", "LOANDESK_SESSION_IDLE_SECONDS", "30"),
        ("LOANDESK_SESSION_MAX_SECONDS", "3600", "SESSION_COOKIE_AGE", "12h"),
        ("LOANDESK_COB_WORKERS", "4", "LOANDESK_COB_WORKERS", "17"),
    ],
)
def test_every_whole_number_setting_is_checked_at_start(
    name: str,
    good: str,
    setting: str | None,
    wrong: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """settings.py, executed afresh: a good value is taken, a wrong one stops the start naming
    the setting (before: a bare ValueError, or a negative count taken as is)."""
    monkeypatch.setenv("LOANDESK_VAR_DIR", str(tmp_path))  # its keys and folders go there
    # PostgreSQL's URL (nothing connects): SQLite's settings force CONN_MAX_AGE to 0.
    monkeypatch.setenv("DATABASE_URL", "postgres://loandesk@127.0.0.1:5432/loandesk")
    monkeypatch.setenv(name, good)
    loaded = runpy.run_path(module.__file__)
    if setting is not None:
        assert loaded[setting] == int(good)
    else:
        assert loaded["DATABASES"]["default"]["CONN_MAX_AGE"] == int(good)
    monkeypatch.setenv(name, wrong)
    with pytest.raises(ImproperlyConfigured, match=name):
        runpy.run_path(module.__file__)


def test_a_whole_number_setting_takes_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, taken in (("", 1), ("1", 1), ("16", 16)):
        monkeypatch.setenv("LOANDESK_COB_WORKERS", value)
        assert _env_int("LOANDESK_COB_WORKERS", 1, minimum=1, maximum=16) == taken
    for value in ("0", "17", "1.5", " x "):
        monkeypatch.setenv("LOANDESK_COB_WORKERS", value)
        with pytest.raises(ImproperlyConfigured, match="from 1 to 16"):
            _env_int("LOANDESK_COB_WORKERS", 1, minimum=1, maximum=16)
