"""Input hardening and the first hour: typed config values, safety bounds, finite payoffs and JSON,
Rich markup in agent names, the README's custom-agent example word for word, one-line errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from arena.cli import app
from arena.jsonsafe import dumps, finite
from arena.registry import SpecError, parse_game
from arena.tournaments.config import RunConfig, build_config
from tests.conftest import ROOT

CONSOLE_SCRIPT = Path(sys.executable).parent / "arena"


def _one_line_error(result, message: str) -> None:
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize("toml,message", [
    ("retries = 1.5", "retries = 1.5 must be an integer"),
    ("workers = 2.5", "workers = 2.5 must be an integer"),
    ('seed = "abc"', "seed = 'abc' must be an integer"),
    ("swap_seats = 1", "swap_seats = 1 must be true or false"),
    ("time_limit = inf", "time_limit = inf must be a finite number or unset"),
    ('schedule = 3', "schedule = 3 must be a string"),
    ("games_per_pair = 100000000", "games-per-pair 100000000 is above the limit 1000"),
])
def test_spec_file_values_are_type_checked(tmp_path: Path, toml: str, message: str) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text('agents = ["tit-for-tat", "always-defect"]\n' + toml + "\n")
    result = CliRunner().invoke(app, ["run", str(spec), "--db", str(tmp_path / "a.db")])
    _one_line_error(result, message)
    assert not (tmp_path / "a.db").exists()


def test_config_types_and_bounds_in_the_api() -> None:
    assert RunConfig.from_dict({"time_limit": 2, "seed": 3}).time_limit == 2
    with pytest.raises(SpecError, match="workers = True must be an integer"):
        RunConfig(workers=True)  # a bool is not a number
    with pytest.raises(SpecError, match="games = 'chess' must be a list of strings"):
        build_config(None, {"games": "chess"})
    assert RunConfig(games_per_pair=5000, max_games_per_pair=5000).games_per_pair == 5000  # overridable
    with pytest.raises(SpecError, match="plans 7 matches, above the limit 6"):
        RunConfig(max_matches=6).check_plan(7)


def test_total_matches_bounded_and_overridable(tmp_path: Path) -> None:
    args = ["run", "-g", "prisoners-dilemma:rounds=1", "-a", "tit-for-tat", "-a", "always-defect", "-a", "random",
            "-n", "4", "--json", "--db", str(tmp_path / "a.db")]
    _one_line_error(CliRunner().invoke(app, [*args, "--max-matches", "10"]),
                    "this run plans 12 matches, above the limit 10 (raise it with --max-matches)")
    assert not (tmp_path / "a.db").exists()  # refused before the store is opened (it used to be created empty)
    done = CliRunner().invoke(app, [*args, "--max-matches", "12"])
    assert done.exit_code == 0, done.output
    assert sum(r["games"] for r in json.loads(done.stdout)["leaderboard"]) == 24


def test_non_finite_payoffs_refused(tmp_path: Path) -> None:
    table = tmp_path / "inf.toml"
    table.write_text('row_actions = ["A", "B"]\npayoffs = [[[inf, 1], [0, 2]], [[2, 0], [1, nan]]]\n')
    with pytest.raises(SpecError, match="payoffs must be finite numbers, got inf"):
        parse_game(f"matrix:file={table}")
    with pytest.raises(SpecError, match="multiplier='inf' is not a valid float"):
        parse_game("public-goods:multiplier=inf")
    result = CliRunner().invoke(app, ["run", "-g", f"matrix:file={table}", "-a", "random", "-a", "random:seed=1",
                                      "--db", str(tmp_path / "a.db")])
    _one_line_error(result, "payoffs must be finite numbers")


def test_json_never_holds_infinity() -> None:
    doc = {"mean_score": float("inf"), "rows": [{"bt": float("nan"), "ok": 1.5}], "ci": (float("-inf"), 2.0)}
    assert finite(doc) == {"mean_score": None, "rows": [{"bt": None, "ok": 1.5}], "ci": [None, 2.0]}
    assert json.loads(dumps(doc)) == finite(doc) and "Infinity" not in dumps(doc) and "NaN" not in dumps(doc)


def test_markup_in_an_error_message_is_printed_verbatim(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "-g", "chess[/]", "-a", "random", "-a", "random:seed=1",
                                      "--db", str(tmp_path / "a.db")])
    _one_line_error(result, "unknown game 'chess[/]'")


def test_rate_missing_file_and_json_flag_help(tmp_path: Path) -> None:
    _one_line_error(CliRunner().invoke(app, ["rate", str(tmp_path / "nofile.jsonl")]),
                    f"no such file: {tmp_path / 'nofile.jsonl'}")
    assert "Errno" not in CliRunner().invoke(app, ["rate", str(tmp_path)]).output
    for command in (["run"], ["leaderboard"], ["rate"], ["export", "preferences"]):
        lines = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).output.splitlines()
        [line] = [s for s in lines if "--json" in s]
        assert "<bool>" not in line and "(a flag)" in line, line


@pytest.mark.parametrize("flags,message", [
    (["--bootstrap", "0"], "bootstrap must be at least 1 (replicates for the intervals), got 0"),
    (["--prior", "-1"], "prior must be a number >= 0 (virtual draws per agent), got -1.0"),
    (["--prior", "nan"], "prior must be a number >= 0 (virtual draws per agent), got nan"),
])
def test_rating_options_checked_once_for_every_command(tmp_path: Path, flags: list[str], message: str) -> None:
    """One declaration (RatingOptions) serves leaderboard, rate, report and run: the same one-line error
    everywhere (``--bootstrap 0`` was numpy's "need at least one array to concatenate"), and ``run`` fails
    before its store exists."""
    db = str(tmp_path / "a.db")
    assert CliRunner().invoke(app, ["run", "-a", "tit-for-tat", "-a", "always-defect", "--db", db,
                                    "--json"]).exit_code == 0
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text('{"players": ["x", "y"], "ranks": [1, 2]}\n')
    fresh = str(tmp_path / "never.db")
    for command in (["leaderboard", "--db", db], ["rate", str(jsonl)], ["report", "--db", db, "--out",
                    str(tmp_path / "r.html")], ["run", "-a", "tit-for-tat", "-a", "always-defect", "--db", fresh]):
        _one_line_error(CliRunner().invoke(app, [*command, *flags]), message)
    assert not Path(fresh).exists() and not (tmp_path / "r.html").exists()


def test_run_refuses_an_anchor_that_is_not_playing_before_the_store_is_touched(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    args = ["run", "-a", "tit-for-tat", "-a", "always-defect", "--db", str(db)]
    _one_line_error(CliRunner().invoke(app, [*args, "--anchor", "nobody"]),
                    "anchor 'nobody' is not an agent of this run; valid: always-defect, tit-for-tat")
    assert not db.exists()
    done = CliRunner().invoke(app, [*args, "--anchor", "tit-for-tat", "--bootstrap", "20", "--json"])
    doc = json.loads(done.stdout)
    assert doc["anchor"] == "tit-for-tat"
    assert {r["agent"]: r["bt"] for r in doc["leaderboard"]}["tit-for-tat"] == 1500


README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_block(marker: str, language: str) -> str:
    """The README's fenced ``language`` block that contains ``marker``."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)
    [block] = [b for b in blocks if marker in b]
    return block


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="needs the installed `arena` console script")
def test_readme_custom_agent_example_word_for_word(tmp_path: Path) -> None:
    """mybots.py and the command exactly as the README prints them, run by the console script in a fresh folder."""
    (tmp_path / "mybots.py").write_text(_readme_block("# mybots.py", "python"), encoding="utf-8")
    command = _readme_block("mybots:Greedy", "bash").strip()
    assert command.startswith("arena run ")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{CONSOLE_SCRIPT.parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "greedy" in proc.stdout and "tit-for-tat" in proc.stdout
    # and an agent whose name is Rich markup: `arena run` and `arena leaderboard` print it verbatim
    (tmp_path / "tagged.py").write_text("class Bot:\n    def __init__(self, **params):\n        pass\n"
                                        "    def act(self, turn):\n        return turn.legal_actions[0]\n")
    spec = "tagged:Bot:tag=[/]"
    proc = subprocess.run([str(CONSOLE_SCRIPT), "run", "-g", "prisoners-dilemma:rounds=2", "-a", spec, "-a",
                           "tit-for-tat", "--db", "tag.db"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    board = subprocess.run([str(CONSOLE_SCRIPT), "leaderboard", "--db", "tag.db"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
    assert board.returncode == 0, board.stderr
    assert spec in proc.stdout.replace("\n", "") or "tag=[/]" in proc.stdout
    assert "tag=[/]" in board.stdout


def test_ci_script_fails_when_a_system_tool_cannot_be_installed(tmp_path: Path) -> None:
    """.ci/run with no chromium/stockfish/tmux on PATH and a failing (then a no-op) apt-get: exit 1, before any venv."""
    tree = tmp_path / "repo"
    (tree / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", tree / ".ci" / "run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(shutil.which("dirname"), bin_dir / "dirname")
    # (stockfish may still be found in /usr/games, which .ci/run adds to PATH for Debian's package)
    for status, message in ((1, "could not install: chromium"), (0, "chromium is still not on PATH")):
        (bin_dir / "apt-get").write_text(f"#!/bin/sh\nexit {status}\n")
        (bin_dir / "apt-get").chmod(0o755)
        proc = subprocess.run(["/bin/bash", str(tree / ".ci" / "run")], env={"PATH": str(bin_dir)},
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1 and message in proc.stderr, proc.stderr
        assert not (tree / ".venv").exists()


@pytest.mark.parametrize("game,agent,plays", [
    ("chess", "tit-for-tat", "prisoners-dilemma, "),
    ("prisoners-dilemma", "calling-station", "holdem, kuhn-poker, leduc-poker, not prisoners-dilemma"),
    ("chess", "tight-aggressive", "built for holdem, kuhn-poker, leduc-poker, not chess"),
    ("connect-four", "stockfish", "built for chess, chess960, not connect-four"),
    ("prisoners-dilemma", "boulware", "built for bargaining, deal-or-no-deal, not prisoners-dilemma"),
    ("chess", "rule-seer", "built for werewolf, not chess"),
])
def test_agents_only_seated_in_games_they_fit(tmp_path: Path, game: str, agent: str, plays: str) -> None:
    args = ["run", "-g", game, "-a", agent, "-a", "random", "-n", "1", "--db", str(tmp_path / "a.db")]
    result = CliRunner().invoke(app, args)
    _one_line_error(result, plays)
    assert "--allow-any" in result.output


def test_allow_any_and_agents_that_fit_every_game(tmp_path: Path) -> None:
    from arena.registry import builtin_agents
    assert all(not builtin_agents()[k].games for k in ("random", "mcts", "llm-mcts", "cfr"))
    result = CliRunner().invoke(app, ["run", "-g", "tic-tac-toe", "-a", "tit-for-tat", "-a", "mcts:simulations=20",
                                      "-n", "2", "--allow-any", "--json", "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 0, result.output
    assert {r["agent"]: r["games"] for r in json.loads(result.stdout)["leaderboard"]} == {
        "tit-for-tat": 2, "mcts:simulations=20": 2}
    fits = CliRunner().invoke(app, ["run", "-g", "stag-hunt:rounds=2", "-g", "public-goods:rounds=2,players=2", "-a",
                                    "tit-for-tat", "-a", "grim-trigger", "-n", "1", "--json", "--db",
                                    str(tmp_path / "b.db")])
    assert fits.exit_code == 0, fits.output


def test_plans_that_cannot_be_played_fail_before_the_store_is_touched(tmp_path: Path) -> None:
    """A gauntlet without a focus agent, a plan above the bound, an unknown opponent for `arena play`
    and for the Python API: one line (a SpecError), and no store file is created."""
    import arena
    db = tmp_path / "n.db"
    gauntlet = ["run", "-a", "tit-for-tat", "-a", "always-defect", "--schedule", "gauntlet", "--db", str(db)]
    _one_line_error(CliRunner().invoke(app, gauntlet),
                    "gauntlet focus '' is not one of the agents: tit-for-tat, always-defect")
    _one_line_error(CliRunner().invoke(app, [*gauntlet, "--focus", "random"]), "gauntlet focus 'random'")
    _one_line_error(CliRunner().invoke(app, ["play", "tic-tac-toe", "-a", "no-such-bot", "--db", str(db)]),
                    "unknown agent 'no-such-bot'")
    with pytest.raises(SpecError, match="plans 2 matches, above the limit 1"):
        arena.tournament(["stag-hunt"], ["random", "tit-for-tat"], max_matches=1, db=db)
    assert not db.exists()


def test_swiss_bound_counts_every_round(tmp_path: Path) -> None:
    args = ["run", "-g", "prisoners-dilemma:rounds=1", "-a", "tit-for-tat", "-a", "always-defect", "-a", "random",
            "-a", "grim-trigger", "--schedule", "swiss", "--swiss-rounds", "3", "-n", "2", "--db", str(tmp_path / "a.db")]
    _one_line_error(CliRunner().invoke(app, [*args, "--max-matches", "11"]), "this run plans 12 matches")
