"""Apps add their demo data here (from AppConfig.ready); seed_demo runs them in order."""

from collections.abc import Callable
from typing import Any

_SEEDERS: list[tuple[int, str, Callable[[dict[str, Any]], Any]]] = []


def register(order: int, name: str, seeder: Callable[[dict[str, Any]], Any]) -> None:
    """`seeder(context)` gets {"users": {username: User}, "departments": {name: Department}}
    and must be idempotent: running the demo seed twice duplicates nothing."""
    if all(existing != name for _, existing, _ in _SEEDERS):
        _SEEDERS.append((order, name, seeder))
        _SEEDERS.sort(key=lambda item: item[0])


def seeders() -> list[tuple[int, str, Callable[[dict[str, Any]], Any]]]:
    return list(_SEEDERS)
