"""The public Python API: the same results from plain Python and from inside a running event loop
(as in Jupyter), and a cheap ``import arena``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

import arena
from tests.conftest import ROOT

GAME = "tic-tac-toe"
AGENTS = ["random", "mcts:simulations=20"]


def moves(traj: arena.Trajectory) -> list[tuple[int, str]]:
    return [(s.player, s.action) for s in traj.steps]


def timeless(rows: list[dict]) -> list[dict]:
    """Leaderboard rows without the measured latency (the only field that may differ between runs)."""
    return [{k: v for k, v in r.items() if "latency" not in k} for r in rows]


def test_play_same_inside_a_running_loop() -> None:
    plain = arena.play(GAME, AGENTS, seed=4)

    async def notebook_cell() -> arena.Trajectory:
        return arena.play(GAME, AGENTS, seed=4)  # sync call while the loop runs, as in Jupyter

    inside = asyncio.run(notebook_cell())
    assert moves(inside) == moves(plain) and len(plain.steps) >= 5
    assert inside.outcome.scores == plain.outcome.scores
    assert [p.name for p in plain.players] == AGENTS  # a spec without NAME= is named by itself
    awaited = asyncio.run(arena.aplay(GAME, AGENTS, seed=4))
    assert moves(awaited) == moves(plain)


def test_tournament_same_inside_a_running_loop(tmp_path: Path) -> None:
    games, agents = ["prisoners-dilemma:rounds=3"], ["tit-for-tat", "always-defect", "random"]
    plain = arena.tournament(games, agents, seed=2, n_boot=50, db=tmp_path / "a.db")

    async def notebook_cell() -> arena.Results:
        return arena.tournament(games, agents, seed=2, n_boot=50, db=tmp_path / "b.db")

    inside = asyncio.run(notebook_cell())
    assert isinstance(plain, arena.Results) and len(plain.matches) == 6  # 3 pairs x 2 games
    assert [moves(t) for t in inside.matches] == [moves(t) for t in plain.matches]
    assert timeless(inside.leaderboard) == timeless(plain.leaderboard)
    by_agent = {r["agent"]: r for r in plain.leaderboard}
    assert by_agent["always-defect"]["losses"] == 0  # never loses a prisoner's dilemma
    assert arena.leaderboard(plain) == plain.leaderboard
    assert [r["agent"] for r in arena.leaderboard(tmp_path / "a.db")] == [r["agent"] for r in plain.leaderboard]


def test_bad_options_are_arena_errors(tmp_path: Path) -> None:
    with pytest.raises(arena.ArenaError, match="unknown tournament option.*games_per_pari.*valid: .*games_per_pair"):
        arena.tournament(["stag-hunt"], ["random", "tit-for-tat"], games_per_pari=2, db=tmp_path / "d.db")
    with pytest.raises(arena.ArenaError, match="unknown agent"):
        arena.play("stag-hunt", ["random", "nobody"])


def test_export_preferences_inside_a_running_loop(tmp_path: Path) -> None:
    llm_like = "tests.plugins.bots:HtmlInjector"  # answers with LLM messages, so its turns are exported
    res = arena.tournament(["prisoners-dilemma:rounds=2"], [llm_like, "always-cooperate"], seed=1, n_boot=20,
                           db=tmp_path / "c.db")

    async def notebook_cell() -> object:
        return arena.export_preferences(res, kind="sft")

    inside = asyncio.run(notebook_cell())
    plain = arena.export_preferences(res, kind="sft")
    # the winner's 2 turns in each of the 2 matches: identical rows merged, with their count
    assert sum(row["count"] for row in plain.rows) == 4 and len(plain.rows) == 2
    assert inside.rows == plain.rows  # type: ignore[attr-defined]


def test_import_is_lazy() -> None:
    code = "import sys, arena; print(sorted(m for m in sys.modules if m.startswith('arena')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(ROOT)}).stdout
    assert out.strip() == "['arena']"
    assert set(arena.__all__) >= {"play", "aplay", "tournament", "atournament", "leaderboard", "export_preferences",
                                  "Results", "Trajectory"}
    with pytest.raises(AttributeError, match="no attribute"):
        arena.nothing_here  # noqa: B018
