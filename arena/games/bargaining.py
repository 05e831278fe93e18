"""Buyer–seller bargaining over one item, in free text with structured moves.

Card
- Players: 2 — player 0 the seller, player 1 the buyer (``seller_first`` decides who opens).
- Private values: the seller's cost (default $8) and the buyer's budget (default $20)
  are each known only to their owner; the list price (default $20) is public.
- Turns alternate; each is a free-text message with at most one move tag:
  ``[OFFER $X]``, ``[ACCEPT]`` (the other side's standing offer), ``[WALK AWAY]``.
  Refused (illegal, with the reason): a malformed tag, accepting when the other side
  has no standing offer, a buyer offering above the budget, a seller offering below
  cost.  ``max_turns`` (default 10) messages in all, then no deal.
- Scoring: deal at price p: seller p − cost, buyer budget − p; no deal: 0 and 0.
- Metrics: deal (0/1), deal_price, valid_deal (cost < p < list price, as in the paper),
  each side's surplus share (its surplus / (budget − cost)).
- Setup: "Improving Language Model Negotiation with Self-Play and In-Context Learning
  from AI Feedback" (Fu et al., 2023): a balloon listed at $20, seller cost $8, buyer
  aims for $10 (``buyer_target``, shown to the buyer as guidance), 10 turns.
- Hidden information: ``determinize(player, rng)`` redraws the other side's value from a uniform prior
  on what the rules allow: the seller's cost in (0, min(list price, its offers so far)], the buyer's
  budget in [max(seller's cost, its offers so far), list price].
- Version 1.
"""

from __future__ import annotations

import math
from typing import Any

from arena.games.base import GameInfo, IllegalAction, State
from arena.games.negotiation import deal_price_table
from arena.games.offers import Move, answer_pattern, parse_move

SELLER, BUYER = 0, 1
ROLES = ("seller", "buyer")
NO_MESSAGE = "(no message)"


