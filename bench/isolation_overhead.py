"""Per-move cost of an isolated plug-in against the same plug-in in-process.

Plays a prisoner's dilemma of ROUNDS rounds between the plug-in
``tests.plugins.bots:SlowCooperator:delay=0`` and tit-for-tat, isolated
(``isolate=true``: a child process per match, pickled Turn down, JSON Decision up) and
in-process (``isolate=false``), interleaved in pairs.  Per move: the median latency of
the plug-in's decisions (as the match measures it: the call and the boundary checks);
per match: the wall time, whose difference is mostly the child's start (each ``make()``
starts the next match's child ahead, as in a run).  Ratios are
paired (isolated / in-process of the same pair), median and range.

    PYTHONPATH=$PWD python bench/isolation_overhead.py [--pairs 7] [--rounds 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

from arena.match import play_match
from arena.agents.registry import AgentSpec, parse_agent
from arena.games.registry import parse_game
from arena.trajectory import Player

PLAYERS = [Player(0, "a", "a"), Player(1, "b", "b")]
PLUGIN = "tests.plugins.bots:SlowCooperator:delay=0"


def timed_match(spec: AgentSpec, game: object) -> tuple[float, float]:
    """(median seconds per move of the plug-in, wall seconds of the whole match, building included)."""
    start = time.perf_counter()
    agents = [spec.make(), parse_agent("tit-for-tat").make()]  # one spec, a fresh agent per match: as a run does
    traj = play_match(game.make, agents, PLAYERS, 1, "bench")  # type: ignore[attr-defined]
    wall = time.perf_counter() - start
    assert traj.outcome is not None and traj.outcome.reason == "normal", traj.outcome
    return statistics.median(s.latency for s in traj.steps if s.player == 0), wall


def _line(name: str, values: list[float], scale: float, unit: str) -> str:
    return (f"{name:<22}{statistics.median(values) * scale:10.1f} {unit} "
            f"(range {min(values) * scale:.1f}-{max(values) * scale:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    game = parse_game(f"prisoners-dilemma:rounds={args.rounds}")
    specs = {flag: parse_agent(f"{PLUGIN},isolate={flag}") for flag in ("true", "false")}
    for flag in ("true", "false"):
        timed_match(specs[flag], game)  # warm-up: imports, the plug-in's first build
    moves: dict[str, list[float]] = {"true": [], "false": []}
    walls: dict[str, list[float]] = {"true": [], "false": []}
    move_ratio, wall_ratio = [], []
    for i in range(args.pairs):
        for flag in ("false", "true") if i % 2 == 0 else ("true", "false"):
            move, wall = timed_match(specs[flag], game)
            moves[flag].append(move)
            walls[flag].append(wall)
        move_ratio.append(moves["true"][-1] / moves["false"][-1])
        wall_ratio.append(walls["true"][-1] / walls["false"][-1])
    extra = [a - b for a, b in zip(moves["true"], moves["false"])]
    start_up = [a - b - args.rounds * (m - n) for a, b, m, n in
                zip(walls["true"], walls["false"], moves["true"], moves["false"])]
    print(f"prisoner's dilemma, {args.rounds} rounds; {args.pairs} interleaved pairs; {PLUGIN} vs tit-for-tat")
    print(_line("in-process per move", moves["false"], 1e6, "us"))
    print(_line("isolated per move", moves["true"], 1e6, "us"))
    print(_line("isolation per move", extra, 1e6, "us (paired difference)"))
    print(f"{'per-move ratio':<22}{statistics.median(move_ratio):10.2f} x    "
          f"(range {min(move_ratio):.2f}-{max(move_ratio):.2f})")
    print(_line("in-process per match", walls["false"], 1e3, "ms"))
    print(_line("isolated per match", walls["true"], 1e3, "ms"))
    print(_line("child start per match", start_up, 1e3, "ms (wall difference less the moves)"))
    print(f"{'per-match ratio':<22}{statistics.median(wall_ratio):10.2f} x    "
          f"(range {min(wall_ratio):.2f}-{max(wall_ratio):.2f})")


if __name__ == "__main__":
    main()
