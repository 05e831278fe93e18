"""Poker: no-limit hold'em (pokerkit rules), Kuhn and Leduc poker, duplicate analysis.

- :mod:`arena.games.poker.holdem` — ``holdem``: 2–6 players, blinds, stacks, side pots;
  pokerkit is the rules and hand-evaluation engine.
- :mod:`arena.games.poker.limit` — ``kuhn-poker`` and ``leduc-poker`` with explicit
  chance nodes (so CFR can enumerate them).
- :mod:`arena.games.poker.duplicate` — bb/100 and mbb/hand per agent with bootstrap
  intervals over duplicate groups (same deals, seats rotated).
"""

from __future__ import annotations

from arena.games.poker.holdem import GAMES as _HOLDEM
from arena.games.poker.limit import GAMES as _LIMIT

GAMES = {**_HOLDEM, **_LIMIT}
