"""Negotiation baselines: time-dependent tactics (Faratin, Sierra & Jennings 1998) and more.

``x(t) = start + (reserve − start) · (t / T)^(1/β)``: Boulware (β < 1) holds out and
concedes late, Conceder (β > 1) concedes early.  Tit-for-tat concession gives back what
the other side conceded last.  All accept an offer at least as good as their own next
offer.  In ``bargaining`` they read ``turn.data`` (role, reserve, list price, offers); in
``deal-or-no-deal`` the same schedule runs over their own utility (10 → 5); elsewhere
they play a random legal action.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from arena.agents.base import AgentInfo, Decision, Turn


class TimeDependent:
    def __init__(self, beta: float = 1.0, seed: int = 0) -> None:
        if beta <= 0:
            raise ValueError("beta must be positive")
        self.beta = beta
        self.rng = random.Random(seed)

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{match_info.get('seed')}:{match_info.get('player')}")

    def act(self, turn: Turn) -> Decision:
        data = turn.data
        if "reserve" in data:
            return Decision(action=self.bargain(data))
        if "my_values" in data:
            return Decision(action=self.split(data))
        return Decision(action=self.rng.choice(turn.legal_actions) if turn.legal_actions else "")

    def fraction(self, data: dict[str, Any]) -> float:
        return min(1.0, data["turn"] / max(data["max_turns"] - 1, 1))

    def planned(self, data: dict[str, Any]) -> float:
        seller = data["role"] == "seller"
        start = data["list_price"] if seller else min(data["target"], data["reserve"])
        return round(start + (data["reserve"] - start) * self.fraction(data) ** (1 / self.beta), 2)

    def bargain(self, data: dict[str, Any]) -> str:
        seller, offer, theirs = data["role"] == "seller", self.planned(data), data["their_offer"]
        if theirs is not None and (theirs >= offer if seller else theirs <= offer):
            return "That works for me. [ACCEPT]"
        return f"I can do ${offer:.2f}. [OFFER ${offer:.2f}]"

    def split(self, data: dict[str, Any]) -> str:
        counts, values = data["counts"], data["my_values"]
        threshold = 10 - 5 * self.fraction(data) ** (1 / self.beta)
        offered = data["offered_to_me"]
        if offered is not None and sum(values[i] * offered[i] for i in counts) >= threshold:
            return "Deal. [ACCEPT]"
        options = [dict(zip(counts, c)) for c in itertools.product(*(range(n + 1) for n in counts.values()))]
        good = [o for o in options if sum(values[i] * o[i] for i in counts) >= threshold] or options
        mine = min(good, key=lambda o: (sum(values[i] * o[i] for i in counts), sum(o.values())))
        return "How about this? [PROPOSE " + " ".join(f"{i}={n}" for i, n in mine.items()) + "]"


class TitForTatConcession(TimeDependent):
    """Concede exactly what the other side conceded in its last move (first offer: the start)."""

    def planned(self, data: dict[str, Any]) -> float:
        seller = data["role"] == "seller"
        start = data["list_price"] if seller else min(data["target"], data["reserve"])
        mine, theirs = data["my_offers"], data["their_offers"]
        if not mine:
            return round(start, 2)
        conceded = abs(theirs[-1] - theirs[-2]) if len(theirs) >= 2 else 0.0
        step = -conceded if seller else conceded
        bound = max if seller else min
        return round(bound(mine[-1] + step, data["reserve"]), 2)


class RandomNegotiator(TimeDependent):
    """Random talk, random offers within its own limits, accepts at random (p = 0.2)."""

    def bargain(self, data: dict[str, Any]) -> str:
        if data["their_offer"] is not None and self.rng.random() < 0.2:
            return "[ACCEPT]"
        low, high = sorted((data["reserve"], data["list_price"] if data["role"] == "seller" else data["target"]))
        return f"[OFFER ${self.rng.uniform(low, high):.2f}]"

    def split(self, data: dict[str, Any]) -> str:
        if data["offered_to_me"] is not None and self.rng.random() < 0.2:
            return "[ACCEPT]"
        return "[PROPOSE " + " ".join(f"{i}={self.rng.randint(0, n)}" for i, n in data["counts"].items()) + "]"


AGENTS = {
    "boulware": AgentInfo(lambda beta=0.2, seed=0: TimeDependent(beta, seed), {"beta": 0.2, "seed": 0},
                          "time-dependent negotiator that concedes late (beta < 1)", ("negotiation",)),
    "conceder": AgentInfo(lambda beta=5.0, seed=0: TimeDependent(beta, seed), {"beta": 5.0, "seed": 0},
                          "time-dependent negotiator that concedes early (beta > 1)", ("negotiation",)),
    "tit-for-tat-concession": AgentInfo(TitForTatConcession, {"seed": 0},
                                        "concedes what the other side conceded last", ("negotiation",)),
    "random-negotiator": AgentInfo(RandomNegotiator, {"seed": 0}, "random offers and acceptances", ("negotiation",)),
}
