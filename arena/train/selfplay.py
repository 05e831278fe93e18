"""The self-play loop: play a pool -> step pairs valued by the game -> train -> evaluate on fresh seeds.

Iteration ``k`` (``current`` = the base model at first, then the last iterate):

1. **play** -- a gauntlet of ``current`` (``model``, LLM specs get ``llm_params``, ``mode=choice``
   by default) against the pool: its previous iterates, the base model, and the fixed anchors
   (``random``, ``cfr``, ``mcts``...), ``games_per_opponent`` matches each;
2. **export** -- step pairs (:mod:`arena.export.preferences`) valued by the game through
   ``rollout`` (the players' own agents by default; ``cfr`` plays equilibrium continuations in
   Kuhn/Leduc; ``mcts:simulations=N`` gives MCTS Q values); with ``experts`` the anchors' turns are
   exported too, as if the model had held their seat (expert iteration); ``test_split`` of the
   prompts is held out (by prompt, so no test prompt is in train);
3. **train** -- a LoRA adapter from ``current`` with ``loss`` (:func:`arena.train.dpo.train_dpo`);
4. **evaluate** -- on ``eval_seeds`` fresh seeds (never used by a play run): mirrored pairs of the
   tuned model against each anchor and against the base model (:mod:`arena.train.evaluate`); the
   base model's pairs against the anchors are played once (iteration 0) on the same seeds, so each
   iteration's change against an anchor is a paired difference; the head-to-head gets an SPRT.

Everything lands in ``OUT``: ``selfplay.db`` (every run), ``iter-N/pairs.jsonl``, ``iter-N/model``,
``summary.json`` and ``report.html`` (:mod:`arena.train.report`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from arena.agents.registry import parse_agent
from arena.export.preferences import export_preferences
from arena.games.registry import game_info, parse_game
from arena.options import build, flat
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from arena.train.dpo import train_dpo
from arena.train.evaluate import (
    eval_seeds,
    mirrored_pairs,
    paired_difference,
    play_mirrored,
    sprt,
    summarize,
)
from arena.train.options import BASELINES, SelfPlayOptions

__all__ = ["BASELINES", "SelfPlayOptions", "selfplay"]
log = logging.getLogger(__name__)
Progress = Callable[[str], None]


def _llm(name: str, model: str, params: str) -> str:
    spec = model if model.startswith("local:") else f"local:{model}"
    return f"{name}={spec}" + (f":{params.strip()}" if params.strip() else "")


def _anchor_name(spec: str) -> str:
    """The name a run gives this agent (``NAME=`` if given, else the whole spec: ``mcts:simulations=10``)."""
    return parse_agent(spec).name


def selfplay(game: str, iterations: int = 1, out_dir: str | Path = "selfplay", options: SelfPlayOptions | None = None,
             progress: Progress | None = None, **overrides: Any) -> dict[str, Any]:
    """Run ``iterations`` of play -> export -> train -> evaluate; returns the summary (also ``summary.json``)."""
    opts = build(SelfPlayOptions, overrides, options)
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    parse_game(game)  # a bad spec fails before anything runs
    say = progress or (lambda message: log.info("%s", message))
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out / "selfplay.db")
    chance = game_info(game.partition(":")[0]).chance
    seeds = eval_seeds(opts.eval_seeds, opts.seed * 100_000)
    anchors = [_anchor_name(a) for a in opts.baselines]
    summary: dict[str, Any] = {"game": game, "options": flat(opts), "eval_seeds": seeds, "anchors": anchors,
                               "iterations": []}
    try:
        say(f"baseline: base model vs {', '.join(anchors)} on {len(seeds)} fresh seeds (mirrored)")
        base_spec = _llm("base", opts.base, opts.llm_params)
        run0 = play_mirrored(store, game, [base_spec, *opts.baselines], [("base", a) for a in anchors], seeds,
                             opts.concurrency)
        base_rows = {a: mirrored_pairs(store, run0, "base", a, chance) for a in anchors}
        summary["base"] = {a: {**summarize(rows, opts.bootstrap, opts.seed), "replicates_dropped": dropped}
                           for a, (rows, dropped) in base_rows.items()}
        current, pool = opts.base, []
        for it in range(1, iterations + 1):
            record = _iteration(store, game, it, current, pool, out / f"iter-{it}", opts, say, seeds, chance,
                                base_rows)
            summary["iterations"].append(record)
            (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
            if record.get("model"):
                pool.append(current)
                current = "local:" + record["model"]
    finally:
        store.close()
    from arena.train.report import write_report
    summary["report"] = str(write_report(summary, out / "report.html"))
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


def _iteration(store: Store, game: str, it: int, current: str, pool: list[str], folder: Path,
               opts: SelfPlayOptions, say: Progress, seeds: list[int], chance: bool,
               base_rows: dict[str, tuple[list[dict[str, Any]], int]]) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    seed = opts.seed * 1000 + it
    opponents = [_llm(f"iter-{k}" if k else "base", m, opts.llm_params) for k, m in enumerate(pool)]
    say(f"iteration {it}: {current} plays {', '.join(_anchor_name(o) for o in opponents + opts.baselines)}")
    play = RunConfig(games=[game], agents=[_llm("model", current, opts.llm_params), *opponents, *opts.baselines],
                     schedule="gauntlet", focus="model", games_per_pair=opts.games_per_pair, seed=seed,
                     concurrency=opts.concurrency)
    play_run = new_run(store, play)
    execute(store, play_run)
    leaked = {int(store.trajectory(m).seed) for m in store.match_players(play_run)} & set(seeds)
    if leaked:
        raise RuntimeError(f"play seeds {sorted(leaked)} collide with evaluation seeds; change --seed")
    say(f"iteration {it}: exporting {opts.export.kind} pairs ({opts.export.rollout} values"
        f"{', experts' if opts.export.experts else ''})")
    agents = [] if opts.export.experts else ["model"]
    exported = export_preferences(store, folder / "pairs.jsonl", replace(
        opts.export, run_id=play_run, agents=agents, split_seed=str(seed), seed=seed))
    record: dict[str, Any] = {"iteration": it, "from_model": current, "play_run": play_run,
                              "pairs": len(exported.rows), "export": dict(exported.stats),
                              "export_summary": exported.summary(), "data": str(exported.path), "model": None}
    train_rows = sum(r["split"] == "train" for r in exported.rows)
    if not train_rows:
        say(f"iteration {it}: no training pair ({exported.summary()}); the model is not trained")
        return record
    say(f"iteration {it}: {opts.train.loss} on {train_rows} pairs ({len(exported.rows) - train_rows} held out), "
        f"{opts.train.steps} steps")
    report = train_dpo(exported.path, current, folder / "model", replace(opts.train, seed=seed))
    record.update(model=str(folder / "model"), train={k: report[k] for k in (
        "trained_pairs", "test_pairs", "steps", "train_loss", "losses", "reward_margins", "reward_accuracies",
        "ranking_accuracy", "eval", "seconds", "size_mb", "loss")})
    anchors = list(base_rows)
    say(f"iteration {it}: evaluating the tuned model vs {', '.join(anchors)} and vs base on {len(seeds)} fresh seeds")
    tuned, base = _llm("tuned", record["model"], opts.llm_params), _llm("base", opts.base, opts.llm_params)
    run = play_mirrored(store, game, [tuned, base, *opts.baselines], [("tuned", a) for a in anchors] +
                        [("tuned", "base")], seeds, opts.concurrency)
    record["eval_run"] = run
    record["vs"] = {}
    for a in anchors:
        rows, dropped = mirrored_pairs(store, run, "tuned", a, chance)
        record["vs"][a] = {**summarize(rows, opts.bootstrap, seed), "replicates_dropped": dropped,
                           "change": paired_difference(rows, base_rows[a][0], opts.bootstrap, seed)}
    rows, dropped = mirrored_pairs(store, run, "tuned", "base", chance)
    record["head_to_head"] = {**summarize(rows, opts.bootstrap, seed), "replicates_dropped": dropped,
                              "sprt": sprt([r["score"] for r in rows], opts.elo0, opts.elo1)}
    return record
