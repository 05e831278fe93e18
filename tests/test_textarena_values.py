"""Step values on TextArena games: perfect-information families need no determinize, Kuhn and Indian
poker are determinized (values depend only on the player's view), the rest are refused without peeking."""

from __future__ import annotations

import asyncio
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from arena.agents.backends.base import Completion
from arena.agents.base import Decision, Turn
from arena.agents.llm import LLMAgent
from arena.export.preferences import export_preferences
from arena.export.replay import DecisionPoint, replay
from arena.export.values import RolloutPolicy, estimate
from arena.games.hidden import PeekingRefused, check_peeking, peeks
from arena.games.textarena import kinds, textarena_listing
from arena.games.textarena.determinize import IndianPokerState, KuhnPokerState
from arena.match import play_match
from arena.registry import game_info, parse_agent, parse_game
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from arena.trajectory import Player
from tests.conftest import requires

pytestmark = requires("textarena")

HERE = "tests.test_textarena_values"
TRIAL = f"{HERE}:FirstCell:isolate=false"
KUHN = f"{HERE}:KuhnBot:isolate=false"


class FirstCell:
    """Plays the first of ``[0]`` ... ``[8]`` the game accepts (tried on its copy of the state); sends a prompt."""

    needs_state = True

    def __init__(self) -> None:
        self.prompter = LLMAgent(backend=None)  # type: ignore[arg-type]

    def act(self, turn: Turn) -> Decision:
        for cell in range(9):
            try:
                action = turn.state.parse(turn.player, f"[{cell}]")
            except ValueError:
                continue
            return Decision(action, self.prompter.messages(turn), action)
        raise AssertionError("no free cell")


class _Sampling:
    async def complete(self, messages: list[dict[str, str]], *, seed: int, **_: Any) -> Completion:
        return Completion(f"[{seed % 9}]")


class CellSampler:
    """A free-text sampler whose replies are cells picked by the sampling seed."""

    max_tokens, reasoning = 8, False

    def __init__(self) -> None:
        self.backend = _Sampling()

    def act(self, turn: Turn) -> str:
        raise AssertionError("the sampler only samples")


class KuhnBot:
    """Plays uniformly among the actions TextArena's Kuhn poker last offered it, from its match seed."""

    def __init__(self) -> None:
        self.rng = random.Random(0)

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{match_info.get('seed')}:{match_info.get('player')}")

    def act(self, turn: Turn) -> str:
        offered = re.findall(r"available actions are: (.*)", turn.text)
        return self.rng.choice(re.findall(r"\[\w+\]", offered[-1]))


def test_perfect_information_families_are_marked_and_the_rest_refused() -> None:
    families = {row[0].split(":")[1].split("-v0")[0].replace("SantoriniBaseFixed", "Santorini")
                for row in textarena_listing()}
    assert kinds.PERFECT <= families  # every family named is playable here
    for game, chance in (("TicTacToe-v0", False), ("ConnectFour-v0", False), ("Othello-v0-tiny", False),
                         ("PigDice-v0-short", True)):
        info = game_info(f"textarena:{game}")
        assert (info.information, info.chance) == ("perfect", chance), game
        assert not peeks(parse_game(f"textarena:{game}").make(0))
    assert game_info("textarena:ConnectFour-v0-blind").information == "imperfect"
    blind = parse_game("textarena:ConnectFour-v0:is_open=false").make(0)  # the board hidden by a parameter
    assert blind.information == "imperfect" and peeks(blind)
    for game in ("textarena:Battleship-v0", "textarena:IteratedPrisonersDilemma-v0"):
        assert game_info(game).information == "imperfect"
        with pytest.raises(PeekingRefused, match=re.escape(game) + " has hidden information and no determinize"):
            check_peeking(parse_game(game).make(0), "step values", allow_peeking=False)
    for game in ("textarena:KuhnPoker-v0", "textarena:IndianPoker-v0-short"):
        assert game_info(game).information == "imperfect" and not peeks(parse_game(game).make(0))


