"""Per-family visuals of a game position for the replay viewer.

A visual is ``frame(state, viewer) -> dict``: plain data a template of the same family
(``templates/frame_<family>.html.j2``) renders.  ``viewer`` is the seat whose view is
shown (what that player may know), or ``None`` for the public view at the end of a match.
A visual reads only what the viewer may see: the game's ``observation_data(viewer)`` for
hidden-information games, public board state otherwise.  Games without a visual get the
observation text only.  Visuals read games; games never import them.  A visual module may
also offer ``page_defs()``: SVG definitions its frames share, put once in the page
(:func:`page_defs`).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

from arena.errors import ArenaError
from arena.games.base import State

log = logging.getLogger(__name__)

#: State class module -> visual module (under arena.report.visuals).
FAMILIES = {
    "arena.games.chess": "chess",
    "arena.games.connect_four": "grids",
    "arena.games.tictactoe": "grids",
    "arena.games.hex": "grids",
    "arena.games.poker.holdem": "poker",
    "arena.games.poker.limit": "poker",
    "arena.games.bargaining": "talk",
    "arena.games.werewolf": "werewolf",
    "arena.games.matrix": "matrix",
}


def family(state: State) -> str | None:
    """The visual family of a state, or None when the game has no visual."""
    return FAMILIES.get(type(state).__module__)


def frame(state: State, viewer: int | None) -> dict[str, Any] | None:
    """The visual of ``state`` as ``viewer`` sees it (``family`` key names the template), or None."""
    name = family(state)
    if name is None:
        return None
    data = importlib.import_module(f"arena.report.visuals.{name}").frame(state, viewer)
    return {"family": name, **data}


def match_chart(state: State) -> Any:
    """A per-match chart of the finished game (e.g. offers over turns), or None."""
    name = family(state)
    module = importlib.import_module(f"arena.report.visuals.{name}") if name else None
    return module.match_chart(state) if module is not None and hasattr(module, "match_chart") else None


def page_defs(games: Iterable[str]) -> Markup:
    """The shared SVG definitions (each visual module's ``page_defs()``) the visuals of these
    stored game specs need, once per page; "" when none needs any."""
    from arena.games.registry import parse_game
    names = set()
    for spec in set(games):
        try:
            names.add(family(parse_game(spec).make(seed=0)))
        except (ArenaError, ValueError, ImportError) as err:  # a game that cannot be built has no visual
            log.debug("no visual for %s: %s", spec, err)
    modules = [importlib.import_module(f"arena.report.visuals.{name}") for name in sorted(n for n in names if n)]
    return Markup("".join(str(m.page_defs()) for m in modules if hasattr(m, "page_defs")))
