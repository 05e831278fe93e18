"""The one generic PettingZoo face: any :class:`~arena.games.base.State` as an ``AECEnv``.

Observations are ``{"observation": text, "action_mask": int8[len(action_vocab)]}``.
Actions are an index into the game's ``action_vocab`` (masked) or a string that the
game parses.  At a free-text node the mask allows only the game's default message;
any string is accepted as well.  Simultaneous nodes are served one seat at a time and
nobody's observation shows a pending choice.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from arena.games.base import CHANCE, IllegalAction, State

StateFactory = Callable[[int | None], State]


class TextObservation(str):
    """A ``str`` that carries the dtype of gymnasium's ``Text`` space (for PettingZoo's checks)."""

    dtype = np.dtype(str)


class AnyText(spaces.Text):
    """``Text`` space that accepts any characters (the default charset is alphanumeric only)."""

    def __init__(self, max_length: int) -> None:
        super().__init__(max_length=max_length, min_length=0, charset=string.printable)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length


class ArenaEnv(AECEnv):
    """PettingZoo AEC environment over a rules ``State`` built by ``make_state(seed)``."""

    metadata = {"render_modes": ["ansi"], "is_parallelizable": False}

    def __init__(self, make_state: StateFactory, name: str = "arena", render_mode: str | None = None,
                 max_text: int = 1_000_000) -> None:
        super().__init__()
        self._make_state = make_state
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "name": name}
        probe = make_state(0)
        self._vocab = list(probe.action_vocab) or [probe.free_text_default]
        self._index = {a: i for i, a in enumerate(self._vocab)}
        self.possible_agents = [f"player_{i}" for i in range(probe.num_players)]
        obs_space = spaces.Dict({
            "observation": AnyText(max_text),
            "action_mask": spaces.Box(0, 1, (len(self._vocab),), np.int8),
        })
        self.observation_spaces = {a: obs_space for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(len(self._vocab)) for a in self.possible_agents}
        self.state: State = probe
        self._seed: int | None = None
        self._seat = {a: i for i, a in enumerate(self.possible_agents)}
        # per-node caches, refreshed after every apply: who moves, the returns, each mover's mask
        self._movers: list[int] = []
        self._returns: list[float] = []
        self._masks: dict[int, np.ndarray] = {}
        self._mask_of: dict[tuple[str, ...], np.ndarray] = {}  # one read-only array per distinct legal set

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    # --- lifecycle ----------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._seed = seed
        self.state = self._make_state(self._seed)
        self._resolve_chance()
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self._returns = list(self.state.returns())
        self._select_next()

    def observe(self, agent: str) -> dict[str, Any]:
        player = self._seat[agent]
        return {"observation": TextObservation(self.state.observation(player)),
                "action_mask": self._mask(player)}

    def step(self, action: int | str | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        player = self._seat[agent]
        self._cumulative_rewards[agent] = 0.0
        before = self._returns
        self.state.apply(player, self._to_action(player, action))
        self._resolve_chance()
        after = self.state.returns()
        if after != before:  # most steps (a first mover at a simultaneous node, mid-game moves) pay nothing
            self._returns = list(after)
            self.rewards = {a: float(after[i] - before[i]) for i, a in enumerate(self.possible_agents)
                            if a in self.rewards}
            self._accumulate_rewards()
        elif any(self.rewards.values()):
            self.rewards = dict.fromkeys(self.rewards, 0.0)
        if not self._movers:
            self.terminations = dict.fromkeys(self.agents, True)
            self.infos = {a: {"metrics": self.state.metrics()} for a in self.agents}
        self._select_next()

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return self.state.observation(self.state.to_move()[0] if self.state.to_move() else 0)

    def close(self) -> None:
        pass

    # --- helpers ------------------------------------------------------------
    def _resolve_chance(self) -> None:
        """Sample chance nodes away; then cache who moves (the one ``to_move`` call of this node)."""
        while (movers := self.state.to_move()) == [CHANCE]:
            self.state.sample_chance()
        self._movers, self._masks = movers, {}

    def _select_next(self) -> None:
        movers = self._movers
        self.agent_selection = self.possible_agents[movers[0]] if movers else self.agents[0]

    def _mask(self, player: int) -> np.ndarray:
        """The legal-action mask of ``player`` at this node: computed once per node, read-only."""
        mask = self._masks.get(player)
        if mask is None:
            legal = self.state.legal_actions(player) if player in self._movers else []
            key = tuple(legal) if legal is not None else (self.state.free_text_default,)
            mask = self._mask_of.get(key)
            if mask is None:
                mask = np.zeros(len(self._vocab), np.int8)
                mask[[self._index[a] for a in key]] = 1
                mask.flags.writeable = False
                if len(self._mask_of) < 4096:  # games with few distinct legal sets (matrix, poker) hit it
                    self._mask_of[key] = mask
            self._masks[player] = mask
        return mask

    def _to_action(self, player: int, action: int | str | None) -> str:
        if isinstance(action, str):
            return self.state.parse(player, action)
        index = -1 if action is None else int(action)
        if not 0 <= index < len(self._vocab):
            raise IllegalAction(f"action must be an index below {len(self._vocab)} or a string, got {action!r}")
        if not self._mask(player)[index]:
            raise IllegalAction(f"action {self._vocab[index]!r} is not legal now")
        return self._vocab[index]
