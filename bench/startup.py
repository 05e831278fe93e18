"""Start-up cost of the CLI: wall time of fresh processes as a ratio to ``python -c pass``.

Measures ``arena --help``, ``arena list games`` and a one-match scripted ``arena run``
(prisoner's dilemma, tit-for-tat vs always-defect, into a throw-away store), each in a
fresh interpreter, interleaved with the ``python -c pass`` baseline; prints the median
and range of the paired ratios, then the ten slowest imports of the scripted run
(``python -X importtime``).  Run: ``python bench/startup.py [--reps 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARENA = [sys.executable, "-m", "arena"]
RUN = ["run", "-g", "prisoners-dilemma", "-a", "tit-for-tat", "-a", "always-defect", "-n", "1", "--json"]


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=600)
    return time.perf_counter() - start


def commands(db: Path) -> dict[str, list[str]]:
    return {"arena --help": ARENA + ["--help"], "arena list games": ARENA + ["list", "games"],
            "arena run (1 scripted match)": ARENA + RUN + ["--db", str(db)]}


def top_imports(cmd: list[str], n: int = 10) -> list[tuple[int, str]]:
    out = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True, timeout=600)
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(Path(tmp) / "bench.db")
        ratios: dict[str, list[float]] = {name: [] for name in cmds}
        for _ in range(args.reps):
            for name, cmd in cmds.items():
                (Path(tmp) / "bench.db").unlink(missing_ok=True)
                base = wall([sys.executable, "-c", "pass"])
                ratios[name].append(wall(cmd) / base)
        print(f"load average {os.getloadavg()[0]:.2f}; {args.reps} paired runs each (fresh processes)")
        for name, rs in ratios.items():
            print(f"  {name:30s} {statistics.median(rs):6.1f}x python -c pass (range {min(rs):.1f}-{max(rs):.1f})")
        print("slowest imports of the scripted run (cumulative microseconds):")
        for us, module in top_imports(cmds["arena run (1 scripted match)"]):
            print(f"  {us:9d}  {module.strip()}")


if __name__ == "__main__":
    main()
