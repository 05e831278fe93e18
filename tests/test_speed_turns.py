"""Turns are built lazily: text, rules and data rendered only when read (issue 15, Deliver 4)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from arena.agents.base import Turn
from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.trajectory import Player, Trajectory

PD = parse_game("prisoners-dilemma:rounds=3")
PLAYERS = [Player(0, "a", "a"), Player(1, "b", "b")]
SPIED = ("observation", "observation_data", "rules_text")


def spied(calls: Counter[tuple[str, int]]):  # type: ignore[no-untyped-def]
    """A game factory whose states count each call of the text/data methods, per (method, player)."""
    def counted(name: str, real: Callable[[int], Any]) -> Callable[[int], Any]:
        def wrapper(player: int) -> Any:
            calls[name, player] += 1
            return real(player)
        return wrapper

    def make(seed: int):  # type: ignore[no-untyped-def]
        state = PD.make(seed)
        for name in SPIED:
            setattr(state, name, counted(name, getattr(state, name)))
        return state
    return make


def replayed(traj: Trajectory) -> list[tuple[str, str]]:
    """(observation, rules) each step's mover saw, recomputed on a fresh state from the recorded actions."""
    state, seen = PD.make(traj.seed), []
    for step in traj.steps:
        seen.append((state.observation(step.player), state.rules_text(step.player)))
        state.apply(step.player, step.action)
    return seen


class Reader:
    """LLM-like: reads the text and the rules (twice, as a prompt builder might), then cooperates."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def act(self, turn: Turn) -> str:
        self.seen.append((turn.text, turn.rules))
        assert (turn.text, turn.rules) == self.seen[-1]
        return "C"


class Keeper:
    """Keeps every Turn and reads nothing while playing."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []

    def act(self, turn: Turn) -> str:
        self.turns.append(turn)
        return "D"


def test_a_scripted_match_renders_text_only_for_the_record_and_data_only_when_read() -> None:
    calls: Counter[tuple[str, int]] = Counter()
    traj = play_match(spied(calls), [parse_agent("random:seed=1").make(), parse_agent("tit-for-tat").make()],
                      PLAYERS, 4, "m")
    assert len(traj.steps) == 6
    # the text once per decision, for the trajectory only (random never reads it); the data only for
    # tit-for-tat, which reads it; the rules never: nobody read them
    assert calls == Counter({("observation", 0): 3, ("observation", 1): 3, ("observation_data", 1): 3})
    assert [s.observation for s in traj.steps] == [obs for obs, _ in replayed(traj)]  # the record is unchanged


def test_an_llm_like_agent_reads_exactly_the_text_it_did_and_the_rules_once_per_match() -> None:
    calls: Counter[tuple[str, int]] = Counter()
    reader = Reader()
    traj = play_match(spied(calls), [reader, parse_agent("always-defect").make()], PLAYERS, 2, "m")
    expected = [seen for step, seen in zip(traj.steps, replayed(traj)) if step.player == 0]
    assert reader.seen == expected and len(expected) == 3
    assert "Round 3 of 3" in reader.seen[-1][0] and "you chose C" in reader.seen[-1][0]
    # the text read twice per turn and recorded: rendered once per decision; the rules once per match
    assert calls[("observation", 0)] == 3 and calls[("rules_text", 0)] == 1
    assert [s.observation for s in traj.steps if s.player == 0] == [text for text, _ in expected]


def test_a_turn_kept_past_its_decision_still_shows_its_own_nodes_data() -> None:
    calls: Counter[tuple[str, int]] = Counter()
    keeper = Keeper()
    play_match(spied(calls), [keeper, parse_agent("random:seed=3").make()], PLAYERS, 1, "m")
    # read after the match: each kept Turn shows the round and history of its own node, not the last one
    assert [t.data["round"] for t in keeper.turns] == [1, 2, 3]
    assert [t.data["my_moves"] for t in keeper.turns] == [[], ["D"], ["D", "D"]]
    assert calls[("observation_data", 0)] == 3 and calls[("observation_data", 1)] == 0
