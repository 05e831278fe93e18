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
import logging
import sys
from collections.abc import Iterator
from enum import Enum
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from arena import jsonsafe
from arena.console import err, fail, json_flag, out

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
    rollout: str = typer.Option("players", help="step: players (their own agents) | random | mcts[:simulations=N] | "
                                                "an agent spec"),
    rollout_batch: int = typer.Option(32, "--rollout-batch",
                                      help="step: rollouts in flight at once; their pending LLM calls go to the "
                                           "local model as one batch (1 = one after another)"),
    min_gap: float = typer.Option(0.0, "--min-gap", help="keep a pair only when its gap exceeds this (score units)"),
    allow_peeking: bool = typer.Option(False, "--allow-peeking",
                                       help="step: value hidden-information games without determinize (rows marked)"),
    experts: bool = typer.Option(False, "--experts",
                                 help="also export seats that sent no prompt (MCTS, CFR, scripted) as if an LLM held them"),
    co_movers: str = typer.Option("policy", "--co-movers",
                                  help="step: other movers of a simultaneous node: policy (re-chosen) | stored"),
    candidates: int = typer.Option(0, help="step: candidate actions per turn, the played one included (0 = all)"),
    sample: float = typer.Option(1.0, help="step: share of LLM turns used as decision points"),
    max_points: int = typer.Option(0, "--max-points", help="step: decision points per match (0 = all)"),
    free_text_samples: int = typer.Option(0, "--free-text-samples",
                                          help="step: candidates for a free-text turn (stored + n-1 sampled)"),
    sampler: str = typer.Option("", help="step: agent spec sampling free-text candidates [the player's own]"),
    seed: int = typer.Option(0, help="seed of sampling and rollouts"),
    as_json: bool = json_flag("print the export statistics as JSON"),
) -> None:
    """Turn stored LLM turns into a TRL dataset: preference pairs (step, outcome), KTO labels or SFT rows."""
    from arena.errors import ArenaError
    from arena.export.preferences import export_preferences
    from arena.registry import SpecError
    from arena.store import StoreError
    try:
        result = export_preferences(db, out_path, kind=kind.value, games=game or [], run_id=run_id,
                                    agents=agent or [], min_margin=min_margin, split=split, split_seed=split_seed,
                                    rollouts=rollouts, rollout=rollout, co_movers=co_movers, candidates=candidates,
                                    sample=sample, max_points=max_points, free_text_samples=free_text_samples,
                                    sampler=sampler, seed=seed, min_gap=min_gap, allow_peeking=allow_peeking,
                                    experts=experts, rollout_batch=rollout_batch)
    except (ArenaError, ValueError, SpecError, StoreError, OSError) as error:
        fail(str(error))
    if as_json:
        sys.stdout.write(jsonsafe.dumps({"path": str(result.path), "rows": len(result.rows), **result.stats}) + "\n")
    else:
        err.print(f"wrote {result.path}: {result.summary()}", highlight=False)


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


def _train_options(steps: int, lr: float, beta: float, batch_size: int, grad_accum: int, max_length: int,
                   seed: int, no_eval: bool, overwrite: bool, device: str, full: bool, lora_rank: int) -> dict[str, Any]:
    return {"steps": steps, "lr": lr, "beta": beta, "batch_size": batch_size, "grad_accum": grad_accum,
            "max_length": max_length, "seed": seed, "evaluate": not no_eval, "overwrite": overwrite,
            "device": device, "lora": not full, "lora_rank": lora_rank}


def _run_training(method: str, data: str, base: str, out_path: str, as_json: bool, **options: Any) -> None:
    quiet_libraries()
    from arena.errors import ArenaError
    from arena.train import dpo
    train = dpo.train_kto if method == "kto" else dpo.train_dpo
    try:
        with training_progress() as progress:
            report = train(data, base, out_path, progress=progress, **options)
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
AS_JSON = json_flag("print the training report as JSON")


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
    _run_training("dpo", data, base, out_path, as_json, loss=loss, **_train_options(
        steps, lr, beta, batch_size, grad_accum, max_length, seed, no_eval, overwrite, device, full, lora_rank))


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
    _run_training("kto", data, base, out_path, as_json, **_train_options(
        steps, lr, beta, batch_size, grad_accum, max_length, seed, no_eval, overwrite, device, full, lora_rank))


