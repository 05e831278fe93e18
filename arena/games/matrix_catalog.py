"""The catalogue of repeated matrix games: named presets, NxM tables from TOML,
and all 144 strict ordinal 2x2 games (Robinson & Goforth, "The Topology of the 2x2
Games", 2005).

Ordinal numbering: each game is one of 12 payoff arrangements for Row (ranks 1..4,
Row's best outcome in the right column) times 12 for Column (Column's best outcome
in the top row); relabelling strategies maps every strict ordinal 2x2 game onto
exactly one of these.  ``number = 12 * i + j + 1`` where ``i``/``j`` index Row's and
Column's arrangements in lexicographic order of (top-left, top-right, bottom-left,
bottom-right) ranks.  Version 1.
"""

from __future__ import annotations

import itertools
import random
from functools import partial
from pathlib import Path
from typing import Any

from arena.games.base import GameInfo
from arena.tomlfile import read_toml
from arena.games.matrix import COOPERATION, MatrixState, Table, symmetric

Ranks = tuple[int, int, int, int]  # (top-left, top-right, bottom-left, bottom-right)


def _row_arrangements() -> list[Ranks]:
    return [p for p in itertools.permutations((1, 2, 3, 4)) if p.index(4) in (1, 3)]


def _col_arrangements() -> list[Ranks]:
    return [p for p in itertools.permutations((1, 2, 3, 4)) if p.index(4) in (0, 1)]


ROW_ARRANGEMENTS = _row_arrangements()
COL_ARRANGEMENTS = _col_arrangements()


