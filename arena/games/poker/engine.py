"""pokerkit glue for hold'em: the automations, the deck, and a memoised evaluator.

Everything stays pokerkit's: the rules (``NoLimitTexasHoldem``) and the hand values
(``StandardHighHand`` and its lookup).  pokerkit re-derives a hand's lookup entry on every
comparison and re-evaluates each player's hand several times per showdown (show/muck
order, hand killing); :class:`MemoHoldem` memoises those results, which makes random-play
showdowns several times faster.  ``tests/test_poker.py`` replays hands in plain pokerkit
states and compares payoffs.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

from pokerkit import Automation, Card, Deck, NoLimitTexasHoldem, StandardHighHand

AUTOMATIONS = (Automation.ANTE_POSTING, Automation.BET_COLLECTION, Automation.BLIND_OR_STRADDLE_POSTING,
               Automation.HOLE_CARDS_SHOWING_OR_MUCKING, Automation.HAND_KILLING, Automation.CHIPS_PUSHING,
               Automation.CHIPS_PULLING)
DECK: tuple[Card, ...] = tuple(Deck.STANDARD)


class _MemoHighHand(StandardHighHand):
    """pokerkit's ``StandardHighHand``, its lookup entry and ``from_game`` memoised.

    pokerkit re-derives a hand's lookup entry on every comparison and re-evaluates every
    player's hand several times per showdown (show/muck order, hand killing); memoising
    its own results keeps the evaluator pokerkit's and makes showdowns several times
    faster.  Results are identical (tests compare with plain pokerkit states).
    """

    _entries: ClassVar[dict[tuple[Card, ...], Any]] = {}
    _games: ClassVar[dict[tuple[tuple[Card, ...], tuple[Card, ...]], StandardHighHand]] = {}

    @property
    def entry(self) -> Any:
        if len(self._entries) > 500_000:
            self._entries.clear()
        return self._entry_of(self.cards)

    @classmethod
    def from_game(cls, hole_cards: Any, board_cards: Any = ()) -> StandardHighHand:
        key = (tuple(Card.clean(hole_cards)), tuple(Card.clean(board_cards)))
        found = cls._games.get(key)
        if found is None:
            if len(cls._games) > 200_000:
                cls._games.clear()
            cards = key[0] + key[1]
            if len(cards) < 5:
                found = super().from_game(*key)
            else:  # pokerkit's CombinationHand.from_game, comparing memoised entries
                found = cls(max(itertools.combinations(cards, 5), key=cls._entry_of))
            cls._games[key] = found
        return found

    @classmethod
    def _entry_of(cls, cards: tuple[Card, ...]) -> Any:
        found = cls._entries.get(cards)
        if found is None:
            found = cls._entries[cards] = cls.lookup.get_entry(cards)
        return found


class MemoHoldem(NoLimitTexasHoldem):
    """pokerkit's no-limit hold'em with the memoised evaluator."""

    hand_types = (_MemoHighHand,)
