"""The live display's cost: ``arena run`` of N scripted matches with the live display (stderr on a
pseudo-terminal, so Rich really draws) against the same run with ``--json``; paired and interleaved.

Run: ``python bench/tournament_throughput.py [--matches 2000] [--pairs 3]``.  Each pair runs the
two modes back to back (order alternating), in fresh processes, each on a fresh database; the
ratio live/json of each pair is reported as median and range.  Target: live <= 1.1x json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AGENTS = ["tit-for-tat", "grim-trigger", "always-defect", "always-cooperate", "alternate"]  # 10 pairs


def one_run(live: bool, matches: int, folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, from ``wait4``) of one ``arena run`` (a fresh process)
    of ``matches`` prisoner's dilemmas."""
    per_pair = max(1, matches // 10)
    db = folder / f"{'live' if live else 'json'}-{time.monotonic_ns()}.db"
    args = [sys.executable, "-m", "arena.cli", "run", "-g", "prisoners-dilemma", "-n", str(per_pair),
            "--db", str(db), *(a for name in AGENTS for a in ("-a", name))]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "LINES": "40"}
    if not live:
        args.append("--json")
    master, slave = os.openpty()  # the live display draws only on a terminal
    drain = threading.Thread(target=_drain, args=(master,), daemon=True)
    drain.start()
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    os.close(slave)
    drain.join(timeout=5)
    if proc.returncode:
        raise SystemExit(f"arena run failed with exit status {proc.returncode}")
    return elapsed, usage.ru_utime + usage.ru_stime


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=3)
    opts = parser.parse_args()
    wall: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(opts.pairs):
            order = (True, False) if i % 2 == 0 else (False, True)
            for mode in order:
                w, c = one_run(mode, opts.matches, Path(tmp))
                wall[mode].append(w)
                cpu[mode].append(c)
            print(f"pair {i + 1}: live {wall[True][-1]:6.1f} s wall {cpu[True][-1]:6.1f} s cpu   "
                  f"json {wall[False][-1]:6.1f} s wall {cpu[False][-1]:6.1f} s cpu", flush=True)
    print(f"{opts.matches} scripted prisoner's dilemma matches (10 rounds), {opts.pairs} pairs")
    for name, series in (("wall", wall), ("cpu", cpu)):
        ratios = [a / b for a, b in zip(series[True], series[False])]
        print(f"{name:4s}: live median {statistics.median(series[True]):.1f} s, --json median "
              f"{statistics.median(series[False]):.1f} s; ratio live/json median {statistics.median(ratios):.3f} "
              f"range [{min(ratios):.3f}, {max(ratios):.3f}]  (target <= 1.1)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
