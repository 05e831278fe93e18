"""arena: LLM agents, search agents and scripted baselines playing strategic games.

The public API (imported on first use, so ``import arena`` stays cheap)::

    import arena
    traj = arena.play("tic-tac-toe", ["random", "mcts"], seed=1)         # -> Trajectory
    res = arena.tournament(["prisoners-dilemma"], ["tit-for-tat", "always-defect"])  # -> Results
    arena.leaderboard(res)                                               # rows with ratings and CIs
    arena.export_preferences(res, "pairs.jsonl", kind="outcome")

``aplay`` and ``atournament`` are the async forms; the synchronous ones also work inside a
running event loop (Jupyter).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "play": "arena.api", "aplay": "arena.api", "tournament": "arena.api", "atournament": "arena.api",
    "leaderboard": "arena.api", "export_preferences": "arena.api", "Results": "arena.api",
    "Trajectory": "arena.trajectory", "Step": "arena.trajectory", "Outcome": "arena.trajectory",
    "Player": "arena.trajectory", "Turn": "arena.agents.base", "Decision": "arena.agents.base",
    "ArenaError": "arena.errors", "build_report": "arena.report",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'arena' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
