"""The static index of the built-in games: each id, the module that defines it, and its metadata.

``index.json`` beside this file is generated from the game modules' ``GAMES`` tables
(``python -m arena.games.index`` rewrites it; a test fails when it is stale), so the
registry can list games and find a game's module without importing every game
module (pokerkit's lookup tables, python-chess) for a prisoner's dilemma.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

GAME_MODULES = ("arena.games.matrix_catalog", "arena.games.public_goods", "arena.games.bargaining",
                "arena.games.deal_or_no_deal", "arena.games.ultimatum", "arena.games.auction",
                "arena.games.chess", "arena.games.connect_four", "arena.games.hex", "arena.games.tictactoe",
                "arena.games.werewolf", "arena.games.poker")
INDEX_PATH = Path(__file__).with_name("index.json")
FIELDS = ("params", "summary", "players", "information", "dynamics", "chance", "utility", "version", "win")


def build_index() -> dict[str, dict[str, Any]]:
    """The index as the game modules define it now (imports every game module)."""
    index: dict[str, dict[str, Any]] = {}
    for module in GAME_MODULES:
        for game_id, info in importlib.import_module(module).GAMES.items():
            index[game_id] = {"module": module, **{f: getattr(info, f) for f in FIELDS}}
    return dict(sorted(index.items()))


@cache
def game_index() -> dict[str, dict[str, Any]]:
    """The stored index: ``{game id: {"module": ..., "params": ..., "summary": ..., ...}}``."""
    return json.loads(INDEX_PATH.read_text(encoding="utf-8"))


def write_index() -> None:
    INDEX_PATH.write_text(json.dumps(build_index(), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_index()
