"""The documented Turn and ``turn.data`` keys are what a match really hands an agent, for every game."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from arena.agents.base import Decision, Turn
from arena.cli import app
from arena.datadoc import TURN_FIELDS, data_keys
from arena.match import play_match
from arena.registry import native_games, parse_agent, parse_game
from arena.trajectory import Player
from tests.conftest import ROOT

SMALL = {"holdem": "holdem:hands=2", "kuhn-poker": "kuhn-poker:hands=3", "leduc-poker": "leduc-poker:hands=3",
         "matrix": f"matrix:file={ROOT / 'examples' / 'games' / 'deadlock.toml'}"}


class Recorder:
    """Plays uniformly at random (free text: the game's default answer) and records every Turn."""

    def __init__(self, seen: list[Turn], seed: int) -> None:
        self.seen, self.random = seen, parse_agent(f"random:seed={seed}").make()

    def act(self, turn: Turn) -> Decision:
        self.seen.append(turn)
        if turn.legal_actions is None:
            return Decision(action="")
        return self.random.act(turn)


def _turns(game_id: str, seeds: int = 2) -> list[Turn]:
    spec = parse_game(SMALL.get(game_id, game_id))
    seats = spec.make(0).num_players
    seen: list[Turn] = []
    for seed in range(seeds):
        players = [Player(i, f"p{i}", "random") for i in range(seats)]
        play_match(spec.make, [Recorder(seen, seed * 10 + i) for i in range(seats)], players, seed, f"m{seed}",
                   spec.spec, spec.params)
    return seen


@pytest.mark.parametrize("game_id", sorted(native_games()))
def test_declared_data_keys_are_what_the_game_hands(game_id: str) -> None:
    declared = data_keys(SMALL.get(game_id, game_id))
    turns = _turns(game_id)
    assert turns, f"{game_id}: no decision recorded"
    returned = {key for turn in turns for key in turn.data}
    assert returned <= set(declared), f"{game_id} hands undeclared keys {sorted(returned - set(declared))}"
    assert all(declared.values()), f"{game_id}: every key needs a description"
    if game_id not in ("chess", "chess960"):  # a random chess game rarely ends, so some keys may not show
        assert set(declared) <= returned, f"{game_id} declares keys it never hands: {sorted(set(declared) - returned)}"


def test_turn_fields_are_documented() -> None:
    [turn, *_] = _turns("prisoners-dilemma", seeds=1)
    public = {name for name in dir(turn) if not name.startswith("_") and not callable(getattr(turn, name))}
    assert public == set(TURN_FIELDS)
    assert isinstance(turn.data["my_moves"], list) and turn.data["rounds"] == 10


def test_list_data_prints_the_declarations() -> None:
    result = CliRunner().invoke(app, ["list", "data", "werewolf"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "turn.legal_actions" in result.output and "inspections" in result.output
    assert "seer: name -> role found" in result.output
    bad = CliRunner().invoke(app, ["list", "data", "chezz"])
    assert bad.exit_code == 2 and "unknown game 'chezz'" in bad.output
