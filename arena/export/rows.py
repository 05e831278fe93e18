"""What every exported row shares: the prompt (the one sent, or for a non-LLM seat the one an LLM would
have been sent), the answer text, the metadata columns, which turns count, duplicates, and the counts
that explain an export.

**Expert seats.** With ``experts=True`` the turns of seats that sent no prompt (MCTS, CFR,
Stockfish, scripted agents) are exported as if an LLM had held the seat: the prompt is rendered
from the observation that seat saw, by the LLM agent's own prompt builder
(:meth:`arena.agents.llm.LLMAgent.messages`, default template, bare answers), so ``--kind sft``
distils search into the model and step pairs value the search seat's options.

**Metadata** (besides ``kind, game, match_id, seed, turn, player, role, policy, value_source``):
``opponent`` (the other seats' specs, ``", "``-joined), ``game_version`` (``GameInfo.version``),
``logprobs`` (JSON ``{action: log-probability}`` the choice-mode agent computed, or ``"{}"``),
``prompt_id`` (a hash of the prompt: the split is made by it, so no test prompt is in train) and
``count`` (identical rows merged into one).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from arena.agents.base import Turn
from arena.agents.llm import LLMAgent, answer_format
from arena.export.dataset import as_json
from arena.games.base import State
from arena.trajectory import Player, Step, Trajectory

Row = dict[str, Any]


def prompt_of(step: Step) -> list[dict[str, str]]:
    """The chat sent at this turn, up to and including the user turn (first prompt after re-prompts)."""
    messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in step.messages or []]
    if step.attempts:
        first_user = next((i for i, m in enumerate(messages) if m["role"] == "user"), len(messages) - 1)
        messages = messages[:first_user + 1]
    return messages


def llm_prompt(state: State, player: int) -> list[dict[str, str]]:
    """The prompt an LLM agent (default template, bare answers) would be sent for ``player`` at ``state``."""
    turn = Turn(state.game_id, player, state.rules_text(player), state.observation(player),
                state.legal_actions(player), state.observation_data(player))
    return LLMAgent(None, mode="choice").messages(turn)  # type: ignore[arg-type]


def answer_text(prompt: list[dict[str, str]], legal: list[str] | None, action: str) -> str:
    """The action as the model was asked to write it (``Final answer: X`` if asked to reason first)."""
    system = prompt[0]["content"] if prompt and prompt[0]["role"] == "system" else ""
    return f"Final answer: {action}" if answer_format(legal, True) in system else action


def assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def seat(traj: Trajectory, index: int) -> Player:
    return next((p for p in traj.players if p.seat == index), Player(index, f"seat{index}", ""))


def turn_kind(traj: Trajectory, step: Step, agents: list[str], experts: bool, stats: Counter | None = None) -> str:
    """``"model"`` (an LLM turn), ``"expert"`` (a non-LLM seat, when ``experts``) or ``""`` (not exported)."""
    player = seat(traj, step.player)
    if agents and player.name not in agents and player.spec not in agents:
        return ""
    if step.fallback:
        if stats is not None:
            stats["turns_fallback"] += 1
        return ""
    if step.messages:
        return "model"
    return "expert" if experts else ""


def game_version(game: str) -> str:
    from arena.games.registry import game_info
    try:
        return game_info(game.partition(":")[0]).version
    except Exception:  # an unregistered game (a test's resolver)
        return ""


def meta(kind: str, traj: Trajectory, step: Step, source: str) -> Row:
    player = seat(traj, step.player)
    others = [p.spec for p in sorted(traj.players, key=lambda p: p.seat) if p.seat != step.player]
    logprobs = step.info.get("logprobs") if isinstance(step.info, dict) else None
    return {"kind": kind, "game": traj.game, "game_version": game_version(traj.game), "match_id": traj.match_id,
            "seed": int(traj.seed), "turn": int(step.index), "player": int(step.player), "role": player.name,
            "policy": player.spec, "opponent": ", ".join(others), "value_source": source,
            "logprobs": as_json(logprobs if isinstance(logprobs, dict) else {})}


def finished(trajectories: list[Trajectory], stats: Counter) -> list[Trajectory]:
    ok = [t for t in trajectories if t.outcome is not None and t.outcome.reason != "forfeit"]
    if len(ok) < len(trajectories):
        stats["forfeited_matches_skipped"] += len(trajectories) - len(ok)
    return ok


def ret(traj: Trajectory, index: int) -> float:
    assert traj.outcome is not None
    return float(traj.outcome.scores[index])


def prompt_id(prompt: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(prompt, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def dedupe(rows: list[Row], stats: Counter) -> list[Row]:
    """Identical (prompt, answers, label) rows merged into the first, with ``count`` = how many there were."""
    out: dict[str, Row] = {}
    for row in rows:
        key = json.dumps([row.get(k) for k in ("prompt", "chosen", "rejected", "completion", "label")],
                         sort_keys=True, ensure_ascii=False)
        if key in out:
            out[key]["count"] += 1
            stats["duplicates_merged"] += 1
        else:
            out[key] = {**row, "count": 1}
    return list(out.values())


EXPLAIN = {  # stats key -> (what it means, the option that would change it)
    "turns_fallback": ("turns were fallback moves (the agent's answers were refused)",
                       "play with mode=choice, or --agent another seat"),
    "points_single_candidate": ("decision points had one legal action (or one free-text candidate)",
                                "--free-text-samples N for free-text turns"),
    "points_tied": ("decision points had every candidate valued the same", "--rollout players or mcts"),
    "points_below_margin": ("decision points had a value gap within --min-margin standard errors",
                            "a lower --min-margin or more --rollouts"),
    "points_below_gap": ("decision points had a value gap below --min-gap", "a lower --min-gap"),
    "matches_skipped_replay": ("matches could not be replayed (game changed or not deterministic)",
                               "re-play them with this version"),
    "free_text_points_skipped": ("free-text turns had no candidates", "--free-text-samples 3"),
    "groups_below_margin": ("prompt groups had a gap within --min-margin standard errors", "a lower --min-margin"),
    "turns_at_baseline": ("turns scored exactly the seat's baseline", "more matches"),
}


def explain(stats: Counter, rows: int) -> str:
    """Why rows were or were not kept, one clause per reason; for 0 rows also what would change it."""
    reasons = [f"{stats[k]} {text}" + (f" (try {hint})" if not rows else "")
               for k, (text, hint) in EXPLAIN.items() if stats.get(k)]
    if not rows and not reasons:
        reasons = ["no turn of the selected seats was found (try --agent, --experts, or another --run)"]
    return "; ".join(reasons)
