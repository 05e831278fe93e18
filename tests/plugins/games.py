"""Small games the tests define as plug-ins (hidden information, chance)."""

from __future__ import annotations

import random

from arena.games.base import CHANCE, IllegalAction, State


class HighCard(State):
    """Chance deals each player a card 1..6 (private); each then says bet or fold; high card wins."""

    game_id = "high-card"
    action_vocab = ("bet", "fold")

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2, seed)
        self.cards: list[int] = []
        self.calls: list[str] = []

    def to_move(self) -> list[int]:
        if len(self.cards) < 2:
            return [CHANCE]
        return [len(self.calls)] if len(self.calls) < 2 else []

    def chance_outcomes(self) -> list[tuple[str, float]]:
        return [(str(c), 1 / 6) for c in range(1, 7)]

    def apply_chance(self, outcome: str) -> None:
        self.cards.append(int(outcome))

    def legal_actions(self, player: int) -> list[str] | None:
        return ["bet", "fold"]

    def apply(self, player: int, action: str) -> None:
        if action not in ("bet", "fold"):
            raise IllegalAction("say bet or fold")
        self.calls.append(action)

    def returns(self) -> list[float]:
        if len(self.calls) < 2:
            return [0.0, 0.0]
        if "fold" in self.calls:
            return [-1.0, 1.0] if self.calls[0] == "fold" else [1.0, -1.0]
        diff = (self.cards[0] > self.cards[1]) - (self.cards[0] < self.cards[1])
        return [2.0 * diff, -2.0 * diff]

    def rules_text(self, player: int) -> str:
        return "High card. Say bet or fold."

    def observation(self, player: int) -> str:
        return f"Your card: {self.cards[player]}. Calls so far: {self.calls}"

    def determinize(self, player: int, rng: random.Random) -> HighCard:
        """The other card is unknown to ``player``: redeal it (cards are independent)."""
        copy = self.clone()
        assert isinstance(copy, HighCard)
        copy.cards[1 - player] = rng.randint(1, 6)
        return copy
