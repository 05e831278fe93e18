"""The arena's user cache folder: ``$ARENA_CACHE``, else ``$XDG_CACHE_HOME/arena``, else ``~/.cache/arena``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The arena's user cache folder (not created)."""
    if os.environ.get("ARENA_CACHE"):
        return Path(os.environ["ARENA_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "arena"
