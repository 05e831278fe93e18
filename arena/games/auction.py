"""Sealed-bid auction of several items under budgets (AucArena-style).

Card
- Players: N bidders (param ``players``, default 3), each with a budget (default $10,000).
- Items, sold one at a time in order: each has a public start price and, for every
  bidder, a private value: default a $1,000-start item worth about $2,000 and a
  $5,000-start item worth about $10,000 (each bidder's value drawn within ±``spread``
  of that from the state's seed) — the items and budget of AucArena (Chen et al., 2023).
- Each round all bidders simultaneously answer ``bid N`` (whole dollars, at least the
  start price, at most the remaining budget) or ``pass``; refused with a reason otherwise.
  The highest bid wins and pays its bid (first price); ties go to a seeded draw.
- Observation: own budget and values, the items, past results (winner and price), never
  other bidders' values or budgets beyond what past prices reveal.
- Scoring: profit = sum over items won of (own value − price paid).
- Metrics: items sold, revenue, each bidder's profit and number of items won.
- Hidden information: ``determinize(player, rng)`` redraws the other bidders' values from that prior.
- Version 1.
"""

from __future__ import annotations

import re
from typing import Any

from arena.games.base import GameInfo, IllegalAction, State
from arena.games.offers import int_range_regex

BID = re.compile(r"^\s*(?:bid\s*)?\$?\s*(\d[\d,]*)\s*$", re.I)


class AuctionState(State):
    game_id = "auction"
    action_vocab = ("pass",)
    free_text_default = "pass"

    def __init__(self, seed: int | None = None, players: int = 3, budget: int = 10_000,
                 starts: str = "1000|5000", values: str = "2000|10000", spread: float = 0.2) -> None:
        if not 2 <= players <= 8:
            raise ValueError("auction seats 2 to 8 bidders")
        start_list, value_list = _ints(starts, "starts"), _ints(values, "values")
        if len(start_list) != len(value_list):
            raise ValueError("starts and values must list the same number of items")
        super().__init__(players, seed)
        self.budget0 = budget
        self.starts = start_list
        self.base_values, self.spread = value_list, spread
        self.values = [[round(v * (1 + self.rng.uniform(-spread, spread))) for v in value_list]
                       for _ in range(players)]
        self.budgets = [budget] * players
        self.item = 0
        self.bids: dict[int, int] = {}
        self.sold: list[tuple[int | None, int]] = []  # (winner, price) per item
        self.profit = [0.0] * players

    def to_move(self) -> list[int]:
        if self.item >= len(self.starts):
            return []
        return [p for p in range(self.num_players) if p not in self.bids]

    def legal_actions(self, player: int) -> list[str] | None:
        return None

    def answer_pattern(self, player: int) -> str | None:
        start, budget = self.starts[self.item], self.budgets[player]
        return "pass" if budget < start else f"pass|bid {int_range_regex(start, budget)}"

    def parse(self, player: int, text: str) -> str:
        answer = text.strip().strip(".").strip()
        if answer.lower() == "pass":
            return "pass"
        m = BID.match(answer)
        if not m:
            raise IllegalAction(f"answer 'bid N' (whole dollars) or 'pass'; got {answer[:40]!r}")
        amount = int(m.group(1).replace(",", ""))
        start = self.starts[self.item]
        if amount < start:
            raise IllegalAction(f"a bid must be at least the start price ${start:,}")
        if amount > self.budgets[player]:
            raise IllegalAction(f"you cannot bid more than your remaining budget ${self.budgets[player]:,}")
        return f"bid {amount}"

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction("you already bid on this item")
        self.bids[player] = 0 if action == "pass" else int(self.parse(player, action).split()[1])
        if len(self.bids) < self.num_players:
            return
        top = max(self.bids.values())
        if top == 0:
            self.sold.append((None, 0))
        else:
            winner = self.rng.choice(sorted(p for p, b in self.bids.items() if b == top))
            self.budgets[winner] -= top
            self.profit[winner] += self.values[winner][self.item] - top
            self.sold.append((winner, top))
        self.bids = {}
        self.item += 1

    def determinize(self, player: int, rng: Any) -> AuctionState:
        """A clone in which every other bidder's private values are redrawn from the rules' prior (each
        item's value within ±``spread`` of its listed value); budgets and results are public."""
        new = self.clone()
        for q in range(self.num_players):
            if q != player:
                new.values[q] = [round(v * (1 + rng.uniform(-self.spread, self.spread))) for v in self.base_values]
        return new

    def returns(self) -> list[float]:
        return list(self.profit)

    def rules_text(self, player: int) -> str:
        items = "; ".join(f"item {i + 1}: start ${s:,}, worth ${self.values[player][i]:,} to you"
                          for i, s in enumerate(self.starts))
        return (f"Sealed-bid auction among {self.num_players} bidders; items are sold one at a time. {items}. "
                f"Your budget is ${self.budget0:,} for all items. For each item every bidder secretly answers "
                "'bid N' (whole dollars, at least the start price, within your remaining budget) or 'pass'. "
                "The highest bid wins and pays its bid. Your profit is the value of what you win minus what you "
                "pay; maximise it.")

    def observation(self, player: int) -> str:
        lines = []
        for i, (winner, price) in enumerate(self.sold):
            who = "nobody" if winner is None else "you" if winner == player else f"bidder {winner + 1}"
            lines.append(f"Item {i + 1}: won by {who}" + (f" for ${price:,}." if winner is not None else "."))
        if self.item < len(self.starts):
            lines.append(f"Now: item {self.item + 1} (start ${self.starts[self.item]:,}, worth "
                         f"${self.values[player][self.item]:,} to you). Your remaining budget: "
                         f"${self.budgets[player]:,}. Answer 'bid N' or 'pass'.")
        else:
            lines.append(f"The auction is over. Your profit: ${self.profit[player]:,.0f}.")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"item": "index of the item on sale", "start": "its starting price", "value": "its value to you",
                 "budget": "your remaining budget", "sold": "items sold so far"}

    def observation_data(self, player: int) -> dict[str, Any]:
        i = min(self.item, len(self.starts) - 1)
        return {"item": self.item, "start": self.starts[i], "value": self.values[player][i],
                "budget": self.budgets[player], "sold": list(self.sold)}

    def metrics(self) -> dict[str, Any]:
        return {"items_sold": sum(w is not None for w, _ in self.sold), "revenue": sum(p for _, p in self.sold),
                "profit": list(self.profit),
                "items_won": [sum(w == p for w, _ in self.sold) for p in range(self.num_players)]}


def _ints(text: str, name: str) -> list[int]:
    try:
        out = [int(x) for x in str(text).replace("|", ",").split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{name} must be whole dollar amounts separated by |, got {text!r}") from None
    if not out or min(out) <= 0:
        raise ValueError(f"{name} must list at least one positive amount")
    return out


GAMES = {"auction": GameInfo(
    "auction", AuctionState,
    {"players": 3, "budget": 10_000, "starts": "1000|5000", "values": "2000|10000", "spread": 0.2},
    "sealed-bid first-price auction of several items under budgets (AucArena-style)", players="N",
    information="imperfect", dynamics="simultaneous", chance=True, utility="general-sum")}
