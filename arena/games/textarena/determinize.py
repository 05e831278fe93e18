"""``determinize`` for the TextArena games whose hidden part can be redrawn from what a player saw.

Both are two-player card games whose only hidden state is the current round's cards (earlier
rounds are settled, later ones are dealt from TextArena's generators, which a determinisation
reseeds from ``rng``):

- **KuhnPoker**: a player sees its own card, not the other's; the other card is redrawn
  uniformly from the two left in the 3-card deck, and the deck order (which the next round's
  shuffle starts from) is rebuilt from the cards alone.
- **IndianPoker**: a player sees the other's card rank, not its own card; the other's card is
  redrawn among the four suits of the rank shown and the player's own card uniformly from the
  other 51.

The other player's record of the deal ("Your card is ...", "Your opponent's card is ...") is
rewritten to the redrawn card, so rollout agents playing that seat see the state they are in.
Everything the determinising player saw is unchanged.  Any other imperfect-information TextArena
game has no ``determinize`` and is refused by search and step values unless peeking is allowed
(:mod:`arena.games.hidden`).
"""

from __future__ import annotations

import random
import re
from typing import Any

from arena.games.textarena.state import TextArenaState

KUHN_RANKS = "JQK"
INDIAN_RANKS = ["2", "3", "4", "5", "6", "7", "8", "9", "10", "J", "Q", "K", "A"]


class _RedealState(TextArenaState):
    """A TextArena card game whose hidden part is the current round's ``player_cards``."""

    #: the deal message each player got, with the one card it names as group 1
    DEAL: re.Pattern[str]

    def _redeal(self, player: int, cards: dict[int, int], rng: random.Random) -> dict[int, int]:
        raise NotImplementedError

    def _shown(self, viewer: int, cards: dict[int, int]) -> str:
        """The card text ``viewer``'s deal message names."""
        raise NotImplementedError

    def _after_redeal(self, cards: dict[int, int]) -> None:
        """Env bookkeeping that depends on the cards (none by default)."""

    def determinize(self, player: int, rng: random.Random) -> TextArenaState:
        """A copy in which what ``player`` cannot see is redrawn with ``rng`` (see the module card)."""
        out = self.clone()
        game_state = out.env.state.game_state
        cards = out._redeal(player, dict(game_state["player_cards"]), rng)
        game_state["player_cards"] = cards
        out._after_redeal(cards)
        for viewer in range(out.num_players):
            if viewer != player:
                out._rewrite_deal(viewer, out._shown(viewer, cards))
        out.rng = random.Random(rng.getrandbits(64))  # later rounds: fresh draws, not the true deck's
        return out

    def _rewrite_deal(self, viewer: int, text: str) -> None:
        """Every copy of ``viewer``'s last deal message (TextArena's Kuhn sends it twice) names ``text``."""
        seen = self._seen[viewer]
        last = next((m for _, m, _ in reversed(seen) if self.DEAL.search(m)), None)
        if last is None:
            return
        found = self.DEAL.search(last)
        assert found is not None
        new = last[:found.start(1)] + text + last[found.end(1):]
        self._seen[viewer] = [(n, new if m == last else m, k) for n, m, k in seen]


class KuhnPokerState(_RedealState):
    DEAL = re.compile(r"Your card is: '([JQK])'")

    def _redeal(self, player: int, cards: dict[int, int], rng: random.Random) -> dict[int, int]:
        other = 1 - player
        cards[other] = rng.choice([c for c in range(3) if c != cards[player]])
        return cards

    def _shown(self, viewer: int, cards: dict[int, int]) -> str:
        return KUHN_RANKS[cards[viewer]]

    def _after_redeal(self, cards: dict[int, int]) -> None:
        rest = next(c for c in range(3) if c not in cards.values())
        self.env.deck = [cards[0], cards[1], rest]


class IndianPokerState(_RedealState):
    DEAL = re.compile(r"Your opponent's card is: (\S+)")

    def _redeal(self, player: int, cards: dict[int, int], rng: random.Random) -> dict[int, int]:
        other = 1 - player
        cards[other] = rng.choice([cards[other] % 13 + 13 * suit for suit in range(4)])  # its rank was shown
        cards[player] = rng.choice([c for c in range(52) if c != cards[other]])
        return cards

    def _shown(self, viewer: int, cards: dict[int, int]) -> str:
        return INDIAN_RANKS[cards[1 - viewer] % 13]


#: TextArena family -> the State class that can determinize it
DETERMINIZED: dict[str, type[TextArenaState]] = {"KuhnPoker": KuhnPokerState, "IndianPoker": IndianPokerState}


def state_class(family: str) -> type[TextArenaState]:
    return DETERMINIZED.get(family, TextArenaState)


def make_state(env_id: str, seed: int | None = None, **params: Any) -> TextArenaState:
    """The State of ``textarena:<env_id>``, with ``determinize`` where the family has one."""
    from arena.games.textarena.catalog import textarena_spec
    return state_class(textarena_spec(env_id).family)(env_id, seed=seed, **params)
