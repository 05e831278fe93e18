"""Command-line functions for datasets and training: ``export preferences``, ``train dpo``, ``selfplay``.

Mounted on the main app (``arena/cli.py``) with::

    from arena import cli_data
    app.add_typer(cli_data.export_app, name="export")
    # (or, beside other export commands: export_app.command("preferences")(cli_data.export_preferences_cmd))
    app.add_typer(cli_data.train_app, name="train")
    app.command("selfplay")(cli_data.selfplay_cmd)
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from enum import Enum
from typing import Any

import typer
from rich.table import Table

from arena.console import err, fail, out

export_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Export stored matches as datasets.")
train_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Train models on exported datasets.")


class Kind(str, Enum):
    step = "step"
    outcome = "outcome"
    kto = "kto"
    sft = "sft"


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
def export_preferences_cmd(
    db: str = typer.Option("arena.db", help="SQLite store"),
    out_path: str = typer.Option(..., "--out", help="FILE.jsonl or FILE.parquet"),
    kind: Kind = typer.Option(Kind.step, help="step (counterfactual pairs) | outcome | kto | sft"),
    game: list[str] = typer.Option(None, "--game", "-g", help="only these games (spec or id); repeatable"),
    run_id: str = typer.Option(None, "--run", help="only this run"),
    agent: list[str] = typer.Option(None, "--agent", "-a", help="only the turns of these players (name or spec)"),
    min_margin: float = typer.Option(2.0, "--min-margin", help="keep a pair when its value gap > this many SEs"),
    split: float = typer.Option(0.0, help="fraction of matches in the test split (a 'split' column)"),
    split_seed: str = typer.Option("", "--split-seed", help="salt of the match-level split"),
    rollouts: int = typer.Option(16, help="step: rollouts per candidate action"),
    rollout: str = typer.Option("random", help="step: random | players | mcts[:simulations=N] | an agent spec"),
    co_movers: str = typer.Option("policy", "--co-movers",
                                  help="step: other movers of a simultaneous node: policy (re-chosen) | stored"),
    candidates: int = typer.Option(0, help="step: candidate actions per turn, the played one included (0 = all)"),
    sample: float = typer.Option(1.0, help="step: share of LLM turns used as decision points"),
    max_points: int = typer.Option(0, "--max-points", help="step: decision points per match (0 = all)"),
    free_text_samples: int = typer.Option(0, "--free-text-samples",
                                          help="step: candidates for a free-text turn (stored + n-1 sampled)"),
    sampler: str = typer.Option("", help="step: agent spec sampling free-text candidates [the player's own]"),
    seed: int = typer.Option(0, help="seed of sampling and rollouts"),
    as_json: bool = typer.Option(False, "--json", help="print the export statistics as JSON"),
) -> None:
    """Turn stored LLM turns into a TRL dataset: preference pairs (step, outcome), KTO labels or SFT rows."""
    from arena.export.preferences import export_preferences
    from arena.registry import SpecError
    from arena.store import StoreError
    try:
        result = export_preferences(db, out_path, kind=kind.value, games=game or [], run_id=run_id,
                                    agents=agent or [], min_margin=min_margin, split=split, split_seed=split_seed,
                                    rollouts=rollouts, rollout=rollout, co_movers=co_movers, candidates=candidates,
                                    sample=sample, max_points=max_points, free_text_samples=free_text_samples,
                                    sampler=sampler, seed=seed)
    except (ValueError, SpecError, StoreError, OSError) as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(json.dumps({"path": str(result.path), "rows": len(result.rows), **result.stats}) + "\n")
    else:
        err.print(f"wrote {result.path}: {result.summary()}", highlight=False)


@contextlib.contextmanager
def training_progress() -> Iterator[Any]:
    """A Rich progress bar on stderr (steps, loss, ETA) fed by the trainer's progress callback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    columns = (TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("train", total=None, loss="-")

        def update(step: int, total: int, loss: float | None) -> None:
            bar.update(task, completed=step, total=total, loss="-" if loss is None else f"{loss:.4f}")

        yield update


def _train_options(steps: int, lr: float, beta: float, batch_size: int, grad_accum: int, max_length: int,
                   seed: int, no_eval: bool, overwrite: bool, device: str, full: bool, lora_rank: int) -> dict[str, Any]:
    return {"steps": steps, "lr": lr, "beta": beta, "batch_size": batch_size, "grad_accum": grad_accum,
            "max_length": max_length, "seed": seed, "evaluate": not no_eval, "overwrite": overwrite,
            "device": device, "lora": not full, "lora_rank": lora_rank}


