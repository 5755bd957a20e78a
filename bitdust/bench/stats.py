"""Small statistics over timing samples."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of non-empty ``samples``."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def latency_summary_ms(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50/p99/mean/max of request times given in nanoseconds, in milliseconds."""
    ms = [s / 1e6 for s in samples_ns]
    return {
        "requests": len(ms),
        "p50": round(percentile(ms, 0.50), 4),
        "p99": round(percentile(ms, 0.99), 4),
        "mean": round(sum(ms) / len(ms), 4),
        "max": round(max(ms), 4),
    }


def times_text(ratio: float | None) -> str:
    """A ratio against a baseline as the tables print it (``0.86x``); blank when there is none."""
    return f"{ratio:.2f}x" if ratio is not None else ""
