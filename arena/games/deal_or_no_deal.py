"""Deal or no deal: a multi-issue split of items with private valuations.

Card
- Players: 2, alternating turns (player 0 opens).
- Items: books, hats, balls with counts (1–4 each, 5–7 items in all) drawn from the
  state's seed; each player has private per-item values (whole numbers) worth 10 in total
  for the whole pool, and a value of 0 for at least one item kind for at most one player
  — as in Lewis et al. (2017), "Deal or No Deal? End-to-End Learning for Negotiation Dialogues".
- Turns: free-text message with at most one move: ``[PROPOSE books=1 hats=2 balls=0]``
  (the counts YOU get; the rest goes to the other player), ``[ACCEPT]`` (the other side's
  latest proposal), ``[WALK AWAY]``.  Refused with a reason: counts above the pool,
  accepting when there is no proposal, malformed tags.
- Scoring: on agreement each gets the value of the items received; otherwise 0 and 0
  (also after ``max_turns`` messages, default 10).
- Metrics: agreement, each side's share of its maximum (10), Pareto-optimal flag.
- Hidden information: ``determinize(player, rng)`` redraws the other side's values from that prior.
- Version 1.
"""

from __future__ import annotations

import itertools
from typing import Any

from arena.games.base import GameInfo, IllegalAction, State
from arena.games.offers import Move, answer_pattern, parse_move

ITEMS = ("books", "hats", "balls")
NO_MESSAGE = "(no message)"
MOVES = ("PROPOSE", "ACCEPT", "WALK AWAY")


def valuations(counts: dict[str, int]) -> list[dict[str, int]]:
    """Every per-item valuation worth exactly 10 over the pool (the prior of :func:`draw_setup`)."""
    return [dict(zip(ITEMS, v)) for v in itertools.product(range(11), repeat=3)
            if sum(v[k] * counts[i] for k, i in enumerate(ITEMS)) == 10]


def draw_setup(rng: Any) -> tuple[dict[str, int], list[dict[str, int]]]:
    """Counts and two valuations each worth exactly 10 over the pool."""
    while True:
        counts = {i: rng.randint(1, 4) for i in ITEMS}
        if not 5 <= sum(counts.values()) <= 7:
            continue
        options = [tuple(v[i] for i in ITEMS) for v in valuations(counts)]
        values = [dict(zip(ITEMS, rng.choice(options))) for _ in range(2)]
        if values[0] != values[1]:
            return counts, values


