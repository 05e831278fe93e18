"""What an LLM backend offers the LLM agent: chat completion and (optionally) scoring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency: float = 0.0


class EmptyCompletion(RuntimeError):
    """The model answered with no text; the agent turns this into an (illegal) empty answer."""


class ScoringUnsupported(RuntimeError):
    """The backend cannot return log-probabilities of given continuations."""


class Backend(Protocol):
    name: str

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                       temperature: float = 0.0, seed: int | None = None) -> Completion:
        """One chat completion for ``messages`` (OpenAI format)."""
        ...

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> list[float]:
        """Total log-probability of each option as the assistant's reply to ``messages``.

        Raises :class:`ScoringUnsupported` when the backend cannot score.
        """
        ...
