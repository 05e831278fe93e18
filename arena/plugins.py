"""Where registered things are found: the tables built-in modules export, and installed entry points.

Both registries use these: :mod:`arena.games.registry` (``GAMES`` of each game module, the
group ``arena.games``) and :mod:`arena.agents.registry` (``AGENTS``, the group ``arena.agents``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable
from typing import Any


def module_tables(modules: Iterable[str], name: str) -> dict[str, Any]:
    """The dicts called ``name`` of every module in ``modules``, merged in order (later ones win)."""
    merged: dict[str, Any] = {}
    for module in modules:
        merged.update(getattr(importlib.import_module(module), name))
    return merged


def plugin_entry_points(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    """The installed entry points of ``group`` (``arena.games``, ``arena.agents``) by name."""
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=group)}
