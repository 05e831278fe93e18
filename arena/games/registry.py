"""The game registry: game specs ``ID[:key=value,...]`` (``textarena:EnvId[:...]``), ids, listings.

Built-in games are found in the static index (:mod:`arena.games.index`), so looking one
up imports only the module that defines it; TextArena's offline games come as
``textarena:<EnvId>``; plug-ins register a :class:`GameInfo` (or a factory
``f(seed=None, **params)``) under the entry-point group ``arena.games``.  A game family
(:data:`GAME_FAMILIES`) names every game of some modules, for agents built for a kind of
game.  Imports no agent.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from arena.games.base import GameInfo, State
from arena.games.index import GAME_MODULES, game_index
from arena.plugins import module_tables, plugin_entry_points
from arena.spec import SpecError, parse_spec, typed_params


@dataclass(frozen=True)
class GameSpec:
    info: GameInfo
    params: dict[str, Any]
    spec: str

    def make(self, seed: int | None = None) -> State:
        return self.info.make(seed=seed, **self.params)


@cache
def native_games() -> dict[str, GameInfo]:
    """Every game of every module in :data:`arena.games.index.GAME_MODULES` (each exposes ``GAMES``)."""
    return module_tables(GAME_MODULES, "GAMES")


def builtin_games() -> dict[str, GameInfo]:
    """Native games, then TextArena's offline multi-player ones as ``textarena:<EnvId>`` (if installed)."""
    from arena.games.textarena import textarena_games
    return {**native_games(), **textarena_games()}


def game_listing() -> list[tuple[str, str, dict[str, Any], str]]:
    """(id, players, parameters, summary) of every game, for listings: the built-in games from
    the static index (no game module imported), then TextArena's and plug-ins'."""
    from arena.games.textarena.catalog import textarena_listing
    rows = [(gid, e["players"], e["params"], e["summary"]) for gid, e in game_index().items()]
    rows += textarena_listing()
    rows += [(gid, "?", {}, "plug-in") for gid in plugin_entry_points("arena.games") if gid not in game_index()]
    return sorted(rows)


def game_ids() -> list[str]:
    return sorted(set(builtin_games()) | set(plugin_entry_points("arena.games")))


@cache
def _native(game_id: str) -> GameInfo:
    """A built-in game, importing only the module that defines it (found in the static index)."""
    return importlib.import_module(game_index()[game_id]["module"]).GAMES[game_id]


def game_info(game_id: str) -> GameInfo:
    if game_id in game_index():
        return _native(game_id)
    if game_id.startswith("textarena:"):
        from arena.games.textarena import game_info as textarena_info
        try:
            return textarena_info(game_id)
        except ValueError as err:
            raise SpecError(str(err)) from None
    eps = plugin_entry_points("arena.games")
    if game_id in eps:
        loaded = eps[game_id].load()
        return loaded if isinstance(loaded, GameInfo) else GameInfo(game_id, loaded, _signature_defaults(loaded))
    valid = sorted(set(game_index()) | set(eps))
    raise SpecError(f"unknown game {game_id!r}; valid: {', '.join(valid)}, textarena:<EnvId> (see `arena list games`)")


def _signature_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """Parameters (with defaults) of a plug-in game factory ``f(seed=None, **params)``."""
    return {name: p.default for name, p in inspect.signature(factory).parameters.items()
            if name != "seed" and p.default is not inspect.Parameter.empty}


def parse_game(spec: str) -> GameSpec:
    parsed = parse_spec(spec, named=False, where="game")
    game_id, args = parsed.kind, parsed.args
    if game_id == "textarena":  # textarena:<EnvId>[:key=value,...]
        game_id, args = f"textarena:{args[0] if args else ''}", args[1:]
    info = game_info(game_id)
    positional = [*args, *parsed.positional]
    if positional:
        raise SpecError(f"game {game_id}: expected key=value parameters, got {', '.join(positional)}; "
                        f"valid keys: {', '.join(sorted(info.params)) or 'none'}")
    params = typed_params(parsed.params, info.params, f"game {game_id}")
    try:
        info.make(seed=0, **params)
    except (ValueError, TypeError) as err:
        raise SpecError(f"game {game_id}: {err}") from None
    return GameSpec(info, params, spec.strip())


# A game family is every game registered by these modules (what agents built for a kind of game name).
GAME_FAMILIES = {"repeated": ("arena.games.matrix_catalog", "arena.games.public_goods"),
                 "negotiation": ("arena.games.bargaining", "arena.games.deal_or_no_deal"),
                 "poker": ("arena.games.poker",), "chess": ("arena.games.chess",), "werewolf": ("arena.games.werewolf",)}


def family_games(family: str) -> list[str]:
    """The game ids of a family (a plain game id stands for itself)."""
    if family not in GAME_FAMILIES:
        return [family]
    return [gid for module in GAME_FAMILIES[family] for gid in importlib.import_module(module).GAMES]
