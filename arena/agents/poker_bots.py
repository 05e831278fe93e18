"""Poker baselines: a calling station, a tight-aggressive equity player, and CFR.

They read the structured observation (``turn.data``) and answer with the games' action
names (``fold``/``check``/``call``, ``raise min``/``raise half-pot``/``raise pot``/
``all-in`` in hold'em, ``bet``/``raise`` in Kuhn and Leduc); outside poker they play a
random legal action.

- ``calling-station``: calls every bet, checks otherwise, never folds or raises.
- ``tight-aggressive``: hand strength = equity against uniformly random hands of the
  opponents still in the hand — exact in Kuhn/Leduc (``turn.data["equity"]``), Monte
  Carlo in hold'em with pokerkit's hand evaluator (``samples`` deals drawn with the
  agent's own generator).  With ``f = 1 / players in the hand``: raise when equity ≥
  ``raise_at``·f (pot-size when ≥ ``pot_at``·f), call when equity ≥ ``call_at``·f and
  beats the pot odds, otherwise check or fold.
- ``cfr``: CFR+ (or vanilla CFR, ``variant=cfr``) trained for ``iterations`` when built
  (cached per process and per game/iterations/variant), plays the average strategy,
  sampling with its own generator.  ``game`` names the game to solve (``kuhn-poker``,
  ``leduc-poker``, any game spec with chance nodes and a small tree); empty: the game of
  the match, solved on first use.  A ``hands`` parameter is set to 1 for solving (the
  information sets are per hand and position-relative).
"""

from __future__ import annotations

import itertools
import random
from functools import lru_cache
from typing import Any

from arena.agents.base import AgentInfo, Decision, Turn
from arena.agents.cfr import Solver
from arena.games.base import State
from arena.games.registry import parse_game
from arena.spec import SpecError

RAISES = ("raise pot", "raise half-pot", "raise min", "raise", "bet")


class _PokerBot:
    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self.rng = random.Random(seed)

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{self._seed}:{match_info.get('seed')}:{match_info.get('player')}")

    def act(self, turn: Turn) -> Decision:
        legal = turn.legal_actions
        if not legal:
            return Decision(action="")
        if not ({"call", "check"} & set(legal)):
            return Decision(action=self.rng.choice(legal))
        return Decision(**self.choose(turn, list(legal)))

    def choose(self, turn: Turn, legal: list[str]) -> dict[str, Any]:
        raise NotImplementedError


class CallingStation(_PokerBot):
    def choose(self, turn: Turn, legal: list[str]) -> dict[str, Any]:
        return {"action": "call" if "call" in legal else "check"}


class TightAggressive(_PokerBot):
    def __init__(self, seed: int = 0, samples: int = 100, raise_at: float = 1.3, pot_at: float = 1.6,
                 call_at: float = 1.05) -> None:
        if samples < 1:
            raise ValueError("samples must be at least 1")
        if not 0 < call_at <= raise_at <= pot_at:
            raise ValueError("need 0 < call_at <= raise_at <= pot_at")
        super().__init__(seed)
        self.samples, self.raise_at, self.pot_at, self.call_at = samples, raise_at, pot_at, call_at

    def choose(self, turn: Turn, legal: list[str]) -> dict[str, Any]:
        data = turn.data
        equity = data.get("equity")
        if equity is None and "hole" in data:
            equity = holdem_equity(data["hole"], data.get("board", []), max(int(data.get("opponents", 1)), 1),
                                   self.samples, self.rng)
        if equity is None:
            return {"action": self.rng.choice(legal)}
        fair = 1.0 / (1 + max(int(data.get("opponents", 1)), 1))
        to_call, pot = float(data.get("to_call", 0)), float(data.get("pot", 0))
        odds = to_call / (pot + to_call) if to_call else 0.0
        raises = [a for a in RAISES if a in legal]
        strong = equity >= self.raise_at * fair
        if strong and raises:
            if equity < self.pot_at * fair and len(raises) > 1 and raises[0] == "raise pot":
                raises = raises[1:]
            action = raises[0]
        elif strong and "all-in" in legal and equity >= max(self.pot_at * fair, 0.8):
            action = "all-in"
        elif "check" in legal:
            action = "check"
        elif strong or equity >= max(self.call_at * fair, odds):
            action = "call"
        else:
            action = "fold"
        return {"action": action, "info": {"equity": round(equity, 4)}}


