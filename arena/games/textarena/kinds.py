"""Which TextArena games hide nothing: the families marked perfect information in their GameInfo.

Read from the env code of TextArena 0.7.4: every message of these games goes to both players
(moves, boards), nothing is dealt or drawn privately, and, except Pig Dice's dice, nothing is
drawn at random at all.  A family's ``is_open=False`` variant (``-blind``: the board is never
shown) stays imperfect: what the player was shown is not the whole state.  Every other TextArena
game is imperfect information: cards or roles dealt privately, secret values, or simultaneous
moves (the iterated matrix games, Snake, Surround), unless its State implements ``determinize``
(:mod:`arena.games.textarena.determinize`).
"""

from __future__ import annotations

from typing import Any

#: Families with no hidden state (TextArena 0.7.4 env code), and those among them with chance.
PERFECT = frozenset({
    "Alquerque", "Breakthrough", "Chopsticks", "ConnectFour", "Crusade", "LinesOfAction", "Nim", "Othello",
    "PigDice", "QuantumTicTacToe", "Santorini", "SimpleTak", "Tak", "ThreePlayerTicTacToe", "TicTacToe",
    "UltimateTicTacToe", "WildTicTacToe"})
CHANCE = frozenset({"PigDice"})


def information(family: str, kwargs: dict[str, Any]) -> str:
    """``"perfect"`` for a :data:`PERFECT` family whose board is shown (``is_open`` not False), else ``"imperfect"``."""
    return "perfect" if family in PERFECT and kwargs.get("is_open", True) is not False else "imperfect"


def chance(family: str) -> bool:
    """Whether the game draws at random after the deal (unknown families: assumed to)."""
    return family in CHANCE or family not in PERFECT
