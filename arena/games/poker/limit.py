"""Kuhn poker and Leduc hold'em: the two small fixed-limit pokers of the game-theory literature.

Card — ``kuhn-poker`` (Kuhn 1950)
- Players: 2.  Deck J < Q < K; ante 1 each; each player gets one private card.
- One betting round, bet size 1, at most one bet: first to act checks or bets; facing a
  bet: fold or call.  Check-check or bet-call goes to showdown: higher card wins the pot.
- Value: the first player loses 1/18 per hand under equilibrium play.

Card — ``leduc-poker`` (Southey et al. 2005, "Bayes' Bluff")
- Players: 2.  Deck of six: J J Q Q K K (two suits, suits never matter); ante 1 each; one
  private card each, then one public card after the first round.
- Two betting rounds, bet/raise size 2 then 4, at most two raises (a bet and a raise)
  per round; the first player to act opens both rounds.
- Showdown: pairing the public card wins; otherwise the higher card; equal cards split.

Both
- Actions: ``check``, ``bet``, ``call``, ``raise`` (Leduc), ``fold`` — the legal ones
  are listed; "pass" reads as check (or fold when facing a bet).
- Chance is explicit: ``to_move() == [CHANCE]`` when a card is due; ``chance_outcomes``
  gives the remaining ranks with their probabilities (so CFR can enumerate).  The match
  loop resolves chance with ``sample_chance``, which draws from the hand's deck shuffled
  by a generator seeded with the deal seed (``deal_seed`` when >= 0, else drawn from the
  state's own generator): seat ``s`` gets card ``s`` of the deck, the board card ``2``,
  whoever sits there.
- ``hands`` (default 1) hands per match; the first player alternates (seat 0 opens hand 1).
- Observation: own card, the public card, the betting of the current hand, a summary of
  the previous hand (cards are shown only at a showdown).  ``observation_data`` carries
  ``infoset`` (position, card, board, betting: the information set, for CFR) and
  ``equity`` (exact chance to win at showdown against a random card).
- Scoring: chips won (1 chip = the ante).  Metrics: ``hands_played``, ``showdowns``,
  per seat ``net`` (chips), ``bb_per_100`` and ``mbb_per_hand`` (with the ante as the
  unit, as in the Leduc literature), ``deal_seed``.
- Duplicate: ``duplicate=true`` marks matches to be grouped with the same deals and seats
  swapped (see :mod:`arena.games.poker.duplicate`).
- Version 1.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from typing import Any

from arena.games.base import CHANCE, GameInfo, IllegalAction, State, match_choice
from arena.games.poker.duplicate import duplicate_table

CHIPS_WIN = "winning chips from the opponent over the match"  # a win in every poker game

VERBS = {"k": "checks", "b": "bets", "c": "calls", "r": "raises", "f": "folds"}
CODES = {"check": "k", "bet": "b", "call": "c", "raise": "r", "fold": "f"}


class LimitPokerState(State):
    """Two-player fixed-limit poker with one private card, optional public card, ante 1."""

    title = ""
    ranks: tuple[str, ...] = ()  # the deck, low to high, with multiplicity
    bet_sizes: tuple[int, ...] = ()  # per round
    max_raises = 1
    ante = 1

    def __init__(self, seed: int | None = None, hands: int = 1, duplicate: bool = False, deal_seed: int = -1) -> None:
        if hands < 1:
            raise ValueError("hands must be at least 1")
        super().__init__(2, seed)
        self.hands, self.duplicate = hands, duplicate
        self.deal_seed = deal_seed if deal_seed >= 0 else self.rng.getrandbits(31)
        self.deal_rng = random.Random(self.deal_seed)
        self.order = {r: i for i, r in enumerate(dict.fromkeys(self.ranks))}
        self.net = [0, 0]
        self.records: list[dict[str, Any]] = []
        self.over = False
        self._start_hand()

    # --- the hand -----------------------------------------------------------------
    def _start_hand(self) -> None:
        if len(self.records) >= self.hands:
            self.over = True
            return
        self.deck = list(self.ranks)
        self.deal_rng.shuffle(self.deck)
        self.cards: list[str | None] = [None, None]
        self.board: str | None = None
        self.first = len(self.records) % 2
        self.round, self.raises = 0, 0
        self.rounds: list[list[str]] = [[]]
        self.contrib = [self.ante, self.ante]
        self.actor = self.first

    def _dealt(self) -> list[str]:
        return [c for c in (*self.cards, self.board) if c is not None]

    def _card_due(self) -> bool:
        return None in self.cards or (self.round > 0 and len(self.bet_sizes) > 1 and self.board is None)

    def to_move(self) -> list[int]:
        if self.over:
            return []
        return [CHANCE] if self._card_due() else [self.actor]

    def chance_outcomes(self) -> list[tuple[str, float]]:
        left = Counter(self.ranks) - Counter(self._dealt())
        total = sum(left.values())
        return [(r, left[r] / total) for r in self.order if left[r]]

    def apply_chance(self, outcome: str) -> None:
        if not self._card_due() or self.over:
            raise IllegalAction("no card is due now")
        if outcome not in dict(self.chance_outcomes()):
            raise IllegalAction(f"{outcome!r} is not a card left in the deck")
        if None in self.cards:
            self.cards[self.cards.index(None)] = outcome
        else:
            self.board = outcome

    def sample_chance(self) -> None:
        """The next card of this hand's shuffled deck (seat 0, seat 1, then the board)."""
        dealt = Counter(self._dealt())
        for card in self.deck:
            if dealt[card]:
                dealt[card] -= 1
            else:
                self.apply_chance(card)
                return

    def legal_actions(self, player: int) -> list[str] | None:
        if self.over or self._card_due() or player != self.actor:
            return []
        can_raise = self.raises < self.max_raises
        if self.contrib[player] < max(self.contrib):
            return ["fold", "call"] + (["raise"] if can_raise else [])
        return ["check"] + (["bet"] if can_raise else [])

    def parse(self, player: int, text: str) -> str:
        legal = self.legal_actions(player) or []
        if text.strip().strip(".!*`'\"").lower() == "pass" and legal:
            return "check" if "check" in legal else "fold"
        return match_choice(text, legal)

    def apply(self, player: int, action: str) -> None:
        legal = self.legal_actions(player)
        if not legal:
            raise IllegalAction(f"it is not seat {player}'s turn")
        if action not in legal:
            raise IllegalAction(f"{action!r} is not legal now; legal: {', '.join(legal)}")
        history = self.rounds[-1]
        history.append(CODES[action])
        if action == "fold":
            self._end_hand(winner=1 - player)
            return
        if action in ("bet", "raise"):
            self.contrib[player] = max(self.contrib) + self.bet_sizes[self.round]
            self.raises += 1
        elif action == "call":
            self.contrib[player] = max(self.contrib)
        if action == "call" or (action == "check" and len(history) == 2):
            if self.round + 1 < len(self.bet_sizes):
                self.round, self.raises, self.actor = self.round + 1, 0, self.first
                self.rounds.append([])
            else:
                self._end_hand(winner=self._showdown())
            return
        self.actor = 1 - player

    def _strength(self, card: str, board: str | None) -> tuple[int, int]:
        return (int(card == board), self.order[card])

    def _showdown(self) -> int | None:
        a, b = (self._strength(c, self.board) for c in self.cards)  # type: ignore[arg-type]
        return None if a == b else (0 if a > b else 1)

    def _end_hand(self, winner: int | None) -> None:
        pot = sum(self.contrib)
        payoffs = [0, 0] if winner is None else [pot - self.contrib[p] if p == winner else -self.contrib[p]
                                                 for p in range(2)]
        showdown = self.rounds[-1][-1:] != ["f"]
        self.records.append({"first": self.first, "cards": tuple(self.cards), "board": self.board,
                             "rounds": tuple("".join(r) for r in self.rounds), "payoffs": tuple(payoffs),
                             "showdown": showdown})
        self.net = [n + p for n, p in zip(self.net, payoffs)]
        self._start_hand()

    def returns(self) -> list[float]:
        return [float(n) for n in self.net]

    # --- what players see -----------------------------------------------------------
    def rules_text(self, player: int) -> str:
        return (f"{self.title} You are seat {player}. The match is {self.hands} hand(s); the first player to act "
                "alternates from hand to hand. Your score is the chips you win or lose. Answer with one of the "
                "legal actions listed in the observation.")

    def _history_text(self, player: int, first: int, rounds: tuple[str, ...] | list[list[str]]) -> str:
        parts = []
        for r, codes in enumerate(rounds):
            who = first
            moves = []
            for code in codes:
                moves.append(f"you {_you(code)}" if who == player else f"seat {who} {VERBS[code]}")
                who = 1 - who
            parts.append(f"round {r + 1}: " + (", ".join(moves) if moves else "-"))
        return "; ".join(parts)

    def observation(self, player: int) -> str:
        lines = [f"{self.title.split('.')[0]}. You are seat {player}."]
        if self.records:
            last = self.records[-1]
            lines.append(f"After {len(self.records)} hand(s): you {self.net[player]:+d}, "
                         f"seat {1 - player} {self.net[1 - player]:+d} chips.")
            shown = (f"cards: you {last['cards'][player]}, seat {1 - player} {last['cards'][1 - player]}"
                     if last["showdown"] else f"your card was {last['cards'][player]} (no showdown)")
            board = f", board {last['board']}" if last["board"] else ""
            lines.append(f"Last hand: {self._history_text(player, last['first'], last['rounds'])}; {shown}{board}; "
                         f"you {last['payoffs'][player]:+d}.")
        if self.over:
            lines.append("The match is over.")
            return "\n".join(lines)
        lines.append(f"=== Hand {len(self.records) + 1} of {self.hands} === "
                     + ("You act first." if self.first == player else f"Seat {self.first} acts first."))
        lines.append(f"Your card: {self.cards[player] or '(not dealt yet)'}.")
        if len(self.bet_sizes) > 1:
            lines.append(f"Public card: {self.board or '(not dealt yet)'}.")
        lines.append("Betting: " + self._history_text(player, self.first, self.rounds))
        lines.append(f"Pot: {sum(self.contrib)} (you put in {self.contrib[player]}, seat {1 - player} "
                     f"{self.contrib[1 - player]}).")
        legal = self.legal_actions(player)
        lines.append(f"Your turn. Legal: {', '.join(legal)}." if legal else "Waiting for the other player.")
        return "\n".join(lines)

    def infoset(self, player: int) -> str:
        position = 0 if player == self.first else 1
        return f"{position}{self.cards[player] or '?'}{self.board or ''}:" + "/".join("".join(r) for r in self.rounds)

    def equity(self, player: int) -> float:
        """Chance to win at showdown (ties 1/2) against a random card, the board still to come averaged."""
        mine = self.cards[player]
        if mine is None:
            return 0.5
        left = Counter(self.ranks) - Counter([mine] + ([self.board] if self.board else []))
        boards = [self.board] if self.board or len(self.bet_sizes) == 1 else None
        total = won = 0.0
        for opp, n in left.items():
            rest = left - Counter([opp])
            for board, m in ([(b, 1) for b in boards] if boards is not None else rest.items()):
                a, b = self._strength(mine, board), self._strength(opp, board)
                total += n * m
                won += n * m * (1.0 if a > b else 0.5 if a == b else 0.0)
        return won / total

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"game": "the game id", "seat": "your seat", "hand": "hands finished",
                 "hands": "hands in the match", "net": "chips won per seat so far",
                 "over": "whether the match is over", "card": "your private card",
                 "board": "the public card (None before it is dealt)", "position": "0 if you act first, else 1",
                 "history": "actions per betting round", "infoset": "your information set key",
                 "pot": "chips in the pot", "to_call": "chips you must add to call",
                 "opponents": "opponents in the hand", "equity": "your hand's equity"}

    def observation_data(self, player: int) -> dict[str, Any]:
        data: dict[str, Any] = {"game": self.game_id, "seat": player, "hand": len(self.records),
                                "hands": self.hands, "net": list(self.net), "over": self.over}
        if self.over:
            return data
        data.update({"card": self.cards[player], "board": self.board, "position": 0 if player == self.first else 1,
                     "history": ["".join(r) for r in self.rounds], "infoset": self.infoset(player),
                     "pot": sum(self.contrib), "to_call": max(self.contrib) - self.contrib[player],
                     "opponents": 1, "equity": self.equity(player)})
        return data

    # --- results --------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        hands = len(self.records)
        net = [float(n) for n in self.net]
        return {"hands_played": hands, "showdowns": sum(r["showdown"] for r in self.records), "unit": "chip",
                "net": net, "bb_per_100": [100 * x / hands if hands else 0.0 for x in net],
                "mbb_per_hand": [1000 * x / hands if hands else 0.0 for x in net],
                "deal_seed": self.deal_seed, "duplicate": self.duplicate}

    def clone(self) -> LimitPokerState:
        new = copy.copy(self)
        new.rng, new.deal_rng = copy_rng(self.rng), copy_rng(self.deal_rng)
        new.cards, new.contrib, new.net = list(self.cards), list(self.contrib), list(self.net)
        new.rounds = [list(r) for r in self.rounds]
        new.records = list(self.records)
        return new

    def determinize(self, player: int, rng: random.Random) -> LimitPokerState:
        """A clone in which what ``player`` cannot see is resampled with ``rng``: the
        opponent's card (if dealt), the cards still to come and every later hand's deck."""
        new = self.clone()
        new.deal_rng = random.Random(rng.getrandbits(63))
        if self.over:
            return new
        known = [c for c in (self.cards[player], self.board) if c is not None]
        pool = list((Counter(self.ranks) - Counter(known)).elements())
        rng.shuffle(pool)
        other = 1 - player
        if new.cards[other] is not None:
            new.cards[other] = pool.pop()
        seat_cards = [new.cards[0] or pool.pop(), new.cards[1] or pool.pop()]
        board = [self.board] if self.board is not None else []
        new.deck = seat_cards + board + pool
        return new