def test_a_perfect_textarena_game_exports_step_values_without_allow_peeking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "ta.db")
    execute(store, new_run(store, RunConfig(games=["textarena:TicTacToe-v0"], agents=[f"x={TRIAL}", f"o={TRIAL}"],
                                            games_per_pair=1, seed=0)))
    # 9 samples with consecutive seeds: every cell is offered, so every free cell is a candidate
    options: dict[str, Any] = {"kind": "step", "rollout": TRIAL, "rollouts": 2, "free_text_samples": 10,
                               "sampler": f"{HERE}:CellSampler:isolate=false", "min_margin": 0.0, "agents": ["x"]}
    result = export_preferences(store, **options)
    assert result.rows and result.stats["peeking_matches"] == 0
    for row in result.rows:
        assert row["value_source"] == f"rollout:{TRIAL}+deterministic"  # no +peeking, no determinize needed
        values = json.loads(row["values"])
        assert set(values.values()) <= {-1.0, 0.0, 1.0} and len(values) == 9 - row["turn"]  # every free cell
    monkeypatch.setattr(kinds, "PERFECT", frozenset())  # the test can fail: marked imperfect, it is refused
    with pytest.raises(PeekingRefused, match="textarena:TicTacToe-v0 has hidden information"):
        export_preferences(store, **options)


# --- determinized: Kuhn and Indian poker ------------------------------------------------------
def _twins(game: str, seeds: range) -> tuple[DecisionPoint, DecisionPoint]:
    """The first decision of a Kuhn match, and the same node with the other player's card changed."""
    make = parse_game(game).make
    players = [Player(0, "a", KUHN), Player(1, "b", KUHN)]
    traj = play_match(make, [parse_agent(KUHN).make() for _ in range(2)], players, 0, "k")
    point = replay(traj, make)[0]
    me, state = point.player, point.state
    cards = state.env.state.game_state["player_cards"]
    twin = next(t for t in (make(s) for s in seeds) if t.to_move() == [me]
                and t.env.state.game_state["player_cards"][me] == cards[me]
                and t.env.state.game_state["player_cards"][1 - me] != cards[1 - me])
    assert twin.observation(me) == state.observation(me) and twin.rules_text(me) == state.rules_text(me)
    assert twin.observation(1 - me) != state.observation(1 - me)  # the other player's view names its card
    return point, DecisionPoint(traj, point.step, twin, point.node)


def _values(point: DecisionPoint) -> dict[str, list[float]]:
    return asyncio.run(estimate(point, ["[check]", "[bet]"], RolloutPolicy(KUHN), 12, seed=2))


def test_kuhn_values_depend_only_on_the_players_view(monkeypatch: pytest.MonkeyPatch) -> None:
    point, twin = _twins("textarena:KuhnPoker-v0", range(1, 60))
    values = _values(point)
    assert values == _values(twin) and len(set(values["[bet]"])) > 1
    me = point.player
    det = point.state.determinize(me, random.Random(4))
    cards = det.env.state.game_state["player_cards"]
    assert cards[me] == point.state.env.state.game_state["player_cards"][me] and cards[1 - me] != cards[me]
    assert sorted(det.env.deck) == [0, 1, 2] and det.env.deck[:2] == [cards[0], cards[1]]
    assert f"Your card is: '{'JQK'[cards[1 - me]]}'" in det.observation(1 - me)
    assert det.observation(me) == point.state.observation(me)
    # the test can fail: valued from the true state (no determinize) the two hidden states differ
    monkeypatch.setattr(KuhnPokerState, "determinize", None)
    assert _values(point) != _values(twin)


def test_indian_poker_redraws_the_own_card_and_keeps_the_rank_shown() -> None:
    state = parse_game("textarena:IndianPoker-v0-short").make(3)
    me = state.to_move()[0]
    true = dict(state.env.state.game_state["player_cards"])
    draws = [state.determinize(me, random.Random(i)) for i in range(40)]
    assert isinstance(state, IndianPokerState)
    for det in draws:
        cards = det.env.state.game_state["player_cards"]
        assert cards[1 - me] % 13 == true[1 - me] % 13 and cards[me] != cards[1 - me]
        assert det.observation(me) == state.observation(me)
        rank = ["2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K", "A"][cards[me] % 13]
        assert f"Your opponent's card is: {rank}\n" in det.observation(1 - me) + "\n"
    assert len({d.env.state.game_state["player_cards"][me] for d in draws}) > 10


def test_textarena_chance_follows_a_replaced_rng() -> None:
    """Rollouts and search hand a clone a fresh ``rng``: Pig Dice's next roll is then redrawn, not replayed."""
    state = parse_game("textarena:PigDice-v0-short").make(0)
    me = state.to_move()[0]

    def roll(seed: int | None) -> str:
        twin = state.clone()
        if seed is not None:
            twin.rng = random.Random(seed)
        twin.apply(me, twin.parse(me, "[roll]"))
        return twin.observation(me)
    assert len({roll(None) for _ in range(5)}) == 1  # a plain clone replays TextArena's own generator
    rolls = [roll(seed) for seed in range(20)]
    assert len(set(rolls)) >= 3 and rolls == [roll(seed) for seed in range(20)]
