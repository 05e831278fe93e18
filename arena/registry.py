"""Compatibility module: the public names of the registry, re-exported from their homes.

The registry is split by job; import from these in new code:

* :mod:`arena.spec` -- the spec grammar ``[NAME=]KIND[:ARG...][:key=value,...]``
  (``SpecError``, ``parse_spec``, ``split_params``, ``coerce``, ``literal``, ``typed_params``);
* :mod:`arena.games.registry` -- games (``GameSpec``, ``parse_game``, ``game_info``,
  ``game_ids``, ``game_listing``, ``GAME_FAMILIES``, ...);
* :mod:`arena.agents.registry` -- agents (``AgentSpec``, ``parse_agent``, ``builtin_agents``,
  ``agent_kinds``, ``check_fit``, ``load_import_string``, ...);
* :mod:`arena.agents.base` -- ``AgentInfo``, beside the Agent protocol;
* :mod:`arena.plugins` -- ``plugin_entry_points``, ``module_tables`` (where both registries look).

Plug-ins and scripts that import from ``arena.registry`` keep working; the entry-point
groups ``arena.games`` and ``arena.agents`` are unchanged.
"""

from __future__ import annotations

from arena.agents.base import AgentInfo
from arena.agents.registry import (AGENT_MODULES, AgentSpec, agent_kinds, builtin_agents, check_fit, instantiate,
                                   load_import_string, parse_agent)
from arena.games.registry import (GAME_FAMILIES, GameSpec, builtin_games, family_games, game_ids, game_info,
                                  game_listing, native_games, parse_game)
from arena.plugins import module_tables, plugin_entry_points
from arena.spec import Spec, SpecError, coerce, literal, parse_spec, split_params, typed_params

__all__ = ["AGENT_MODULES", "GAME_FAMILIES", "AgentInfo", "AgentSpec", "GameSpec", "Spec", "SpecError",
           "agent_kinds", "builtin_agents", "builtin_games", "check_fit", "coerce", "family_games", "game_ids",
           "game_info", "game_listing", "instantiate", "literal", "load_import_string", "module_tables", "native_games",
           "parse_agent", "parse_game", "parse_spec", "plugin_entry_points", "split_params", "typed_params"]
