"""No-limit Texas hold'em, 2–6 players, a match of several hands; pokerkit is the engine.

Card
- Players: 2–6 (``players``, default 2); seats 0..N-1.  The button moves one seat per
  hand (seat ``h mod N`` holds it in hand ``h``; with ``carry_stacks`` it moves to the next
  seat with chips); pokerkit's heads-up rules apply with two players in a hand (the
  button posts the small blind and acts first pre-flop).
- Match: ``hands`` hands (default 10).  Blinds ``small_blind``/``big_blind`` (1/2),
  ``ante`` (0), starting stack ``stack`` (200 = 100 bb) or per seat ``stacks="a/b/c"``.
  By default every hand starts from the starting stacks (the ACPC convention, so hands
  are independent and comparable); ``carry_stacks=true`` carries stacks from hand to
  hand instead — a seat with no chips sits out and the match ends early when one seat
  holds every chip.
- Rules engine: pokerkit's ``NoLimitTexasHoldem`` (tournament mode: one runout; blinds,
  bet collection, showdown order, mucking, side pots, chip pushing automated; hands
  evaluated by pokerkit).  Only dealing is done here: every hand's deck is shuffled by a
  ``random.Random`` derived from the deal seed (``deal_seed`` when >= 0, else drawn from
  the state's own generator, so from the match seed); seat ``s`` always receives cards
  ``2s, 2s+1`` of the hand's deck and the board comes from cards 12.. (burns included),
  so a deal does not depend on who sits where.  Chance is resolved inside the state (no
  ``CHANCE`` nodes): hold'em is far too large to enumerate anyway.
- Actions (text): ``fold``, ``check``, ``call``, ``bet N`` / ``raise to N`` (N = your
  total bet on this street, pokerkit's "complete, bet or raise to"), ``raise by N``,
  ``all-in``; and the fixed menu ``raise min``, ``raise half-pot``, ``raise pot``.
  ``legal_actions`` is that finite menu (the PettingZoo ``action_vocab`` is
  ``fold, check, call, raise min, raise half-pot, raise pot, all-in``); any amount
  between pokerkit's minimum and maximum raise-to is accepted through ``parse`` and is
  "in" the returned menu (``"raise to 57" in legal``).  Refusals name the legal range:
  ``raise to 50 is below the minimum raise to 80; legal: fold, call 40, raise to
  80..1000, all-in (raise to 1000)``.
- Observation: own hole cards, board, pot, every seat's stack and bet, the betting of
  the current hand, cards shown at a showdown (only as pokerkit's showdown reveals them:
  mucked losers stay hidden), a summary of the previous hand and running results.  Never
  another seat's unrevealed cards.  ``determinize(player, rng)`` resamples what the
  player cannot see (for MCTS and rollout values).
- Scoring: chips won minus chips lost over the match, in big blinds.
- Metrics: ``hands_played``, ``showdowns``, per seat ``net`` (bb), ``bb_per_100``,
  ``mbb_per_hand``, ``vpip`` and ``pfr`` (fractions of hands dealt in), ``deal_seed``.
- Duplicate: ``duplicate=true`` marks matches meant to be grouped with the same deals and
  seats rotated (the schedule gives the matches of a group one deal seed, e.g. via
  ``deal_seed`` or a shared match seed); it requires ``carry_stacks=false``.  See
  :mod:`arena.games.poker.duplicate`.
- Version 1.
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass
from typing import Any

from pokerkit.state import (
    BlindOrStraddlePosting,
    HoleCardsShowingOrMucking,
    Operation,
)

from arena.games.base import GameInfo, IllegalAction, State
from arena.games.poker.duplicate import duplicate_table
from arena.games.poker.engine import AUTOMATIONS, DECK, MemoHoldem
from arena.games.poker.grammar import read_action
from arena.games.poker.limit import CHIPS_WIN, copy_rng

MAX_SEATS = 6
MENU = ("fold", "check", "call", "raise min", "raise half-pot", "raise pot", "all-in")
STREETS = ("pre-flop", "flop", "turn", "river")
_RAISE_TO = re.compile(r"^raise to (\d+)$")


class Menu(list):
    """The finite menu of legal actions; ``in`` also accepts any legal ``raise to N``."""

    def __init__(self, items: list[str], low: int | None = None, high: int | None = None) -> None:
        super().__init__(items)
        self.low, self.high = low, high

    def __contains__(self, action: object) -> bool:
        if list.__contains__(self, action):
            return True
        m = _RAISE_TO.match(action) if isinstance(action, str) else None
        return bool(m and self.low is not None and self.high is not None and self.low <= int(m.group(1)) <= self.high)


@dataclass(frozen=True)
class HandRecord:
    """A finished hand.  ``hole`` is private (never rendered for other seats); ``ops`` are
    pokerkit's operations, in the pokerkit player order ``order`` (for PHH export)."""

    number: int
    button: int
    order: tuple[int, ...]
    starting: tuple[int, ...]  # chips per seat at the start of the hand (0: sitting out)
    hole: tuple[tuple[str, ...], ...]
    board: tuple[str, ...]
    shown: tuple[tuple[str, ...], ...]
    payoffs: tuple[int, ...]  # chips per seat
    showdown: bool
    events: tuple[tuple[Any, ...], ...]
    ops: tuple[Operation, ...]