def _print_training(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(report) + "\n")
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
STEPS = typer.Option(10, help="optimizer steps")
LR = typer.Option(5e-6, help="learning rate")
BATCH = typer.Option(2, "--batch-size", help="rows per step")
ACCUM = typer.Option(1, "--grad-accum", help="gradient accumulation steps")
MAXLEN = typer.Option(1024, "--max-length", help="tokens per sequence; longer prompts are dropped")
SEED = typer.Option(0, help="training seed")
NO_EVAL = typer.Option(False, "--no-eval", help="skip the evaluation on the test split")
OVERWRITE = typer.Option(False, help="allow writing into a non-empty --out")
DEVICE = typer.Option("auto", help="cpu | cuda | auto (CUDA when available; bf16 there)")
FULL = typer.Option(False, "--full", help="full fine-tuning (saves a whole model) instead of a LoRA adapter")
RANK = typer.Option(8, "--lora-rank", help="LoRA rank")
AS_JSON = typer.Option(False, "--json", help="print the training report as JSON")


@train_app.command("dpo")
def train_dpo_cmd(
    data: str = typer.Option(..., "--data", help=DATA_HELP + " (--kind step or outcome)"),
    base: str = typer.Option("local:smollm2", help="model to start from: local:smollm2 or local:PATH"),
    out_path: str = typer.Option(..., "--out", help="folder for the adapter (then usable as local:DIR)"),
    loss: str = typer.Option("sigmoid", help="sigmoid (DPO) | ipo | sppo_hard | robust | ... (TRL's DPOConfig "
                                             "loss types) | simpo (TRL's CPO trainer)"),
    steps: int = STEPS, lr: float = LR,
    beta: float = typer.Option(0.1, help="beta (DPO: strength of the KL anchor to the base model)"),
    batch_size: int = BATCH, grad_accum: int = ACCUM, max_length: int = MAXLEN, seed: int = SEED,
    no_eval: bool = NO_EVAL, overwrite: bool = OVERWRITE, device: str = DEVICE, full: bool = FULL,
    lora_rank: int = RANK, as_json: bool = AS_JSON,
) -> None:
    """Train a local model on preference pairs (TRL: DPO losses or SimPO); the folder plays as local:DIR."""
    quiet_libraries()
    from arena.errors import ArenaError
    from arena.train.dpo import train_dpo
    try:
        with training_progress() as progress:
            report = train_dpo(data, base, out_path, progress=progress, loss=loss, **_train_options(
                steps, lr, beta, batch_size, grad_accum, max_length, seed, no_eval, overwrite, device, full, lora_rank))
    except (ArenaError, ValueError, OSError) as error:
        fail(str(error))
    _print_training(report, as_json)


@train_app.command("kto")
def train_kto_cmd(
    data: str = typer.Option(..., "--data", help=DATA_HELP + " (--kind kto)"),
    base: str = typer.Option("local:smollm2", help="model to start from: local:smollm2 or local:PATH"),
    out_path: str = typer.Option(..., "--out", help="folder for the adapter (then usable as local:DIR)"),
    steps: int = STEPS, lr: float = LR, beta: float = typer.Option(0.1, help="KTO beta"),
    batch_size: int = BATCH, grad_accum: int = ACCUM, max_length: int = MAXLEN, seed: int = SEED,
    no_eval: bool = NO_EVAL, overwrite: bool = OVERWRITE, device: str = DEVICE, full: bool = FULL,
    lora_rank: int = RANK, as_json: bool = AS_JSON,
) -> None:
    """Train a local model with KTO (TRL) on labelled completions; the folder plays as local:DIR."""
    quiet_libraries()
    from arena.errors import ArenaError
    from arena.train.dpo import train_kto
    try:
        with training_progress() as progress:
            report = train_kto(data, base, out_path, progress=progress, **_train_options(
                steps, lr, beta, batch_size, grad_accum, max_length, seed, no_eval, overwrite, device, full, lora_rank))
    except (ArenaError, ValueError, OSError) as error:
        fail(str(error))
    _print_training(report, as_json)


