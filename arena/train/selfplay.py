"""The self-play loop: play -> export -> train -> play again, and measure the rating change.

One iteration, with ``current`` the model being improved (the base model at first):

1. **play** -- a gauntlet in which ``current`` meets a copy of itself and every baseline
   ``games_per_pair`` times (every LLM spec gets ``llm_params``, ``mode=choice`` by default:
   the embedded 135M model rarely writes a legal answer but always scores the legal actions;
   ``play_temperature`` applies in generate mode);
2. **export** -- preference pairs of kind ``kind`` from the LLM turns of those matches
   (counterfactual ``step`` pairs by default, see :mod:`arena.export.preferences`);
3. **train** -- DPO from ``current`` on those pairs (:func:`arena.train.dpo.train_dpo`) into
   ``OUT/iter-N/model``;
4. **evaluate** -- a round robin of the new model (``tuned``), the base model (``base``),
   the previous model (``previous``, from iteration 2 on) and the baselines (LLMs greedy unless
   ``eval_temperature`` > 0 in generate mode); ratings are Bradley--Terry anchored at ``base`` = 1500, so
   ``tuned``'s rating and its 95% bootstrap interval (whole matches resampled) *are* the
   rating change against the base model and its interval.

Everything lands in one store (``OUT/selfplay.db``: a play run and an eval run per
iteration) and every iteration's pairs, model and training report under ``OUT/iter-N``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from arena.export.preferences import export_preferences
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from arena.tournaments.summary import store_document
from arena.train.dpo import train_dpo

log = logging.getLogger(__name__)
BASELINES = ["tit-for-tat", "always-defect", "always-cooperate"]
Progress = Callable[[str], None]


@dataclass
class SelfPlayOptions:
    base: str = "local:smollm2"
    baselines: list[str] = field(default_factory=lambda: list(BASELINES))
    games_per_pair: int = 2  # play phase: matches of the model against each opponent
    eval_games_per_pair: int = 4  # evaluation round robin
    llm_params: str = "mode=choice"  # added to every LLM spec (the embedded 135M model rarely answers legally
    # when generating; in choice mode it scores the legal actions and never does)
    play_temperature: float = 0.7  # generate mode only
    eval_temperature: float = 0.0
    kind: str = "step"  # step | outcome
    rollout: str = "random"
    rollouts: int = 8
    min_margin: float = 2.0
    steps: int = 10
    lr: float = 5e-6
    beta: float = 0.1
    batch_size: int = 2
    max_length: int = 1024
    seed: int = 0
    concurrency: int = 8
    bootstrap: int = 1000

    def __post_init__(self) -> None:
        if self.kind not in ("step", "outcome"):
            raise ValueError(f"self-play trains DPO on pairs: kind must be step or outcome, not {self.kind!r}")


def _llm(name: str, model: str, temperature: float, params: str) -> str:
    spec = model if model.startswith("local:") else f"local:{model}"
    sampled = temperature > 0 and "mode=choice" not in params  # choice mode takes the best-scored action
    extra = [p for p in (params.strip(), f"temperature={temperature:g}" if sampled else "") if p]
    return f"{name}={spec}" + (":" + ",".join(extra) if extra else "")


def selfplay(game: str, iterations: int = 1, out_dir: str | Path = "selfplay", options: SelfPlayOptions | None = None,
             progress: Progress | None = None, **overrides: Any) -> list[dict[str, Any]]:
    """Run ``iterations`` of play -> export -> train -> evaluate; one summary dict per iteration."""
    known = {f.name for f in fields(SelfPlayOptions)}
    if set(overrides) - known:
        raise TypeError(f"unknown option(s) {', '.join(sorted(set(overrides) - known))}")
    opts = SelfPlayOptions(**{**(asdict(options) if options else {}), **overrides})
    if iterations < 1:
        raise ValueError("iterations must be at least 1")
    say = progress or (lambda message: log.info("%s", message))
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out / "selfplay.db")
    current, summaries = opts.base, []
    try:
        for it in range(1, iterations + 1):
            summary = _iteration(store, game, it, current, out / f"iter-{it}", opts, say)
            summaries.append(summary)
            if summary.get("model"):
                current = "local:" + summary["model"]
    finally:
        store.close()
    return summaries


def _iteration(store: Store, game: str, it: int, current: str, folder: Path, opts: SelfPlayOptions,
               say: Progress) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    seed = opts.seed * 1000 + it
    say(f"iteration {it}: playing {current} against itself and {', '.join(opts.baselines) or 'nobody else'}")
    players = [_llm(name, current, opts.play_temperature, opts.llm_params) for name in ("model", "model-mirror")]
    play = RunConfig(games=[game], agents=players + list(opts.baselines),
                     schedule="gauntlet", focus="model", games_per_pair=opts.games_per_pair, seed=seed,
                     concurrency=opts.concurrency)
    play_run = new_run(store, play)
    execute(store, play_run)
    say(f"iteration {it}: exporting {opts.kind} pairs from run {play_run}")
    exported = export_preferences(store, folder / "pairs.jsonl", kind=opts.kind, run_id=play_run,
                                  rollout=opts.rollout, rollouts=opts.rollouts, min_margin=opts.min_margin,
                                  seed=seed)
    summary: dict[str, Any] = {"iteration": it, "from_model": current, "play_run": play_run,
                               "pairs": len(exported.rows), "export": dict(exported.stats),
                               "data": str(exported.path), "model": None}
    if not exported.rows:
        say(f"iteration {it}: no preference pair passed the filters; the model is not trained")
        return summary
    say(f"iteration {it}: DPO on {len(exported.rows)} pairs, {opts.steps} steps")
    report = train_dpo(exported.path, current, folder / "model", steps=opts.steps, lr=opts.lr, beta=opts.beta,
                       batch_size=opts.batch_size, max_length=opts.max_length, seed=seed)
    summary.update(model=str(folder / "model"), train={k: report[k] for k in (
        "trained_pairs", "dropped_too_long", "truncated", "steps", "train_loss", "losses", "seconds")})
    agents = [_llm(name, model, opts.eval_temperature, opts.llm_params) for name, model in
              (("tuned", summary["model"]), ("base", opts.base), ("previous", current)) if
              name != "previous" or current != opts.base]
    say(f"iteration {it}: evaluating tuned vs base{' vs previous' if current != opts.base else ''} "
        f"and the baselines")
    evaluation = RunConfig(games=[game], agents=agents + list(opts.baselines), games_per_pair=opts.eval_games_per_pair,
                           seed=seed + 500, concurrency=opts.concurrency)
    eval_run = new_run(store, evaluation)
    execute(store, eval_run)
    doc = store_document(store, eval_run, anchor="base", n_boot=opts.bootstrap, seed=seed)
    rows = {r["agent"]: r for r in doc["leaderboard"]}
    summary.update(eval_run=eval_run, leaderboard=[_brief(r) for r in doc["leaderboard"]],
                   rating_change=rows["tuned"]["bt"] - rows["base"]["bt"], rating_change_ci=rows["tuned"]["bt_ci"],
                   mean_score={"tuned": rows["tuned"]["mean_score"], "base": rows["base"]["mean_score"]})
    return summary


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    keep = ("agent", "games", "wins", "draws", "losses", "mean_score", "bt", "bt_ci", "illegal_rate")
    out = {k: row[k] for k in keep if k in row}
    if "cooperation_rate" in row.get("metrics", {}):
        out["cooperation_rate"] = row["metrics"]["cooperation_rate"]
    return out
