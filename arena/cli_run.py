"""``arena run``: checks every agent before writing anything, prints the run id first, shows
per-move progress with an ETA and a live top-10 (O(1) per match), a line per forfeit or error,
and handles Ctrl-C (first: stop and say how to resume; second: exit now)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import typer
from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from arena import jsonsafe
from arena.cli_board import print_document
from arena.cli_options import GENERATED, command
from arena.console import db_option, err, fail, json_flag, out
from arena.errors import ArenaError
from arena.store import PlannedMatch, Store
from arena.tournaments.config import RunConfig, build_config
from arena.tournaments.interrupt import EXIT_INTERRUPTED, Interrupted, resume_command, sigint_stops
from arena.tournaments.live import LiveBoard
from arena.tournaments.rating_options import RatingOptions
from arena.tournaments.runner import Resolved, describe, execute, prepare, resume as prepare_resume, store_run
from arena.trajectory import Outcome


def register(app: typer.Typer) -> None:
    app.command("run")(run)


def _check_anchor(rating: RatingOptions, resolved: Resolved) -> None:
    """An ``--anchor`` that names no agent of the run fails before any match is played."""
    if rating.anchor is not None and rating.anchor not in resolved.agents:
        raise ArenaError(f"anchor {rating.anchor!r} is not an agent of this run; valid: "
                         f"{', '.join(sorted(resolved.agents))}")


@command("overrides", RunConfig, partial=True)
@command("rating", RatingOptions)
def run(
    spec: str = typer.Argument(None, help="tournament spec file (TOML); flags override it"),
    overrides: dict[str, Any] = GENERATED,
    db: str = db_option(),
    resume: str = typer.Option(None, help="finish the pending and error matches of this run id"),
    as_json: bool = json_flag("print one JSON document instead of tables"),
    rating: RatingOptions = GENERATED,
) -> None:
    """Play a tournament (a small quickstart when no spec, game or agent is given)."""
    try:
        if resume:
            store = Store(db, must_exist=True)
            run_id, resolved = resume, prepare_resume(store, resume)
            _check_anchor(rating, resolved)
        else:
            config = build_config(spec, overrides)
            ready = prepare(config)  # agents built and checked, the plan within bounds: before the store is touched
            resolved = ready.resolved
            _check_anchor(rating, resolved)
            store = Store(db)
            run_id = store_run(store, ready)
        _say(f"run {run_id} (db {db})")
        if resolved.policy.strict:
            _say("strict: a downgrade ends its match as error (unrated)")
        play(store, run_id, resolved, quiet=as_json)
    except ArenaError as error:
        fail(str(error))
    from arena.tournaments.summary import store_document
    try:
        doc = store_document(store, run_id, **rating.fit_args())
    except (ArenaError, ValueError) as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(jsonsafe.dumps(doc, indent=2) + "\n")
    else:
        print_document(doc)
    if not as_json:
        _llm_rates(doc, resolved)


def play(store: Store, run_id: str, resolved: Resolved, quiet: bool) -> None:
    """Execute with progress (stderr; only the forfeit/error lines when ``quiet``) and Ctrl-C handling."""
    command = resume_command(run_id, store.path)
    view = RunView(store, run_id)

    def first() -> None:
        os.write(2, b"\nstopping: no new matches; moves in flight get a few seconds (Ctrl-C again: quit now)\n")

    def second() -> None:
        os.write(2, f"\ninterrupted; resume with: {command}\n".encode())

    try:
        with sigint_stops(first, second) as stop:
            if quiet:
                execute(store, run_id, lambda m, o: _say(describe(m, o)), stop=stop, resolved=resolved)
            else:
                with Live(view, console=err, refresh_per_second=2) as live:
                    view.say = lambda line: live.console.print(escape(line), highlight=False, soft_wrap=True)
                    execute(store, run_id, view.done, on_move=view.move, stop=stop, resolved=resolved)
                if not err.is_terminal:
                    err.line()  # Live ends its last frame without a newline off a terminal
    except Interrupted:
        _say(f"interrupted; resume with: {command}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    errors = store.count(run_id, "error")
    if errors:
        who = ", ".join(f"{name} {n}" for name, n in sorted(store.error_counts(run_id).items()))
        _say(f"{errors} match(es) ended in error (unrated; by agent: {who}); play them again with: {command}")


def _say(line: str | None, **_: Any) -> None:
    """One console line on stderr, printed verbatim (agent names may look like Rich markup)."""
    if line:
        err.print(escape(line), highlight=False, soft_wrap=True)


class RunView:
    """What the live display shows: the bar (ETA once a match has finished), moves and matches in
    flight, the top 10 by online Elo.  Updates are O(1); the table is built only when drawn."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self.board = LiveBoard()
        self.board.seed(store.results(run_id))
        self.total = store.count(run_id)
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err)
        pending = store.count(run_id, "pending") + store.count(run_id, "error")
        self.task = self.progress.add_task(f"run {run_id}", total=self.total, completed=self.total - pending)
        self.moves = 0
        self.started, self.finished_here = time.monotonic(), 0
        self.in_flight: set[str] = set()
        self.say: Any = _say
        self.completed = self.total - pending

    def move(self, match_id: str) -> None:
        """Called on every move (the hot path): two O(1) updates, no lock (one writer; the drawing
        thread only reads a count and a size)."""
        self.moves += 1
        self.in_flight.add(match_id)

    def done(self, match: PlannedMatch, outcome: Outcome) -> None:
        self.in_flight.discard(match.match_id)
        self.board.add(match.players, outcome)
        self.finished_here += 1
        self.completed += 1
        if self.completed >= self.total:  # swiss: the next round may be planned
            self.total = self.store.count(self.run_id)
        line = describe(match, outcome)
        if line:
            self.say(line)

    def __rich__(self) -> RenderableType:
        moves = f"moves played {self.moves} · matches in flight {len(self.in_flight)}" if self.moves else (
            f"matches finished {self.finished_here}")  # worker processes report whole matches
        status = f"{moves} · ETA {self.eta()}"
        self.progress.update(self.task, completed=self.completed, total=self.total)  # per frame, not per match
        return Group(self.progress, status, live_table(self.board))

    def eta(self) -> str:
        """Time left at this run's pace so far (known once one match has finished here)."""
        if not self.finished_here:
            return "after the first match"
        left = max(self.total - self.completed, 0)
        seconds = int((time.monotonic() - self.started) / self.finished_here * left)
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def live_table(board: LiveBoard, n: int = 10) -> Table:
    table = Table(title="live leaderboard (online Elo; ratings with intervals at the end)", show_edge=False)
    for col in ("agent", "games", "W", "D", "L", "forfeits", "errors", "Elo"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for row, elo in board.top(n):
        table.add_row(escape(row.agent), str(row.games), str(row.wins), str(row.draws), str(row.losses), str(row.forfeits),
                      str(row.errors), f"{elo:.0f}")
    return table


def _llm_rates(doc: dict[str, Any], resolved: Resolved) -> None:
    """Each LLM's illegal-answer and fallback rate (from the leaderboard rows), beside the leaderboard."""
    rows = {row["agent"]: row for row in doc["leaderboard"]}
    llms = [name for name, spec in resolved.agents.items() if _is_llm(spec.kind) and "illegal_rate" in rows.get(name, {})]
    parts = [f"{name}: illegal answers {rows[name]['illegal_rate']:.1%}, fallback moves "
             f"{rows[name]['fallback_rate']:.1%}" for name in llms]
    if parts:
        out.print(escape("LLM answers — " + "; ".join(parts)), highlight=False, soft_wrap=True)


def _is_llm(kind: str) -> bool:
    return kind.startswith("local") or "/" in kind or kind.startswith("critic")

