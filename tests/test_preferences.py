"""Preference export: exact pairs on tiny deterministic setups, the margin filter, the match-level split,
JSON-string metadata, replay checks, and hidden information on a card game with an LLM over HTTP."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path
from statistics import variance

import pytest
import typer
from typer.testing import CliRunner

from arena.agents.base import Decision, Turn
from arena.agents.llm import LLMAgent
from arena.export.dataset import load_rows, split_of
from arena.export.preferences import export_preferences, prompt_of
from arena.export.replay import replay
from arena.export.values import select_pair
from arena.games.base import CHANCE
from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.store import PlannedMatch, Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from arena.trajectory import Player
from tests.loopback import LoopbackServer
from tests.plugins.games import HighCard

FAKE = "tests.test_preferences:FakeLLM"
PD1 = "prisoners-dilemma:rounds=1"


class FakeLLM:
    """Plays a fixed action and reports the exact prompt an LLM agent would have been sent."""

    def __init__(self, action: str = "C", reasoning: bool = False) -> None:
        self.action = action
        self.prompter = LLMAgent(backend=None, reasoning=reasoning)  # type: ignore[arg-type]

    def act(self, turn: Turn) -> Decision:
        messages = self.prompter.messages(turn)
        return Decision(self.action, messages, self.action)


def play(store: Store, game: str, agents: list[str], games_per_pair: int = 2, seed: int = 0) -> str:
    run_id = new_run(store, RunConfig(games=[game], agents=agents, games_per_pair=games_per_pair, seed=seed))
    execute(store, run_id)
    return run_id


def assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "arena.db")


@pytest.fixture
def two_runs(store: Store) -> Store:
    """Run A: C-player vs always-defect (C earns 0); run B: D-player vs always-cooperate (D earns 5)."""
    play(store, PD1, [f"llmc={FAKE}:isolate=false,action=C", "always-defect"])
    play(store, PD1, [f"llmd={FAKE}:isolate=false,action=D", "always-cooperate"])
    return store


# --- step ---------------------------------------------------------------------------------
def test_step_pairs_are_exact_on_one_round_pd_against_always_defect(store: Store) -> None:
    play(store, PD1, [f"llm={FAKE}:isolate=false,action=C", "always-defect"])
    result = export_preferences(store, kind="step", rollouts=4, rollout="players")  # the opponent's own policy
    # the LLM sat in both seats and saw the same prompt: one row, counted twice; every rollout the same
    assert len(result.rows) == 1 and result.stats["pairs"] == 2 and result.stats["duplicates_merged"] == 1
    assert result.rows[0]["count"] == 2 and result.stats["points_deterministic"] == 2
    steps = {(m, s.index): s for m, s in store.steps()}
    for row in result.rows:
        assert row["chosen"] == assistant("D") and row["rejected"] == assistant("C")
        assert (row["chosen_action"], row["rejected_action"], row["played_action"]) == ("D", "C", "C")
        assert json.loads(row["values"]) == {"C": 0.0, "D": 1.0}  # S = 0, P = 1
        assert json.loads(row["value_se"]) == {"C": 0.0, "D": 0.0}
        assert row["margin"] == 1.0 and row["margin_se"] == 0.0 and row["rollouts"] == 4
        assert row["prompt"] == steps[(row["match_id"], row["turn"])].messages
        assert [m["role"] for m in row["prompt"]] == ["system", "user"]
        assert row["role"] == "llm" and row["policy"] == f"llm={FAKE}:isolate=false,action=C"
        assert row["game"] == PD1 and row["value_source"] == "rollout:players+deterministic"
        assert row["split"] == "train" and row["opponent"] == "always-defect" and row["game_version"] == "1"
        assert len(row["prompt_id"]) == 16
    # keeping the opponent's stored D (hindsight) gives the same exact values under random rollouts
    hindsight = export_preferences(store, kind="step", rollouts=4, co_movers="stored", rollout="random").rows
    assert [json.loads(r["values"]) for r in hindsight] == [{"C": 0.0, "D": 1.0}]
    assert hindsight[0]["value_source"] == "rollout:random+stored-co-movers+deterministic"
    # a random co-mover: D beats C by 2 (it played C) or 1 (it played D) in every paired rollout
    uniform = export_preferences(store, kind="step", rollouts=16, min_margin=0.0, rollout="random").rows
    assert all(r["chosen_action"] == "D" and 1.0 < r["margin"] < 2.0 and r["margin_se"] > 0 for r in uniform)


def test_step_answers_keep_the_requested_format_when_reasoning(store: Store) -> None:
    play(store, PD1, [f"llm={FAKE}:isolate=false,action=C,reasoning=true", "always-defect"], games_per_pair=1)
    (row,) = export_preferences(store, kind="step", rollouts=2, rollout="random").rows
    assert row["chosen"] == assistant("Final answer: D") and row["rejected"] == assistant("Final answer: C")


def test_step_values_follow_the_rollout_policy(store: Store) -> None:
    """Round 1 of 2 against tit-for-tat: the opponent's own policy punishes D in round 2; random play cannot."""
    play(store, "prisoners-dilemma:rounds=2", [f"llm={FAKE}:isolate=false,action=C", "tit-for-tat"], games_per_pair=1)
    on_policy = next(r for r in export_preferences(store, kind="step", rollouts=3, rollout="players").rows
                     if r["turn"] == 0)
    assert json.loads(on_policy["values"]) == {"C": 6.0, "D": 5.0}  # C: 3 + 3; D: 5 + 0 (the LLM seat plays C)
    assert (on_policy["chosen_action"], on_policy["value_source"]) == ("C", "rollout:players+deterministic")
    scripted = next(r for r in export_preferences(store, kind="step", rollouts=3, rollout="always-cooperate").rows
                    if r["turn"] == 0)
    assert json.loads(scripted["values"]) == {"C": 6.0, "D": 8.0}  # everyone cooperates in round 2
    uniform = next(r for r in export_preferences(store, kind="step", rollouts=8, co_movers="stored",
                                                 rollout="random").rows
                   if r["turn"] == 0)
    assert uniform["chosen_action"] == "D" and uniform["margin"] == 2.0  # same random round 2 for both branches


