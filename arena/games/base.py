"""The rules contract every game implements, and shared helpers.

A game's rules live in a plain :class:`State`: no I/O, no LLM.  Actions are
strings everywhere.  Sequential, simultaneous and chance nodes share one shape:
``to_move()`` lists the players who still owe an action at this node (one for a
sequential game, several at a simultaneous node, ``[CHANCE]`` at a chance node,
``[]`` once terminal).  At a simultaneous node each ``apply`` is held back until
every listed player has chosen, so nobody sees another's pending choice.
"""

from __future__ import annotations

import copy
import random
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from arena.errors import ArenaError
from arena.games.analysis import Analysis, MetricColumn

CHANCE = -1


class IllegalAction(ArenaError, ValueError):
    """An action the rules reject; the message is written for the agent to act on."""


class State(ABC):
    """Rules state of one game.  Subclasses set the class attributes below."""

    game_id: str = ""
    #: Every action string this game can ever take, in a fixed order (the
    #: PettingZoo ``Discrete`` space).  Free-text nodes map index 0 of
    #: ``free_text_default`` only; strings are always accepted too.
    action_vocab: tuple[str, ...] = ()
    free_text_default: str = ""
    #: The best return a player can ever get, when the game has one (1.0 for win/loss games):
    #: search may stop once it proves it (MCTS-Solver).  None: unknown.
    max_utility: float | None = None
    #: Every key :meth:`observation_data` may return (``turn.data``), with what it holds: the one
    #: declaration ``arena list data GAME`` prints and a test checks against what the game returns.
    data_keys: dict[str, str] = {}

    def __init__(self, num_players: int, seed: int | None = None) -> None:
        self.num_players = num_players
        self.rng = random.Random(seed)

    # --- the flow ---------------------------------------------------------
    @abstractmethod
    def to_move(self) -> list[int]:
        """Players who owe an action now; ``[CHANCE]`` at chance nodes; ``[]`` if over."""

    @abstractmethod
    def legal_actions(self, player: int) -> list[str] | None:
        """Legal action strings, or ``None`` when the action is free text."""

    def legal_set(self, player: int) -> tuple[str, ...] | None:
        """:meth:`legal_actions` as a tuple (``None`` at a free-text node), for the PettingZoo adapter's
        mask cache; a game whose legal sets repeat may return one shared tuple, without a new list."""
        legal = self.legal_actions(player)
        return None if legal is None else tuple(legal)

    @abstractmethod
    def apply(self, player: int, action: str) -> None:
        """Apply an already-parsed legal action (raise :class:`IllegalAction` otherwise)."""

    def chance_outcomes(self) -> list[tuple[str, float]]:
        """(outcome, probability) pairs at a chance node."""
        raise NotImplementedError(f"{self.game_id} has no chance nodes")

    def apply_chance(self, outcome: str) -> None:
        raise NotImplementedError(f"{self.game_id} has no chance nodes")

    def sample_chance(self) -> None:
        """Resolve a chance node with this state's own generator."""
        outcomes = self.chance_outcomes()
        pick = self.rng.choices([o for o, _ in outcomes], weights=[p for _, p in outcomes])[0]
        self.apply_chance(pick)

    def is_terminal(self) -> bool:
        return not self.to_move()

    @abstractmethod
    def returns(self) -> list[float]:
        """Score per player (final once terminal, running total before)."""

    # --- what players see -------------------------------------------------
    @abstractmethod
    def rules_text(self, player: int) -> str:
        """Rules and answer format for ``player`` (the LLM system prompt)."""

    @abstractmethod
    def observation(self, player: int) -> str:
        """State and known history from ``player``'s point of view only."""

    def parse(self, player: int, text: str) -> str:
        """Turn an agent's answer into a legal action or raise :class:`IllegalAction`."""
        legal = self.legal_actions(player)
        if legal is None:
            return text.strip()
        return match_choice(text, legal)

    def answer_pattern(self, player: int) -> str | None:
        """For a free-text node: a regular expression every acceptable answer matches in full
        (the answer grammar, used to constrain LLM decoding); ``None`` when there is none."""
        return None

    def observation_data(self, player: int) -> dict[str, Any]:
        """Structured form of :meth:`observation` for scripted agents (same knowledge)."""
        return {}

    # --- results ----------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        """Domain metrics of the (finished) game, e.g. cooperation rate."""
        return {}

    def clone(self) -> "State":
        return copy.deepcopy(self)


