"""The headline number of each game, and what a win means in it.

`GameInfo.utility` decides. General-sum games (matrix games, public goods, negotiation,
auctions) are ranked by **mean payoff** with a 95% interval, as Axelrod's tournaments
rank strategies by mean score: in the prisoner's dilemma always-defect never loses a
match, yet tit-for-tat scores more. Zero-sum and win/lose games (board games, poker) and
team games (werewolf) are ranked by the Bradley–Terry **rating** of their win/draw/loss
outcomes.

Payoff interval. A bootstrap over seeds, paired and stratified: matches that share a seed
(the seat rotations of a duplicate deal) are drawn together, and they are drawn with
replacement within each pairing (the same agents), so every agent keeps its opponents and
both sides of a match move together. Percentile interval of each agent's mean payoff.

Pooled scores. Across games payoffs are not comparable (chess points, big blinds), so an
overall table uses each agent's mean *normalised* score: every score minus the mean of
its game, divided by the standard deviation of its game's scores (0 when a game's scores
do not vary).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from arena.games.base import GameInfo
from arena.games.registry import game_info

from arena.spec import SpecError
from arena.tournaments.ratings import Result

PAYOFF, RATING = "mean payoff", "rating"


def game_id(game: str) -> str:
    """The game id of a stored game spec (``prisoners-dilemma:rounds=3`` -> ``prisoners-dilemma``)."""
    head, _, rest = game.partition(":")
    return f"textarena:{rest.partition(':')[0]}" if head == "textarena" else head


def _info(game: str) -> GameInfo | None:
    """The metadata of a stored game spec; None for a game this install no longer has."""
    try:
        return game_info(game_id(game))
    except (SpecError, ImportError):
        return None


def game_utility(game: str) -> str:
    """"zero-sum" | "general-sum" | "team" from the game's metadata ("zero-sum" when unknown)."""
    info = _info(game)
    return info.utility if info else "zero-sum"


def headline_of(utility: str) -> str:
    return PAYOFF if utility == "general-sum" else RATING


def win_meaning(game: str, utility: str) -> str:
    """What counts as a win in the W/D/L columns of this game."""
    if utility == "general-sum":
        return ("a higher total payoff than the opponent(s) in that match; an agent can win every match and "
                "still score less, so the headline is the mean payoff")
    info = _info(game)
    return (info.win if info else "") or "finishing ranked first by the game's own scoring; equal ranks are a draw"


def _strata(results: Sequence[Result], agents: list[str],
            seeds: Sequence[Any] | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per pairing: (payoff sums (G, K), games (G, K)) of each seed group (each match its own group
    when ``seeds`` is None)."""
    index = {a: k for k, a in enumerate(agents)}
    groups: dict[frozenset[str], dict[Any, int]] = defaultdict(dict)
    sums: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for n, (_, _, players, outcome) in enumerate(results):
        pairing = frozenset(p.name for p in players)
        at = groups[pairing].setdefault(n if seeds is None else seeds[n], len(sums))
        if at == len(sums):
            sums.append(np.zeros(len(agents)))
            counts.append(np.zeros(len(agents)))
        for p in players:
            sums[at][index[p.name]] += outcome.scores[p.seat]
            counts[at][index[p.name]] += 1
    return [(np.array([sums[g] for g in members.values()]), np.array([counts[g] for g in members.values()]))
            for members in groups.values()]


def payoff_rows(results: Sequence[Result], seeds: Sequence[int] | None = None, n_boot: int = 1000, seed: int = 0,
                level: float = 0.95) -> dict[str, dict[str, Any]]:
    """Per agent: mean_payoff and payoff_ci (bootstrap over seed groups within pairings), payoff_rank."""
    agents = sorted({p.name for _, _, players, _ in results for p in players})
    if not agents:
        return {}
    strata = _strata(results, agents, seeds)
    total = sum(s.sum(0) for s, _ in strata)
    games = sum(g.sum(0) for _, g in strata)
    point = total / np.maximum(games, 1)
    rng = np.random.default_rng(seed)
    boot_sum, boot_games = np.zeros((n_boot, len(agents))), np.zeros((n_boot, len(agents)))
    for sums, counts in strata:
        draw = rng.multinomial(len(sums), np.full(len(sums), 1 / len(sums)), size=n_boot)
        boot_sum += draw @ sums
        boot_games += draw @ counts
    with np.errstate(invalid="ignore", divide="ignore"):
        boots = np.where(boot_games > 0, boot_sum / boot_games, point)
    tail = (1 - level) / 2
    low, high = np.quantile(boots, [tail, 1 - tail], axis=0)
    order = sorted(range(len(agents)), key=lambda i: (-point[i], agents[i]))
    ranks = {agents[i]: 1 + sum(point[j] > point[i] for j in range(len(agents))) for i in order}
    return {agents[i]: {"mean_payoff": float(point[i]), "payoff_ci": [float(low[i]), float(high[i])],
                        "payoff_rank": int(ranks[agents[i]])} for i in order}


def normalised_scores(results: Sequence[Result]) -> dict[str, float]:
    """Each agent's mean score after standardising the scores of every game (mean 0, sd 1 per game)."""
    by_game: dict[str, list[float]] = defaultdict(list)
    for _, game, players, outcome in results:
        by_game[game] += [outcome.scores[p.seat] for p in players]
    scale = {g: (float(np.mean(v)), float(np.std(v)) or 1.0) for g, v in by_game.items()}
    acc: dict[str, list[float]] = defaultdict(list)
    for _, game, players, outcome in results:
        mean, sd = scale[game]
        for p in players:
            acc[p.name].append((outcome.scores[p.seat] - mean) / sd)
    return {name: float(np.mean(v)) for name, v in acc.items()}
