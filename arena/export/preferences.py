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
  best vs worst is kept when the gap exceeds ``min_margin`` standard errors.  At a
  simultaneous node the other movers choose again by the rollout policy (``co_movers``).
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
``margin_se`` and ``split`` (see :mod:`arena.export.dataset`); ``rollouts`` counts the samples
behind the values (rollouts per action for ``step``, occurrences of the prompt for ``outcome``).  Forfeited matches are
left out of ``outcome``, ``kto`` and ``sft`` (their scores do not say who played better).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from statistics import fmean
from typing import Any

from arena.agents.llm import answer_format, extract_answer
from arena.export.dataset import as_json, split_of, write_rows
from arena.export.replay import DecisionPoint, ResolveGame, default_resolver, replay_or_skip
from arena.export.values import CO_MOVERS, RolloutPolicy, action_errors, estimate, has_determinize, select_pair
from arena.registry import parse_agent
from arena.store import Store
from arena.trajectory import Player, Step, Trajectory

log = logging.getLogger(__name__)
KINDS = ("step", "outcome", "kto", "sft")
Row = dict[str, Any]


@dataclass
class ExportOptions:
    kind: str = "step"
    games: list[str] = field(default_factory=list)  # game specs or ids; empty = all
    run_id: str | None = None
    agents: list[str] = field(default_factory=list)  # player names or specs whose turns count; empty = all LLMs
    min_margin: float = 2.0  # step/outcome: keep a pair when gap > min_margin * SE(gap)
    split: float = 0.0  # fraction of matches in the test split
    split_seed: str = ""
    rollouts: int = 16  # step: samples per candidate action
    rollout: str = "random"  # step: random | players | mcts[:simulations=N] | an agent spec
    co_movers: str = "policy"  # step: the other movers of a simultaneous node: policy (re-chosen) | stored
    candidates: int = 0  # step: at most this many legal actions per turn (the played one included); 0 = all
    sample: float = 1.0  # step: probability that an LLM turn becomes a decision point
    max_points: int = 0  # step: at most this many decision points per match; 0 = no limit
    free_text_samples: int = 0  # step: candidates for a free-text turn (the stored reply + n-1 samples)
    sampler: str = ""  # step: agent spec sampling free-text candidates (default: the player's own spec)
    sample_temperature: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.co_movers not in CO_MOVERS:
            raise ValueError(f"unknown co_movers {self.co_movers!r}; valid: {', '.join(CO_MOVERS)}")
        if self.rollouts < 1:
            raise ValueError("rollouts must be at least 1")
        if not 0.0 < self.sample <= 1.0:
            raise ValueError(f"sample must be in (0, 1], got {self.sample}")
        for name in ("candidates", "max_points", "free_text_samples"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        split_of("", self.split)  # validates the fraction


@dataclass
class ExportResult:
    rows: list[Row]
    stats: Counter
    path: Path | None = None

    def summary(self) -> str:
        parts = [f"{self.stats.get(k, 0)} {k.replace('_', ' ')}" for k in sorted(self.stats)]
        test = sum(r["split"] == "test" for r in self.rows)
        return f"{len(self.rows)} rows ({len(self.rows) - test} train, {test} test); " + ", ".join(parts)


# --- entry point ---------------------------------------------------------------------------
def export_preferences(store: Store | str | Path, out: str | Path | None = None,
                       options: ExportOptions | None = None, *, resolve_game: ResolveGame | None = None,
                       **overrides: Any) -> ExportResult:
    """Build the rows of one kind from a store (and write them to ``out`` when given).

    ``resolve_game(game_spec) -> make_state(seed)`` rebuilds a stored game for replay
    (default: the registry); pass one for games that are not registered.
    """
    known = {f.name for f in fields(ExportOptions)}
    if set(overrides) - known:
        raise TypeError(f"unknown option(s) {', '.join(sorted(set(overrides) - known))}")
    opts = ExportOptions(**{**(options.__dict__ if options else {}), **overrides})
    owned = not isinstance(store, Store)
    db = Store(store, must_exist=True) if owned else store
    try:
        trajectories = load_trajectories(db, opts.run_id, opts.games)
    finally:
        if owned:
            db.close()
    rows, stats = build_rows(trajectories, opts, resolve_game or default_resolver)
    if opts.split > 0 and rows and not any(r["split"] == "test" for r in rows):
        log.warning("split %.2f put no match in the test split (%d matches)", opts.split,
                    len({r["match_id"] for r in rows}))
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
    elif opts.kind == "outcome":
        rows = _outcome_rows(trajectories, opts, stats)
    elif opts.kind == "kto":
        rows = _kto_rows(trajectories, opts, stats)
    else:
        rows = _sft_rows(trajectories, opts, stats)
    for row in rows:
        row["split"] = split_of(row["match_id"], opts.split, opts.split_seed)
    return rows, stats


# --- shared pieces --------------------------------------------------------------------------
def prompt_of(step: Step) -> list[dict[str, str]]:
    """The chat sent at this turn, up to and including the user turn (first prompt after re-prompts)."""
    messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in step.messages or []]
    if step.attempts:
        first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), len(messages) - 1)
        messages = messages[:first_user + 1]
    return messages