class ForkedRng:
    """Mixin for fast ``clone()``: clones share an immutable snapshot of the generator.

    ``rng`` is rebuilt from the snapshot on first use, so a clone and its original draw
    the same numbers independently (a copy in effect) without paying ~20 us per clone
    to copy a Mersenne Twister that board games never draw from after set-up.
    """

    _rng: random.Random | None
    _rng_state: tuple

    @property
    def rng(self) -> random.Random:
        if self._rng is None:
            self._rng = random.Random.__new__(random.Random)
            self._rng.setstate(self._rng_state)
        return self._rng

    @rng.setter
    def rng(self, value: random.Random) -> None:
        self._rng = value

    def _fork(self) -> Any:
        """A shallow copy (``__dict__`` shared one level) with a forked generator."""
        if self._rng is not None:
            self._rng_state, self._rng = self._rng.getstate(), None
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new


def match_choice(text: str, legal: list[str]) -> str:
    """Find the one legal option an answer names; explain the failure otherwise.

    Accepted: the exact option (case-insensitive), or an answer that names exactly
    one distinct option as a standalone word ("I choose **Paper**", "C. I cooperate").  Single-letter options match only
    in their own case, so "I'd" never reads as "D".  Naming several options is refused.
    """
    answer = text.strip().strip("`'\".*[]() ").strip()
    by_lower = {option.lower(): option for option in legal}
    if answer.lower() in by_lower:
        return by_lower[answer.lower()]
    tokens = [t for t in re.split(r"[^\w\-+$]+", answer) if t]
    named = [_option(t, legal, by_lower) for t in tokens]
    found = [n for n in named if n is not None]
    if len(set(found)) == 1:
        return found[0]
    shown = ", ".join(legal) if len(legal) <= 40 else ", ".join(legal[:40]) + ", ..."
    snippet = answer[:60] + ("..." if len(answer) > 60 else "")
    if found:
        raise IllegalAction(f"'{snippet}' names several actions ({', '.join(dict.fromkeys(found))}); "
                            f"answer with exactly one of: {shown}")
    raise IllegalAction(f"'{snippet}' is not a legal action; answer with exactly one of: {shown}")


def _option(token: str, legal: list[str], by_lower: dict[str, str]) -> str | None:
    if len(token) == 1:
        return token if token in legal else None
    return by_lower.get(token.lower())


def win_loss(winner: int | None) -> list[float]:
    """Two-player zero-sum returns: +1 for the winner, -1 for the other, 0 and 0 when undecided or drawn."""
    if winner is None:
        return [0.0, 0.0]
    return [1.0, -1.0] if winner == 0 else [-1.0, 1.0]


def rank_scores(scores: list[float]) -> list[int]:
    """Competition ranks (1 = best) of per-player scores; equal scores share a rank."""
    return [1 + sum(other > score for other in scores) for score in scores]


@dataclass(frozen=True)
class GameInfo:
    """A registered game: ``make(seed=..., **params)`` builds a fresh :class:`State`."""

    id: str
    make: Callable[..., State]
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    players: str = "2"
    # What search and export code must know, in OpenSpiel's GameType terms:
    information: str = "perfect"  # "perfect" | "imperfect" (hidden state: clone only via determinize)
    dynamics: str = "sequential"  # "sequential" | "simultaneous" (some node has several movers)
    chance: bool = False  # the rules draw at random (deals, roles, chance nodes)
    utility: str = "zero-sum"  # "zero-sum" (win/lose) | "general-sum" (payoffs) | "team"
    version: str = "1"  # bumped when the rules or the observation text change
    win: str = ""  # what counts as a win in the W/D/L columns ("" = ranked first by the game's own scoring)
    # What the game adds to its results (:mod:`arena.games.analysis`; not in the static index):
    metric_columns: tuple[MetricColumn, ...] = ()  # per-agent leaderboard columns (e.g. cooperation rate)
    analyses: tuple[Analysis, ...] = ()  # per-game tables of the results document and the report
