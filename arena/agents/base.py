"""The Agent contract: ``act(turn) -> Decision`` (or ``async aact``), optional ``reset``.

A :class:`Turn` is everything an agent may know when asked to move; a
:class:`Decision` is its answer plus what produced it (LLM exchange, tokens,
search statistics), all of which lands in the trajectory.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class Turn:
    game_id: str
    player: int
    rules: str
    text: str
    legal_actions: list[str] | None
    data: dict[str, Any] = field(default_factory=dict)
    deadline: float | None = None
    match_id: str = ""
    step: int = 0
    attempt: int = 0
    feedback: str | None = None
    state: Any = None  # a clone of the rules State, for search agents; never shown to LLMs
    #: For free-text answers: a regular expression the whole answer must match (the game's
    #: answer grammar, e.g. ``\[OFFER \$\d+\]``); None when the game states none.
    answer_pattern: str | None = None


@dataclass
class Decision:
    action: str
    messages: list[dict[str, str]] | None = None
    completion: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    #: Each silent-fallback the agent took for this decision, one short reason each
    #: (e.g. "choice->generate: backend cannot score"); counted per agent, an error under --strict.
    downgrades: list[str] = field(default_factory=list)


@runtime_checkable
class Agent(Protocol):
    def act(self, turn: Turn) -> Decision | str: ...


async def ask(agent: Any, turn: Turn) -> Decision:
    """Ask any agent (sync ``act`` or async ``aact``) for a decision; bare strings are wrapped."""
    if hasattr(agent, "aact"):
        out = await agent.aact(turn)
    else:
        out = agent.act(turn)
        if inspect.isawaitable(out):
            out = await out
    if isinstance(out, Decision):
        return out
    if isinstance(out, (str, int)):
        return Decision(action=str(out))
    raise TypeError(f"agent returned {type(out).__name__}; expected a Decision or a string")


def reset_agent(agent: Any, match_info: dict[str, Any]) -> None:
    if hasattr(agent, "reset"):
        agent.reset(match_info)