def answer_text(prompt: list[dict[str, str]], legal: list[str] | None, action: str) -> str:
    """The action as the model was asked to write it (``Final answer: X`` if asked to reason first)."""
    system = prompt[0]["content"] if prompt and prompt[0]["role"] == "system" else ""
    return f"Final answer: {action}" if answer_format(legal, True) in system else action


def assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _seat(traj: Trajectory, seat: int) -> Player:
    return next((p for p in traj.players if p.seat == seat), Player(seat, f"seat{seat}", ""))


def _is_llm_turn(traj: Trajectory, step: Step, opts: ExportOptions) -> bool:
    if not step.messages or step.fallback:
        return False
    player = _seat(traj, step.player)
    return not opts.agents or player.name in opts.agents or player.spec in opts.agents


def _meta(kind: str, traj: Trajectory, step: Step, source: str) -> Row:
    player = _seat(traj, step.player)
    return {"kind": kind, "game": traj.game, "match_id": traj.match_id, "seed": int(traj.seed),
            "turn": int(step.index), "player": int(step.player), "role": player.name, "policy": player.spec,
            "value_source": source}


def _finished(trajectories: list[Trajectory], stats: Counter) -> list[Trajectory]:
    ok = [t for t in trajectories if t.outcome is not None and t.outcome.reason != "forfeit"]
    if len(ok) < len(trajectories):
        stats["forfeited_matches_skipped"] += len(trajectories) - len(ok)
    return ok


def _ret(traj: Trajectory, seat: int) -> float:
    assert traj.outcome is not None
    return float(traj.outcome.scores[seat])


# --- step: counterfactual pairs -------------------------------------------------------------
async def _step_rows(trajectories: list[Trajectory], opts: ExportOptions, resolve: ResolveGame,
                     stats: Counter) -> list[Row]:
    policy = RolloutPolicy(opts.rollout)
    rows: list[Row] = []
    for traj in trajectories:
        if not any(_is_llm_turn(traj, s, opts) for s in traj.steps):
            continue
        points = replay_or_skip(traj, resolve)
        if points is None:
            stats["matches_skipped_replay"] += 1
            continue
        chosen = _sample_points([p for p in points if _is_llm_turn(traj, p.step, opts)], opts, traj.match_id)
        stats["decision_points"] += len(chosen)
        for row in await asyncio.gather(*(_point_row(p, opts, policy, stats) for p in chosen)):
            if row is not None:
                rows.append(row)
    return rows


def _sample_points(points: list[DecisionPoint], opts: ExportOptions, match_id: str) -> list[DecisionPoint]:
    rng = random.Random(f"{opts.seed}:{match_id}:points")
    keep = [p for p in points if opts.sample >= 1.0 or rng.random() < opts.sample]
    if opts.max_points and len(keep) > opts.max_points:
        picked = set(rng.sample(range(len(keep)), opts.max_points))
        keep = [p for i, p in enumerate(keep) if i in picked]
    return keep


