"""Hold'em trajectories as Poker Hand History (PHH) files, one per hand, read back by pokerkit.

``export_phh(traj)`` replays the match from its game spec and seed (the deals come from
the seed, so the trajectory's actions are all that is needed), then writes each finished
hand as a PHH text (``pokerkit.HandHistory``, variant ``NT``): antes, blinds, min bet,
starting stacks in pokerkit's player order (small blind first, button last), every
dealing and action (``d dh p1 AsKd``, ``p2 cbr 6``, ``p1 sm ...``), and the metadata
``hand``, ``players`` (agent names), ``seats`` (arena seat + 1), ``seat_count``,
``table`` (match id), ``finishing_stacks``, ``_arena_game`` and ``_arena_seed``.  A hand
cut short by a forfeit is not written.  ``pokerkit.HandHistory.loads(text)`` replays
each file to the same finishing stacks.

CLI (to mount): :func:`phh_command` writes ``OUT/<match id>-<hand>.phh`` for the hold'em
matches of a store, a run or one match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pokerkit import HandHistory
from pokerkit.state import (
    BoardDealing,
    CheckingOrCalling,
    CompletionBettingOrRaisingTo,
    Folding,
    HoleCardsShowingOrMucking,
    HoleDealing,
)

from arena.trajectory import Trajectory


def replayed_state(traj: Trajectory) -> Any:
    """The hold'em State at the end of ``traj`` (rebuilt from its game spec, seed and actions)."""
    from arena.games.poker.holdem import HoldemState
    from arena.games.registry import parse_game
    state = parse_game(traj.game).make(traj.seed)
    if not isinstance(state, HoldemState):
        raise ValueError(f"{traj.game} is not a hold'em game; PHH export needs holdem")
    for step in traj.steps:
        state.apply(step.player, step.action)
    return state


def phh_actions(ops: Any) -> list[str]:
    """pokerkit operations -> PHH action strings (as ``HandHistory.from_game_state`` writes them)."""
    actions = []
    for op in ops:
        if isinstance(op, HoleDealing):
            actions.append(f"d dh p{op.player_index + 1} " + "".join(map(repr, op.cards)))
        elif isinstance(op, BoardDealing):
            actions.append("d db " + "".join(map(repr, op.cards)))
        elif isinstance(op, Folding):
            actions.append(f"p{op.player_index + 1} f")
        elif isinstance(op, CheckingOrCalling):
            actions.append(f"p{op.player_index + 1} cc")
        elif isinstance(op, CompletionBettingOrRaisingTo):
            actions.append(f"p{op.player_index + 1} cbr {op.amount}")
        elif isinstance(op, HoleCardsShowingOrMucking):
            actions.append((f"p{op.player_index + 1} sm " + "".join(map(repr, op.hole_cards))).strip())
    return actions


def hand_histories(state: Any, names: list[str] | None = None, **meta: Any) -> list[HandHistory]:
    """Every finished hand of a hold'em State as a :class:`pokerkit.HandHistory`."""
    out = []
    for record in state.records:
        k = len(record.order)
        starting = [record.starting[s] for s in record.order]
        finishing = [record.starting[s] + record.payoffs[s] for s in record.order]
        fields: dict[str, Any] = dict(
            variant="NT", ante_trimming_status=True, antes=[state.ante] * k,
            blinds_or_straddles=[state.sb, state.bb] + [0] * (k - 2), min_bet=state.bb,
            starting_stacks=starting, actions=phh_actions(record.ops), hand=record.number + 1,
            seats=[s + 1 for s in record.order], seat_count=state.num_players, finishing_stacks=finishing)
        if names:
            fields["players"] = [names[s] for s in record.order]
        if meta.get("table") is not None:
            fields["table"] = meta["table"]
        extra = {f"_arena_{k}": v for k, v in meta.items() if k != "table" and v is not None}
        out.append(HandHistory(**fields, user_defined_fields=extra))
    return out


def export_phh(traj: Trajectory) -> list[str]:
    """One PHH text per finished hand of a hold'em trajectory."""
    state = replayed_state(traj)
    names = [p.name for p in sorted(traj.players, key=lambda p: p.seat)]
    return [h.dumps() + "\n" for h in hand_histories(state, names, table=traj.match_id, game=traj.game,
                                                     seed=traj.seed)]


def phh_command(db: str = "arena.db", out: str = "phh", run: str | None = None,
                match: str | None = None) -> list[Path]:
    """Write ``OUT/<match id>-<hand:04d>.phh`` for every hold'em match of the store ``db``
    (only run ``run``, or only match ``match``); returns the files written."""
    from arena.atomic import write_text
    from arena.store import Store
    store = Store(db, must_exist=True)
    try:
        match_ids = [match] if match else sorted(store.match_players(run))
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for match_id in match_ids:
            traj = store.trajectory(match_id)
            if traj.game.partition(":")[0] != "holdem":
                if match:
                    raise ValueError(f"match {match_id} is {traj.game}, not holdem")
                continue
            for i, text in enumerate(export_phh(traj), 1):
                path = folder / f"{match_id}-{i:04d}.phh"
                write_text(path, text)
                written.append(path)
        return written
    finally:
        store.close()
