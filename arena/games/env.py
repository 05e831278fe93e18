"""The one generic PettingZoo face: any :class:`~arena.games.base.State` as an ``AECEnv``.

Observations are ``{"observation": text, "action_mask": int8[len(action_vocab)]}``.
Actions are an index into the game's ``action_vocab`` (masked) or a string that the
game parses.  At a free-text node the mask allows only the game's default message;
any string is accepted as well.  Simultaneous nodes are served one seat at a time and
nobody's observation shows a pending choice.
"""

from __future__ import annotations

import string
import sys
from collections.abc import Callable, Iterator, Mapping
from itertools import repeat
from types import MappingProxyType
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

from arena.games.base import CHANCE, IllegalAction, State

StateFactory = Callable[[int | None], State]
Mask = tuple[np.ndarray, dict[int, str]]  # the read-only int8 action mask, and its legal indexes' actions
NO_MOVES: Mapping[int, str] = MappingProxyType({})  # before last() hands out a mask at a node


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
        self._seats: list[tuple[int, str]] = []  # (player, agent) of the agents left: the reward loop's order
        # per-node caches, refreshed after every apply: who moves, the returns, the selected agent's legal indexes
        self._movers: list[int] = []
        self._returns: list[float] = []
        self._moves: Mapping[int, str] = NO_MOVES  # what last() allowed the selected agent (step checks it)
        self._mask_of: dict[tuple[str, ...] | None, Mask] = {}  # one read-only mask per distinct legal set
        self._paid = False  # whether the last step paid a reward (then the next one clears it)
        self._over = False  # whether the game ended (every agent terminated at once, by the rules)
        self._zeros: dict[str, float] = {}  # 0.0 per agent left: the template of a step that pays nothing
        self._falses = dict.fromkeys(self.possible_agents, False)  # copied at reset (cheaper than fromkeys)
        self._seat_agents(self.possible_agents)

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    # --- lifecycle ----------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        if seed is not None:
            self._seed = seed
        self.state = state = self._make_state(self._seed)
        self.agents = self.possible_agents.copy()
        if len(self._seats) != len(self.agents):  # the last episode lost an agent early (a wrapper's doing)
            self._seat_agents(self.agents)
        self.rewards, self._cumulative_rewards = self._zeros.copy(), self._zeros.copy()
        self.terminations, self.truncations = self._falses.copy(), self._falses.copy()
        self.infos = infos = {}
        for agent in self.agents:  # a loop, not a comprehension (no function frame)
            infos[agent] = {}
        self._paid = self._over = False
        self._returns = list(state.returns())
        movers = state.to_move()
        if movers and movers[0] != CHANCE:  # no chance node first: select the mover here
            self._movers, self._moves = movers, NO_MOVES
            self.agent_selection = self.possible_agents[movers[0]]
        else:
            self._enter_node(movers)

    def observe(self, agent: str) -> dict[str, Any]:
        player = self._seat[agent]
        mask = self._mask(player)
        return {"observation": TextObservation(self.state.observation(player)), "action_mask": mask[0]}

    def last(self, observe: bool = True) -> tuple[dict[str, Any] | None, float, bool, bool, dict[str, Any]]:
        """PettingZoo's ``last``: the observation text is rendered once, here; nothing else is rebuilt."""
        agent = self.agent_selection
        if observe:  # ``observe(agent)`` inline (last() runs once per step); step() checks against these moves
            player, state = self._seat[agent], self.state
            key = state.legal_set(player) if player in self._movers else ()
            try:
                mask = self._mask_of[key]
            except KeyError:  # a legal set not seen before (or free text)
                mask = self._new_mask(key)
            self._moves = mask[1]
            obs = {"observation": TextObservation(state.observation(player)), "action_mask": mask[0]}
        else:
            obs = None
        return obs, self._cumulative_rewards[agent], self.terminations[agent], self.truncations[agent], self.infos[agent]

    def agent_iter(self, max_iter: int = 2**63) -> Iterator[str]:
        """PettingZoo's ``agent_iter`` as a generator (its iterator class costs a Python call per step)."""
        return _agent_iter(self, max_iter)

    def step(self, action: int | str | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._dead_step(action)
            return
        player = self._seat[agent]
        self._cumulative_rewards[agent] = 0.0
        try:  # the common case: an index allowed by the mask last() handed out at this node
            move = self._moves[action]
        except (KeyError, TypeError):  # no mask yet, an index it forbids, a string, None, an unhashable
            move = self._to_action(player, action)
        state = self.state
        state.apply(player, move)
        movers = state.to_move()
        if movers and movers[0] != CHANCE:  # the usual next node: one to_move call, a fresh mask cache
            self._movers, self._moves = movers, NO_MOVES
            self.agent_selection = self.possible_agents[movers[0]]
        else:
            self._enter_node(movers)
        # this step's rewards are the change of the returns; the reward dicts change only when those do
        after = state.returns()
        if after != self._returns:  # most steps (a first mover at a simultaneous node, mid-game moves) pay nothing
            before = self._returns
            self._returns = list(after)
            self._paid = True
            self.rewards = rewards = {}
            cumulative = self._cumulative_rewards
            for player, agent in self._seats:
                rewards[agent] = reward = float(after[player] - before[player])
                cumulative[agent] += reward
        elif self._paid:
            self.rewards, self._paid = self._zeros.copy(), False

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return self.state.observation(self.state.to_move()[0] if self.state.to_move() else 0)

    def close(self) -> None:
        pass

    # --- helpers ------------------------------------------------------------
    def _dead_step(self, action: None) -> None:
        """PettingZoo's ``_was_dead_step`` where every agent finishes at once: drop this one, select the next."""
        if not self._over:
            self._was_dead_step(action)  # someone still plays (a wrapper ended one agent): PettingZoo's rule
            self._seat_agents(self.agents)
            return
        if action is not None:
            raise ValueError("when an agent is dead, the only valid action is None")
        agent = self.agent_selection
        del self.terminations[agent], self.truncations[agent], self.rewards[agent]
        del self._cumulative_rewards[agent], self.infos[agent]
        agents = self.agents
        agents.remove(agent)
        if agents:
            self.agent_selection = agents[0]
        if self._paid:  # otherwise every reward left is 0.0 already
            self.rewards, self._paid = dict.fromkeys(agents, 0.0), False

    def _seat_agents(self, agents: list[str]) -> None:
        """The reward loop's seats and the zero-rewards template for the agents still in the episode."""
        self._seats = [(self._seat[a], a) for a in agents]
        self._zeros = dict.fromkeys(agents, 0.0)

    def _enter_node(self, movers: list[int]) -> None:
        """Sample chance nodes away; cache who moves (one ``to_move`` call per node) and select the agent."""
        while movers and movers[0] == CHANCE:  # [CHANCE]: a chance node
            self.state.sample_chance()
            movers = self.state.to_move()
        self._movers, self._moves = movers, NO_MOVES
        if movers:
            self.agent_selection = self.possible_agents[movers[0]]
            return
        metrics = self.state.metrics()  # once, not once per seat
        self._over = True
        self.terminations = dict.fromkeys(self.agents, True)
        self.infos = infos = {}
        for agent in self.agents:
            infos[agent] = {"metrics": metrics}
        self.agent_selection = self.agents[0]

    def _mask(self, player: int) -> Mask:
        """The legal-action mask of ``player`` at this node (read-only; one per distinct legal set)."""
        key = self.state.legal_set(player) if player in self._movers else ()
        return self._mask_of.get(key) or self._new_mask(key)

    def _new_mask(self, key: tuple[str, ...] | None) -> Mask:
        """The mask of a legal set (``None``: free text, the game's default message only), cached per set."""
        actions = key if key is not None else (self.state.free_text_default,)
        indexes = {self._index[a]: a for a in actions}
        array = np.zeros(len(self._vocab), np.int8)
        array[list(indexes)] = 1
        array.flags.writeable = False
        mask = (array, indexes)
        if len(self._mask_of) < 4096:  # games with few distinct legal sets (matrix, poker) hit it
            self._mask_of[key] = mask
        return mask

    def _to_action(self, player: int, action: int | str | None) -> str:
        if isinstance(action, str):
            return self.state.parse(player, action)
        index = -1 if action is None else int(action)
        if not 0 <= index < len(self._vocab):
            raise IllegalAction(f"action must be an index below {len(self._vocab)} or a string, got {action!r}")
        if index not in self._mask(player)[1]:
            raise IllegalAction(f"action {self._vocab[index]!r} is not legal now")
        return self._vocab[index]


def _agent_iter(env: ArenaEnv, max_iter: int) -> Iterator[str]:
    """The agent to act next while any agent is left, at most ``max_iter`` times (PettingZoo's contract)."""
    if max_iter >= sys.maxsize:  # the default 2**63: no count to keep
        while env.agents:
            yield env.agent_selection
        return
    for _ in repeat(None, max_iter):  # a C-level count, not a Python one per step
        if not env.agents:
            return
        yield env.agent_selection
