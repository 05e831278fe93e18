"""The error hierarchy: every error arena raises on purpose is an :class:`ArenaError`.

A caller of the Python API catches ``ArenaError`` for "arena refused or failed".
Rules errors stay ``ValueError`` subclasses too (as python-chess's are); store and
backend errors stay ``RuntimeError`` subclasses.  :class:`InfrastructureError` marks a
failure that is not the agent's own (provider unreachable after the retry policy,
backend out of memory): the match ends as ``error`` — unrated, replayed by ``--resume``.
"""

from __future__ import annotations


class ArenaError(Exception):
    """Base class of every error arena raises on purpose."""


class InfrastructureError(ArenaError, RuntimeError):
    """The infrastructure failed, not the agent: the match ends as ``error`` (unrated, replayed on resume)."""


class NotReady(ArenaError, RuntimeError):
    """An agent cannot play at all (model files or package missing, no API key, server unreachable):
    raised by an agent's or backend's ``check()`` before a run writes anything."""
