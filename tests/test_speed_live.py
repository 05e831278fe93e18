"""The live display does its Rich work per frame, not per match (issue 15, Done-when 2)."""

from __future__ import annotations

import io

from rich.console import Console

from arena.cli_run import RunView
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import new_run
from arena.trajectory import Outcome


def frame(view: RunView) -> str:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(view)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_the_bar_shows_the_matches_finished_when_drawn(db: str) -> None:
    store = Store(db)
    run_id = new_run(store, RunConfig(games=["prisoners-dilemma:rounds=3"], agents=["tit-for-tat", "always-defect"],
                                      games_per_pair=3))
    view = RunView(store, run_id)
    assert "0/3" in frame(view)
    first, second, _ = store.pending(run_id)
    view.done(first, Outcome([0.0, 5.0], [2, 1]))
    view.done(second, Outcome([1.0, 1.0], [1, 1]))
    drawn = frame(view)
    assert "2/3" in drawn  # the bar, brought up to date when the frame is drawn
    cells = [[c for c in line.split() if c != "│"] for line in drawn.splitlines()]
    rows = {c[0]: [int(x) for x in c[1:5]] for c in cells if c[:1] in (["tit-for-tat"], ["always-defect"])}
    assert [games for games, *_ in rows.values()] == [2, 2]
    assert [sum(r[i] for r in rows.values()) for i in (1, 2, 3)] == [1, 2, 1]  # W D L: one win, one draw
