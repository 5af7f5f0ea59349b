"""`python -m bench --only`: which benchmark modules a selection runs."""

from bench.__main__ import _selected

NAMES = ["api", "finance", "flows", "cob", "cob-workers", "reports"]


def _run(only: str) -> list[str]:
    return [name for name in NAMES if _selected(name, only, NAMES)]


def test_an_exact_name_selects_that_module_alone() -> None:
    assert _run("cob") == ["cob"]
    assert _run("cob-workers") == ["cob-workers"]


def test_a_partial_name_selects_by_substring() -> None:
    assert _run("cob-") == ["cob-workers"]
    assert _run("f") == ["finance", "flows"]


def test_a_comma_separated_list_selects_each() -> None:
    assert _run("cob, reports") == ["cob", "reports"]
    assert _run("nothing") == []
