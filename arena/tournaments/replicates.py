"""Replicate matches: matches identical move for move count once.

Deterministic agents on a chance-free game replay the same match every time they
meet in the same seats; counting each copy as independent evidence makes intervals
shrink with copies. Two finished matches are *replicates* when they have the same game
spec, the same agents in the same seats, the same sequence of (player, action) steps
and the same outcome; for a game with chance nodes the seed must match too (the same
moves over different deals are different matches). Ratings, bootstraps and held-out
fits use one match per replicate group; the leaderboard shows each group's
multiplicity and how many distinct matches each agent's numbers rest on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Sequence
from typing import Any

from arena.games.registry import game_info

from arena.spec import SpecError
from arena.store import Store
from arena.tournaments.ratings import Result

Key = Hashable
Stored = tuple[list[Result], list[Key], list[int]]  # stored_results: results, replicate keys, seeds


def collapse(results: Sequence[Result], keys: Sequence[Key]) -> tuple[list[Result], list[int]]:
    """One result per distinct key (the first, in the given order) and each key's multiplicity."""
    first: dict[Key, int] = {}
    counts: list[int] = []
    distinct: list[Result] = []
    for result, key in zip(results, keys, strict=True):  # noqa: B905
        if key in first:
            counts[first[key]] += 1
        else:
            first[key] = len(distinct)
            distinct.append(result)
            counts.append(1)
    return distinct, counts


def has_chance(game: str) -> bool:
    """Whether a stored game spec has chance nodes (unknown games are assumed to)."""
    game_id, _, rest = game.partition(":")
    if game_id == "textarena":
        game_id = f"textarena:{rest.partition(':')[0]}"
    try:
        return game_info(game_id).chance
    except (SpecError, ImportError):
        return True


def stored_results(store: Store, run_id: str | None = None) -> Stored:
    """Finished matches as results (schedule order, as :meth:`Store.results`) with their replicate
    keys and seeds."""
    where = "WHERE m.status = 'done'" + (" AND m.run_id = ?" if run_id else "")
    args = (run_id,) if run_id else ()
    digests: dict[str, Any] = {}
    for match_id, player, action in store.db.execute(
            "SELECT s.match_id, s.player, s.action FROM steps s JOIN matches m USING (match_id) " + where
            + " ORDER BY s.match_id, s.idx", args):
        digest = digests.get(match_id)
        if digest is None:
            digest = digests[match_id] = hashlib.sha256()
        digest.update(json.dumps([player, action]).encode())
    chance: dict[str, bool] = {}
    keys: list[Key] = []
    seeds: list[int] = []
    rows = list(store.db.execute("SELECT match_id, game, seed, players, outcome FROM matches m " + where
                                 + " ORDER BY m.run_id, m.idx", args))
    results = list(store.results(run_id))  # the same rows, same order
    for match_id, game, seed, players, outcome in rows:
        if game not in chance:
            chance[game] = has_chance(game)
        moves = digests[match_id].hexdigest() if match_id in digests else ""
        keys.append((game, players, outcome, moves, seed if chance[game] else None))
        seeds.append(seed)
    return results, keys, seeds


def replicate_groups(results: Sequence[Result], counts: Sequence[int], most: int = 50) -> list[dict[str, Any]]:
    """The replicate groups with more than one match, largest first: game, seated agents, multiplicity."""
    groups = [{"game": game, "agents": [p.name for p in sorted(players, key=lambda p: p.seat)], "multiplicity": n}
              for (_, game, players, _), n in zip(results, counts) if n > 1]
    return sorted(groups, key=lambda g: -g["multiplicity"])[:most]


def distinct_per_agent(results: Sequence[Result]) -> dict[str, int]:
    """How many distinct matches each agent took part in."""
    out: dict[str, int] = {}
    for _, _, players, _ in results:
        for name in {p.name for p in players}:
            out[name] = out.get(name, 0) + 1
    return out
