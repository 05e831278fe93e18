"""Reading a hold'em answer: menu names, ``bet N`` / ``raise to N`` / ``raise by N``, keywords.

An answer must name exactly one action.  Amounts are "to" amounts (the player's total bet
on the street, as in pokerkit); ``raise by N`` is converted.  Every refusal says why and
lists what is legal, in the form ``fold, call 40, raise to 80..1000, all-in (raise to 1000)``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from arena.games.base import IllegalAction

if TYPE_CHECKING:
    from arena.games.poker.holdem import HoldemState

_AMOUNT = re.compile(r"\b(?:re-?)?(raise|raises|raising|bet|bets|betting|make it|go to)\s*(to|by)?\s*(\d+)\b")
_MENU = (
    ("raise half-pot", re.compile(r"\b(?:raise\s+)?half[\s\-_]*pot\b")),
    ("raise pot", re.compile(r"\b(?:raise\s+(?:the\s+)?pot|pot[\s\-_]*(?:size[d]?\s*)?(?:raise|bet)|raise\s+pot[\s\-]*size)\b")),
    ("raise min", re.compile(r"\b(?:raise\s+min(?:imum)?|min(?:imum)?[\s\-_]*(?:raise|bet)|minraise)\b")),
    ("all-in", re.compile(r"\b(?:all[\s\-_]*in|allin|shove|jam)\b")),
)
_WORDS = {"fold": re.compile(r"\bfold(?:s|ing)?\b"), "check": re.compile(r"\bcheck(?:s|ing)?\b"),
          "call": re.compile(r"\bcall(?:s|ing)?\b")}
_BARE = re.compile(r"\b(raise|bet)\b")


def read_action(state: HoldemState, text: str) -> str:
    t = text.strip().lower().replace("$", "")
    t = re.sub(r"(?<=\d)[,_](?=\d{3}\b)", "", t)
    legal = state.legal_text()
    named: dict[str, str] = {}  # description -> canonical action
    top = max(state.pk.bets)
    for verb, how, number in _AMOUNT.findall(t):
        to = top + int(number) if how == "by" else int(number)
        named[f"raise to {to}"] = f"raise to {to}"
    masked = _AMOUNT.sub(" ", t)
    for name, pattern in _MENU:
        if pattern.search(masked):
            named[name] = name
            masked = pattern.sub(" ", masked)
    for name, pattern in _WORDS.items():
        if pattern.search(masked):
            named[name] = name
    if not named:
        snippet = text.strip()[:60] + ("..." if len(text.strip()) > 60 else "")
        if _BARE.search(masked):
            raise IllegalAction(f"'{snippet}' does not say how much; write 'raise to N' (N is your total bet "
                                f"on this street) or raise min / raise half-pot / raise pot / all-in; legal: {legal}")
        raise IllegalAction(f"'{snippet}' is not a poker action; answer with one of: {legal} "
                            "(or raise min / raise half-pot / raise pot)")
    if len(named) > 1:
        raise IllegalAction(f"your answer names several actions ({', '.join(named)}); answer with exactly one "
                            f"of: {legal}")
    return _validate(state, next(iter(named.values())), legal)


def _validate(state: HoldemState, action: str, legal: str) -> str:
    pk = state.pk
    call = pk.checking_or_calling_amount or 0
    amounts = state._amounts()
    if action == "fold":
        if not pk.can_fold():
            raise IllegalAction(f"there is no bet to fold to: check instead; legal: {legal}")
        return "fold"
    if action == "check":
        if call:
            raise IllegalAction(f"you cannot check: there is a bet of {call} more to you; legal: {legal}")
        return "check"
    if action == "call":
        return "call" if call else "check"
    if action == "all-in":
        if amounts:
            return "all-in"
        return "call" if call else "check"  # the call already puts you all-in, or nobody can be raised
    if not amounts:
        raise IllegalAction(f"you cannot bet or raise now; legal: {legal}")
    if action in ("raise min", "raise half-pot", "raise pot"):
        if action not in amounts:
            raise IllegalAction(f"{action} is not available now (it would be all-in or the same as a smaller "
                                f"option); legal: {legal}")
        return action
    to = int(action.split()[-1])
    low, high = pk.min_completion_betting_or_raising_to_amount, amounts["all-in"]
    if to < low:
        raise IllegalAction(f"raise to {to} is below the minimum raise to {low}; legal: {legal}")
    if to > high:
        raise IllegalAction(f"raise to {to} is more than you have: the most is all-in, raise to {high}; "
                            f"legal: {legal}")
    return action
