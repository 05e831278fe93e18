"""Search agents over the rules ``State``: ``mcts`` (UCT, random rollouts) and ``llm-mcts`` (PUCT, LLM prior).

Both set ``needs_state = True`` and search clones of ``turn.state``; they work for any
game whose State implements ``clone()`` (cheaply, ideally: one clone per simulation).

How chance, simultaneous and free-text nodes, any number of players, determinisation
(imperfect information) and MCTS-Solver proofs are searched: :mod:`arena.agents.search`,
the shared core.  The agents refuse a hidden-information game without ``determinize``
(:mod:`arena.games.hidden`) unless ``allow_peeking=true``: then it is searched on plain
clones, seeing every card, and the decision's info says ``peeking``.

``mcts``: UCT with Q rescaled to [-1, 1] by the smallest/largest return seen so far,
so ``c`` means the same on any score scale as on a +1/-1 game (OpenSpiel's convention;
``c=1.4`` beat ``c=2.8`` 14-7, 3 draws, in 24 connect-four games at 1000 simulations).
``info`` records visits and the mean raw return per root action.  ``search(...)``
(:func:`arena.agents.search.search`, re-exported here) is the same search as a pure function.

``llm-mcts`` (in :mod:`arena.agents.llm_mcts`; Schultz et al. 2024 "Mastering Board Games by External and Internal
Planning with Language Models"; PokéChamp): PUCT whose prior at each expanded node is
a softmax (``prior_temperature``) over the LLM's log-likelihood of each legal action,
scored with ``backend.score`` on the same prompt the LLM agent uses.  Leaves are valued
by a random rollout or, with ``llm_value=true``, by asking the model "will you win,
draw or lose?" from the mover's view and scoring the three one-word answers:
value = p(win) + p(draw)/2 for the mover, (N/2 - value)/(N - 1) for each of the N - 1
others.  Values are in [0, 1] per player: 1 for beating every opponent, 1/2 per tie
(terminal scores are ranked).  Selection: Q + c_puct * P * sqrt(N) / (1 + n), with
Q = 1/2 for unvisited actions.  ``top_k`` keeps only the k actions with the best prior
at the root ("the LLM proposes, search evaluates").  Priors and values are cached per
(player, observation text, legal actions) within one decision (hits need games whose
text does not spell out the move order).  A backend that cannot score gives a uniform
prior (noted in ``info``).  ``info`` holds visits, Q, the root prior, LLM calls, cache hits.
"""

from __future__ import annotations

import random
import time
from typing import Any

from arena.agents.base import AgentInfo, Decision, Turn
from arena.agents.search import Stats, best_action, search, search_info, search_state
from arena.games.hidden import check_peeking

__all__ = ["AGENTS", "MCTSAgent", "Stats", "search"]  # search: the UCT as a function (arena.agents.search)

class MCTSAgent:
    """UCT with random rollouts (see the module docstring)."""

    needs_state = True

    def __init__(self, simulations: int = 1000, seconds: float = 0.0, c: float = 1.4, seed: int = 0,
                 max_depth: int = 0, solve: bool = True, allow_peeking: bool = False) -> None:
        if simulations < 0 or seconds < 0 or (simulations == 0 and seconds == 0):
            raise ValueError("simulations and seconds must be >= 0, and not both 0")
        self.simulations, self.seconds, self.c, self.seed, self.max_depth = simulations, seconds, c, seed, max_depth
        self.solve, self.allow_peeking = solve, allow_peeking
        self.rng = random.Random(seed)

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{self.seed}:{match_info.get('seed')}:{match_info.get('player')}")

    def act(self, turn: Turn) -> Decision:
        state = search_state(turn, "mcts")
        peeking = check_peeking(state, "mcts", self.allow_peeking)
        started = time.perf_counter()
        proven: dict[str, float] = {}
        stats = search(state, turn.player, self.simulations, c=self.c, seconds=self.seconds,
                       max_depth=self.max_depth, rng=self.rng, deadline=turn.deadline, solve=self.solve,
                       proven=proven)
        info = search_info(stats, time.perf_counter() - started)
        if proven:
            info["proven"] = proven
        if peeking:
            info["peeking"] = True
        return Decision(best_action(stats, proven), info=info)


AGENTS = {
    "mcts": AgentInfo(MCTSAgent, {"simulations": 1000, "seconds": 0.0, "c": 1.4, "seed": 0, "max_depth": 0,
                                  "solve": True, "allow_peeking": False},
                      "UCT Monte Carlo tree search with random rollouts and MCTS-Solver proofs (any game with clone())"),
}