async def _point_row(point: DecisionPoint, opts: ExportOptions, policy: RolloutPolicy, stats: Counter) -> Row | None:
    step, prompt = point.step, prompt_of(point.step)
    candidates = await _candidates(point, prompt, opts, stats)
    if len(candidates) < 2:
        stats["points_single_candidate"] += 1
        return None
    samples = await estimate(point, list(candidates), policy, opts.rollouts, opts.seed, opts.co_movers)
    pair, why = select_pair(samples, opts.min_margin, paired=True)
    if pair is None:
        stats[{"tie": "points_tied", "margin": "points_below_margin"}.get(why, "points_single_candidate")] += 1
        return None
    stats["pairs"] += 1
    hindsight = opts.co_movers == "stored" and len(point.node) > 1 and not has_determinize(point.state)
    source = policy.source + ("+determinized" if has_determinize(point.state) else "") + (
        "+stored-co-movers" if hindsight else "")
    errors = action_errors(samples)
    return {"prompt": prompt, "chosen": assistant(candidates[pair.chosen]),
            "rejected": assistant(candidates[pair.rejected]), **_meta("step", point.traj, step, source),
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
            rng = random.Random(f"{opts.seed}:{point.traj.match_id}:{step.index}:candidates")
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
    spec = opts.sampler or _seat(point.traj, point.player).spec
    try:
        agent = parse_agent(spec).make()
    except Exception as err:
        log.warning("cannot build the free-text sampler %r: %s", spec, err)
        return []
    backend = getattr(agent, "backend", None)
    if backend is None:
        log.warning("free-text sampler %r is not an LLM agent; free-text turns get no candidates", spec)
        return []
    base = zlib.crc32(f"{opts.seed}:{point.traj.match_id}:{point.step.index}".encode())
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


# --- outcome: same prompt, different actions, different matches -------------------------------
def _outcome_rows(trajectories: list[Trajectory], opts: ExportOptions, stats: Counter) -> list[Row]:
    groups: dict[str, list[tuple[Trajectory, Step]]] = defaultdict(list)
    for traj in _finished(trajectories, stats):
        for step in traj.steps:
            if _is_llm_turn(traj, step, opts):
                groups[json.dumps(prompt_of(step), sort_keys=True)].append((traj, step))
    rows = []
    for items in groups.values():
        samples: dict[str, list[float]] = defaultdict(list)
        for traj, step in items:
            samples[step.action].append(_ret(traj, step.player))
        if len(samples) < 2 or len({t.match_id for t, _ in items}) < 2:
            continue
        stats["prompt_groups"] += 1
        pair, why = select_pair(samples, opts.min_margin, paired=False)
        if pair is None:
            stats["groups_tied" if why == "tie" else "groups_below_margin"] += 1
            continue
        stats["pairs"] += 1
        traj, step = next((t, s) for t, s in items if s.action == pair.chosen)
        prompt = prompt_of(step)
        rows.append({"prompt": prompt, "chosen": assistant(answer_text(prompt, step.legal_actions, pair.chosen)),
                     "rejected": assistant(answer_text(prompt, step.legal_actions, pair.rejected)),
                     **_meta("outcome", traj, step, "outcome"), "chosen_action": pair.chosen,
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
            returns[(traj.game, seat)].append(_ret(traj, seat))
    return {key: fmean(v) for key, v in returns.items()}


def _completion_row(kind: str, traj: Trajectory, step: Step, source: str) -> Row:
    prompt = prompt_of(step)
    return {"prompt": prompt, "completion": assistant(answer_text(prompt, step.legal_actions, step.action)),
            **_meta(kind, traj, step, source), "action": step.action}


def _kto_rows(trajectories: list[Trajectory], opts: ExportOptions, stats: Counter) -> list[Row]:
    finished = _finished(trajectories, stats)
    baselines = seat_baselines(finished)
    rows = []
    for traj in finished:
        for step in traj.steps:
            if not _is_llm_turn(traj, step, opts):
                continue
            ret, base = _ret(traj, step.player), baselines[(traj.game, step.player)]
            if abs(ret - base) <= 1e-12:
                stats["turns_at_baseline"] += 1
                continue
            stats["desirable" if ret > base else "undesirable"] += 1
            rows.append({**_completion_row("kto", traj, step, "seat-baseline"), "label": ret > base,
                         "return": ret, "baseline": float(base), "advantage": ret - base})
    return rows


def _sft_rows(trajectories: list[Trajectory], opts: ExportOptions, stats: Counter) -> list[Row]:
    rows = []
    for traj in _finished(trajectories, stats):
        assert traj.outcome is not None
        ranks = traj.outcome.ranks
        for step in traj.steps:
            if _is_llm_turn(traj, step, opts) and ranks[step.player] == 1 and max(ranks) > 1:
                stats["winner_turns"] += 1
                rows.append({**_completion_row("sft", traj, step, "winner"),
                             "return": _ret(traj, step.player), "rank": int(ranks[step.player])})
    return rows
