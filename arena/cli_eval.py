"""``arena compare`` (is A better than B? an SPRT over mirrored pairs) and ``arena quality`` (move quality)."""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from arena import jsonsafe
from arena.cli_options import GENERATED, command
from arena.console import db_option, err, fail, json_flag, out, run_option
from arena.spec import SpecError
from arena.store import Store, StoreError
from arena.tournaments.compare import CompareParams
from arena.tournaments.sprt import Verdict


def _verdict_text(v: Verdict, a: str, b: str, elo0: float, elo1: float) -> str:
    what = {"H1": f"{a} is stronger than {b} (accepted H1: elo >= {elo1:g})",
            "H0": f"{a} is not stronger than {b} by {elo1:g} (accepted H0: elo <= {elo0:g})",
            "continue": "undecided (the pair limit was reached before the test decided)"}[v.decision]
    return (f"verdict: {what}\nElo of {a} over {b}: {v.elo:+.1f} [95% CI {v.elo_ci[0]:+.1f}, {v.elo_ci[1]:+.1f}]\n"
            f"games: {2 * v.pairs} ({v.pairs} mirrored pairs; pentanomial {list(v.counts)}); "
            f"LLR {v.llr:.2f} in [{v.lower:.2f}, {v.upper:.2f}]")


@command("params", CompareParams)
def compare_cmd(a: str = typer.Argument(None, help="agent spec A [NAME=]KIND[:key=value,...]"),
                b: str = typer.Argument(None, help="agent spec B"),
                game: str = typer.Option(None, "--game", "-g", help="two-player game spec"),
                params: CompareParams = GENERATED,
                seed: int = typer.Option(0, help="run seed (pair p plays seed f(seed, p) twice)"),
                db: str = db_option(),
                resume: str = typer.Option(None, help="continue this compare run"),
                as_json: bool = json_flag("print the verdict as JSON")) -> None:
    """Is A better than B? Mirrored pairs (same seed, seats swapped) until a pentanomial SPRT decides."""
    from arena.tournaments import compare
    try:
        if resume:
            store = Store(db, must_exist=True)
            run_id = resume
            params = compare.params_of(store, run_id)
        else:
            if not (a and b and game):
                raise SpecError("give two agents and --game (or --resume RUN_ID)")
            ready = compare.plan(a, b, game, params, seed)  # agents and game checked before the store is touched
            store = Store(db)
            run_id = compare.start(store, ready, params)
        err.print(f"compare run {run_id} (resume with `arena compare --resume {run_id} --db {db}`)", highlight=False)
        names = compare.RunConfig.from_dict(store.run_config(run_id)).agents

        def progress(v: Verdict) -> None:
            err.print(f"{2 * v.pairs} games: LLR {v.llr:.2f} in [{v.lower:.2f}, {v.upper:.2f}], "
                      f"elo {v.elo:+.1f}", highlight=False)
        verdict = compare.proceed(store, run_id, None if as_json else progress)
    except (SpecError, StoreError) as error:
        fail(str(error))
    from arena.agents.registry import parse_agent
    a_name, b_name = (parse_agent(n).name for n in names)
    if as_json:
        sys.stdout.write(jsonsafe.dumps({"run_id": run_id, "a": a_name, "b": b_name, **verdict.to_dict(),
                                     "elo0": params.elo0, "elo1": params.elo1, "alpha": params.alpha,
                                     "beta": params.beta}, indent=2) + "\n")
    else:
        out.print(_verdict_text(verdict, a_name, b_name, params.elo0, params.elo1), highlight=False)


def quality_cmd(db: str = db_option(),
                run_id: str = run_option(),
                depth: int = typer.Option(10, min=1, help="Stockfish search depth per chess position"),
                stockfish: str = typer.Option("", help="path of the Stockfish binary (default: on PATH)"),
                as_json: bool = json_flag("print the per-agent summary as JSON")) -> None:
    """Judge every move (chess: Stockfish; tic-tac-toe/connect-four: solved values; Kuhn/Leduc: EV loss;
    matrix games: regret) and store it with each step; prints the per-agent summary."""
    from rich.table import Table

    from arena.quality import quality_pass, summarise
    try:
        store = Store(db, must_exist=True)
        if run_id:
            store.run_config(run_id)
        judged = quality_pass(store, run_id, depth, stockfish)
    except (StoreError, RuntimeError) as error:
        fail(str(error))
    summary = summarise(store, run_id)
    err.print(f"judged {judged} match(es)", highlight=False)
    if as_json:
        sys.stdout.write(jsonsafe.dumps(summary, indent=2) + "\n")
        return
    for game, agents in sorted(summary.items()):
        keys = [k for k in next(iter(agents.values())) if k != "kind"]
        table = Table(title=f"move quality — {game}", title_justify="left")
        for col in ["agent", *keys]:
            table.add_column(col.replace("_", " "), justify="left" if col == "agent" else "right")
        for agent, row in sorted(agents.items()):
            table.add_row(escape(agent), *(f"{row[k]:g}" for k in keys))
        out.print(table)
