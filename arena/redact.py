"""Keeps secrets out of everything the arena records or prints."""

from __future__ import annotations

import os
import re

_SECRET_NAMES = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
_KEY_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9_\-.]{8,})")


def secrets() -> list[str]:
    """Values of environment variables whose names look like credentials."""
    return [v for k, v in os.environ.items() if _SECRET_NAMES.search(k) and len(v) >= 8]


def redact(text: str) -> str:
    """Replace any known secret value or key-shaped token by ``[REDACTED]``."""
    for value in secrets():
        text = text.replace(value, "[REDACTED]")
    return _KEY_SHAPES.sub("[REDACTED]", text)
