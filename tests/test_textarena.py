"""TextArena games as arena games: ``textarena:<EnvId>`` plays, refuses, stays deterministic."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from arena.agents.base import Decision, Turn
from arena.export.preferences import export_preferences, load_trajectories
from arena.export.replay import replay
from arena.games import textarena as ta_games
from arena.games.base import IllegalAction
from arena.games.env import ArenaEnv
from arena.match import Policy, play_match
from arena.registry import SpecError, game_ids, parse_agent, parse_game
from arena.store import Store
from arena.trajectory import Player
from tests.conftest import requires, run_cli

pytestmark = requires("textarena")

TWO_PLAYER = [
    "textarena:TicTacToe-v0", "textarena:WildTicTacToe-v0", "textarena:SimpleTak-v0",
    "textarena:SimpleNegotiation-v0-short", "textarena:SimpleBlindAuction-v0-quick",
    "textarena:IteratedPrisonersDilemma-v0:num_rounds=2", "textarena:IteratedRockPaperScissors-v0:num_rounds=3",
    "textarena:IteratedMatchingPennies-v0:num_rounds=3", "textarena:HighSociety-v0", "textarena:IndianPoker-v0-short",
    "textarena:KuhnPoker-v0", "textarena:Othello-v0-tiny", "textarena:PigDice-v0-short",
    "textarena:GameOfPureStrategy-v0", "textarena:TruthAndDeception-v0", "textarena:ConnectFour-v0",
    "textarena:Crusade-v0", "textarena:Briscola-v0", "textarena:IteratedUltimatumGame-v0:max_turns=4",
]
MULTI_PLAYER = [
    "textarena:Poker-v0-small:players=3,num_rounds=2", "textarena:LiarsDice-v0-small:players=3",
    "textarena:PublicGoodsGame-v0:players=3,num_rounds=1,communication_turns=1",
    "textarena:MarketEntryGame-v0:players=3,num_rounds=1,communication_turns=1",
    "textarena:ThreePlayerTicTacToe-v0", "textarena:ThreePlayerGOPS-v0", "textarena:ThreePlayerIPD-v0:num_rounds=1",
    "textarena:SecretMafia-v0", "textarena:Taboo-v0:max_rounds=1", "textarena:Snake-v0:players=4",
    "textarena:Surround-v0:players=3",
]
TOKEN = re.compile(r"\[([^\[\]\n]{1,40})\]")


class Brackets:
    """Scripted player: answers one [bracketed] token seen lately (TextArena's move format)."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    def act(self, turn: Turn) -> Decision:
        senders = {m["from"] for m in turn.data.get("messages", [])} | {"GAME"}

        def tokens(text: str) -> list[str]:
            return [t for t in TOKEN.findall(text) if t not in senders and not t.startswith("Player ")]
        pool = tokens(turn.feedback or "") or tokens("\n".join(turn.text.splitlines()[-12:])) or tokens(turn.rules)
        if not pool:
            return Decision(action="hello")
        token = re.sub(r"\b[XYN]\b", lambda _: str(self.rng.randint(1, 3)), self.rng.choice(pool))
        return Decision(action=f"[{token}]")


def players(n: int) -> list[Player]:
    return [Player(i, f"p{i}", "scripted") for i in range(n)]


def global_generators() -> tuple:
    name, keys, *rest = np.random.get_state()
    return random.getstate(), name, keys.tobytes(), *rest


def same_generators(a: tuple, b: tuple) -> bool:
    return a == b


@pytest.mark.parametrize("spec", TWO_PLAYER + MULTI_PLAYER)
def test_plays_a_match_and_passes_api_test(spec: str) -> None:
    game = parse_game(spec)
    n = game.make(0).num_players
    before = global_generators()
    traj = play_match(game.make, [Brackets(i) for i in range(n)], players(n), 11, "m", game=spec,
                      config=game.params)
    assert same_generators(before, global_generators()), "TextArena touched the global random"
    assert traj.outcome.reason == "normal" and len(traj.outcome.scores) == n and len(traj.outcome.ranks) == n
    assert traj.steps and any(not s.fallback for s in traj.steps), "no move went through"
    assert traj.outcome.metrics["textarena_env"] == spec.split(":")[1]
    final = game.make(11)  # hidden information: a player's text never holds another player's prompt
    prompts = [final.observation_data(p)["prompt"] for p in range(n)]
    for step in traj.steps:
        assert not any(prompts[q] and prompts[q] in step.observation for q in range(n) if q != step.player)
    api_test(ArenaEnv(game.make, name=spec), num_cycles=10)


def test_at_least_twenty_games_two_and_multi_player() -> None:
    assert len(TWO_PLAYER + MULTI_PLAYER) >= 20 and len(MULTI_PLAYER) >= 10


def test_random_agent_answers_are_refused_then_textarena_penalises() -> None:
    game = parse_game("textarena:TicTacToe-v0")
    agents = [parse_agent("random").make(), Brackets()]
    traj = play_match(game.make, agents, players(2), 3, "m", policy=Policy(retries=1))
    first = traj.steps[0]
    assert first.fallback and len(first.attempts) == 2
    assert "TextArena rejects this move" in first.attempts[0].error
    assert traj.outcome.ranks == [2, 1] and traj.outcome.scores == [-1.0, 1.0]
    assert traj.outcome.metrics["invalid_moves"][0] == 2  # TextArena's retry, then its penalty


def test_a_game_textarena_leaves_stuck_is_stopped_with_the_stuck_player_last() -> None:
    # PublicGoodsGame eliminates a player after repeated invalid moves but never passes the turn on
    game = parse_game("textarena:PublicGoodsGame-v0:players=3")
    babble = [parse_agent("random").make(), Brackets(1), Brackets(2)]
    traj = play_match(game.make, babble, players(3), 0, "m", policy=Policy(retries=0))
    assert traj.outcome.ranks == [3, 1, 1] and traj.outcome.scores == [-1.0, 0.0, 0.0]
    assert traj.outcome.metrics["reason"].startswith("stopped: TextArena kept the turn with player 0")
    assert traj.outcome.metrics["invalid_moves"][0] == ta_games.STALL + 2 + 1  # + the env's error allowance
    assert all(step.player == 0 and step.fallback for step in traj.steps[-ta_games.STALL:])


def test_invalid_move_leaves_the_env_untouched() -> None:
    state = parse_game("textarena:TicTacToe-v0").make(5)
    before = (state.observation(0), state.env.state.turn, state.env.state.error_count, list(state._log))
    with pytest.raises(IllegalAction, match="TextArena rejects this move"):
        state.parse(0, "[99]")
    assert (state.observation(0), state.env.state.turn, state.env.state.error_count, list(state._log)) == before
    move = state.parse(0, "4")  # the registered ActionFormattingWrapper adds the brackets
    assert move == "[4]"
    state.apply(0, move)
    assert state.to_move() == [1] and state.env.state.turn == 1
    with pytest.raises(IllegalAction, match="not player 0's turn"):
        state.apply(0, "[5]")


def test_lax_prisoners_dilemma_is_tightened() -> None:
    state = parse_game("textarena:IteratedPrisonersDilemma-v0:num_rounds=1,communication_turns=1").make(0)
    state.apply(0, state.parse(0, "hello"))
    state.apply(1, state.parse(1, "hi"))  # conversation over: decision phase
    for answer in ("I cooperate", "[Cooperate] or maybe [Defect]"):
        with pytest.raises(IllegalAction, match=r"\[Cooperate\] or \[Defect\]"):
            state.parse(0, answer)
    state.apply(0, state.parse(0, "I choose [Defect]"))
    state.apply(1, state.parse(1, "[Cooperate]"))
    assert state.is_terminal() and state.returns() == [1.0, -1.0]
    assert state.metrics()["game_scores"] == [5.0, 0.0]


def test_deterministic_and_global_random_untouched() -> None:
    spec = "textarena:Poker-v0-small:players=3,num_rounds=2"
    game = parse_game(spec)
    random.seed(1234)
    np.random.seed(99)
    before = global_generators()
    runs = [play_match(game.make, [Brackets(i) for i in range(3)], players(3), seed, "m", game=spec)
            for seed in (7, 7, 8)]
    assert same_generators(before, global_generators())
    same, other = [[(s.player, s.observation, s.action) for s in t.steps] for t in runs[:2]], runs[2]
    assert same[0] == same[1] and runs[0].outcome.scores == runs[1].outcome.scores
    assert [s.observation for s in other.steps][:1] != [s.observation for s in runs[0].steps][:1]
    replay(runs[0], game.make)  # the stored match replays exactly (observations included)
    seed_test(lambda: ArenaEnv(game.make, name=spec), num_cycles=10)


def test_clone_by_deepcopy_or_by_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    state = parse_game("textarena:SecretMafia-v0").make(4)
    bot = Brackets()
    for _ in range(8):
        player = state.to_move()[0]
        turn = Turn(state.game_id, player, state.rules_text(player), state.observation(player), None,
                    state.observation_data(player))
        try:
            move = state.parse(player, str(bot.act(turn).action))
        except IllegalAction:
            move = state.free_text_default  # handed to TextArena's own invalid-move rule
        state.apply(player, move)
    copied = state.clone()
    monkeypatch.setattr(ta_games.TextArenaState, "__deepcopy__",
                        lambda self, memo: (_ for _ in ()).throw(TypeError("cannot copy")))
    replayed = state.clone()
    for other in (copied, replayed):
        assert other is not state and other.env is not state.env
        assert [other.observation(p) for p in range(6)] == [state.observation(p) for p in range(6)]
        assert other.to_move() == state.to_move() and other.metrics()["roles"] == state.metrics()["roles"]


def test_listing_marks_textarena_games() -> None:
    games = ta_games.textarena_games()
    assert len(games) >= 100 and all(gid.startswith("textarena:") for gid in games)
    assert all(info.summary.startswith("TextArena: ") for info in games.values())
    assert games["textarena:SecretMafia-v0"].players == "6-15"
    assert games["textarena:Poker-v0"].players == "2-15" and games["textarena:Poker-v0"].params["players"] == 2
    assert games["textarena:SimpleNegotiation-v0"].players == "2"
    assert not {"textarena:Debate-v0", "textarena:Sudoku-v0", "textarena:Wordle-v0"} & set(games)
    assert {"textarena:SimpleNegotiation-v0", "prisoners-dilemma"} <= set(game_ids())


@pytest.mark.parametrize("spec,message", [
    ("textarena:Debate-v0", "refused: it needs an LLM jury over the network"),
    ("textarena:TwentyQuestions-v0", "refused: it needs an LLM game master over the network"),
    ("textarena:Wordle-v0", "refused: it downloads NLTK corpora"),
    ("textarena:Sudoku-v0", "is a single-player game"),
    ("textarena:CharacterConclave-v0", "does not run here"),
    ("textarena:NoSuchGame-v0", "unknown TextArena env 'NoSuchGame-v0'"),
    ("textarena:Poker-v0:players=16", "takes 2-15 players, not 16"),
    ("textarena:TicTacToe-v0:players=3", "unknown parameter(s) players"),
])
def test_refusals_are_one_line_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_game(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_curated_refusals_match_the_source_scan() -> None:
    families = {}
    for entry in ta_games._registered().values():
        family, module = ta_games._family(entry.entry_point)
        families[family] = module
    scanned = {family for family, module in families.items() if ta_games.scan_source(module)}
    assert scanned == set(ta_games.REFUSED)


def test_cli_runs_lists_and_refuses(tmp_path: Path) -> None:
    db = str(tmp_path / "ta.db")
    proc = run_cli("run", "-g", "textarena:SimpleNegotiation-v0-short", "-g", "textarena:Poker-v0-small:players=3,"
                   "num_rounds=1", "-a", "random", "-a", "r2=random", "-a", "r3=random", "-n", "1", "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    rows = {r["agent"]: r for r in json.loads(proc.stdout)["leaderboard"]}
    assert set(rows) == {"random", "r2", "r3"}
    games = {g for (g,) in sqlite3.connect(db).execute("SELECT DISTINCT game FROM matches")}
    assert games == {"textarena:SimpleNegotiation-v0-short", "textarena:Poker-v0-small:players=3,num_rounds=1"}
    board = run_cli("leaderboard", "--db", db, "--json", "--bootstrap", "50")
    assert board.returncode == 0, board.stderr
    report = run_cli("report", "--db", db, "--out", str(tmp_path / "r.html"))
    assert report.returncode == 0, report.stderr
    assert "textarena:SimpleNegotiation-v0-short" in (tmp_path / "r.html").read_text()
    refused = run_cli("run", "-g", "textarena:Debate-v0", "-a", "random", "-a", "r2=random", "--db", db)
    assert refused.returncode == 2 and "LLM jury" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    listing = run_cli("list", "games")
    assert "textarena:SecretMafia-v0" in listing.stdout and "TextArena: Secret Mafia" in listing.stdout


@pytest.mark.slow
@pytest.mark.heavy
def test_smollm2_plays_two_textarena_games_offline(built: tuple[Path, float], tmp_path: Path) -> None:
    db = str(tmp_path / "llm.db")
    proc = run_cli("run", "-g", "textarena:SimpleNegotiation-v0-short:max_turns=2", "-g",
                   "textarena:IteratedPrisonersDilemma-v0:num_rounds=1,communication_turns=1",
                   "-a", "local:smollm2", "-a", "random", "-n", "1", "--retries", "0", "--json", "--db", db,
                   env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    rows = {r["agent"]: r for r in json.loads(proc.stdout)["leaderboard"]}
    assert rows["local:smollm2"]["games"] == 2
    trajectories = load_trajectories(Store(db))
    assert {t.game.split(":")[1] for t in trajectories} == {"SimpleNegotiation-v0-short", "IteratedPrisonersDilemma-v0"}
    assert any(step.completion for t in trajectories for step in t.steps)  # the model did answer
    for traj in trajectories:  # stored LLM matches replay exactly: the export's precondition
        replay(traj, parse_game(traj.game).make)
    export = export_preferences(db, kind="sft")
    assert export.stats is not None
