"""The State contract beyond matrix games: chance nodes and hidden information, via a tiny card game."""

from __future__ import annotations

from pettingzoo.test import api_test, seed_test

from arena.agents.base import Turn
from arena.games.base import CHANCE
from arena.games.env import ArenaEnv
from arena.match import play_match
from arena.trajectory import Player
from tests.plugins.games import HighCard


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
