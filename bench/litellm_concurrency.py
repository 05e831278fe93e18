"""Throughput of RemoteBackend (litellm) with many matches in flight vs one at a time.

A loopback OpenAI-compatible server answers every request after ``--latency`` seconds
(200 ms by default, served concurrently). A "match" is ``--turns`` sequential
completions (each turn waits for the previous one, like a game). We time

- concurrent: ``--matches`` matches at once (up to 32 requests in flight), and
- sequential: the same matches one after another (1 request in flight),

and report requests/s for each and their ratio (target >= 20x at 32 matches).

    /tmp/venv/bin/python bench/litellm_concurrency.py [--matches 32] [--turns 5] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.loopback

from arena.agents.backends.remote import RemoteBackend  # noqa: E402
from tests.loopback import LoopbackServer  # noqa: E402


async def match(backend: RemoteBackend, i: int, turns: int) -> list[float]:
    history = [{"role": "system", "content": "Prisoner's dilemma. Answer C or D."}]
    latencies = []
    for t in range(turns):
        history.append({"role": "user", "content": f"Match {i}, round {t + 1}: your move?"})
        c = await backend.complete(history, max_tokens=4)
        history.append({"role": "assistant", "content": c.text})
        latencies.append(c.latency)
    return latencies


async def concurrent(backend: RemoteBackend, matches: int, turns: int) -> list[float]:
    results = await asyncio.gather(*(match(backend, i, turns) for i in range(matches)))
    return [x for r in results for x in r]


async def sequential(backend: RemoteBackend, matches: int, turns: int) -> list[float]:
    out: list[float] = []
    for i in range(matches):
        out += await match(backend, i, turns)
    return out


def timed(coro_fn, *args) -> tuple[float, list[float]]:
    start = time.perf_counter()
    lat = asyncio.run(coro_fn(*args))
    return time.perf_counter() - start, lat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matches", type=int, default=32)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--sequential-matches", type=int, default=None,
                    help="matches to time one at a time (default: all; the rate does not depend on it)")
    args = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)  # its loop-change warnings are not the subject

    with LoopbackServer(latency=args.latency) as server:
        backend = RemoteBackend("openai/test-model", api_base=server.api_base, timeout=30,
                                max_concurrency=max(args.matches, 1))
        asyncio.run(backend.complete([{"role": "user", "content": "warm up"}]))  # import, first session
        server.reset()

        n_seq = args.sequential_matches or args.matches
        t_conc, lat_conc = timed(concurrent, backend, args.matches, args.turns)
        peak = server.max_in_flight
        errors_conc = len(server.requests) - args.matches * args.turns
        server.reset()
        t_seq, lat_seq = timed(sequential, backend, n_seq, args.turns)

    rps_conc = args.matches * args.turns / t_conc
    rps_seq = n_seq * args.turns / t_seq
    ideal = args.matches * args.turns / (args.turns * args.latency) if args.latency else float("nan")
    print(f"server latency {args.latency * 1000:.0f} ms, {args.matches} matches x {args.turns} turns")
    print(f"concurrent : {args.matches * args.turns:4d} requests in {t_conc:6.2f}s = {rps_conc:7.1f} req/s "
          f"(peak in flight {peak}, ideal {ideal:.1f} req/s, extra requests {errors_conc}), "
          f"per-call latency median {statistics.median(lat_conc) * 1000:.0f} ms")
    print(f"sequential : {n_seq * args.turns:4d} requests in {t_seq:6.2f}s = {rps_seq:7.1f} req/s "
          f"(1 in flight), per-call latency median {statistics.median(lat_seq) * 1000:.0f} ms "
          f"(overhead {(statistics.median(lat_seq) - args.latency) * 1000:.1f} ms/call)")
    ratio = rps_conc / rps_seq
    print(f"ratio      : {ratio:.1f}x  (target >= 20x) {'OK' if ratio >= 20 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