def holdem_equity(hole: list[str], board: list[str], opponents: int, samples: int, rng: random.Random) -> float:
    """Share of the pot won at showdown (ties split) against ``opponents`` random hands, by
    Monte Carlo over the unseen cards, each hand valued with pokerkit's standard lookup."""
    from pokerkit import Card, Deck, StandardHighHand

    lookup = StandardHighHand.lookup
    mine = list(Card.parse("".join(hole)))
    shared = list(Card.parse("".join(board))) if board else []
    known = set(mine) | set(shared)
    deck = [c for c in Deck.STANDARD if c not in known]
    need = 5 - len(shared)

    def value(cards: list[Any]) -> int:
        return max(lookup.get_entry(combo).index for combo in itertools.combinations(cards, 5))

    won = 0.0
    for _ in range(samples):
        drawn = rng.sample(deck, 2 * opponents + need)
        full = shared + drawn[2 * opponents:]
        me = value(mine + full)
        theirs = [value(drawn[2 * k:2 * k + 2] + full) for k in range(opponents)]
        best = max(theirs)
        won += 1.0 if me > best else 1.0 / (1 + theirs.count(me)) if me == best else 0.0
    return won / samples


@lru_cache(maxsize=16)
def solve(game: str, iterations: int, variant: str = "cfr+") -> Solver:
    """A trained solver for a game spec (cached per process)."""
    spec = parse_game(game)
    params = dict(spec.params)
    if "hands" in spec.info.params:
        params["hands"] = 1
    root = spec.info.make(seed=0, **params)
    if type(root).chance_outcomes is State.chance_outcomes:
        raise ValueError(f"{game} has no explicit chance nodes to enumerate; cfr solves small games such as "
                         "kuhn-poker and leduc-poker")
    solver = Solver(root, variant)
    solver.iterate(iterations)
    return solver


class CFRAgent:
    """Plays the average strategy of CFR+ (or CFR) for a small game with chance nodes."""

    def __init__(self, game: str = "", iterations: int = 1000, variant: str = "cfr+", seed: int = 0) -> None:
        if iterations < 1:
            raise ValueError("iterations must be at least 1")
        if variant not in ("cfr", "cfr+"):
            raise ValueError(f"unknown variant {variant!r}; valid: cfr, cfr+")
        self.game, self.iterations, self.variant, self._seed = game, iterations, variant, seed
        self.rng = random.Random(seed)
        self.match_game = ""
        self.solver = solve(game, iterations, variant) if game else None
        self.policy = self.solver.average if self.solver else None

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{self._seed}:{match_info.get('seed')}:{match_info.get('player')}")
        self.match_game = str(match_info.get("game", ""))

    def act(self, turn: Turn) -> Decision:
        if self.policy is None:
            game = self.match_game or turn.game_id
            try:
                self.solver = solve(game, self.iterations, self.variant)
            except (SpecError, ValueError) as err:
                raise ValueError(f"cfr cannot solve {game}: {err}") from None
            self.policy = self.solver.average
        key = str(turn.data["infoset"]) if "infoset" in turn.data else turn.text
        strategy = self.policy.get(key)
        if strategy is None:
            raise ValueError(f"cfr was trained for {self.game or self.match_game} and does not know the "
                             f"information set {key!r} of {turn.game_id}; give cfr:game=<the game played>")
        actions = list(strategy)
        action = self.rng.choices(actions, weights=[strategy[a] for a in actions])[0]
        return Decision(action=action, info={"strategy": {a: round(p, 4) for a, p in strategy.items()}})


AGENTS = {
    "calling-station": AgentInfo(CallingStation, {"seed": 0}, "poker: calls every bet, never folds or raises",
                                 ("poker",)),
    "tight-aggressive": AgentInfo(TightAggressive, {"seed": 0, "samples": 100, "raise_at": 1.3, "pot_at": 1.6,
                                                    "call_at": 1.05},
                                  "poker: raises strong, calls medium, folds weak hands (equity vs random hands)",
                                  ("poker",)),
    "cfr": AgentInfo(CFRAgent, {"game": "", "iterations": 1000, "variant": "cfr+", "seed": 0},
                     "CFR+ average strategy for Kuhn/Leduc (game=kuhn-poker|leduc-poker, iterations=1000)"),
}
