"""``arena list data [GAME]``: the fields of a Turn and the keys of a game's ``turn.data``."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from arena.console import fail, out
from arena.datadoc import TURN_FIELDS, data_keys
from arena.errors import ArenaError


def print_data(game: str | None) -> None:
    turn = Table(title="Turn: what act(turn) is handed")
    turn.add_column("field"), turn.add_column("holds")
    for name, meaning in TURN_FIELDS.items():
        turn.add_row(f"turn.{name}", escape(meaning))
    out.print(turn)
    if not game:
        out.print("arena list data GAME: that game's turn.data keys", highlight=False)
        return
    try:
        keys = data_keys(game)
    except ArenaError as error:
        fail(str(error))
    table = Table(title=f"turn.data of {escape(game)}")
    table.add_column("key"), table.add_column("holds")
    for key, meaning in keys.items():
        table.add_row(key, escape(meaning))
    out.print(table if keys else f"{escape(game)} hands no structured data (read turn.text)", highlight=False)