def test_select_pair_margin_rule() -> None:
    samples = {"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 2.0, 3.5]}  # paired differences 1, 1, 1, 0.5
    pair, why = select_pair(samples, 5.0, paired=True)
    assert why == "ok" and (pair.chosen, pair.rejected) == ("a", "b")
    assert pair.gap == pytest.approx(0.875) and pair.se == pytest.approx(0.125)  # z = 7
    assert select_pair(samples, 7.5, paired=True) == (None, "margin")
    unpaired, _ = select_pair(samples, 0.0, paired=False)  # sqrt(se_a^2 + se_b^2) is far wider
    assert unpaired.se == pytest.approx((variance(samples["a"]) / 4 + variance(samples["b"]) / 4) ** 0.5)
    assert select_pair(samples, 1.0, paired=False) == (None, "margin")
    assert select_pair({"a": [1.0, 1.0], "b": [1.0, 1.0]}, 0.0, paired=True) == (None, "tie")
    assert select_pair({"a": [2.0], "b": [1.0]}, 2.0, paired=True) == (None, "margin")  # one rollout: no SE
    assert select_pair({"a": [2.0], "b": [1.0]}, 0.0, paired=True)[0].chosen == "a"
    assert select_pair({"a": [2.0, 2.0], "b": [1.0, 1.0]}, 100.0, paired=True)[1] == "ok"  # exact values


# --- outcome, kto, sft -----------------------------------------------------------------------
def test_outcome_pairs_rank_actions_met_at_the_same_prompt(two_runs: Store) -> None:
    result = export_preferences(two_runs, kind="outcome")
    (row,) = result.rows
    assert row["chosen"] == assistant("D") and row["rejected"] == assistant("C")
    assert json.loads(row["values"]) == {"C": 0.0, "D": 5.0}
    assert json.loads(row["counts"]) == {"C": 2, "D": 2}
    assert len(json.loads(row["match_ids"])) == 4 and row["rollouts"] == 4
    assert row["margin"] == 5.0 and row["value_source"] == "outcome" and row["role"] == "llmd"


def test_kto_labels_are_the_sign_of_return_minus_the_seat_baseline(two_runs: Store) -> None:
    rows = export_preferences(two_runs, kind="kto").rows
    # each seat's mean return in the store: (0 + 5 + 5 + 0) / 4 = 2.5
    # the two identical turns of each kind are merged into one row with count 2
    assert sorted((r["action"], r["label"], r["return"], r["baseline"], r["count"]) for r in rows) == [
        ("C", False, 0.0, 2.5, 2), ("D", True, 5.0, 2.5, 2)]
    assert all(r["completion"] == assistant(r["action"]) for r in rows)


def test_agent_filter_keeps_the_named_players_turns(two_runs: Store) -> None:
    rows = export_preferences(two_runs, kind="kto", agents=["llmd"]).rows
    assert len(rows) == 1 and rows[0]["count"] == 2 and {r["role"] for r in rows} == {"llmd"}


def test_sft_keeps_the_turns_of_winners_only(two_runs: Store) -> None:
    rows = export_preferences(two_runs, kind="sft").rows
    assert len(rows) == 1 and rows[0]["count"] == 2 and {r["role"] for r in rows} == {"llmd"}
    assert all(r["completion"] == assistant("D") and r["rank"] == 1 for r in rows)


# --- split, files, replay ---------------------------------------------------------------------
def test_split_is_by_prompt(store: Store) -> None:
    play(store, "prisoners-dilemma:rounds=2", [f"llm={FAKE}:isolate=false,action=C", "always-defect"], games_per_pair=30)
    rows = export_preferences(store, kind="kto", split=0.3).rows
    by_prompt: dict[str, set[str]] = {}
    for row in rows:
        by_prompt.setdefault(row["prompt_id"], set()).add(row["split"])
        assert row["split"] == split_of(row["prompt_id"], 0.3)
    assert all(len(s) == 1 for s in by_prompt.values())  # no test prompt is also in train
    assert sum(r["count"] for r in rows) == 2 * 60 - 60  # the LLM's turns (one seat per match, 2 rounds)...
    assert len({r["match_id"] for r in rows}) < 30  # ...merged: the same prompts recur across matches
    assert split_of("m1", 0.3, "a") == split_of("m1", 0.3, "a")
    share = sum(split_of(f"m{i}", 0.3) == "test" for i in range(4000)) / 4000
    assert share == pytest.approx(0.3, abs=0.03)
    with pytest.raises(ValueError, match="split"):
        split_of("m", 1.0)


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_metadata_is_json_strings_and_loads_with_datasets(two_runs: Store, tmp_path: Path, suffix: str) -> None:
    Value = pytest.importorskip("datasets").Value
    path = tmp_path / f"pairs{suffix}"
    result = export_preferences(two_runs, path, kind="step", rollouts=2, split=0.5, split_seed="s")
    data = load_rows(path)
    assert len(data) == len(result.rows) == 1 and data[0]["count"] == 4  # 4 identical pairs merged
    for column in ("values", "value_se", "game", "policy", "chosen_action", "split"):
        assert data.features[column] == Value("string"), column
    for column, kind in (("seed", "int64"), ("turn", "int64"), ("margin", "float64"), ("rollouts", "int64")):
        assert data.features[column] == Value(kind), column
    assert json.loads(data[0]["values"]).keys() == {"C", "D"}
    assert data[0]["prompt"][0]["role"] == "system" and data[0]["chosen"][0]["role"] == "assistant"
    train, test = load_rows(path, "train"), load_rows(path, "test")
    assert len(train) + len(test) == 1 and set(train["split"]) <= {"train"}


def test_replay_reproduces_observations_and_skips_a_diverging_match(store: Store,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    play(store, "prisoners-dilemma:rounds=3", [f"llm={FAKE}:isolate=false,action=C", "tit-for-tat"])
    match_ids = sorted(store.match_players())
    traj = store.trajectory(match_ids[0])
    points = replay(traj, parse_game(traj.game).make)
    assert [p.step.index for p in points] == list(range(6))
    assert all(p.state.observation(p.player) == p.step.observation for p in points)
    db = sqlite3.connect(store.path)
    (data,) = db.execute("SELECT data FROM steps WHERE match_id = ? AND idx = 2", (match_ids[0],)).fetchone()
    step = json.loads(data)
    step["observation"] = step["observation"].replace("Round 1:", "Round one:")
    db.execute("UPDATE steps SET data = ? WHERE match_id = ? AND idx = 2", (json.dumps(step), match_ids[0]))
    db.commit()
    with caplog.at_level(logging.WARNING):
        result = export_preferences(store, kind="step", rollouts=2)
    assert {r["match_id"] for r in result.rows} == {match_ids[1]}
    assert result.stats["matches_skipped_replay"] == 1
    assert "replayed observation differs" in caplog.text and match_ids[0] in caplog.text


def test_prompt_after_reprompts_is_the_first_prompt() -> None:
    from arena.trajectory import Attempt, Step
    first = [{"role": "system", "content": "rules"}, {"role": "user", "content": "move?"}]
    step = Step(0, 0, "obs", ["C", "D"], "C", attempts=[Attempt("x", "not legal")],
                messages=first + [{"role": "assistant", "content": "x"}, {"role": "user", "content": "again"}])
    assert prompt_of(step) == first


# --- hidden information ---------------------------------------------------------------------------
def _store_high_card(store: Store, server: LoopbackServer, n: int) -> list[tuple[int, list[int]]]:
    spec = f"openai/test-model:api_base={server.api_base}"
    plan, games = [], []
    for i in range(n):
        llm_seat = i % 2
        players = [Player(s, "llm" if s == llm_seat else "rnd", spec if s == llm_seat else "random:seed=1")
                   for s in range(2)]
        plan.append(PlannedMatch(f"hc-{i}", i, "high-card", 100 + i, players))
    store.create_run("hc", {}, plan)
    for m in plan:
        agents = [parse_agent(p.spec).make() for p in m.players]
        traj = play_match(HighCard, agents, m.players, m.seed, m.match_id, "high-card")
        store.save_match(traj)
        deal = HighCard(m.seed)
        while deal.to_move() == [CHANCE]:
            deal.sample_chance()
        games.append((next(p.seat for p in m.players if p.name == "llm"), deal.cards))
    return games


def test_hidden_cards_never_reach_an_exported_prompt_and_values_average_over_them(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback-test")  # litellm wants one; the loopback ignores it
    with LoopbackServer(reply=lambda _user: "bet") as server:
        games = _store_high_card(store, server, 8)
    cards = {f"hc-{i}": (seat, deal) for i, (seat, deal) in enumerate(games)}
    resolve = lambda game: HighCard
    exports = {kind: export_preferences(store, kind=kind, resolve_game=resolve, rollouts=200, min_margin=0.0,
                                       rollout="random").rows
               for kind in ("step", "kto", "sft", "outcome")}
    # the LLM's call matters unless it sits second and the first player already folded (then: a tie, no pair)
    matters = [m for m, (seat, _) in cards.items() if seat == 0 or store.trajectory(m).steps[0].action == "bet"]
    assert {r["match_id"] for r in exports["step"]} <= set(matters) and exports["kto"]
    assert sum(r["count"] for r in exports["step"]) == len(matters)  # identical rows are merged
    for kind, rows in exports.items():
        for row in rows:
            seat, deal = cards[row["match_id"]]
            assert row["player"] == seat
            texts = json.dumps([row["prompt"], row.get("chosen"), row.get("rejected"), row.get("completion")],
                               ensure_ascii=False)
            assert f"Your card: {deal[seat]}" in texts
            assert set(re.findall(r"\d", texts)) == {str(deal[seat])}, (kind, deal, seat)  # no other card
    for row in exports["step"]:
        seat, deal = cards[row["match_id"]]
        values = json.loads(row["values"])
        assert values["fold"] == -1.0 and row["value_source"] == "rollout:random+determinized"
        # bet: the random opponent folds half the time (+1) or bets (+-2 against a uniformly redealt card)
        c = deal[seat]
        expected = 0.5 + (2 * c - 7) / 6 if seat == 0 else 2 * (2 * c - 7) / 6
        assert values["bet"] == pytest.approx(expected, abs=4 * json.loads(row["value_se"])["bet"] + 1e-9)
    # the noisy bet-vs-fold gaps pass a low margin and fail an absurd one
    strict = export_preferences(store, kind="step", resolve_game=resolve, rollouts=20, min_margin=1000.0)
    assert strict.rows == [] and strict.stats["points_below_margin"] == len(matters)
    assert strict.stats["points_tied"] == 8 - len(matters)


# --- free text ---------------------------------------------------------------------------------------
class Listener:
    """Cooperates only when the other player's message says please."""

    def act(self, turn: Turn) -> str:
        if turn.legal_actions is None:
            return "ok"
        return "C" if 'the other player said "please' in turn.text else "D"


def test_free_text_turns_branch_on_sampled_replies(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback-test")
    said = iter(["hello", "please cooperate", "hi there"])
    with LoopbackServer(reply=lambda user: next(said) if "short message" in user else "C") as server:
        spec = f"openai/test-model:api_base={server.api_base}"
        play(store, "prisoners-dilemma:rounds=1,cheap_talk=true", [f"llm={spec}", "tests.test_preferences:Listener:isolate=false"],
             games_per_pair=1)
        skipped = export_preferences(store, kind="step", rollouts=2)
        result = export_preferences(store, kind="step", rollouts=2, rollout="players", free_text_samples=3)
    assert skipped.stats["free_text_points_skipped"] == 1
    talk = next(r for r in result.rows if r["played_action"] == "hello")
    assert json.loads(talk["values"]) == {"hello": 0.0, "please cooperate": 3.0, "hi there": 0.0}
    assert talk["chosen"] == assistant("please cooperate") and talk["rejected"] == assistant("hello")


# --- MCTS values (optional module) and the CLI ------------------------------------------------------
def test_mcts_values_when_the_module_exists(store: Store) -> None:
    pytest.importorskip("arena.agents.mcts")
    play(store, PD1, [f"llm={FAKE}:isolate=false,action=C", "always-defect"], games_per_pair=1)
    (row,) = export_preferences(store, kind="step", rollout="mcts:simulations=64", rollouts=3).rows
    assert (row["chosen_action"], row["rejected_action"]) == ("D", "C")
    assert row["value_source"].startswith("mcts:simulations=64")  # (+deterministic when every search agrees)


def test_cli_export_preferences(two_runs: Store, tmp_path: Path) -> None:
    from arena import cli_data
    app = typer.Typer()
    cli_data.mount(app)
    runner = CliRunner()
    out = tmp_path / "p.jsonl"
    done = runner.invoke(app, ["export", "preferences", "--db", two_runs.path, "--out", str(out), "--kind", "outcome",
                               "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout.strip().splitlines()[-1])["rows"] == 1 and len(out.read_text().splitlines()) == 1
    bad = runner.invoke(app, ["export", "preferences", "--db", two_runs.path, "--out", str(tmp_path / "p.csv")])
    assert bad.exit_code == 2 and "use .jsonl or .parquet" in bad.output
    bad = runner.invoke(app, ["export", "preferences", "--db", two_runs.path, "--out", str(out), "--rollout", "nope"])
    assert bad.exit_code == 2 and "unknown agent" in bad.output
    bad = runner.invoke(app, ["export", "preferences", "--db", str(tmp_path / "none.db"), "--out", str(out)])
    assert bad.exit_code == 2 and "no such database" in bad.output and not (tmp_path / "none.db").exists()


def test_a_rerun_of_the_same_seeds_exports_the_same_values(tmp_path: Path) -> None:
    """Random rollouts are keyed on the match's seed, not its id (which carries the run's time): two runs of
    the same tic-tac-toe seeds, in two stores, give identical rows (values, pairs, split)."""
    exports = []
    for name in ("a", "b"):
        store = Store(tmp_path / f"{name}.db")
        play(store, "tic-tac-toe", ["random", "mcts:simulations=5"], games_per_pair=2, seed=3)
        rows = export_preferences(store, kind="step", rollout="random", rollouts=6, experts=True,
                                  min_margin=0.0, split=0.3, sample=0.7).rows
        exports.append(sorted((r["seed"], r["turn"], r["values"], r["chosen_action"], r["split"]) for r in rows))
        store.close()
    assert exports[0] == exports[1] and len(exports[0]) >= 4
