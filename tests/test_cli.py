"""The CLI as users call it: JSON shape, determinism, one-line errors with exit 2, kill -9 + resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli


def test_quickstart_agents_really_play(db: str, built: tuple[Path, float]) -> None:
    """The quickstart's own agents (`arena run` without --agent: the embedded model constrained and
    by choice, against two baselines) on a 2-round game: every LLM move legal, no fallback."""
    proc = run_cli("run", "-g", "prisoners-dilemma:rounds=2", "-n", "1", "--db", db, "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["agent"]: r for r in json.loads(proc.stdout)["leaderboard"]}
    assert set(rows) == {"smollm2", "smollm2-choice", "tit-for-tat", "always-defect"}
    assert all(r["games"] == 3 for r in rows.values())
    for llm in ("smollm2", "smollm2-choice"):
        assert rows[llm]["tokens"] > 0 and rows[llm]["illegal_rate"] == 0.0 and rows[llm]["fallback_rate"] == 0.0
    assert rows["always-defect"]["losses"] == 0  # always-defect never loses a repeated PD on total payoff


def test_json_document_and_known_scores(db: str) -> None:
    proc = run_cli("run", "--game", "prisoners-dilemma", "--agent", "tit-for-tat", "--agent", "always-defect",
                   "--games-per-pair", "2", "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {"run_id", "leaderboard", "pairs", "win_matrix"} <= set(doc)
    rows = {r["agent"]: r for r in doc["leaderboard"]}
    assert {"agent", "games", "wins", "draws", "losses", "mean_score", "elo"} <= set(rows["tit-for-tat"])
    assert rows["tit-for-tat"]["illegal_rate"] == 0.0 and rows["tit-for-tat"]["moves"] == 20
    # TFT vs AllD over 10 rounds: 0 + 9*1 = 9 against 5 + 9*1 = 14 (Axelrod's numbers)
    assert rows["tit-for-tat"]["mean_score"] == 9.0 and rows["always-defect"]["mean_score"] == 14.0
    assert rows["always-defect"]["wins"] == 2 and rows["tit-for-tat"]["losses"] == 2
    assert rows["always-defect"]["elo"] > 1500 > rows["tit-for-tat"]["elo"]
    assert rows["tit-for-tat"]["metrics"] == {"mean_payoff": 0.9, "cooperation_rate": 0.1}
    assert rows["always-defect"]["bt"] > rows["tit-for-tat"]["bt"]  # 2-0: the MLE gap is large but finite
    assert rows["always-defect"]["bt"] + rows["tit-for-tat"]["bt"] == pytest.approx(3000, abs=0.2)  # mean at 1500
    (pair,) = doc["pairs"]
    assert pair == {"agent_a": "always-defect", "agent_b": "tit-for-tat", "games": 2, "a_wins": 2, "b_wins": 0,
                    "draws": 0, "a_mean_score": 14.0, "b_mean_score": 9.0}


def test_same_seed_same_results(tmp_path: Path) -> None:
    args = ["run", "-g", "prisoners-dilemma", "-g", "rock-paper-scissors", "-a", "random:seed=1",
            "-a", "random:seed=2", "-a", "tit-for-tat", "--seed", "42", "--json"]
    docs = [json.loads(run_cli(*args, "--db", str(tmp_path / f"{i}.db")).stdout) for i in range(2)]
    assert timeless(docs[0]) == timeless(docs[1]) and docs[0]["pairs"] == docs[1]["pairs"]
    other = json.loads(run_cli(*args[:-3], "--seed", "43", "--json", "--db", str(tmp_path / "x.db")).stdout)
    assert timeless(other) != timeless(docs[0])


def timeless(doc: dict) -> list[dict]:
    """Leaderboard rows without wall-clock latency (the only field that may differ between runs)."""
    return [{k: v for k, v in row.items() if k != "mean_latency"} for row in doc["leaderboard"]]


@pytest.mark.parametrize("args,message", [
    (["run", "-g", "chezz", "-a", "random", "-a", "random:seed=1"], "unknown game 'chezz'; valid:"),
    (["run", "-a", "randomm", "-a", "random"], "unknown agent 'randomm'; valid:"),
    (["run", "-a", "random", "-a", "random"], "agent 'random' is given twice"),
    (["run", "--fallback", "panic"], "unknown fallback 'panic'; valid: random, forfeit"),
    (["run", "--resume", "nope"], "no such database"),  # resuming never creates a store
    (["run", "-g", "matrix:file=tests/nothing.toml"], "no such file"),
])
def test_bad_input_is_one_line_exit_2(db: str, args: list[str], message: str) -> None:
    proc = run_cli(*args, "--db", db)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_malformed_toml_via_cli(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('row_actions = ["A", "B"]\npayoffs = [[[1, 1], [0, 2]], [[2, 0] [1, 1]]]\n')
    proc = run_cli("run", "-g", f"matrix:file={bad}", "--db", db)
    assert proc.returncode == 2 and "line 2, column" in proc.stderr


def test_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    proc = run_cli("run", "--db", str(junk))
    assert proc.returncode == 2 and "not a usable arena database" in proc.stderr
    assert junk.read_bytes() == b"this is not sqlite" * 100


def test_raising_agent_forfeits_and_tournament_goes_on(db: str) -> None:
    proc = run_cli("run", "-a", "bad=tests.plugins.bots:Raiser", "-a", "tit-for-tat", "-a", "always-defect",
                   "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    rows = {r["agent"]: r for r in json.loads(proc.stdout)["leaderboard"]}
    assert rows["bad"]["forfeits"] == 4 and rows["bad"]["losses"] == 4
    assert rows["tit-for-tat"]["games"] == 4
    reasons = {r[0] for r in sqlite3.connect(db).execute("SELECT json_extract(outcome, '$.detail') FROM matches "
                                                         "WHERE json_extract(outcome, '$.reason') = 'forfeit'")}
    assert reasons == {"agent raised RuntimeError: boom inside the agent"}


def test_list_games_and_agents() -> None:
    games = run_cli("list", "games")
    assert games.returncode == 0 and "prisoners-dilemma" in games.stdout and "ordinal-2x2" in games.stdout
    agents = run_cli("list", "agents")
    assert "win-stay-lose-shift" in agents.stdout


def test_kill_9_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "kill.db")
    log = tmp_path / "starts.log"
    args = ["run", "-g", "prisoners-dilemma:rounds=5", "-a", "slow=tests.plugins.bots:SlowCooperator:delay=0.01",
            "-a", "tit-for-tat", "-a", "always-defect", "-a", "grim-trigger", "-n", "4", "--concurrency", "1",
            "--seed", "5"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARENA_TEST_LOG": str(log)}
    proc = subprocess.Popen([sys.executable, "-m", "arena.cli", *args, "--db", db], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done_at_kill = _wait_for_done(db, at_least=4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    con = sqlite3.connect(db)
    run_id = con.execute("SELECT run_id FROM runs").fetchone()[0]
    finished = {m for (m,) in con.execute("SELECT match_id FROM matches WHERE status = 'done'")}
    assert len(finished) >= done_at_kill and con.execute("SELECT COUNT(*) FROM matches").fetchone()[0] == 24
    con.close()
    log.write_text("")  # from here on, record only what the resume plays
    resumed = run_cli("run", "--resume", run_id, "--db", db, "--json", env={"ARENA_TEST_LOG": str(log)})
    assert resumed.returncode == 0, resumed.stderr
    replayed = set(log.read_text().split())
    assert not replayed & finished  # no finished match played twice
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM matches WHERE status = 'done'").fetchone()[0] == 24  # none lost
    assert con.execute("SELECT COUNT(*) FROM steps").fetchone()[0] == 24 * 10
    fresh = run_cli(*args, "--db", str(tmp_path / "fresh.db"), "--json")
    assert timeless(json.loads(resumed.stdout)) == timeless(json.loads(fresh.stdout))


def _wait_for_done(db: str, at_least: int, timeout: float = 60) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            con = sqlite3.connect(db, timeout=1)
            n = con.execute("SELECT COUNT(*) FROM matches WHERE status = 'done'").fetchone()[0]
            con.close()
            if n >= at_least:
                return n
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)
    raise AssertionError("the run did not make progress")
