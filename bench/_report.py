"""Small shared printing helpers of the benchmarks (run from the repository root)."""

from __future__ import annotations

import os
import statistics


def spread(values: list[float], unit: str = "runs") -> str:
    """``median M (range lo-hi, N unit)``."""
    return (f"median {statistics.median(values):.2f} (range {min(values):.2f}-{max(values):.2f}, "
            f"{len(values)} {unit})")


def load_line() -> str:
    return "load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
