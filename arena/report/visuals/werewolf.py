"""Werewolf as a day/night timeline: public events grouped by phase, the votes of each day, and
what only the viewer knows (its role, fellow wolves, the seer's inspections).  Roles of the
others appear only in the public view at the end of the match."""

from __future__ import annotations

import re
from typing import Any

from arena.games.base import State

_PHASE = re.compile(r"^(Day|Night) (\d+)")


def timeline(lines: list[str]) -> list[dict[str, Any]]:
    """Consecutive lines of the same phase ("Day 1", "Night 2") grouped, in order."""
    out: list[dict[str, Any]] = []
    for line in lines:
        m = _PHASE.match(line)
        label = f"{m.group(1)} {m.group(2)}" if m else "—"
        if not out or out[-1]["label"] != label:
            out.append({"label": label, "night": label.startswith("Night"), "events": [], "votes": []})
        if " votes: " in line:
            out[-1]["votes"] = [pair.split("->") for pair in line.split(" votes: ", 1)[1].split(", ")]
        else:
            out[-1]["events"].append(line[m.end():].lstrip(":, ") if m else line)
    return out


def frame(state: State, viewer: int | None) -> dict[str, Any]:
    names, alive = state.names, state.alive  # type: ignore[attr-defined]
    players = [{"name": names[p], "alive": alive[p]} for p in range(state.num_players)]
    lines = list(state.public)  # type: ignore[attr-defined]
    private: dict[str, Any] | None = None
    if viewer is not None:
        data = state.observation_data(viewer)
        private = {"me": data["me"], "role": data["role"], "wolves": data["wolves"],
                   "inspections": data["inspections"]}
        own = list(state.private[viewer])  # type: ignore[attr-defined]
        if data["role"] == "werewolf":
            own += list(state.wolf_chat)  # type: ignore[attr-defined]
        order = [(float(i), s) for i, s in enumerate(lines)] + [(_private_at(s, lines), s) for s in own]
        lines = [s for _, s in sorted(order, key=lambda t: t[0])]
    else:
        for p, entry in enumerate(players):
            entry["role"] = state.roles[p]  # type: ignore[attr-defined]
    return {"players": players, "timeline": timeline(lines), "private": private,
            "phase": state.phase, "day": state.day, "winner": state.winner}  # type: ignore[attr-defined]


def _private_at(line: str, public: list[str]) -> float:
    """Where a private night note goes among the public lines: just before that night's public news."""
    m = _PHASE.match(line)
    key = f"{m.group(1)} {m.group(2)}" if m else ""
    at = next((i for i, s in enumerate(public) if s.startswith(key)), len(public))
    return at - 0.5
