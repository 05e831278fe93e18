"""Stored LLM turns -> preference / KTO / SFT datasets in TRL's conversational format.

Every row's ``prompt`` is the chat the model was actually sent at that turn (system +
user; for a turn that needed re-prompts, the first prompt, without the refused answers
and the feedback) -- only what that player could see, because the match only ever shows
a player its own observation.  Completions are one assistant message holding the action
in the format the model was asked for: the bare action (``"D"``), or ``"Final answer: D"``
when the model was asked to reason first; a free-text action is the sampled reply itself.

Kinds:

- ``step`` -- counterfactual pairs (``prompt``, ``chosen``, ``rejected``).  Each sampled LLM
  turn is restored by replaying its match (:mod:`arena.export.replay`); every legal action
  (or ``candidates`` of them, or for free text ``free_text_samples`` replies sampled from
  the player's model) is valued by ``rollouts`` rollouts (:mod:`arena.export.values`);
  best vs worst is kept when the gap exceeds ``min_margin`` standard errors (and ``min_gap``;
  when every rollout is identical -- deterministic game and policies -- the SE is void and only
  ``min_gap`` applies, counted as ``points_deterministic`` and marked ``+deterministic``).  The
  default rollout policy is the players' own recorded agents (``random`` only when asked).  At a
  simultaneous node the other movers choose again by the rollout policy (``co_movers``).
  Hidden-information games are valued through ``determinize`` or refused (``allow_peeking``).
  Up to ``rollout_batch`` rollouts run at once, across decision points and matches, so the
  LLM decisions pending together reach a local model as one batch (1: one after another).
- ``outcome`` -- the same prompt met in different matches with different actions: the
  action with the best mean final return vs the worst, same margin rule (unpaired SE).
- ``kto`` -- every LLM turn (``prompt``, ``completion``, ``label``): label = the player's
  final return minus its seat's baseline (mean return of that seat in that game over the
  matches exported from) is positive; ties are left out.
- ``sft`` -- (``prompt``, ``completion``) for every turn of a player that won (rank 1 and
  not a draw between all players).

Metadata columns: ``kind, game, match_id, seed, turn, player, role`` (the player's name),
``policy`` (its agent spec), the actions, ``values``/``value_se``/``counts`` (JSON strings
``{action: number}``), ``rollouts``, ``value_source``, ``margin`` (gap in score units),
``margin_se``, ``split`` (by ``prompt_id``, see :mod:`arena.export.dataset`) and those of
:mod:`arena.export.rows` (``opponent``, ``game_version``, ``logprobs``, ``prompt_id``, ``count``:
identical rows are merged).  ``rollouts`` counts the samples behind the values (rollouts per
action for ``step``, occurrences of the prompt for ``outcome``).  Forfeited matches are left out
of ``outcome``, ``kto`` and ``sft`` (their scores do not say who played better).  ``experts``
also exports seats that sent no prompt (MCTS, CFR, scripted) with the prompt an LLM would have
had.  Every export counts why decision points gave no row (:func:`arena.export.rows.explain`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from arena.agents.llm import extract_answer
from arena.export.dataset import as_json, split_of, write_rows
from arena.export.labels import Prompts, kto_rows, outcome_rows, sft_rows
from arena.export.options import ExportOptions
from arena.export.replay import (
    DecisionPoint,
    ResolveGame,
    default_resolver,
    replay_or_skip,
)
from arena.export.rows import (
    answer_text,
    assistant,
    dedupe,
    explain,
    llm_prompt,
    meta,
    prompt_id,
    prompt_of,
    seat,
    turn_kind,
)
from arena.export.values import (
    RolloutPolicy,
    RolloutWindow,
    action_errors,
    deterministic,
    estimate,
    has_determinize,
    seed_key,
    select_pair,
)
from arena.games.hidden import PEEKING, check_peeking, peeks
from arena.agents.registry import parse_agent
from arena.options import build
from arena.store import Store
from arena.trajectory import Trajectory

__all__ = [
    "ExportOptions",
    "ExportResult",
    "answer_text",
    "build_rows",
    "export_preferences",
    "load_trajectories",
    "prompt_of",
]

log = logging.getLogger(__name__)
Row = dict[str, Any]


@dataclass
class ExportResult:
    rows: list[Row]
    stats: Counter
    path: Path | None = None

    def summary(self) -> str:
        parts = [f"{self.stats.get(k, 0)} {k.replace('_', ' ')}" for k in sorted(self.stats)]
        test = sum(r["split"] == "test" for r in self.rows)
        why = explain(self.stats, len(self.rows))
        return (f"{len(self.rows)} rows ({len(self.rows) - test} train, {test} test); " + ", ".join(parts)
                + (f"\n{'no row: ' if not self.rows else 'dropped: '}{why}" if why else ""))


# --- entry point ---------------------------------------------------------------------------
def export_preferences(store: Store | str | Path, out: str | Path | None = None,
                       options: ExportOptions | None = None, *, resolve_game: ResolveGame | None = None,
                       **overrides: Any) -> ExportResult:
    """Build the rows of one kind from a store (and write them to ``out`` when given).

    ``resolve_game(game_spec) -> make_state(seed)`` rebuilds a stored game for replay
    (default: the registry); pass one for games that are not registered.
    """
    opts = build(ExportOptions, overrides, options)
    owned = not isinstance(store, Store)
    db = Store(store, must_exist=True) if owned else store
    try:
        trajectories = load_trajectories(db, opts.run_id, opts.games)
    finally:
        if owned:
            db.close()
    rows, stats = build_rows(trajectories, opts, resolve_game or default_resolver)
    if opts.split > 0 and rows and not any(r["split"] == "test" for r in rows):
        log.warning("split %.2f put no prompt in the test split (%d prompts)", opts.split,
                    len({r["prompt_id"] for r in rows}))
    path = write_rows(rows, out) if out is not None else None
    return ExportResult(rows, stats, path)


def load_trajectories(store: Store, run_id: str | None = None, games: Iterable[str] = ()) -> list[Trajectory]:
    """Finished matches (of one run, of some games), in match-id order."""
    wanted = list(games)
    out = []
    for match_id in sorted(store.match_players(run_id)):
        traj = store.trajectory(match_id)
        if not wanted or traj.game in wanted or traj.game.partition(":")[0] in wanted:
            out.append(traj)
    return out


def build_rows(trajectories: list[Trajectory], opts: ExportOptions,
               resolve_game: ResolveGame = default_resolver) -> tuple[list[Row], Counter]:
    stats: Counter = Counter(matches=len(trajectories))
    if opts.kind == "step":
        rows = asyncio.run(_step_rows(trajectories, opts, resolve_game, stats))
    else:
        prompts = Prompts(opts.agents, opts.experts, stats).render(trajectories, resolve_game)
        rows = {"outcome": outcome_rows, "kto": kto_rows, "sft": sft_rows}[opts.kind](
            trajectories, opts, stats, prompts)
    rows = dedupe(rows, stats)
    for row in rows:  # split by prompt: the same prompt (seen in several matches) is on one side only
        row["prompt_id"] = prompt_id(row["prompt"])
        row["split"] = split_of(row["prompt_id"], opts.split, opts.split_seed)
    return rows, stats


# --- step: counterfactual pairs -------------------------------------------------------------
async def _step_rows(trajectories: list[Trajectory], opts: ExportOptions, resolve: ResolveGame,
                     stats: Counter) -> list[Row]:
    policy = RolloutPolicy(opts.rollout)
    window = RolloutWindow(opts.rollout_batch, opts.rollouts)  # rollouts in flight across points and matches
    for traj in trajectories:
        kinds = {s.index: turn_kind(traj, s, opts.agents, opts.experts, stats) for s in traj.steps}
        if not any(kinds.values()):
            continue
        points = replay_or_skip(traj, resolve)
        if points is None:
            stats["matches_skipped_replay"] += 1
            continue
        if points and check_peeking(points[0].state, "step values", opts.allow_peeking):
            stats["peeking_matches"] += 1
        chosen = _sample_points([p for p in points if kinds[p.step.index]], opts, seed_key(traj))
        stats["decision_points"] += len(chosen)
        for p in chosen:
            await window.submit(_point_row(p, opts, policy, stats, window.limit))
    return [row for row in await window.results() if row is not None]


def _sample_points(points: list[DecisionPoint], opts: ExportOptions, key: str) -> list[DecisionPoint]:
    rng = random.Random(f"{opts.seed}:{key}:points")
    keep = [p for p in points if opts.sample >= 1.0 or rng.random() < opts.sample]
    if opts.max_points and len(keep) > opts.max_points:
        picked = set(rng.sample(range(len(keep)), opts.max_points))
        keep = [p for i, p in enumerate(keep) if i in picked]
    return keep


async def _point_row(point: DecisionPoint, opts: ExportOptions, policy: RolloutPolicy, stats: Counter,
                     limit: asyncio.Semaphore | None = None) -> Row | None:
    step = point.step
    prompt = prompt_of(step) if step.messages else llm_prompt(point.state, point.player)
    candidates = await _candidates(point, prompt, opts, stats)
    if len(candidates) < 2:
        stats["points_single_candidate"] += 1
        return None
    samples = await estimate(point, list(candidates), policy, opts.rollouts, opts.seed, opts.co_movers, limit)
    fixed = deterministic(samples)
    if fixed:
        stats["points_deterministic"] += 1
    pair, why = select_pair(samples, opts.min_margin, paired=True, min_gap=opts.min_gap)
    if pair is None:
        stats[{"tie": "points_tied", "margin": "points_below_margin", "gap": "points_below_gap"}.get(
            why, "points_single_candidate")] += 1
        return None
    stats["pairs"] += 1
    hindsight = opts.co_movers == "stored" and len(point.node) > 1 and not has_determinize(point.state)
    peeking = opts.allow_peeking and peeks(point.state)
    source = policy.source + ("+determinized" if has_determinize(point.state) else "") + (
        "+stored-co-movers" if hindsight else "") + (PEEKING if peeking else "") + (
        "+deterministic" if fixed else "") + ("+expert" if not step.messages else "")
    errors = action_errors(samples)
    return {"prompt": prompt, "chosen": assistant(candidates[pair.chosen]),
            "rejected": assistant(candidates[pair.rejected]), **meta("step", point.traj, step, source),
            "chosen_action": pair.chosen, "rejected_action": pair.rejected, "played_action": step.action,
            "values": as_json({a: fmean(v) for a, v in samples.items()}), "value_se": as_json(errors),
            "rollouts": int(opts.rollouts), "margin": float(pair.gap),
            "margin_se": None if pair.se is None else float(pair.se)}


async def _candidates(point: DecisionPoint, prompt: list[dict[str, str]], opts: ExportOptions,
                      stats: Counter) -> dict[str, str]:
    """Candidate action -> the assistant text for it."""
    step = point.step
    legal = step.legal_actions
    if legal is not None:
        actions = list(legal)
        if opts.candidates and len(actions) > opts.candidates:
            rng = random.Random(f"{opts.seed}:{seed_key(point.traj)}:{step.index}:candidates")
            others = rng.sample([a for a in actions if a != step.action], opts.candidates - 1)
            actions = [a for a in actions if a == step.action or a in others]
        return {a: answer_text(prompt, legal, a) for a in actions}
    if opts.free_text_samples < 2:
        stats["free_text_points_skipped"] += 1
        return {}
    found = {step.action: step.completion or step.action}
    for action, text in await _sample_free_text(point, prompt, opts):
        found.setdefault(action, text)
    return found


async def _sample_free_text(point: DecisionPoint, prompt: list[dict[str, str]],
                            opts: ExportOptions) -> list[tuple[str, str]]:
    spec = opts.sampler or seat(point.traj, point.player).spec
    try:
        agent = parse_agent(spec).make()
    except Exception as err:
        log.warning("cannot build the free-text sampler %r: %s", spec, err)
        return []
    backend = getattr(agent, "backend", None)
    if backend is None:
        log.warning("free-text sampler %r is not an LLM agent; free-text turns get no candidates", spec)
        return []
    base = zlib.crc32(f"{opts.seed}:{seed_key(point.traj)}:{point.step.index}".encode())
    replies = await asyncio.gather(*(backend.complete(prompt, max_tokens=agent.max_tokens,
                                                      temperature=opts.sample_temperature, seed=base + i)
                                     for i in range(opts.free_text_samples - 1)), return_exceptions=True)
    out = []
    for reply in replies:
        if isinstance(reply, BaseException):
            continue
        try:
            out.append((point.state.parse(point.player, extract_answer(reply.text, agent.reasoning)), reply.text))
        except ValueError:
            continue
    return out