def ordinal_table(number: int) -> Table:
    """Ordinal 2x2 game ``number`` (1..144) with payoffs 1 (worst) .. 4 (best)."""
    if not 1 <= number <= 144:
        raise ValueError(f"ordinal game number must be 1..144, got {number}")
    row, col = ROW_ARRANGEMENTS[(number - 1) // 12], COL_ARRANGEMENTS[(number - 1) % 12]
    cells = tuple(tuple((float(row[2 * r + c]), float(col[2 * r + c])) for c in (0, 1)) for r in (0, 1))
    return Table(f"ordinal-{number}", ("Up", "Down"), ("Left", "Right"), cells, None,
                 f"strict ordinal 2x2 game number {number}")


def ordinal_number(row: Ranks, col: Ranks) -> int:
    """Number of the ordinal game equivalent (by relabelling strategies) to the given ranks."""
    for swap_rows, swap_cols in itertools.product((False, True), repeat=2):
        def move(p: Ranks) -> Ranks:
            grid = [[p[0], p[1]], [p[2], p[3]]]
            grid = grid[::-1] if swap_rows else grid
            grid = [g[::-1] for g in grid] if swap_cols else grid
            return (grid[0][0], grid[0][1], grid[1][0], grid[1][1])
        r, c = move(row), move(col)
        if r in ROW_ARRANGEMENTS and c in COL_ARRANGEMENTS:
            return 12 * ROW_ARRANGEMENTS.index(r) + COL_ARRANGEMENTS.index(c) + 1
    raise ValueError(f"not a strict ordinal game: {row} {col}")


def load_table(path: str | Path) -> Table:
    """Read an NxM game from TOML; errors name the file, line and column or the bad field.

    Format::

        name = "my-game"                 # optional
        row_actions = ["Up", "Down"]
        col_actions = ["Left", "Right"]   # optional, defaults to row_actions
        payoffs = [[[3, 3], [0, 5]], [[5, 0], [1, 1]]]   # payoffs[row][col] = [row, col]
        cooperative = "Up"               # optional
    """
    return table_from_dict(read_toml(path), str(path))


def table_from_dict(data: dict[str, Any], where: str = "table") -> Table:
    known = {"name", "row_actions", "col_actions", "payoffs", "cooperative", "description"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
    for key in ("row_actions", "payoffs"):
        if key not in data:
            raise ValueError(f"{where}: missing required key '{key}'")
    rows = tuple(str(a) for a in data["row_actions"])
    cols = tuple(str(a) for a in data.get("col_actions", rows))
    try:
        cells = tuple(tuple((float(c[0]), float(c[1])) for c in row) for row in data["payoffs"])
    except (TypeError, ValueError, IndexError, KeyError):
        raise ValueError(f"{where}: payoffs must be rows of [row_payoff, col_payoff] number pairs") from None
    if any(len(c) != 2 for row in data["payoffs"] for c in row):
        raise ValueError(f"{where}: every payoff cell must be a pair [row_payoff, col_payoff]")
    coop = data.get("cooperative")
    if coop is not None and coop not in rows:
        raise ValueError(f"{where}: cooperative {coop!r} is not one of the row actions {list(rows)}")
    return Table(str(data.get("name", Path(where).stem)), rows, cols, cells, coop,
                 str(data.get("description", "")))


PRESETS: dict[str, Table] = {
    "battle-of-the-sexes": Table("battle-of-the-sexes", ("Football", "Ballet"), ("Football", "Ballet"),
                                 (((10, 7), (0, 0)), ((0, 0), (7, 10))), None,
                                 "coordinate, but each prefers a different option"),
    "stag-hunt": symmetric("stag-hunt", ("Stag", "Hare"), 4, 0, 3, 2, "trust: hunt stag together or hare alone"),
    "chicken": symmetric("chicken", ("Swerve", "Straight"), 3, 1, 4, 0, "anti-coordination: who swerves?"),
    "matching-pennies": Table("matching-pennies", ("Heads", "Tails"), ("Heads", "Tails"),
                              (((1, -1), (-1, 1)), ((-1, 1), (1, -1))), None, "zero-sum: row wants a match"),
    "rock-paper-scissors": Table("rock-paper-scissors", ("Rock", "Paper", "Scissors"),
                                 ("Rock", "Paper", "Scissors"),
                                 (((0, 0), (-1, 1), (1, -1)), ((1, -1), (0, 0), (-1, 1)),
                                  ((-1, 1), (1, -1), (0, 0))), None, "zero-sum 3x3"),
}


def _pd(seed: int | None = None, R: float = 3, S: float = 0, T: float = 5, P: float = 1,
        rounds: int = 10, cheap_talk: bool = False) -> MatrixState:
    if not (T > R > P > S):
        raise ValueError(f"a prisoner's dilemma needs T > R > P > S, got T={T} R={R} P={P} S={S}")
    return MatrixState(symmetric("prisoners-dilemma", ("C", "D"), R, S, T, P), rounds, cheap_talk, seed)


def _akata(name: str, cells: tuple, seed: int | None = None, rounds: int = 10,
           cheap_talk: bool = False) -> MatrixState:
    labels = ("J", "F") if random.Random(seed).random() < 0.5 else ("F", "J")
    coop = labels[0] if name.endswith("dilemma") else None
    return MatrixState(Table(name, labels, labels, cells, coop), rounds, cheap_talk, seed)


def _preset(name: str, seed: int | None = None, rounds: int = 10, cheap_talk: bool = False) -> MatrixState:
    return MatrixState(PRESETS[name], rounds, cheap_talk, seed)


def _ordinal(seed: int | None = None, number: int = 1, rounds: int = 10, cheap_talk: bool = False) -> MatrixState:
    return MatrixState(ordinal_table(number), rounds, cheap_talk, seed)


def _from_file(seed: int | None = None, file: str = "", rounds: int = 10, cheap_talk: bool = False) -> MatrixState:
    if not file:
        raise ValueError("matrix needs file=PATH to a TOML payoff table")
    return MatrixState(load_table(file), rounds, cheap_talk, seed)


_COMMON = {"rounds": 10, "cheap_talk": False}
_REPEATED = {"dynamics": "simultaneous", "utility": "general-sum", "metric_columns": (COOPERATION,)}


def _utility(table: Table) -> str:
    """zero-sum when every cell's payoffs add to 0 (matching pennies, rock-paper-scissors)."""
    return "zero-sum" if all(sum(cell) == 0 for row in table.payoffs for cell in row) else "general-sum"


GAMES: dict[str, GameInfo] = {
    "prisoners-dilemma": GameInfo("prisoners-dilemma", _pd, {"R": 3.0, "S": 0.0, "T": 5.0, "P": 1.0, **_COMMON},
                                  "repeated prisoner's dilemma (C/D)", **_REPEATED),
    "akata-prisoners-dilemma": GameInfo(
        "akata-prisoners-dilemma", partial(_akata, "akata-prisoners-dilemma", (((8, 8), (0, 10)), ((10, 0), (5, 5)))),
        dict(_COMMON), "prisoner's dilemma as in Akata et al. (J/F labels, 8/0/10/5)", **_REPEATED),
    "akata-battle-of-the-sexes": GameInfo(
        "akata-battle-of-the-sexes", partial(_akata, "akata-battle-of-the-sexes", (((10, 7), (0, 0)), ((0, 0), (7, 10)))),
        dict(_COMMON), "battle of the sexes as in Akata et al. (J/F labels, 10/7)", **_REPEATED),
    **{name: GameInfo(name, partial(_preset, name), dict(_COMMON), f"repeated {table.description}",
                      dynamics="simultaneous", utility=_utility(table), metric_columns=(COOPERATION,))
       for name, table in PRESETS.items()},
    "ordinal-2x2": GameInfo("ordinal-2x2", _ordinal, {"number": 1, **_COMMON},
                            "any of the 144 strict ordinal 2x2 games by number (1..144)", **_REPEATED),
    "matrix": GameInfo("matrix", _from_file, {"file": "", **_COMMON}, "any NxM payoff table from a TOML file", **_REPEATED),
}
