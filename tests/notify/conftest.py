"""The flows fixtures (demo organisation, submit/act helpers) for the notify tests."""

from tests.flows.conftest import flows  # noqa: F401  (fixture)