class DealOrNoDealState(State):
    game_id = "deal-or-no-deal"
    action_vocab = (NO_MESSAGE,)
    free_text_default = NO_MESSAGE

    def __init__(self, seed: int | None = None, max_turns: int = 10) -> None:
        if max_turns < 2:
            raise ValueError("max_turns must be at least 2")
        super().__init__(2, seed)
        self.max_turns = max_turns
        self.counts, self.values = draw_setup(self.rng)
        self.log: list[tuple[int, Move]] = []
        self.proposal: tuple[int, dict[str, int]] | None = None  # (proposer, what the proposer gets)
        self.agreed: dict[int, dict[str, int]] | None = None
        self.walked = False

    def to_move(self) -> list[int]:
        if self.agreed is not None or self.walked or len(self.log) >= self.max_turns:
            return []
        return [len(self.log) % 2]

    def legal_actions(self, player: int) -> list[str] | None:
        return None

    def answer_pattern(self, player: int) -> str | None:
        can_accept = self.proposal is not None and self.proposal[0] != player
        return answer_pattern(tuple(m for m in MOVES if m != "ACCEPT" or can_accept), pool=self.counts)

    def parse(self, player: int, text: str) -> str:
        move = parse_move(text, MOVES, ITEMS)
        self._check(player, move)
        return move.text() or NO_MESSAGE

    def _check(self, player: int, move: Move) -> None:
        if move.kind == "PROPOSE" and move.split is not None:
            over = [f"{i} ({move.split[i]} > {self.counts[i]})" for i in ITEMS if move.split[i] > self.counts[i]]
            if over:
                raise IllegalAction(f"you cannot get more than the pool holds: {', '.join(over)}")
        if move.kind == "ACCEPT" and (self.proposal is None or self.proposal[0] == player):
            raise IllegalAction("there is no proposal from the other side to accept; propose or talk")

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction("it is not your turn")
        move = parse_move("" if action == NO_MESSAGE else action, MOVES, ITEMS)
        self._check(player, move)
        self.log.append((player, move))
        if move.kind == "PROPOSE" and move.split is not None:
            self.proposal = (player, move.split)
        elif move.kind == "ACCEPT" and self.proposal is not None:
            proposer, split = self.proposal
            self.agreed = {proposer: split, 1 - proposer: {i: self.counts[i] - split[i] for i in ITEMS}}
        elif move.kind == "WALK AWAY":
            self.walked = True

    def determinize(self, player: int, rng: Any) -> DealOrNoDealState:
        """A clone in which the other player's values are redrawn from the setup's prior given the public
        counts: uniform over the valuations worth 10 that differ from ``player``'s own."""
        new = self.clone()
        options = [v for v in valuations(self.counts) if v != self.values[player]]
        new.values[1 - player] = dict(rng.choice(options))
        return new

    def value(self, player: int, items: dict[str, int]) -> int:
        return sum(self.values[player][i] * items[i] for i in ITEMS)

    def returns(self) -> list[float]:
        if self.agreed is None:
            return [0.0, 0.0]
        return [float(self.value(p, self.agreed[p])) for p in (0, 1)]

    def rules_text(self, player: int) -> str:
        pool = ", ".join(f"{self.counts[i]} {i}" for i in ITEMS)
        mine = ", ".join(f"{i} {self.values[player][i]} each" for i in ITEMS)
        return (f"You and another player must agree how to divide {pool}. Your private values: {mine} "
                f"(the whole pool is worth 10 to you; the other player values items differently and you do not "
                f"know how). Take turns; after {self.max_turns} messages in all there is no deal and both get 0. "
                "Each message is free text and may end with one move: [PROPOSE books=N hats=N balls=N] stating "
                "what YOU get (the rest goes to the other player), [ACCEPT] to accept the other's latest "
                "proposal, or [WALK AWAY].")

    def observation(self, player: int) -> str:
        lines = []
        for who, move in self.log:
            speaker = "You" if who == player else "Them"
            lines.append(f'{speaker}: "{move.message}" {move.tag()}'.rstrip())
        if self.proposal and self.proposal[0] != player and self.agreed is None:
            theirs = self.proposal[1]
            yours = {i: self.counts[i] - theirs[i] for i in ITEMS}
            lines.append("Their proposal leaves you " + ", ".join(f"{yours[i]} {i}" for i in ITEMS)
                         + f" (worth {self.value(player, yours)} to you).")
        if self.agreed is not None:
            lines.append(f"Deal. You get items worth {self.value(player, self.agreed[player])}.")
        elif not self.to_move():
            lines.append("No deal.")
        else:
            lines.append(f"{self.max_turns - len(self.log)} message(s) left. Your turn.")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"counts": "item -> how many there are", "my_values": "item -> its value to you",
                 "turn": "messages sent so far", "max_turns": "messages allowed",
                 "offered_to_me": "item -> count the standing proposal gives you (None if none)"}

    def observation_data(self, player: int) -> dict[str, Any]:
        theirs = self.proposal[1] if self.proposal and self.proposal[0] != player else None
        return {"counts": dict(self.counts), "my_values": dict(self.values[player]), "turn": len(self.log),
                "max_turns": self.max_turns,
                "offered_to_me": None if theirs is None else {i: self.counts[i] - theirs[i] for i in ITEMS}}

    def metrics(self) -> dict[str, Any]:
        scores = self.returns()
        return {"agreement": int(self.agreed is not None), "share_of_max": [s / 10 for s in scores],
                "pareto_optimal": int(self.agreed is not None and self._pareto(scores))}

    def _pareto(self, scores: list[float]) -> bool:
        for split in itertools.product(*(range(self.counts[i] + 1) for i in ITEMS)):
            mine = dict(zip(ITEMS, split))
            other = {i: self.counts[i] - mine[i] for i in ITEMS}
            a, b = self.value(0, mine), self.value(1, other)
            if a >= scores[0] and b >= scores[1] and (a, b) != tuple(scores):
                return False
        return True


GAMES = {"deal-or-no-deal": GameInfo("deal-or-no-deal", DealOrNoDealState, {"max_turns": 10},
                                     "split books/hats/balls with private values (Lewis et al. 2017)",
                                     information="imperfect", chance=True, utility="general-sum")}
