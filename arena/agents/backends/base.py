"""What an LLM backend offers the LLM agent: chat completion and (optionally) scoring."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from arena.errors import ArenaError


@dataclass
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency: float = 0.0
    #: How the answer was held to the legal set: "" (free text, parsed after), "grammar"
    #: (local constrained decoding), "json_schema" / "guided_choice" (remote structured output).
    constrained: str = ""


@dataclass
class Scores:
    """Each option scored as a complete answer (its tokens plus the end-of-answer token)."""

    logprobs: list[float]  # summed log-probability per option, end token included
    lengths: list[int]  # tokens scored per option, end token included
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0

    # A Scores reads like the bare list of log-probabilities older callers expect.
    def __len__(self) -> int:
        return len(self.logprobs)

    def __getitem__(self, index: int) -> float:
        return self.logprobs[index]

    def __iter__(self) -> Iterator[float]:
        return iter(self.logprobs)

    def normalised(self, norm: str) -> list[float]:
        """Per-option scores to rank by: ``sum`` (total log-prob) or ``mean`` (per token)."""
        if norm == "sum":
            return list(self.logprobs)
        return [lp / max(n, 1) for lp, n in zip(self.logprobs, self.lengths, strict=True)]


def as_scores(result: Scores | list[float]) -> Scores:
    """A backend's ``score`` answer as :class:`Scores` (a bare list: lengths unknown, 1 each)."""
    if isinstance(result, Scores):
        return result
    return Scores(list(result), [1] * len(result))


class GrammarError(ArenaError, ValueError):
    """A constraint the matcher cannot compile (a bad answer pattern)."""


class EmptyCompletion(ArenaError, RuntimeError):
    """The model answered with no text; the agent turns this into an (illegal) empty answer."""


class ScoringUnsupported(ArenaError, RuntimeError):
    """The backend cannot return log-probabilities of given continuations."""


class Backend(Protocol):
    name: str

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                       temperature: float = 0.0, seed: int | None = None,
                       allowed: list[str] | None = None, pattern: str | None = None) -> Completion:
        """One chat completion for ``messages`` (OpenAI format).

        ``allowed`` (the legal actions) or ``pattern`` (a regex for free text) ask the backend
        to hold the final answer to them where it can; ``Completion.constrained`` says how.
        """
        ...

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> Scores | list[float]:
        """Log-probability of each option as the assistant's complete reply to ``messages``.

        Raises :class:`ScoringUnsupported` when the backend cannot score.
        """
        ...
