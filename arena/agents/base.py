"""The Agent contract: ``act(turn) -> Decision`` (or ``async aact``), optional ``reset``.

A :class:`Turn` is everything an agent may know when asked to move; a
:class:`Decision` is its answer plus what produced it (LLM exchange, tokens,
search statistics), all of which lands in the trajectory.

A Turn is the agent's own copy: its lists and data are fresh for every Turn, so an
agent that mutates what it is handed changes nothing of the match or of another
agent's view.  ``rules``, ``text`` and ``data`` may be given as :class:`Lazy` values,
computed on first read only (a scripted agent reading ``turn.data`` never pays for
the observation text).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

_NO_DEFAULT = object()


class Lazy:
    """A Turn field computed on first read (``Lazy(lambda: state.observation(p))``)."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


class _LazyField:
    """Dataclass field descriptor: stores a value or a :class:`Lazy`, resolves it once when read."""

    def __init__(self, default: Callable[[], Any] | None = None) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            if self.default is None:
                raise AttributeError(self.slot)  # a required dataclass field
            return _NO_DEFAULT
        value = obj.__dict__[self.slot]
        if isinstance(value, Lazy):
            value = obj.__dict__[self.slot] = value.compute()
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = self.default() if value is _NO_DEFAULT and self.default else value


@dataclass
class Turn:
    game_id: str
    player: int
    rules: str = _LazyField()  # type: ignore[assignment]
    text: str = _LazyField()  # type: ignore[assignment]
    legal_actions: list[str] | None = field()
    data: dict[str, Any] = _LazyField(dict)  # type: ignore[assignment]
    deadline: float | None = None
    match_id: str = ""
    step: int = 0
    attempt: int = 0
    feedback: str | None = None
    state: Any = None  # a clone of the rules State, for search agents; never shown to LLMs
    #: For free-text answers: a regular expression the whole answer must match (the game's
    #: answer grammar, e.g. ``\[OFFER \$\d+\]``); None when the game states none.
    answer_pattern: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Pickled with every lazy field computed (a :class:`Lazy` holds a closure)."""
        return {k: getattr(self, k[1:]) if k in _LAZY_SLOTS else v for k, v in self.__dict__.items()}


_LAZY_SLOTS = ("_rules", "_text", "_data")
#: Turn fields that cross a process boundary (everything but ``state``, which is pickled apart).
TURN_FIELDS = ("game_id", "player", "rules", "text", "legal_actions", "data", "deadline", "match_id", "step",
               "attempt", "feedback", "answer_pattern")
DECISION_FIELDS = ("action", "messages", "completion", "tokens_in", "tokens_out", "cost", "info", "downgrades")


def turn_to_dict(turn: Turn) -> dict[str, Any]:
    """The JSON-ready fields of a Turn (lazy fields are computed)."""
    return {name: getattr(turn, name) for name in TURN_FIELDS}


def turn_from_dict(data: dict[str, Any], state: Any = None) -> Turn:
    return Turn(**{name: data[name] for name in TURN_FIELDS}, state=state)


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


@dataclass(frozen=True)
class AgentInfo:
    """A built-in agent kind: ``make(**params)`` builds one; ``params`` are the typed defaults;
    ``games``: the game ids or game families (:data:`arena.games.registry.GAME_FAMILIES`) it is
    built for, () = any game.  Each agent module exposes ``AGENTS: dict[str, AgentInfo]``."""

    make: Callable[..., Any]
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    games: tuple[str, ...] = ()


async def ask_raw(agent: Any, turn: Turn) -> Any:
    """Whatever the agent answers (sync ``act`` or async ``aact``), unchecked."""
    if hasattr(agent, "aact"):
        return await agent.aact(turn)
    out = agent.act(turn)
    if inspect.isawaitable(out):
        out = await out
    return out


async def ask(agent: Any, turn: Turn) -> Decision:
    """Ask any agent (sync ``act`` or async ``aact``) for a decision; bare strings are wrapped."""
    out = await ask_raw(agent, turn)
    if isinstance(out, Decision):
        return out
    if isinstance(out, (str, int)):
        return Decision(action=str(out))
    raise TypeError(f"agent returned {type(out).__name__}; expected a Decision or a string")


def reset_agent(agent: Any, match_info: dict[str, Any]) -> None:
    if hasattr(agent, "reset"):
        agent.reset(match_info)
