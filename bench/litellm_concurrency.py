"""Remote-LLM throughput: client CPU per call and the concurrency ratio, litellm vs the direct http client.

A loopback OpenAI-compatible server, in its own process (so its CPU is not the client's),
answers every request after ``--latency`` seconds (200 ms by default, served
concurrently). A "match" is ``--turns`` sequential completions (each turn waits for the
previous one, like a game). For each client of :class:`RemoteBackend` (``litellm``, and
``http``: the direct OpenAI-compatible path) we time

- concurrent: ``--matches`` matches at once (up to 32 requests in flight), and
- sequential: ``--sequential-matches`` matches one after another (1 request in flight),

and report the ratio of their request rates (target >= 20x at 32 matches) beside the
client's CPU per call (``time.process_time`` of this process over the calls made).
The two clients are run in pairs, interleaved (order alternating), ``--repeats`` times;
medians and ranges are printed, with the load average.

    PYTHONPATH=$PWD python bench/litellm_concurrency.py [--matches 32] [--turns 5] [--latency 0.2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.loopback

from arena.agents.backends.remote import RemoteBackend  # noqa: E402
from tests.loopback import serve_in_process  # noqa: E402

CLIENTS = ("litellm", "http")


async def match(backend: RemoteBackend, i: int, turns: int) -> None:
    history = [{"role": "system", "content": "Prisoner's dilemma. Answer C or D."}]
    for t in range(turns):
        history.append({"role": "user", "content": f"Match {i}, round {t + 1}: your move?"})
        c = await backend.complete(history, max_tokens=4)
        history.append({"role": "assistant", "content": c.text})


async def concurrent(backend: RemoteBackend, matches: int, turns: int) -> None:
    await asyncio.gather(*(match(backend, i, turns) for i in range(matches)))


async def sequential(backend: RemoteBackend, matches: int, turns: int) -> None:
    for i in range(matches):
        await match(backend, i, turns)


async def timed(coro_fn, backend: RemoteBackend, matches: int, turns: int) -> tuple[float, float]:
    """(wall seconds, client CPU seconds per call) of one run."""
    cpu, start = time.process_time(), time.perf_counter()
    await coro_fn(backend, matches, turns)
    return time.perf_counter() - start, (time.process_time() - cpu) / (matches * turns)


async def measure(b: RemoteBackend, args: argparse.Namespace) -> dict[str, float]:
    """One client's runs, in one event loop (as in a worker): a warm-up wave opens the connections."""
    await concurrent(b, args.matches, 1)
    t_conc, cpu_conc = await timed(concurrent, b, args.matches, args.turns)
    t_seq, cpu_seq = await timed(sequential, b, args.sequential_matches, args.turns)
    return {"ratio": (args.matches / t_conc) / (args.sequential_matches / t_seq), "cpu_conc": cpu_conc * 1000,
            "cpu_seq": cpu_seq * 1000, "rps_conc": args.matches * args.turns / t_conc}


def one_pair(backends: dict[str, RemoteBackend], order: tuple[str, ...], args: argparse.Namespace) -> dict[str, dict]:
    return {name: asyncio.run(measure(backends[name], args)) for name in order}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} [{min(values):.2f}-{max(values):.2f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--matches", type=int, default=32)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--sequential-matches", type=int, default=4,
                    help="matches timed one at a time (the rate does not depend on it)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    logging.getLogger("LiteLLM").setLevel(logging.ERROR)  # its loop-change warnings are not the subject

    ctx = multiprocessing.get_context("spawn")
    addresses = ctx.Queue()
    server = ctx.Process(target=serve_in_process, args=(args.latency, addresses), daemon=True)
    server.start()
    try:
        api_base = addresses.get(timeout=120)
        backends = {c: RemoteBackend("openai/test-model", api_base=api_base, timeout=30, client=c,
                                     max_concurrency=max(args.matches, 1)) for c in CLIENTS}
        for b in backends.values():  # imports: not the subject
            asyncio.run(b.complete([{"role": "user", "content": "warm up"}]))
        runs = [one_pair(backends, CLIENTS if r % 2 == 0 else CLIENTS[::-1], args) for r in range(args.repeats)]
    finally:
        server.terminate()
        server.join(10)

    print(f"server latency {args.latency * 1000:.0f} ms in its own process; {args.matches} matches x {args.turns} "
          f"turns concurrent vs {args.sequential_matches} sequential; {args.repeats} interleaved pairs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'client':8s} {'ratio (median [range])':>26s} {'CPU ms/call concurrent':>30s} "
          f"{'CPU ms/call sequential':>30s} {'req/s concurrent':>26s}")
    for c in CLIENTS:
        rows = [r[c] for r in runs]
        print(f"{c:8s} {spread([x['ratio'] for x in rows]):>26s} {spread([x['cpu_conc'] for x in rows]):>30s} "
              f"{spread([x['cpu_seq'] for x in rows]):>30s} {spread([x['rps_conc'] for x in rows]):>26s}")
    cpu = {c: [r[c]["cpu_conc"] for r in runs] for c in CLIENTS}
    paired = [lit / http for lit, http in zip(cpu["litellm"], cpu["http"])]
    best = statistics.median(r["http"]["ratio"] for r in runs)
    print(f"litellm / http client CPU per call (paired): {spread(paired)}x; "
          f"http ratio {best:.1f}x (target >= 20x) {'OK' if best >= 20 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