class BargainingState(State):
    game_id = "bargaining"
    action_vocab = (NO_MESSAGE,)
    free_text_default = NO_MESSAGE

    def __init__(self, seed: int | None = None, item: str = "balloon", list_price: float = 20.0,
                 seller_cost: float = 8.0, buyer_budget: float = 20.0, buyer_target: float = 10.0,
                 max_turns: int = 10, seller_first: bool = True) -> None:
        if not 0 < seller_cost < buyer_budget:
            raise ValueError("need 0 < seller_cost < buyer_budget for a deal to be possible")
        if max_turns < 2:
            raise ValueError("max_turns must be at least 2")
        super().__init__(2, seed)
        self.item, self.list_price, self.max_turns = item, list_price, max_turns
        self.cost, self.budget, self.target = seller_cost, buyer_budget, buyer_target
        self.first = SELLER if seller_first else BUYER
        self.log: list[tuple[int, Move]] = []
        self.standing: dict[int, float] = {}
        self.price: float | None = None
        self.walked = False

    # --- flow ---------------------------------------------------------------
    def to_move(self) -> list[int]:
        if self.price is not None or self.walked or len(self.log) >= self.max_turns:
            return []
        return [self.first if len(self.log) % 2 == 0 else 1 - self.first]

    def legal_actions(self, player: int) -> list[str] | None:
        return None

    def answer_pattern(self, player: int) -> str | None:
        kinds = ("OFFER", "WALK AWAY") + (("ACCEPT",) if 1 - player in self.standing else ())
        bounds = (math.ceil(self.cost), max(math.ceil(self.cost), 10 * math.ceil(self.list_price))) \
            if player == SELLER else (1, math.floor(self.budget))
        return answer_pattern(kinds, offer=bounds)

    def parse(self, player: int, text: str) -> str:
        move = parse_move(text, ("OFFER", "ACCEPT", "WALK AWAY"))
        self._check(player, move)
        return move.text() or NO_MESSAGE

    def _check(self, player: int, move: Move) -> None:
        if move.kind == "ACCEPT" and 1 - player not in self.standing:
            raise IllegalAction("there is no offer from the other side to accept yet; make an offer or talk")
        if move.kind == "OFFER" and player == BUYER and move.amount is not None and move.amount > self.budget:
            raise IllegalAction(f"you cannot offer more than your budget of ${self.budget:.2f}")
        if move.kind == "OFFER" and player == SELLER and move.amount is not None and move.amount < self.cost:
            raise IllegalAction(f"you cannot sell below your cost of ${self.cost:.2f}")

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction(f"it is not the {ROLES[player]}'s turn")
        move = parse_move("" if action == NO_MESSAGE else action, ("OFFER", "ACCEPT", "WALK AWAY"))
        self._check(player, move)
        self.log.append((player, move))
        if move.kind == "OFFER":
            self.standing[player] = float(move.amount or 0)
        elif move.kind == "ACCEPT":
            self.price = self.standing[1 - player]
        elif move.kind == "WALK AWAY":
            self.walked = True

    def determinize(self, player: int, rng: Any) -> BargainingState:
        """A clone in which the other side's private value is redrawn from the prior the rules state
        (see the card), conditioned on its public offers: a seller never offers below cost, a buyer
        never above budget, and cost < budget."""
        new = self.clone()
        if player == BUYER:
            offers = [amount for who, amount in self._offers() if who == SELLER]
            high = min([self.list_price, self.budget, *offers])
            new.cost = round(rng.uniform(0.0, high), 2) or 0.01
        else:
            offers = [amount for who, amount in self._offers() if who == BUYER]
            low = max([self.cost, *offers])
            new.budget = round(rng.uniform(low, max(low, self.list_price)), 2)
            if new.budget <= self.cost:
                new.budget = round(self.cost + 0.01, 2)
        return new

    def _offers(self) -> list[tuple[int, float]]:
        return [(who, float(move.amount)) for who, move in self.log if move.kind == "OFFER" and move.amount is not None]

    def returns(self) -> list[float]:
        if self.price is None:
            return [0.0, 0.0]
        return [self.price - self.cost, self.budget - self.price]

    # --- text ---------------------------------------------------------------
    def rules_text(self, player: int) -> str:
        private = (f"Your cost for the {self.item} is ${self.cost:.2f}: selling below it is not allowed; "
                   "every dollar above it is your profit." if player == SELLER else
                   f"Your budget is ${self.budget:.2f} (you cannot pay more); aim to buy for about "
                   f"${self.target:.2f}: every dollar you save is your gain.")
        return (f"You are the {ROLES[player]} of a {self.item} listed at ${self.list_price:.2f}. {private} "
                f"You and the {ROLES[1 - player]} take turns; there are {self.max_turns} messages in all, then "
                "the negotiation ends without a deal. Each message is free text and may end with one move: "
                "[OFFER $X] to propose a price, [ACCEPT] to accept the other side's latest offer, "
                "[WALK AWAY] to end without a deal. Keep your private numbers to yourself if that helps you.")

    def observation(self, player: int) -> str:
        lines = [f"You are the {ROLES[player]}."]
        for who, move in self.log:
            speaker = "You" if who == player else f"The {ROLES[who]}"
            lines.append(f'{speaker}: "{move.message}" {move.tag()}'.rstrip())
        if 1 - player in self.standing:
            lines.append(f"Standing offer from the {ROLES[1 - player]}: ${self.standing[1 - player]:.2f}.")
        if self.price is not None:
            lines.append(f"Deal at ${self.price:.2f}.")
        elif self.walked:
            lines.append("The negotiation ended without a deal.")
        else:
            lines.append(f"{self.max_turns - len(self.log)} message(s) left. Your turn.")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"role": "'buyer' or 'seller'", "reserve": "your walk-away price (seller: cost, buyer: budget)",
                 "list_price": "the seller's list price", "target": "the price you aim for",
                 "turn": "messages sent so far", "max_turns": "messages allowed in the game",
                 "their_offer": "the other side's standing offer (None if none)",
                 "my_offer": "your standing offer (None if none)",
                 "their_offers": "every offer of the other side, in order",
                 "my_offers": "every offer of yours, in order"}

    def observation_data(self, player: int) -> dict[str, Any]:
        other = 1 - player
        return {"role": ROLES[player], "reserve": self.cost if player == SELLER else self.budget,
                "list_price": self.list_price, "target": self.target if player == BUYER else self.list_price,
                "turn": len(self.log), "max_turns": self.max_turns,
                "their_offer": self.standing.get(other), "my_offer": self.standing.get(player),
                "their_offers": [m.amount for w, m in self.log if w == other and m.kind == "OFFER"],
                "my_offers": [m.amount for w, m in self.log if w == player and m.kind == "OFFER"]}

    def metrics(self) -> dict[str, Any]:
        span = self.budget - self.cost
        if self.price is None:
            return {"deal": 0, "deal_price": None, "valid_deal": 0, "surplus_share": [0.0, 0.0]}
        return {"deal": 1, "deal_price": self.price,
                "valid_deal": int(self.cost < self.price < self.list_price),
                "surplus_share": [(self.price - self.cost) / span, (self.budget - self.price) / span]}


GAMES = {"bargaining": GameInfo(
    "bargaining", BargainingState,
    {"item": "balloon", "list_price": 20.0, "seller_cost": 8.0, "buyer_budget": 20.0, "buyer_target": 10.0,
     "max_turns": 10, "seller_first": True},
    "buyer-seller bargaining in free text with [OFFER $X]/[ACCEPT]/[WALK AWAY] (Fu et al.)",
    information="imperfect", utility="general-sum", analyses=(deal_price_table,))}
