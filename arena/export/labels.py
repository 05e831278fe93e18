"""Labels from outcomes: ``outcome`` pairs (same prompt, different actions, different matches), ``kto``
rows (return vs the seat's baseline) and ``sft`` rows (the winners' turns); see :mod:`arena.export.preferences`."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from arena.export.dataset import as_json
from arena.export.replay import ResolveGame, replay_or_skip
from arena.export.rows import (
    Row,
    answer_text,
    assistant,
    finished,
    llm_prompt,
    meta,
    prompt_of,
    ret,
    turn_kind,
)
from arena.export.values import action_errors, select_pair
from arena.trajectory import Step, Trajectory


@dataclass
class Prompts:
    """Which turns are exported and their prompts: the one sent (LLM turns) or rendered (expert turns)."""

    agents: list[str]
    experts: bool
    stats: Counter
    rendered: dict[tuple[str, int], list[dict[str, str]]] = field(default_factory=dict)

    def has(self, traj: Trajectory, step: Step) -> bool:
        kind = turn_kind(traj, step, self.agents, self.experts)
        return kind == "model" or (kind == "expert" and (traj.match_id, step.index) in self.rendered)

    def of(self, traj: Trajectory, step: Step) -> list[dict[str, str]]:
        return prompt_of(step) if step.messages else self.rendered[(traj.match_id, step.index)]

    def render(self, trajectories: list[Trajectory], resolve: ResolveGame) -> Prompts:
        """Replay the matches with expert turns and render those turns' prompts."""
        for traj in trajectories:
            for step in traj.steps:  # count fallback turns once
                turn_kind(traj, step, self.agents, self.experts, self.stats)
            if not self.experts or not any(turn_kind(traj, s, self.agents, True) == "expert" for s in traj.steps):
                continue
            points = replay_or_skip(traj, resolve)
            if points is None:
                self.stats["matches_skipped_replay"] += 1
                continue
            for point in points:
                if turn_kind(traj, point.step, self.agents, True) == "expert":
                    self.rendered[(traj.match_id, point.step.index)] = llm_prompt(point.state, point.player)
        return self


# --- outcome: same prompt, different actions, different matches -------------------------------
def outcome_rows(trajectories: list[Trajectory], opts: Any, stats: Counter, prompts: Prompts) -> list[Row]:
    groups: dict[str, list[tuple[Trajectory, Step]]] = defaultdict(list)
    for traj in finished(trajectories, stats):
        for step in traj.steps:
            if prompts.has(traj, step):
                groups[json.dumps(prompts.of(traj, step), sort_keys=True)].append((traj, step))
    rows = []
    for items in groups.values():
        samples: dict[str, list[float]] = defaultdict(list)
        for traj, step in items:
            samples[step.action].append(ret(traj, step.player))
        if len(samples) < 2 or len({t.match_id for t, _ in items}) < 2:
            continue
        stats["prompt_groups"] += 1
        pair, why = select_pair(samples, opts.min_margin, paired=False)
        if pair is None:
            stats["groups_tied" if why == "tie" else "groups_below_margin"] += 1
            continue
        stats["pairs"] += 1
        traj, step = next((t, s) for t, s in items if s.action == pair.chosen)
        prompt = prompts.of(traj, step)
        rows.append({"prompt": prompt, "chosen": assistant(answer_text(prompt, step.legal_actions, pair.chosen)),
                     "rejected": assistant(answer_text(prompt, step.legal_actions, pair.rejected)),
                     **meta("outcome", traj, step, "outcome"), "chosen_action": pair.chosen,
                     "rejected_action": pair.rejected,
                     "values": as_json({a: fmean(v) for a, v in samples.items()}),
                     "value_se": as_json(action_errors(samples)),
                     "counts": as_json({a: len(v) for a, v in samples.items()}),
                     "match_ids": as_json(sorted({t.match_id for t, _ in items})),
                     "rollouts": len(items), "margin": float(pair.gap),
                     "margin_se": None if pair.se is None else float(pair.se)})
    return rows


# --- kto and sft ---------------------------------------------------------------------------------
def seat_baselines(trajectories: list[Trajectory]) -> dict[tuple[str, int], float]:
    """Mean final return of each seat in each game (the game spec string), over these matches."""
    returns: dict[tuple[str, int], list[float]] = defaultdict(list)
    for traj in trajectories:
        for seat in range(len(traj.players)):
            returns[(traj.game, seat)].append(ret(traj, seat))
    return {key: fmean(v) for key, v in returns.items()}


def _completion_row(kind: str, traj: Trajectory, step: Step, source: str, prompts: Prompts) -> Row:
    prompt = prompts.of(traj, step)
    return {"prompt": prompt, "completion": assistant(answer_text(prompt, step.legal_actions, step.action)),
            **meta(kind, traj, step, source), "action": step.action}


def kto_rows(trajectories: list[Trajectory], opts: Any, stats: Counter, prompts: Prompts) -> list[Row]:
    done = finished(trajectories, stats)
    baselines = seat_baselines(done)
    rows = []
    for traj in done:
        for step in traj.steps:
            if not prompts.has(traj, step):
                continue
            got, base = ret(traj, step.player), baselines[(traj.game, step.player)]
            if abs(got - base) <= 1e-12:
                stats["turns_at_baseline"] += 1
                continue
            stats["desirable" if got > base else "undesirable"] += 1
            rows.append({**_completion_row("kto", traj, step, "seat-baseline", prompts), "label": got > base,
                         "return": got, "baseline": float(base), "advantage": got - base})
    return rows


def sft_rows(trajectories: list[Trajectory], opts: Any, stats: Counter, prompts: Prompts) -> list[Row]:
    rows = []
    for traj in finished(trajectories, stats):
        assert traj.outcome is not None
        ranks = traj.outcome.ranks
        for step in traj.steps:
            if prompts.has(traj, step) and ranks[step.player] == 1 and max(ranks) > 1:
                stats["winner_turns"] += 1
                rows.append({**_completion_row("sft", traj, step, "winner" if step.messages else "expert-winner", prompts),
                             "return": ret(traj, step.player), "rank": int(ranks[step.player])})
    return rows
