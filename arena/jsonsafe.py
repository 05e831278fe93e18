"""JSON that every parser reads: non-finite numbers (``inf``, ``nan``) become ``null``.

Python's :mod:`json` writes ``Infinity`` and ``NaN``, which are not JSON; documents arena
prints or exports go through :func:`dumps` instead.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (in dicts, lists and tuples, recursively) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """:func:`json.dumps` of :func:`finite` ``(value)``; never writes ``Infinity`` or ``NaN``."""
    return json.dumps(finite(value), allow_nan=False, **options)
