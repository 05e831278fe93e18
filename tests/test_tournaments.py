"""Tournament specs, schedules, parallel and Ray execution, recomputed ratings, `arena rate`."""

from __future__ import annotations

import collections
import json
import sqlite3
from pathlib import Path

import pytest

from arena.registry import SpecError, parse_agent, parse_game
from arena.store import Store
from arena.tournaments.config import RunConfig, build_config
from arena.tournaments.runner import execute, new_run
from arena.tournaments.schedule import gauntlet, round_robin, swiss_pairings
from arena.trajectory import Outcome, Player
from tests.conftest import run_cli

AGENTS = ["tit-for-tat", "grim-trigger", "always-defect", "always-cooperate", "alternate", "random:seed=1"]


def test_spec_file_with_flag_overrides(tmp_path: Path) -> None:
    spec = tmp_path / "t.toml"
    spec.write_text('agents = ["tit-for-tat", "always-defect"]\ngames_per_pair = 3\nseed = 4\n'
                    '[[games]]\nid = "prisoners-dilemma"\nrounds = 4\ncheap_talk = false\n')
    config = build_config(str(spec), {"seed": 9, "games": None, "agents": []})
    assert config.games == ["prisoners-dilemma:rounds=4,cheap_talk=false"]
    assert (config.games_per_pair, config.seed) == (3, 9)


@pytest.mark.parametrize("text,message", [
    ("games_per_pair = 0\n", "games-per-pair must be at least 1"),
    ('schedule = "league"\n', "unknown schedule 'league'; valid: round-robin, gauntlet, swiss"),
    ("colour = 1\n", "unknown key(s) colour"),
    ("seed = = 1\n", "line 1, column"),
    ('games = [{rounds = 3}]\n', "a table with an 'id' key"),
])
def test_bad_spec_files(tmp_path: Path, text: str, message: str) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    with pytest.raises(SpecError) as err:
        build_config(str(spec), {})
    assert message in str(err.value)


def test_round_robin_balances_seats() -> None:
    agents = [parse_agent(a) for a in AGENTS]
    plan = round_robin("r", [parse_game("prisoners-dilemma")], agents, 4, 0)
    assert len(plan) == 15 * 4
    first = collections.Counter(m.players[0].name for m in plan)
    assert set(first.values()) == {10}  # each agent: 5 opponents x 2 games in the first seat
    seeds = [m.seed for m in plan]
    assert len(set(seeds)) == len(seeds)


def test_multiplayer_rotation() -> None:
    agents = [parse_agent(a) for a in AGENTS[:4]]
    plan = round_robin("r", [parse_game("public-goods:players=3")], agents, 3, 0)
    assert len(plan) == 4 * 3
    for k in range(0, len(plan), 3):
        seatings = [[p.name for p in m.players] for m in plan[k:k + 3]]
        assert [s[0] for s in seatings] == [seatings[0][0], seatings[0][1], seatings[0][2]]


def test_gauntlet() -> None:
    agents = [parse_agent(a) for a in AGENTS]
    plan = gauntlet("r", [parse_game("stag-hunt")], agents, "random:seed=1", 2, 0)
    assert len(plan) == 10 and all("random:seed=1" in [p.name for p in m.players] for m in plan)
    with pytest.raises(SpecError, match="focus 'nobody' is not one of the agents"):
        gauntlet("r", [parse_game("stag-hunt")], agents, "nobody", 2, 0)


def test_swiss_pairs_by_points_without_rematches() -> None:
    names = ["a", "b", "c", "d"]
    won = lambda w, l: ([Player(0, w, w), Player(1, l, l)], Outcome([1, 0], [1, 2]))  # noqa: E731
    pairs = swiss_pairings(4, [won("a", "b"), won("c", "d")], names, 0, 2)
    named = {frozenset(names[i] for i in p) for p in pairs}
    assert named == {frozenset("ac"), frozenset("bd")}  # winners meet winners, no rematch


def play(tmp_path: Path, **options: object) -> tuple[Store, str]:
    store = Store(tmp_path / f"{id(options)}.db")
    config = RunConfig(games=["prisoners-dilemma:rounds=5", "stag-hunt:rounds=3"], agents=AGENTS[:4],
                       games_per_pair=2, seed=3, **options)
    run_id = new_run(store, config)
    execute(store, run_id)
    return store, run_id


def outcomes(store: Store, run_id: str) -> list[tuple]:
    return [(idx, [p.name for p in players], o.scores) for idx, _, players, o in store.results(run_id)]


def test_swiss_run_plays_all_rounds(tmp_path: Path) -> None:
    store, run_id = play(tmp_path, schedule="swiss", swiss_rounds=3)
    assert store.rounds_planned(run_id) == 3 and store.count(run_id, "done") == 3 * 2 * 2 * 2


