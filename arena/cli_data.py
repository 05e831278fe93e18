"""Command-line functions for datasets and training: ``export preferences|pgn|phh``, ``train dpo|kto``,
``selfplay``; their options are generated from the options dataclasses (:mod:`arena.cli_options`).

Mounted on the main app (``arena/cli.py``) with::

    from arena import cli_data
    app.add_typer(cli_data.export_app, name="export")
    # (or, beside other export commands: export_app.command("preferences")(cli_data.export_preferences_cmd))
    app.add_typer(cli_data.train_app, name="train")
    app.command("selfplay")(cli_data.selfplay_cmd)
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from arena import jsonsafe
from arena.cli_options import GENERATED, command
from arena.console import db_option, err, fail, json_flag, out, run_option
from arena.export.options import ExportOptions
from arena.train.options import DPOOptions, SelfPlayOptions

export_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Export stored matches as datasets.")
train_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Train models on exported datasets.")


def quiet_libraries() -> None:
    """Progress bars of datasets/transformers would flood the terminal."""
    try:
        import datasets
        datasets.disable_progress_bars()
    except ImportError:
        pass
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


@export_app.command("preferences")
@command("options", ExportOptions)
def export_preferences_cmd(
    db: str = db_option(),
    out_path: str = typer.Option(..., "--out", help="FILE.jsonl or FILE.parquet"),
    options: ExportOptions = GENERATED,
    as_json: bool = json_flag("print the export statistics as JSON"),
) -> None:
    """Turn stored LLM turns into a TRL dataset: preference pairs (step, outcome), KTO labels or SFT rows."""
    from arena.errors import ArenaError
    from arena.export.preferences import export_preferences
    try:
        result = export_preferences(db, out_path, options)
    except (ArenaError, ValueError, OSError) as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(jsonsafe.dumps({"path": str(result.path), "rows": len(result.rows), **result.stats}) + "\n")
    else:
        err.print(f"wrote {result.path}: {result.summary()}", highlight=False)


@export_app.command("phh")
def export_phh_cmd(db: str = db_option(),
                   out_dir: str = typer.Option("phh", "--out", help="folder for the .phh files"),
                   run_id: str = run_option("only this run"),
                   match_id: str = typer.Option(None, "--match", help="only this match")) -> None:
    """Hold'em hands in the Poker Hand History format (one .phh file per hand; pokerkit reads them)."""
    from arena.export.phh import phh_command
    from arena.store import StoreError
    try:
        files = phh_command(db, out_dir, run_id, match_id)
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {len(files)} hand(s) to {out_dir}/", highlight=False)


@export_app.command("pgn")
def export_pgn_cmd(db: str = db_option(),
                   out_path: str = typer.Option("games.pgn", "--out", help="the PGN file to write"),
                   run_id: str = run_option("only this run")) -> None:
    """Chess and Chess960 matches as PGN (Termination "rules infraction" for illegal-move forfeits)."""
    from arena.atomic import write_text
    from arena.export.pgn import export_pgn_many
    from arena.store import Store, StoreError
    try:
        store = Store(db, must_exist=True)
        ids = sorted(store.match_players(run_id))
        trajs = [t for t in (store.trajectory(m) for m in ids) if t.game.partition(":")[0] in ("chess", "chess960")]
        write_text(out_path, export_pgn_many(trajs))
    except (StoreError, ValueError, OSError) as error:
        fail(str(error))
    err.print(f"wrote {len(trajs)} game(s) to {out_path}", highlight=False)