def selfplay_cmd(
    game: str = typer.Option(..., "--game", "-g", help="game spec, e.g. prisoners-dilemma:rounds=5"),
    iterations: int = typer.Option(1, help="play -> export -> train -> evaluate iterations"),
    out_path: str = typer.Option("selfplay", "--out", help="folder for the store, pairs and models"),
    base: str = typer.Option("local:smollm2", help="model to improve: local:smollm2 or local:PATH"),
    baseline: list[str] = typer.Option(None, "--baseline", "-b",
                                       help="baseline opponents [tit-for-tat, always-defect, always-cooperate]"),
    games_per_pair: int = typer.Option(2, "--games-per-pair", "-n", help="play phase: games per opponent"),
    eval_games_per_pair: int = typer.Option(4, "--eval-games-per-pair", help="evaluation: games per pair"),
    llm_params: str = typer.Option("mode=choice", "--llm-params",
                                   help="added to every LLM spec, e.g. mode=generate,reasoning=true"),
    play_temperature: float = typer.Option(0.7, "--play-temperature", help="generate mode: temperature when playing"),
    eval_temperature: float = typer.Option(0.0, "--eval-temperature", help="generate mode: temperature when rating"),
    kind: str = typer.Option("step", help="pairs: step | outcome"),
    rollout: str = typer.Option("random", help="step: rollout policy (random | players | an agent spec)"),
    rollouts: int = typer.Option(8, help="step: rollouts per candidate action"),
    min_margin: float = typer.Option(2.0, "--min-margin", help="keep pairs whose gap > this many SEs"),
    steps: int = typer.Option(10, help="DPO steps per iteration"),
    lr: float = typer.Option(5e-6, help="DPO learning rate"),
    beta: float = typer.Option(0.1, help="DPO beta"),
    batch_size: int = typer.Option(2, "--batch-size", help="pairs per DPO step"),
    seed: int = typer.Option(0, help="seed"),
    as_json: bool = typer.Option(False, "--json", help="print the iteration summaries as JSON"),
) -> None:
    """Self-play: play, export preference pairs, train with DPO, then rate the new model against its base."""
    quiet_libraries()
    from arena.registry import SpecError
    from arena.train.selfplay import BASELINES, selfplay
    try:
        summaries = selfplay(game, iterations, out_path, progress=lambda m: err.print(m, highlight=False),
                             base=base, baselines=baseline or list(BASELINES), games_per_pair=games_per_pair,
                             eval_games_per_pair=eval_games_per_pair, llm_params=llm_params,
                             play_temperature=play_temperature, eval_temperature=eval_temperature, kind=kind,
                             rollout=rollout, rollouts=rollouts, min_margin=min_margin, steps=steps, lr=lr,
                             beta=beta, batch_size=batch_size, seed=seed)
    except (ValueError, SpecError, OSError) as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(json.dumps(summaries, indent=2) + "\n")
        return
    for summary in summaries:
        print_iteration(summary)


def print_iteration(summary: dict[str, Any]) -> None:
    it = summary["iteration"]
    if not summary.get("leaderboard"):
        out.print(f"iteration {it}: {summary['pairs']} pairs; not trained", highlight=False)
        return
    table = Table(title=f"iteration {it}: ratings (Bradley–Terry, base = 1500, 95% bootstrap CI)")
    for col in ("agent", "games", "W", "D", "L", "mean score", "BT (95% CI)"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    for row in summary["leaderboard"]:
        table.add_row(row["agent"], str(row["games"]), str(row["wins"]), str(row["draws"]), str(row["losses"]),
                      f"{row['mean_score']:.2f}", f"{row['bt']:.0f} [{row['bt_ci'][0]:.0f}, {row['bt_ci'][1]:.0f}]")
    out.print(table)
    lo, hi = summary["rating_change_ci"]
    out.print(f"iteration {it}: {summary['pairs']} pairs, {summary['train']['steps']} DPO steps; rating change "
              f"tuned - base = {summary['rating_change']:+.0f} Elo (95% CI of tuned with base anchored: "
              f"[{lo - 1500:+.0f}, {hi - 1500:+.0f}]); mean score tuned {summary['mean_score']['tuned']:.2f} "
              f"vs base {summary['mean_score']['base']:.2f}", highlight=False)


def mount(app: typer.Typer) -> None:
    """Attach every command of this module to ``app`` (``export preferences``, ``train dpo``, ``selfplay``)."""
    app.add_typer(export_app, name="export")
    app.add_typer(train_app, name="train")
    app.command("selfplay")(selfplay_cmd)


if __name__ == "__main__":  # standalone: python -m arena.cli_data export preferences ...
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    standalone = typer.Typer(add_completion=False, no_args_is_help=True)
    mount(standalone)
    standalone()
