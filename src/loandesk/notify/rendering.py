"""`{variable}` templates: parse the placeholders, check them against the declared variables,
render with a context. Deliberately not str.format (no attribute access, no format specs).
`{{` and `}}` are literal braces. No Django imports."""

import re
from collections.abc import Iterable, Mapping
from typing import Any

NAME = r"[A-Za-z_][A-Za-z0-9_]{0,39}"
_TOKEN = re.compile(r"\{\{|\}\}|\{(" + NAME + r")\}|\{|\}")
VARIABLE = re.compile(rf"^{NAME}$")


class TemplateError(ValueError):
    """code: unknown_variable / missing_variable / bad_brace / bad_variable_name."""

    def __init__(self, code: str, names: Iterable[str] = ()) -> None:
        self.code = code
        self.names = sorted(set(names))
        super().__init__(f"{code}: {', '.join(self.names)}")


def placeholders(text: str) -> list[str]:
    """Names used in `text`, in order of first use; a stray brace is an error."""
    found: list[str] = []
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        if token in ("{{", "}}"):
            continue
        if m.group(1) is None:
            raise TemplateError("bad_brace")
        if m.group(1) not in found:
            found.append(m.group(1))
    return found


def check(texts: Iterable[str], variables: Iterable[str]) -> list[str]:
    """Raise unless every placeholder is declared; returns the placeholders used."""
    declared = list(variables)
    bad = [v for v in declared if not VARIABLE.match(v)]
    if bad:
        raise TemplateError("bad_variable_name", bad)
    used: list[str] = []
    for text in texts:
        for name in placeholders(text):
            if name not in used:
                used.append(name)
    unknown = [n for n in used if n not in declared]
    if unknown:
        raise TemplateError("unknown_variable", unknown)
    return used


def render(text: str, context: Mapping[str, Any]) -> str:
    missing = [n for n in placeholders(text) if context.get(n) is None]
    if missing:
        raise TemplateError("missing_variable", missing)

    def sub(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return str(context[m.group(1)])

    return _TOKEN.sub(sub, text)


def render_json(text: str, context: Mapping[str, Any]) -> str:
    """For JSON bodies (webhooks): only `{name}` tokens are placeholders — every other brace is
    literal — and values are JSON-string-escaped, so `"name": "{name}"` stays valid JSON."""
    import json

    pattern = re.compile(r"\{(" + NAME + r")\}")
    missing = [m.group(1) for m in pattern.finditer(text) if context.get(m.group(1)) is None]
    if missing:
        raise TemplateError("missing_variable", missing)
    return pattern.sub(
        lambda m: json.dumps(str(context[m.group(1)]), ensure_ascii=False)[1:-1], text
    )