def selfplay_cmd(
    game: str = typer.Option(..., "--game", "-g", help="game spec, e.g. kuhn-poker or tictactoe"),
    iterations: int = typer.Option(1, help="play -> export -> train -> evaluate iterations"),
    out_path: str = typer.Option("selfplay", "--out", help="folder for the store, pairs, adapters and report.html"),
    base: str = typer.Option("local:smollm2", help="model to improve: local:smollm2 or local:PATH"),
    baseline: list[str] = typer.Option(None, "--baseline", "-b", help="fixed anchors (repeatable) [random]"),
    games_per_pair: int = typer.Option(8, "--games-per-pair", "-n", help="play: games against each pool member"),
    eval_seeds: int = typer.Option(16, "--eval-seeds", help="evaluation: fresh seeds (a mirrored pair each)"),
    llm_params: str = typer.Option("mode=choice", "--llm-params", help="added to every LLM spec"),
    kind: str = typer.Option("step", help="pairs: step | outcome"),
    rollout: str = typer.Option("players", help="step values: players | random | cfr | mcts:simulations=N | a spec"),
    rollouts: int = typer.Option(8, help="step: rollouts per candidate action"),
    min_margin: float = typer.Option(2.0, "--min-margin", help="keep pairs whose gap > this many SEs"),
    min_gap: float = typer.Option(0.0, "--min-gap", help="and whose gap > this (score units)"),
    experts: bool = typer.Option(False, "--experts", help="also train on the anchors' moves (expert iteration)"),
    test_split: float = typer.Option(0.2, "--test-split", help="share of prompts held out for ranking accuracy"),
    loss: str = typer.Option("sigmoid", help="TRL DPO loss type or simpo"),
    steps: int = typer.Option(20, help="training steps per iteration"),
    lr: float = typer.Option(1e-4, help="learning rate (LoRA)"),
    beta: float = typer.Option(0.1, help="DPO beta"),
    batch_size: int = typer.Option(4, "--batch-size", help="pairs per step"),
    full: bool = FULL, device: str = DEVICE,
    elo0: float = typer.Option(0.0, help="SPRT H0 Elo difference"),
    elo1: float = typer.Option(50.0, help="SPRT H1 Elo difference"),
    seed: int = typer.Option(0, help="seed (evaluation seeds are derived from it and never played in training)"),
    as_json: bool = json_flag("print the summary as JSON"),
) -> None:
    """Self-play: play a pool, build step pairs from game values, train, evaluate on fresh seeds (CIs, SPRT)."""
    quiet_libraries()
    from arena.errors import ArenaError
    from arena.registry import SpecError
    from arena.train.selfplay import BASELINES, selfplay
    try:
        summary = selfplay(game, iterations, out_path, progress=lambda m: err.print(m, highlight=False),
                           base=base, baselines=baseline or list(BASELINES), games_per_pair=games_per_pair,
                           eval_seeds=eval_seeds, llm_params=llm_params, kind=kind, rollout=rollout,
                           rollouts=rollouts, min_margin=min_margin, min_gap=min_gap, experts=experts,
                           test_split=test_split, loss=loss, steps=steps, lr=lr, beta=beta, batch_size=batch_size,
                           lora=not full, device=device, elo0=elo0, elo1=elo1, seed=seed)
    except (ArenaError, ValueError, SpecError, OSError) as error:
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


if __name__ == "__main__":  # standalone: python -m arena.cli_data export preferences ...
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    standalone = typer.Typer(add_completion=False, no_args_is_help=True)
    mount(standalone)
    standalone()