def copy_rng(rng: random.Random) -> random.Random:
    """A copy of a generator (much faster than ``copy.deepcopy``)."""
    new = random.Random()
    new.setstate(rng.getstate())
    return new


def _you(code: str) -> str:
    return {"k": "check", "b": "bet", "c": "call", "r": "raise", "f": "fold"}[code]


class KuhnState(LimitPokerState):
    game_id = "kuhn-poker"
    title = "Kuhn poker. Deck J < Q < K; ante 1; one card each; one betting round, bet size 1, at most one bet."
    ranks = ("J", "Q", "K")
    bet_sizes = (1,)
    max_raises = 1
    action_vocab = ("check", "bet", "call", "fold")


class LeducState(LimitPokerState):
    game_id = "leduc-poker"
    title = ("Leduc hold'em. Deck J J Q Q K K; ante 1; one private card each, one public card after round 1; "
             "bets of 2 in round 1 and 4 in round 2, at most a bet and a raise per round; a pair with the public "
             "card wins, else the higher card, equal cards split.")
    ranks = ("J", "J", "Q", "Q", "K", "K")
    bet_sizes = (2, 4)
    max_raises = 2
    action_vocab = ("check", "bet", "call", "raise", "fold")


_PARAMS = {"hands": 1, "duplicate": False, "deal_seed": -1}
GAMES = {
    "kuhn-poker": GameInfo("kuhn-poker", KuhnState, dict(_PARAMS),
                           "Kuhn poker: 3 cards, one bet; value -1/18 for the first player",
                           information="imperfect", chance=True, analyses=(duplicate_table,), win=CHIPS_WIN),
    "leduc-poker": GameInfo("leduc-poker", LeducState, dict(_PARAMS),
                            "Leduc hold'em: 6 cards, a public card, two limit betting rounds",
                            information="imperfect", chance=True, analyses=(duplicate_table,), win=CHIPS_WIN),
}
