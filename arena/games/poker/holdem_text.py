"""What a hold'em player sees: the rules, the table text and its structured form.

Only the seat's own hole cards, public cards, public betting and cards shown at a
showdown ever appear; :class:`~arena.games.poker.holdem.HandRecord.hole` of other seats is
never read here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from arena.games.poker.holdem import STREETS, cards_text

if TYPE_CHECKING:
    from arena.games.poker.holdem import HandRecord, HoldemState


def rules_text(state: HoldemState, player: int) -> str:
    stacks = ("every hand starts again from the starting stacks"
              if not state.carry else "stacks carry over from hand to hand; a seat with no chips is out")
    start = (f"{state.start[0]} chips ({state.start[0] / state.bb:g} big blinds)" if len(set(state.start)) == 1
             else "/".join(map(str, state.start)) + " chips by seat")
    ante = f", ante {state.ante}" if state.ante else ""
    return (f"You play no-limit Texas hold'em at a table of {state.num_players} (seats 0-{state.num_players - 1}); "
            f"you are seat {player}. The match is {state.hands} hand(s); blinds {state.sb}/{state.bb}{ante}; "
            f"starting stack {start}; {stacks}. The button moves one seat each hand. Each player gets two private "
            "cards; five community cards come in three rounds (flop, turn, river) with a betting round before "
            "each and one after the river; the best five-card hand among players who have not folded wins the "
            "pot (side pots when someone is all-in). Your score is the chips you win or lose, in big blinds.\n"
            "Answer with one action: 'fold', 'check', 'call', 'bet N' or 'raise to N' (N = your TOTAL bet on "
            "this street, not the increase), 'raise by N', 'all-in', or a menu item: 'raise min', "
            "'raise half-pot', 'raise pot'. The observation lists the legal actions and amounts.")


def _name(seat: int, player: int) -> str:
    return f"seat {seat} (you)" if seat == player else f"seat {seat}"


def _event_text(event: tuple[Any, ...], player: int) -> str:
    kind, _, seat, amount = event[:4]
    who = _name(seat, player)
    allin = " (all-in)" if len(event) > 4 and event[4] else ""
    if kind == "post":
        return f"{who} posts {amount}"
    if kind == "fold":
        return f"{who} folds"
    if kind == "check":
        return f"{who} checks"
    if kind == "call":
        return f"{who} calls {amount}{allin}"
    if kind == "bet":
        return f"{who} bets {amount}{allin}"
    return f"{who} raises to {amount}{allin}"


def betting_lines(events: list[tuple[Any, ...]] | tuple[tuple[Any, ...], ...], player: int) -> list[str]:
    lines: list[str] = []
    current: list[str] = []
    label = "Pre-flop"
    for event in events:
        if event[0] == "board":
            lines.append(f"{label}: " + ("; ".join(current) if current else "no betting"))
            label, current = f"{STREETS[event[1]].capitalize()} [{event[3]}]", []
        else:
            current.append(_event_text(event, player))
    lines.append(f"{label}: " + ("; ".join(current) if current else "no betting"))
    return lines


def _summary(record: HandRecord, player: int, bb: int) -> str:
    parts = [f"Hand {record.number + 1}: button seat {record.button}; board {cards_text(record.board)}"]
    for seat, cards in enumerate(record.shown):
        if cards:
            parts.append(f"{_name(seat, player)} showed {' '.join(cards)}")
    if record.hole[player]:
        parts.append(f"your cards were {' '.join(record.hole[player])}")
    results = [f"{_name(s, player)} {p / bb:+g} bb" for s, p in enumerate(record.payoffs) if s in record.order]
    return "; ".join(parts) + ". Result: " + ", ".join(results) + "."


def observation(state: HoldemState, player: int) -> str:
    n = state.num_players
    lines = [f"No-limit hold'em, blinds {state.sb}/{state.bb}. You are seat {player}."]
    played = len(state.records)
    if played:
        totals = ", ".join(f"{_name(s, player)} {state.net[s] / state.bb:+g} bb" for s in range(n))
        lines.append(f"After {played} hand(s): {totals}.")
        lines.append("Last hand: " + _summary(state.records[-1], player, state.bb))
    if state.over:
        lines.append("The match is over.")
        return "\n".join(lines)
    pk = state.pk
    lines.append(f"=== Hand {played + 1} of {state.hands} ===")
    lines.append(f"Button: seat {state.button}. Small blind: seat {state.order[0] if len(state.order) > 2 else state.order[1]}; "
                 f"big blind: seat {state.order[1] if len(state.order) > 2 else state.order[0]}.")
    mine = state.hole_cards(player)
    lines.append(f"Your cards: {cards_text(mine)}" if player in state.index else "You sit out this hand (no chips).")
    lines.append(f"Board: {cards_text(list(pk.get_board_cards(0)))}")
    lines.extend(betting_lines(state.events, player))
    shown = [e for e in pk.operations if type(e).__name__ == "HoleCardsShowingOrMucking" and e.hole_cards]
    for op in shown:
        lines.append(f"{_name(state.order[op.player_index], player)} shows {cards_text(op.hole_cards)}")
    seats = []
    for s in range(n):
        if s not in state.index:
            seats.append(f"{_name(s, player)}: out")
            continue
        i = state.index[s]
        status = "" if pk.statuses[i] else ", folded"
        seats.append(f"{_name(s, player)}: stack {pk.stacks[i]}, bet {pk.bets[i]}{status}")
    lines.append(f"Pot: {pk.total_pot_amount} (including bets on this street). " + "; ".join(seats) + ".")
    actor = state.order[pk.actor_index]
    if actor == player:
        lines.append(f"Your turn. Legal: {state.legal_text()}.")
        menu = state._amounts()
        if menu:
            lines.append("Menu: " + ", ".join(f"{k} = raise to {v}" for k, v in menu.items()) + ".")
    else:
        lines.append(f"Seat {actor} to act.")
    return "\n".join(lines)


def observation_data(state: HoldemState, player: int) -> dict[str, Any]:
    n = state.num_players
    data: dict[str, Any] = {"game": "holdem", "seat": player, "num_players": n, "hand": len(state.records),
                            "hands": state.hands, "big_blind": state.bb, "small_blind": state.sb,
                            "net_bb": [c / state.bb for c in state.net], "over": state.over}
    if state.over:
        return data
    pk = state.pk
    index = state.index
    in_hand = [s for s in state.order if pk.statuses[index[s]]]
    to_move = state.order[pk.actor_index] == player
    data.update({
        "button": state.button, "street": STREETS[pk.street_index] if pk.street_index is not None else None,
        "hole": state.hole_cards(player),
        "board": [repr(c) for c in pk.get_board_cards(0)],
        "pot": pk.total_pot_amount,
        "stacks": [pk.stacks[index[s]] if s in index else 0 for s in range(n)],
        "bets": [pk.bets[index[s]] if s in index else 0 for s in range(n)],
        "in_hand": in_hand, "opponents": max(len(in_hand) - 1, 0),
        "to_call": (pk.checking_or_calling_amount or 0) if to_move else 0,
        "raise_to": state._amounts() if to_move else {},
        "min_raise_to": pk.min_completion_betting_or_raising_to_amount if to_move else None,
        "max_raise_to": pk.max_completion_betting_or_raising_to_amount if to_move else None,
        "history": [_event_text(e, player) if e[0] != "board" else f"{STREETS[e[1]]} {e[3]}" for e in state.events],
    })
    return data
