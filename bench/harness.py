"""Timing, the results table and the registry every benchmark module adds itself to."""

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Row:
    operation: str
    engine: str
    median_ms: float
    p95_ms: float
    throughput: float  # operations per second
    baseline: str = ""
    baseline_median_ms: float | None = None
    target: str = ""
    met: bool | None = None
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """How many times slower than the baseline (below 1 = faster than the baseline)."""
        if not self.baseline_median_ms:
            return None
        return self.median_ms / self.baseline_median_ms


def measure(fn: Callable[[], object], *, repeat: int, warmup: int = 3) -> list[float]:
    """Per-call wall times in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def row_from(operation: str, engine: str, times: list[float], **kwargs: object) -> Row:
    median = statistics.median(times)
    return Row(
        operation=operation,
        engine=engine,
        median_ms=median,
        p95_ms=p95(times),
        throughput=1000 / median if median else float("inf"),
        **kwargs,  # type: ignore[arg-type]
    )


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(rows: list[Row]) -> str:
    header = [
        "operation",
        "engine",
        "median ms",
        "p95 ms",
        "ops/s",
        "baseline",
        "base ms",
        "ratio",
        "target",
        "met",
    ]
    table = [header]
    for r in rows:
        met = "-" if r.met is None else ("yes" if r.met else "NO")
        table.append(
            [
                r.operation,
                r.engine,
                _fmt(r.median_ms, 3),
                _fmt(r.p95_ms, 3),
                _fmt(r.throughput, 0),
                r.baseline or "-",
                _fmt(r.baseline_median_ms, 3),
                _fmt(r.ratio, 2),
                r.target or "-",
                met,
            ]
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save(rows: list[Row], scale: str) -> Path:
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"bench-{scale}-{stamp}.json"
    payload = {
        "scale": scale,
        "at": stamp,
        "rows": [asdict(r) | {"ratio": r.ratio} for r in rows],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    return path
