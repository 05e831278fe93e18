"""Negotiation (bargaining) as a chat, each message with its move, and the offers plotted over turns.

Messages and offers are public; the private numbers (cost, budget, target) are shown only
for the viewer's own role.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from arena.games.base import State


def frame(state: State, viewer: int | None) -> dict[str, Any]:
    roles = ("seller", "buyer")
    chat = [{"seat": who, "role": roles[who], "text": move.message, "move": move.tag(), "kind": move.kind,
             "amount": move.amount} for who, move in state.log]  # type: ignore[attr-defined]
    private = None
    if viewer is not None:
        data = state.observation_data(viewer)
        private = {"role": data["role"], "reserve": data["reserve"], "target": data["target"]}
    price = getattr(state, "price", None)
    end = (f"deal at ${price:.2f}" if price is not None else "no deal (walked away)"
           if getattr(state, "walked", False) else None)
    return {"chat": chat, "private": private, "item": getattr(state, "item", ""),
            "list_price": getattr(state, "list_price", None), "end": end}


def match_chart(state: State) -> Markup:
    """Every offer of the finished negotiation, per side, over the turns it was made."""
    from arena.report.charts import lines
    roles = ("seller", "buyer")
    series: dict[str, list[tuple[float, float]]] = {}
    for turn, (who, move) in enumerate(state.log, 1):  # type: ignore[attr-defined]
        if move.kind == "OFFER" and move.amount is not None:
            series.setdefault(roles[who], []).append((turn, float(move.amount)))
    return lines(series, "turn", "offer ($)", "offers over turns", size=(4.6, 2.4), step=True)
