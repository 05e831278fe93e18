"""Per-agent move statistics from stored steps: illegal answers, fallbacks, latency, tokens, cost."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from arena.store import Store


def agent_stats(store: Store, run_id: str | None = None) -> dict[str, dict[str, Any]]:
    """For each agent: moves, illegal_rate (refused answers / answers given), fallback_rate
    (moves decided by the fallback / moves), mean_latency (s per answer, refused ones included),
    tokens and cost (refused answers included), downgrades (silent fallbacks the agent reported)
    and errors (its matches that ended as ``error``: unrated, not in any other number)."""
    players = store.match_players(run_id)
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for match_id, step in store.steps(run_id):
        seats = players.get(match_id)
        if not seats:
            continue
        row = acc[seats[step.player].name]
        row["moves"] += 1
        row["refused"] += len(step.attempts)
        row["answers"] += len(step.attempts) + (0 if step.fallback else 1)
        row["fallbacks"] += step.fallback
        row["downgrades"] += len(step.downgrades)
        if not step.fallback:
            row["latency"] += step.latency
            row["timed"] += 1
        row["tokens"] += step.tokens_in + step.tokens_out
        row["cost"] += step.cost
        for attempt in step.attempts:
            row["latency"] += attempt.latency
            row["timed"] += attempt.latency > 0
            row["tokens"] += attempt.tokens_in + attempt.tokens_out
            row["cost"] += attempt.cost
    errors = store.error_counts(run_id)
    return {name: {"moves": int(r["moves"]),
                   "illegal_rate": r["refused"] / r["answers"] if r["answers"] else 0.0,
                   "fallback_rate": r["fallbacks"] / r["moves"] if r["moves"] else 0.0,
                   "mean_latency": r["latency"] / r["timed"] if r["timed"] else 0.0,
                   "tokens": int(r["tokens"]), "cost": r["cost"], "downgrades": int(r["downgrades"]),
                   "errors": errors.get(name, 0)}
            for name, r in acc.items()}