@contextlib.contextmanager
def training_progress() -> Iterator[Any]:
    """A Rich progress bar on stderr (steps, loss, ETA) fed by the trainer's progress callback."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )
    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TextColumn("ETA"), TimeRemainingColumn())
    bar = Progress(*columns, console=err)
    task: list[Any] = []  # started on the first step, so an early error prints no empty bar

    def update(step: int, total: int, loss: float | None) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("train", total=total, loss="-"))
        bar.update(task[0], completed=step, total=total, loss="-" if loss is None else f"{loss:.4f}")

    try:
        yield update
    finally:
        if task:
            bar.stop()


def _run_training(method: str, data: str, base: str, out_path: str, as_json: bool, options: DPOOptions) -> None:
    quiet_libraries()
    from arena.errors import ArenaError
    from arena.train import dpo
    train = dpo.train_kto if method == "kto" else dpo.train_dpo
    try:
        with training_progress() as progress:
            report = train(data, base, out_path, options, progress=progress)
    except (ArenaError, ValueError, OSError) as error:
        fail(str(error))
    _print_training(report, as_json)


def _print_training(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(jsonsafe.dumps(report) + "\n")
        return
    losses = ", ".join(f"{x:.3f}" for x in report["losses"])
    err.print(f"trained {report['steps']} steps ({report['method']}, loss {report['loss']}) on "
              f"{report['trained_pairs']} rows ({report['dropped_too_long']} dropped as too long, "
              f"{report['truncated']} truncated) on {report['device']} in {report['seconds']:.0f}s; "
              f"loss per step: {losses}", highlight=False)
    if report["eval"]:
        ev = report["eval"]
        err.print(f"test split: loss {ev.get('eval_loss', float('nan')):.3f}, TRL reward accuracy "
                  f"{ev.get('eval_rewards/accuracies', float('nan')):.2f}", highlight=False)
    ranking = report.get("ranking_accuracy") or {}
    if ranking.get("before") is not None:
        err.print(f"test split: ranking accuracy (logp chosen > logp rejected, {ranking['pairs']} pairs) "
                  f"before {ranking['before']:.2f} -> after {ranking['after']:.2f}", highlight=False)
    kind = "adapter" if report["adapter"] else "model"
    err.print(f"wrote {report['out']} ({kind}, {report['size_mb']:.1f} MB; agent spec: local:{report['out']})",
              highlight=False)


DATA_HELP = "file from `arena export preferences`"
BASE = typer.Option("local:smollm2", help="model to start from: local:smollm2 or local:PATH")
MODEL_OUT = typer.Option(..., "--out", help="folder for the adapter (then usable as local:DIR)")
AS_JSON = json_flag("print the training report as JSON")


@train_app.command("dpo")
@command("options", DPOOptions)
def train_dpo_cmd(data: str = typer.Option(..., "--data", help=DATA_HELP + " (--kind step or outcome)"),
                  base: str = BASE, out_path: str = MODEL_OUT, options: DPOOptions = GENERATED,
                  as_json: bool = AS_JSON) -> None:
    """Train a local model on preference pairs (TRL: DPO losses or SimPO); the folder plays as local:DIR."""
    _run_training("dpo", data, base, out_path, as_json, options)


@train_app.command("kto")
@command("options", DPOOptions, exclude=("loss", "simpo_gamma"))
def train_kto_cmd(data: str = typer.Option(..., "--data", help=DATA_HELP + " (--kind kto)"),
                  base: str = BASE, out_path: str = MODEL_OUT, options: DPOOptions = GENERATED,
                  as_json: bool = AS_JSON) -> None:
    """Train a local model with KTO (TRL) on labelled completions; the folder plays as local:DIR."""
    _run_training("kto", data, base, out_path, as_json, options)


@command("options", SelfPlayOptions)
def selfplay_cmd(
    game: str = typer.Option(..., "--game", "-g", help="game spec, e.g. kuhn-poker or tictactoe"),
    iterations: int = typer.Option(1, help="play -> export -> train -> evaluate iterations"),
    out_path: str = typer.Option("selfplay", "--out", help="folder for the store, pairs, adapters and report.html"),
    options: SelfPlayOptions = GENERATED,
    as_json: bool = json_flag("print the summary as JSON"),
) -> None:
    """Self-play: play a pool, build step pairs from game values, train, evaluate on fresh seeds (CIs, SPRT)."""
    quiet_libraries()
    from arena.errors import ArenaError
    from arena.train.selfplay import selfplay
    try:
        summary = selfplay(game, iterations, out_path, options, progress=lambda m: err.print(m, highlight=False))
    except (ArenaError, ValueError, OSError) as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(jsonsafe.dumps(summary, indent=2, default=str) + "\n")
        return
    print_summary(summary)


def _ci_text(entry: dict[str, Any]) -> str:
    value = entry.get("payoff", entry.get("mean"))
    return f"{value:+.3f} [{entry['ci'][0]:+.3f}, {entry['ci'][1]:+.3f}]"


def print_summary(summary: dict[str, Any]) -> None:
    """The scores against each anchor (base, then each iteration, with 95% CIs) and the head-to-head SPRT."""
    table = Table(title=f"self-play on {summary['game']}: mean payoff per mirrored pair, 95% bootstrap CI, "
                        f"{len(summary['eval_seeds'])} fresh seeds")
    for col in ("model", "opponent", "pairs", "payoff", "change vs base (paired)"):
        table.add_column(col, justify="left" if col in ("model", "opponent") else "right")
    for anchor, entry in summary["base"].items():
        table.add_row("base", escape(anchor), str(entry["pairs"]), _ci_text(entry), "")
    for record in summary["iterations"]:
        for anchor, entry in record.get("vs", {}).items():
            table.add_row(f"iteration {record['iteration']}", escape(anchor), str(entry["pairs"]), _ci_text(entry),
                          _ci_text(entry["change"]))
        if record.get("head_to_head"):
            h = record["head_to_head"]
            table.add_row(f"iteration {record['iteration']}", "base (head-to-head)", str(h["pairs"]), _ci_text(h), "")
    out.print(table)
    for record in summary["iterations"]:
        it = record["iteration"]
        out.print(f"iteration {it}: {record['export_summary']}", highlight=False)
        if record.get("train"):
            ra = record["train"]["ranking_accuracy"]
            before, after = (f"{x:.2f}" if x is not None else "-" for x in (ra["before"], ra["after"]))
            out.print(f"iteration {it}: trained {record['train']['steps']} steps on {record['train']['trained_pairs']}"
                      f" pairs; held-out ranking accuracy {before} -> {after} ({ra['pairs']} pairs)", highlight=False)
        if record.get("head_to_head"):
            s = record["head_to_head"]["sprt"]
            out.print(f"iteration {it}: SPRT tuned vs base (elo0={s['elo0']:g}, elo1={s['elo1']:g}, "
                      f"{s['n']} pairs): LLR {s['llr']:.2f} in [{s['lower']:.2f}, {s['upper']:.2f}] -> "
                      f"{s['verdict']}", highlight=False)
    out.print(f"report: {summary.get('report')}", highlight=False)


def mount(app: typer.Typer) -> None:
    """Attach every command of this module to ``app`` (``export preferences``, ``train dpo|kto``, ``selfplay``)."""
    app.add_typer(export_app, name="export")
    app.add_typer(train_app, name="train")
    app.command("selfplay")(selfplay_cmd)


def run_example(game: str, out: str, settings: dict[str, Any]) -> None:
    """One measured self-play example (``examples/selfplay_*.py``): timestamped progress, the summary, the wall time."""
    import time

    from arena.train.selfplay import selfplay
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_libraries()
    started = time.perf_counter()
    summary = selfplay(game, 1, out, progress=lambda m: print(f"[{time.perf_counter() - started:5.0f}s] {m}",
                                                               flush=True), **settings)
    print_summary(summary)
    print(f"wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":  # standalone: python -m arena.cli_data export preferences ...
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    standalone = typer.Typer(add_completion=False, no_args_is_help=True)
    mount(standalone)
    standalone()
