"""Hold'em, Kuhn and Leduc as a table: seats with stacks and bets, pot, board, and hole cards.

Only the viewer's own hole cards are shown; every other seat's cards are backs until a
showdown makes them public (the previous hand's shown cards).  The data comes from the
game's ``observation_data(viewer)``, which already hides what the viewer may not know; the
public view (``viewer=None``) shows only what was shown at showdowns.
"""

from __future__ import annotations

from typing import Any

from arena.games.base import State


def _last_hand_holdem(state: Any) -> dict[str, Any] | None:
    if not state.records:
        return None
    r = state.records[-1]
    return {"number": r.number + 1, "board": list(r.board), "payoffs": list(r.payoffs), "showdown": r.showdown,
            "shown": {s: list(c) for s, c in enumerate(r.shown) if c}}


def _last_hand_limit(state: Any) -> dict[str, Any] | None:
    if not state.records:
        return None
    r = state.records[-1]
    return {"number": len(state.records), "board": [r["board"]] if r["board"] else [], "payoffs": list(r["payoffs"]),
            "showdown": r["showdown"], "shown": dict(enumerate(r["cards"])) if r["showdown"] else {}}


def frame(state: State, viewer: int | None) -> dict[str, Any]:
    holdem = state.game_id == "holdem"
    last = _last_hand_holdem(state) if holdem else _last_hand_limit(state)
    if last is not None:
        last["shown"] = {s: c if isinstance(c, list) else [c] for s, c in last["shown"].items()}
    out: dict[str, Any] = {"game": state.game_id, "viewer": viewer, "last_hand": last, "seats": [],
                           "board": [], "pot": None, "street": None, "history": []}
    data = state.observation_data(0 if viewer is None else viewer)
    out["hand"] = data["hand"] + 1
    out["hands"] = data["hands"]
    if data["over"]:
        return out
    n = state.num_players
    if holdem:
        stacks, bets, in_hand = data["stacks"], data["bets"], set(data["in_hand"])
        out.update(board=list(data["board"]), pot=data["pot"], street=data["street"], button=data["button"])
        mine, dealt = list(data["hole"]), 2
    else:
        stacks, bets, in_hand = data["net"], [None] * n, set(range(n))
        out.update(board=[data["board"]] if data["board"] else [], pot=data["pot"], street=None, button=None)
        mine, dealt = [data["card"]], 1
    if viewer is not None:
        out["history"] = list(data["history"])
    for seat in range(n):
        own = viewer == seat
        out["seats"].append({"seat": seat, "stack": stacks[seat], "bet": bets[seat], "in_hand": seat in in_hand,
                             "cards": mine if own else None, "backs": 0 if own else dealt})
    return out
