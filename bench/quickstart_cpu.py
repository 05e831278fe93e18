"""Benchmark: user+system CPU seconds of the quickstart (``arena run`` with no arguments).

Warms the embedded model cache first (building it once if missing), then runs the default
``arena run --json`` in a fresh process on a temporary database and prints its CPU time
(the children's user+system, from ``resource``), the wall time, the load average and each
LLM's illegal-answer and fallback rates from the leaderboard.  Run:
``python bench/quickstart_cpu.py``.  No network.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from arena.agents.backends.model_cache import model_folder
    model_folder("smollm2")  # the warm cache the claim is about
    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "arena.cli", "run", "--json", "--db", str(Path(tmp) / "q.db")],
                              capture_output=True, text=True, env=os.environ.copy())
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"arena run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"quickstart: {cpu:.1f} s user+system CPU, {wall:.1f} s wall")
    for row in json.loads(proc.stdout)["leaderboard"]:
        if row.get("tokens"):
            print(f"  {row['agent']:20} moves {row.get('moves', 0):4}  illegal {row.get('illegal_rate', 0):.1%}  "
                  f"fallback {row.get('fallback_rate', 0):.1%}")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