def test_workers_and_ray_give_the_same_results(tmp_path: Path) -> None:
    inline = outcomes(*play(tmp_path))
    assert outcomes(*play(tmp_path, workers=2)) == inline
    assert outcomes(*play(tmp_path, workers=2, backend="ray")) == inline


def test_resume_with_workers(tmp_path: Path) -> None:
    store = Store(tmp_path / "w.db")
    run_id = new_run(store, RunConfig(agents=AGENTS[:3], games_per_pair=2, workers=2))
    traj_ids = [m.match_id for m in store.pending(run_id)][:2]
    assert len(traj_ids) == 2
    execute(store, run_id)
    assert store.count(run_id, "pending") == 0 and store.count(run_id, "done") == 6
    execute(store, run_id)  # nothing left: nothing replayed
    assert sqlite3.connect(store.path).execute("SELECT COUNT(*) FROM steps").fetchone()[0] == 6 * 20


def test_leaderboard_recomputes_and_validates_anchor(tmp_path: Path) -> None:
    db = str(tmp_path / "lb.db")
    first = run_cli("run", "-a", "tit-for-tat", "-a", "always-defect", "-a", "random:seed=2", "--json", "--db", db)
    again = run_cli("leaderboard", "--db", db, "--json")
    assert json.loads(first.stdout)["leaderboard"][0]["bt"] == json.loads(again.stdout)["leaderboard"][0]["bt"]
    anchored = json.loads(run_cli("leaderboard", "--db", db, "--json", "--anchor", "tit-for-tat").stdout)
    assert {r["agent"]: r["bt"] for r in anchored["leaderboard"]}["tit-for-tat"] == 1500
    bad = run_cli("leaderboard", "--db", db, "--anchor", "nobody")
    assert bad.returncode == 2 and "anchor 'nobody' is not an agent" in bad.stderr


def test_rate_jsonl(tmp_path: Path) -> None:
    rows = [{"players": ["x", "y", "z"], "ranks": [1, 2, 3]}] * 5 + [{"players": ["z", "x"], "scores": [3, 1]}]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    doc = json.loads(run_cli("rate", str(path), "--json").stdout)
    assert [r["agent"] for r in doc["leaderboard"]] == ["x", "y", "z"]
    assert sum(r["bt"] for r in doc["leaderboard"]) == pytest.approx(4500, abs=0.5)
    assert "plackett_luce" in doc and "openskill" in doc
    path.write_text('{"players": ["a", "b"], "ranks": [1]}\n')
    bad = run_cli("rate", str(path))
    assert bad.returncode == 2 and ":1:" in bad.stderr


@pytest.mark.parametrize("spec", sorted(Path("examples").glob("*.toml")), ids=lambda p: p.name)
def test_example_specs_are_valid(spec: Path) -> None:
    from arena.tournaments.runner import first_plan, resolve
    config = build_config(str(spec), {})
    assert first_plan("r", config, resolve(config, build=False))


def test_duplicate_games_share_deals_across_seat_rotations() -> None:
    agents = [parse_agent(a) for a in ("random", "calling-station", "tight-aggressive")]
    plan = round_robin("r", [parse_game("holdem:duplicate=true,players=3")], agents, 6, 0)
    assert len(plan) == 6
    assert [m.seed for m in plan[:3]] == [plan[0].seed] * 3 and [m.seed for m in plan[3:]] == [plan[3].seed] * 3
    assert plan[0].seed != plan[3].seed
    assert {tuple(p.name for p in m.players)[0] for m in plan[:3]} == {a.name for a in agents}
    with pytest.raises(SpecError, match="multiple of 3"):
        from arena.tournaments.runner import resolve
        resolve(RunConfig(games=["holdem:duplicate=true,players=3"], agents=[a.spec for a in agents],
                          games_per_pair=4), build=False)


def test_stopped_worker_run_leaves_no_pool_thread_behind(tmp_path: Path) -> None:
    """The pool's manager thread is joined before run_parallel returns: a thread still closing its wake-up
    pipe at interpreter exit made the exit hook fail with EBADF (a traceback after a Ctrl-C, Python 3.11)."""
    import threading

    from arena.tournaments.interrupt import Interrupted
    store = Store(tmp_path / "s.db")
    slow = "slow=tests.plugins.bots:SlowCooperator:delay=0.1"  # matches still in flight at the stop
    run_id = new_run(store, RunConfig(games=["prisoners-dilemma:rounds=4"], agents=[slow, *AGENTS[:2]],
                                      games_per_pair=8, workers=2, concurrency=2))
    before = set(threading.enumerate())
    stop = threading.Event()
    with pytest.raises(Interrupted):
        execute(store, run_id, lambda match, outcome: stop.set(), stop=stop)
    assert set(threading.enumerate()) - before == set()
    assert store.count(run_id, "pending") > 0 and store.count(run_id, "done") > 0