def cards_text(cards: Any) -> str:
    return " ".join(c if isinstance(c, str) else repr(c) for c in cards) if cards else "-"


class HoldemState(State):
    game_id = "holdem"
    action_vocab = MENU

    def __init__(self, seed: int | None = None, players: int = 2, hands: int = 10, small_blind: int = 1,
                 big_blind: int = 2, ante: int = 0, stack: int = 200, stacks: str = "",
                 carry_stacks: bool = False, duplicate: bool = False, deal_seed: int = -1) -> None:
        if not 2 <= players <= MAX_SEATS:
            raise ValueError(f"holdem seats 2 to {MAX_SEATS} players, not {players}")
        if hands < 1:
            raise ValueError("hands must be at least 1")
        if not 0 < small_blind <= big_blind or ante < 0:
            raise ValueError("need 0 < small_blind <= big_blind and ante >= 0")
        if duplicate and carry_stacks:
            raise ValueError("duplicate=true needs carry_stacks=false (every hand from the same stacks)")
        super().__init__(players, seed)
        self.start = self._parse_stacks(stacks, stack, players)
        self.hands, self.sb, self.bb, self.ante = hands, small_blind, big_blind, ante
        self.carry, self.duplicate = carry_stacks, duplicate
        self.deal_seed = deal_seed if deal_seed >= 0 else self.rng.getrandbits(31)
        self.deal_rng = random.Random(self.deal_seed)
        self.chips = list(self.start)
        self.net = [0] * players
        self.records: list[HandRecord] = []
        self.over = False
        self.button = -1
        self._memo: tuple[Any, Any] = (None, None)
        self._start_hand()

    @staticmethod
    def _parse_stacks(stacks: str, stack: int, players: int) -> list[int]:
        if not stacks:
            if stack < 1:
                raise ValueError("stack must be at least 1 chip")
            return [stack] * players
        try:
            values = [int(v) for v in stacks.replace(" ", "/").split("/") if v]
        except ValueError:
            raise ValueError(f"stacks={stacks!r}: give whole numbers separated by '/', e.g. 100/200/50") from None
        if len(values) != players or min(values) < 1:
            raise ValueError(f"stacks={stacks!r}: need {players} positive stacks separated by '/'")
        return values

    # --- dealing and the hand loop ------------------------------------------------
    def _start_hand(self) -> None:
        active = [s for s in range(self.num_players) if self.chips[s] > 0]
        if len(self.records) >= self.hands or len(active) < 2:
            self.over = True
            return
        n = self.num_players
        if self.carry:
            self.button = next(s for s in [(self.button + k) % n for k in range(1, n + 1)] if s in active)
        else:
            self.button = len(self.records) % n
        after = [(self.button + k) % n for k in range(1, n + 1)]
        self.order = tuple(s for s in after if s in active)  # pokerkit order: SB, BB, ..., button last
        self.index = {s: i for i, s in enumerate(self.order)}
        deck = list(DECK)
        self.deal_rng.shuffle(deck)
        self.deck, self.ptr = deck, 2 * MAX_SEATS
        self.starting = [self.chips[s] if s in self.index else 0 for s in range(n)]
        self.pk = MemoHoldem.create_state(
            AUTOMATIONS, True, self.ante, (self.sb, self.bb), self.bb,
            [self.chips[s] for s in self.order], len(self.order))
        self.events: list[tuple[Any, ...]] = []
        for op in self.pk.operations:
            if isinstance(op, BlindOrStraddlePosting):
                self.events.append(("post", 0, self.order[op.player_index], op.amount))
        while self.pk.can_deal_hole():
            seat = self.order[self.pk.hole_dealee_index]
            self.pk.deal_hole(deck[2 * seat:2 * seat + 2])
        self._advance()

    def _advance(self) -> None:
        """Deal (burn, board) until a player must act; finish hands and start the next."""
        pk = self.pk
        while pk.status and pk.actor_index is None:
            if pk.can_burn_card():
                pk.burn_card(self.deck[self.ptr])
                self.ptr += 1
            elif pk.can_deal_board():
                count = pk.board_dealing_count
                cards = self.deck[self.ptr:self.ptr + count]
                self.ptr += count
                pk.deal_board(cards)
                self.events.append(("board", pk.street_index, None, cards_text(cards)))
            else:  # pragma: no cover - every other step is automated
                raise RuntimeError(f"pokerkit is waiting for an unexpected operation: {pk.operations[-1:]}")
        if not pk.status:
            self._finish_hand()
            self._start_hand()

    def _finish_hand(self) -> None:
        pk, n = self.pk, self.num_players
        payoffs = [0] * n
        for i, seat in enumerate(self.order):
            payoffs[seat] = pk.payoffs[i]
            self.net[seat] += pk.payoffs[i]
            if self.carry:
                self.chips[seat] = pk.stacks[i]
        shown: list[tuple[str, ...]] = [()] * n
        showdown = False
        for op in pk.operations:
            if isinstance(op, HoleCardsShowingOrMucking):
                showdown = True
                if op.hole_cards:
                    shown[self.order[op.player_index]] = tuple(repr(c) for c in op.hole_cards)
        hole = [tuple(self.hole_cards(s)) for s in range(n)]
        self.records.append(HandRecord(
            len(self.records), self.button, self.order, tuple(self.starting), tuple(hole),
            tuple(repr(c) for c in pk.get_board_cards(0)), tuple(shown), tuple(payoffs), showdown,
            tuple(self.events), tuple(pk.operations)))

    def hole_cards(self, seat: int) -> list[str]:
        """The seat's private cards in the current hand ([] when sitting out) — private!"""
        return [repr(c) for c in self.deck[2 * seat:2 * seat + 2]] if seat in self.index else []

    # --- the flow -----------------------------------------------------------------
    def to_move(self) -> list[int]:
        if self.over:
            return []
        return [self.order[self.pk.actor_index]]

    def _node(self) -> tuple[int, bool, dict[str, int], int | None]:
        """(amount to call, can fold, raise-to amounts of the menu, minimum raise-to) of the
        decision now, computed once per node (pokerkit's checks are not cheap)."""
        key = (len(self.records), len(self.pk.operations))
        if self._memo[0] != key:
            pk = self.pk
            call, fold, amounts, low = pk.checking_or_calling_amount or 0, pk.can_fold(), {}, None
            if pk.can_complete_bet_or_raise_to():
                low = pk.min_completion_betting_or_raising_to_amount
                high = pk.max_completion_betting_or_raising_to_amount
                top = max(pk.bets)
                pot_after_call = pk.total_pot_amount + top - pk.bets[pk.actor_index]
                if low < high:
                    amounts["raise min"] = low
                for name, extra in (("raise half-pot", pot_after_call // 2), ("raise pot", pot_after_call)):
                    if low < top + extra < high and top + extra not in amounts.values():
                        amounts[name] = top + extra
                amounts["all-in"] = high
            self._memo = (key, (call, fold, amounts, low))
        return self._memo[1]

    def _amounts(self) -> dict[str, int]:
        """Raise-to amounts of the menu items available now (empty when raising is impossible)."""
        return dict(self._node()[2])

    def legal_actions(self, player: int) -> list[str] | None:
        if player not in self.to_move():
            return []
        call, fold, amounts, low = self._node()
        items = (["fold"] if fold else []) + ["call" if call else "check"]
        items += [a for a in MENU[3:] if a in amounts]
        return Menu(items, low, amounts["all-in"]) if amounts else Menu(items)

    def legal_text(self) -> str:
        call, fold, amounts, low = self._node()
        parts = (["fold"] if fold else []) + [f"call {call}" if call else "check"]
        if amounts:
            high, verb = amounts["all-in"], "raise to" if max(self.pk.bets) else "bet"
            if low < high:
                parts.append(f"{verb} {low}..{high}")
            parts.append(f"all-in ({verb} {high})")
        return ", ".join(parts)

    def parse(self, player: int, text: str) -> str:
        if player not in self.to_move():
            raise IllegalAction(f"it is not seat {player}'s turn")
        return read_action(self, text)

    def apply(self, player: int, action: str) -> None:
        if player not in self.to_move():
            raise IllegalAction(f"it is not seat {player}'s turn")
        pk = self.pk
        me, street, top = pk.actor_index, pk.street_index, max(pk.bets)
        call, fold, amounts, low = self._node()
        m = _RAISE_TO.match(action)
        if action == "fold" and fold:
            pk.fold()
            event = ("fold", 0)
        elif action in ("check", "call") and (action == "call") == bool(call):
            pk.check_or_call()
            event = ("call" if call else "check", call)
        elif action in amounts or (m and amounts and low <= int(m.group(1)) <= amounts["all-in"]):
            to = amounts[action] if action in amounts else int(m.group(1))
            pk.complete_bet_or_raise_to(to)
            event = ("raise" if top else "bet", to)
        else:
            raise IllegalAction(f"{action!r} is not legal now; legal: {self.legal_text()}")
        self.events.append((event[0], street, self.order[me], event[1], pk.stacks[me] == 0))
        self._advance()

    def returns(self) -> list[float]:
        return [chips / self.bb for chips in self.net]

    # --- what players see -----------------------------------------------------------
    def rules_text(self, player: int) -> str:
        from arena.games.poker.holdem_text import rules_text
        return rules_text(self, player)

    def observation(self, player: int) -> str:
        from arena.games.poker.holdem_text import observation
        return observation(self, player)

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"game": "'holdem'", "seat": "your seat", "num_players": "seats at the table",
                 "hand": "hands finished", "hands": "hands in the match", "big_blind": "the big blind",
                 "small_blind": "the small blind", "net_bb": "big blinds won per seat so far",
                 "over": "whether the match is over", "button": "the button's seat",
                 "street": "preflop/flop/turn/river", "hole": "your hole cards", "board": "the community cards",
                 "pot": "chips in the pot", "stacks": "stack per seat", "bets": "bet per seat this street",
                 "in_hand": "seats still in the hand", "opponents": "opponents still in the hand",
                 "to_call": "chips to call", "raise_to": "legal raise amounts by action",
                 "min_raise_to": "the smallest raise-to", "max_raise_to": "the largest raise-to",
                 "history": "the hand's events as text"}

    def observation_data(self, player: int) -> dict[str, Any]:
        from arena.games.poker.holdem_text import observation_data
        return observation_data(self, player)

    # --- results --------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        hands = len(self.records)
        net = [c / self.bb for c in self.net]
        dealt = [sum(1 for r in self.records if s in r.order) for s in range(self.num_players)]
        vpip = [0] * self.num_players
        pfr = [0] * self.num_players
        for r in self.records:
            pre = [e for e in r.events if e[1] == 0 and e[0] in ("call", "bet", "raise")]
            for s in {e[2] for e in pre}:
                vpip[s] += 1
            for s in {e[2] for e in pre if e[0] in ("bet", "raise")}:
                pfr[s] += 1
        return {"hands_played": hands, "showdowns": sum(r.showdown for r in self.records), "unit": "bb",
                "net": net, "bb_per_100": [100 * x / hands if hands else 0.0 for x in net],
                "mbb_per_hand": [1000 * x / hands if hands else 0.0 for x in net],
                "vpip": [v / d if d else 0.0 for v, d in zip(vpip, dealt)],
                "pfr": [v / d if d else 0.0 for v, d in zip(pfr, dealt)],
                "deal_seed": self.deal_seed, "duplicate": self.duplicate}

    def clone(self) -> HoldemState:
        new = copy.copy(self)
        new.rng, new.deal_rng = copy_rng(self.rng), copy_rng(self.deal_rng)
        new.chips, new.net, new.records, new.events = list(self.chips), list(self.net), list(self.records), list(self.events)
        new.starting = list(self.starting)
        new.pk = copy.deepcopy(self.pk)
        return new

    def determinize(self, player: int, rng: random.Random) -> HoldemState:
        """A clone in which what ``player`` cannot see is resampled with ``rng``: the hole
        cards of opponents still in the hand (not shown), the cards still to come, and every
        later hand's deck.  Burned and mucked cards stay dead; finished hands are kept."""
        new = self.clone()
        new.deal_rng = random.Random(rng.getrandbits(63))
        if self.over:
            return new
        pk, deck = new.pk, list(self.deck)
        hidden = [s for s in self.order if s != player and pk.statuses[self.index[s]]
                  and not self._shown(s)]
        fixed = {c for i, s in enumerate(self.order) if s not in hidden for c in deck[2 * s:2 * s + 2]}
        fixed |= set(pk.get_board_cards(0)) | set(pk.burn_cards) | set(pk.mucked_cards) | set(deck[2 * MAX_SEATS:self.ptr])
        pool = [c for c in DECK if c not in fixed]
        rng.shuffle(pool)
        for s in hidden:
            cards, pool = pool[:2], pool[2:]
            deck[2 * s:2 * s + 2] = cards
            pk.hole_cards[self.index[s]] = list(cards)
        deck[self.ptr:] = pool[:len(deck) - self.ptr]
        new.deck = deck
        in_play = set(pk.get_board_cards(0)) | {c for cards in pk.hole_cards for c in cards}
        pk.deck_cards.clear()
        pk.deck_cards.extend(c for c in deck[self.ptr:] if c not in in_play)
        return new

    def _shown(self, seat: int) -> bool:
        return any(isinstance(op, HoleCardsShowingOrMucking) and op.hole_cards and self.order[op.player_index] == seat
                   for op in self.pk.operations)


GAMES = {"holdem": GameInfo(
    "holdem", HoldemState,
    {"players": 2, "hands": 10, "small_blind": 1, "big_blind": 2, "ante": 0, "stack": 200, "stacks": "",
     "carry_stacks": False, "duplicate": False, "deal_seed": -1},
    "no-limit Texas hold'em, 2-6 players, pokerkit rules; bet N / raise to N / menu; score in big blinds",
    players="2-6", information="imperfect", chance=True, analyses=(duplicate_table,), win=CHIPS_WIN)}
