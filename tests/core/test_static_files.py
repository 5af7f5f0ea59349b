"""Static files as production serves them. The other tests' clients run WhiteNoise in its
autorefresh mode (tests/conftest.py); gunicorn's workers build it the production way, which
lists and stats every file once and answers from that list."""

from pathlib import Path
from typing import Any

from django.test import Client


def test_production_mode_serves_a_collected_file_with_its_cache_headers(
    tmp_path: Path, settings: Any
) -> None:
    (tmp_path / "probe.txt").write_text("贷款", encoding="utf-8")
    settings.STATIC_ROOT = tmp_path
    settings.WHITENOISE_AUTOREFRESH = False
    client = Client()  # its middleware chain is built with the settings above
    response = client.get("/static/probe.txt")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode() == "贷款"
    assert response["Cache-Control"] == "max-age=3600, public"
    # Listed when the chain was built: a file added later is not served in production mode.
    (tmp_path / "late.txt").write_text("x")
    assert client.get("/static/late.txt").status_code == 404
