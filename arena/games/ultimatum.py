"""The ultimatum game.

Card
- Players: 2 — player 0 proposes, player 1 responds (roles swap each round when
  ``rounds`` > 1 and ``alternate`` is on).
- Actions: the proposer offers the responder a whole amount "0".."total"; the
  responder answers "accept" or "reject".
- Scoring: accept → proposer total − offer, responder offer; reject → 0 and 0; summed over rounds.
- Metrics: mean offer (share of the total), acceptance rate.
- Setup: Güth, Schmittberger & Schwarze (1982); total 10 by default.  Version 1.
"""

from __future__ import annotations

from typing import Any

from arena.games.base import GameInfo, IllegalAction, State


class UltimatumState(State):
    game_id = "ultimatum"

    def __init__(self, seed: int | None = None, total: int = 10, rounds: int = 1, alternate: bool = True) -> None:
        if total < 1 or rounds < 1:
            raise ValueError("total and rounds must be at least 1")
        super().__init__(2, seed)
        self.total, self.rounds, self.alternate = total, rounds, alternate
        self.action_vocab = tuple(str(i) for i in range(total + 1)) + ("accept", "reject")
        self.history: list[tuple[int, int, bool]] = []  # (proposer, offer, accepted)
        self.offer: int | None = None
        self.totals = [0.0, 0.0]

    def proposer(self) -> int:
        return len(self.history) % 2 if self.alternate else 0

    def to_move(self) -> list[int]:
        if len(self.history) >= self.rounds:
            return []
        return [self.proposer() if self.offer is None else 1 - self.proposer()]

    def legal_actions(self, player: int) -> list[str] | None:
        return [str(i) for i in range(self.total + 1)] if self.offer is None else ["accept", "reject"]

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move() or action not in (self.legal_actions(player) or []):
            raise IllegalAction(f"legal now: {', '.join(self.legal_actions(player) or [])}")
        if self.offer is None:
            self.offer = int(action)
            return
        proposer, accepted = self.proposer(), action == "accept"
        if accepted:
            self.totals[proposer] += self.total - self.offer
            self.totals[1 - proposer] += self.offer
        self.history.append((proposer, self.offer, accepted))
        self.offer = None

    def returns(self) -> list[float]:
        return list(self.totals)

    def rules_text(self, player: int) -> str:
        return (f"Ultimatum game, {self.rounds} round(s). Each round the proposer splits {self.total} points by "
                f"offering the responder a whole number from 0 to {self.total}; the responder accepts (both get "
                "the split) or rejects (both get nothing). Maximise your points. The proposer answers with a "
                "number, the responder with accept or reject.")

    def observation(self, player: int) -> str:
        lines = []
        for i, (proposer, offer, accepted) in enumerate(self.history):
            who = "you" if proposer == player else "the other player"
            lines.append(f"Round {i + 1}: {who} proposed and offered {offer}; "
                         f"{'accepted' if accepted else 'rejected'}.")
        if not self.to_move():
            lines.append(f"Game over. Your points: {self.totals[player]:g}.")
        elif self.offer is None:
            lines.append(f"Round {len(self.history) + 1}: you propose. How much of {self.total} do you offer?")
        else:
            lines.append(f"Round {len(self.history) + 1}: you are offered {self.offer} of {self.total} "
                         f"(the proposer keeps {self.total - self.offer}). accept or reject?")
        return "\n".join(lines)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"role": "'proposer' or 'responder'", "total": "the amount to split",
                 "offer": "the offer on the table (None if none)", "round": "this round (1-based)"}

    def observation_data(self, player: int) -> dict[str, Any]:
        return {"role": "proposer" if self.offer is None else "responder", "total": self.total,
                "offer": self.offer, "round": len(self.history) + 1}

    def metrics(self) -> dict[str, Any]:
        n = max(len(self.history), 1)
        return {"mean_offer_share": sum(o for _, o, _ in self.history) / (n * self.total),
                "acceptance_rate": sum(a for _, _, a in self.history) / n}


GAMES = {"ultimatum": GameInfo("ultimatum", UltimatumState, {"total": 10, "rounds": 1, "alternate": True},
                               "split a total: offer, then accept or reject", utility="general-sum")}
