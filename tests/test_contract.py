"""The State contract beyond matrix games: chance nodes and hidden information, via a tiny card game."""

from __future__ import annotations

from pettingzoo.test import api_test, seed_test

from arena.agents.base import Turn
from arena.games.base import CHANCE, IllegalAction, State
from arena.games.env import ArenaEnv
from arena.match import play_match
from arena.trajectory import Player


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


class Peeker:
    """Records every text it is shown."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def act(self, turn: Turn) -> str:
        self.seen.append(turn.text)
        return "bet"


def test_chance_is_resolved_with_the_states_own_seeded_rng() -> None:
    def cards(seed: int) -> list[int]:
        traj = play_match(HighCard, [Peeker(), Peeker()], [Player(0, "a", "a"), Player(1, "b", "b")], seed, "m")
        return [int(s.observation.split()[2].rstrip(".")) for s in traj.steps]
    assert cards(3) == cards(3)
    assert len({tuple(cards(s)) for s in range(20)}) > 5


def test_hidden_cards_never_reach_the_other_player() -> None:
    a, b = Peeker(), Peeker()
    traj = play_match(HighCard, [a, b], [Player(0, "a", "a"), Player(1, "b", "b")], 1, "m")
    state = HighCard(1)
    while state.to_move() == [CHANCE]:
        state.sample_chance()
    assert a.seen == [f"Your card: {state.cards[0]}. Calls so far: []"]
    assert b.seen == [f"Your card: {state.cards[1]}. Calls so far: ['bet']"]
    assert traj.outcome.scores[0] == 2.0 * ((state.cards[0] > state.cards[1]) - (state.cards[0] < state.cards[1]))


def test_chance_game_passes_pettingzoo_tests() -> None:
    api_test(ArenaEnv(HighCard, "high-card"), num_cycles=20)
    seed_test(lambda: ArenaEnv(HighCard, "high-card"), num_cycles=20)


def test_clone_is_independent() -> None:
    state = HighCard(0)
    state.sample_chance(), state.sample_chance()
    copy = state.clone()
    copy.apply(0, "fold")
    assert state.calls == [] and copy.calls == ["fold"]
    assert copy.rng.random() == state.clone().rng.random()
