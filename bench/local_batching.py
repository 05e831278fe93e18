"""Benchmark: decisions/s of the local backend, 16 concurrent requests vs 1 at a time.

Each decision is a short prisoner's-dilemma move prompt (the rules, then the round
and the opponent's last move, as a game presents them) answered with at most 8
tokens (greedy). Concurrent batches are also timed with the shared-prefix prefill
switched off, to show plain batching alone. The three modes are interleaved and the
best of ``--repeats`` runs of each is reported (the machine may be shared). Run:
``python bench/local_batching.py [--repeats N] [--model smollm2]``.
The first run builds the SmolLM2 cache (some seconds); no network is used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from arena.agents.backends import local_compute  # noqa: E402
from arena.agents.backends.local import LocalBackend  # noqa: E402

PROMPT = ("You are playing a repeated prisoner's dilemma for 10 rounds. Options: J (cooperate) or "
          "F (defect). Payoffs: both J: 8 each; both F: 5 each; J against F: 0 for J, 10 for F.\n"
          "Round {round} of 10. Your opponent played {last} last round. Reply with one letter: J or F.")


def prompts(count: int) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": PROMPT.format(round=i % 10 + 1, last="JF"[i % 2])}]
            for i in range(count)]


async def sequential(backend: LocalBackend, count: int, max_tokens: int) -> float:
    started = time.perf_counter()
    for messages in prompts(count):
        await backend.complete(messages, max_tokens=max_tokens)
    return count / (time.perf_counter() - started)


async def concurrent(backend: LocalBackend, rounds: int, width: int, max_tokens: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(backend.complete(m, max_tokens=max_tokens) for m in prompts(width)))
    return rounds * width / (time.perf_counter() - started)


async def unshared(backend: LocalBackend, rounds: int, width: int, max_tokens: int) -> float:
    local_compute.MIN_SHARED_PREFIX, saved = 10**9, local_compute.MIN_SHARED_PREFIX
    try:
        return await concurrent(backend, rounds, width, max_tokens)
    finally:
        local_compute.MIN_SHARED_PREFIX = saved


async def main(args: argparse.Namespace) -> None:
    backend = LocalBackend(args.model, max_batch=args.width)
    backend.load()
    await concurrent(backend, 1, args.width, args.max_tokens)  # warm-up
    one = many = plain = 0.0
    for _ in range(args.repeats):
        one = max(one, await sequential(backend, args.width // 2, args.max_tokens))
        many = max(many, await concurrent(backend, 2, args.width, args.max_tokens))
        plain = max(plain, await unshared(backend, 2, args.width, args.max_tokens))
    print(f"model {backend.name}, device {backend.device}, max_tokens {args.max_tokens}, "
          f"torch threads {torch.get_num_threads()}")
    print(f"sequential (1 at a time): {one:7.2f} decisions/s")
    print(f"concurrent ({args.width} at once): {many:7.2f} decisions/s")
    print(f"concurrent, no shared-prefix prefill: {plain:7.2f} decisions/s ({plain / one:.2f}x)")
    print(f"ratio: {many / one:.2f}x (target >= 4x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each mode; the best counts")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
