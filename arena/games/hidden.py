"""The rule for code that clones a State to search or value it: hidden information stays hidden.

An imperfect-information game (``GameInfo.information == "imperfect"``) is searched or valued
only through its ``determinize(player, rng)``.  One without it is refused with one line, unless
the caller allows peeking (``--allow-peeking``), and then the values say so (``+peeking``).
"""

from __future__ import annotations

from typing import Any

from arena.errors import ArenaError

PEEKING = "+peeking"


class PeekingRefused(ArenaError, ValueError):
    """Search or valuation would read hidden state the player cannot see."""


def information(state: Any) -> str:
    """``"perfect"`` or ``"imperfect"``: the registered game's metadata (a State's own attribute first)."""
    own = getattr(state, "information", None)
    if own in ("perfect", "imperfect"):
        return str(own)
    from arena.games.registry import game_info
    try:
        return game_info(str(getattr(state, "game_id", ""))).information
    except Exception:  # an unregistered game: nothing says it hides anything
        return "perfect"


def can_determinize(state: Any) -> bool:
    return callable(getattr(state, "determinize", None))


def peeks(state: Any) -> bool:
    """Would cloning this state for search or values see hidden information?"""
    return not can_determinize(state) and information(state) == "imperfect"


def check_peeking(state: Any, what: str, allow_peeking: bool) -> bool:
    """Refuse (one line) when ``what`` would peek at ``state``; returns whether it peeks (allowed)."""
    if not peeks(state):
        return False
    if not allow_peeking:
        raise PeekingRefused(f"{getattr(state, 'game_id', 'this game')} has hidden information and no "
                             f"determinize(): {what} would see every player's private state; pass "
                             "--allow-peeking (allow_peeking=True) to do it anyway (recorded as peeking)")
    return True
