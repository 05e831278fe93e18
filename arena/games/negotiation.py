"""The negotiation family's analyses (a game with a ``deal_price`` metric declares them).

:func:`deal_price_table`: the mean ± std deal price and the deal rate of the k-th game of each
pair of agents, per game spec: whether successive games (e.g. with a critic's feedback between
them, ``--successive``) move the price, as the mean ± std per rollout of Fu et al.  Document key
``iterations``: one record per (game, k) with ``iteration``, ``matches``, ``deal_rate``,
``mean_deal_price``, ``std_deal_price`` (None without a deal / with one price).
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean, stdev
from typing import Any

from arena.games.analysis import AnalysisOptions, AnalysisTable, Result, from_records


def deal_price_by_iteration(results: Sequence[Result]) -> list[dict[str, Any]]:
    """One record per (game, k-th game of a pair), over the results with a ``deal_price`` metric."""
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    prices: dict[tuple[str, int], list[float]] = {}
    deals: dict[tuple[str, int], list[int]] = {}
    for _, game, players, outcome in results:
        if "deal_price" not in outcome.metrics:
            continue
        pair = (game, tuple(sorted(p.name for p in players)))
        k = seen[pair] = seen.get(pair, 0) + 1
        deals.setdefault((game, k), []).append(int(outcome.metrics.get("deal", 0)))
        if outcome.metrics["deal_price"] is not None:
            prices.setdefault((game, k), []).append(float(outcome.metrics["deal_price"]))
    rows = []
    for (game, k), made in sorted(deals.items()):
        p = prices.get((game, k), [])
        rows.append({"game": game, "iteration": k, "matches": len(made), "deal_rate": sum(made) / len(made),
                     "mean_deal_price": mean(p) if p else None, "std_deal_price": stdev(p) if len(p) > 1 else None})
    return rows


def deal_price_table(results: Sequence[Result], options: AnalysisOptions) -> AnalysisTable | None:
    """Analysis hook: the deal price by successive game of each pair (None without a deal price)."""
    records = deal_price_by_iteration(results)
    if not records:
        return None
    return from_records("iterations", "deal price by successive game of each pair", records,
                        [("game", "game", ""), ("game #", "iteration", ""), ("matches", "matches", ""),
                         ("deal rate", "deal_rate", ".0%"), ("mean price", "mean_deal_price", ".2f"),
                         ("std", "std_deal_price", ".2f")],
                        note="game #: the k-th game each pair of agents played (in schedule order)")
