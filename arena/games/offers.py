"""Strict, explained parsing of negotiation moves written inside free text.

A message may carry one move tag in square brackets: ``[OFFER $12.50]``,
``[PROPOSE books=1 hats=2 balls=0]``, ``[ACCEPT]``, ``[WALK AWAY]``.  Text outside
the tag is the message to the other player.  Anything tag-like that is malformed is
refused with a reason (an illegal move), never guessed.  :func:`answer_pattern` is the
same grammar as a regular expression (whole-dollar offers within given bounds), for
constrained decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from arena.games.base import IllegalAction

TAG = re.compile(r"\[([^\[\]]*)\]")
MONEY = re.compile(r"^\$?\s*(\d+(?:\.\d{1,2})?)$")
KINDS = ("OFFER", "PROPOSE", "ACCEPT", "WALK AWAY")


@dataclass(frozen=True)
class Move:
    kind: str  # "TALK", "OFFER", "PROPOSE", "ACCEPT", "WALK AWAY"
    message: str
    amount: float | None = None
    split: dict[str, int] | None = None

    def tag(self) -> str:
        if self.kind == "OFFER":
            return f"[OFFER ${self.amount:.2f}]"
        if self.kind == "PROPOSE" and self.split is not None:
            return "[PROPOSE " + " ".join(f"{k}={v}" for k, v in self.split.items()) + "]"
        return "" if self.kind == "TALK" else f"[{self.kind}]"

    def text(self) -> str:
        """The canonical action string: the message, then the tag."""
        return " ".join(p for p in (self.message, self.tag()) if p)


def parse_move(text: str, allowed: tuple[str, ...], items: tuple[str, ...] = ()) -> Move:
    """Split ``text`` into message + at most one move tag of the ``allowed`` kinds."""
    tags = TAG.findall(text)
    message = " ".join(TAG.sub(" ", text).split())[:600]
    if not tags:
        return Move("TALK", message)
    if len(tags) > 1:
        raise IllegalAction(f"one move per message, found {len(tags)} tags: " + ", ".join(f"[{t}]" for t in tags))
    body = " ".join(tags[0].split())
    head = body.upper()
    kind = next((k for k in KINDS if head == k or head.startswith(k + " ")), None)
    if kind is None or kind not in allowed:
        raise IllegalAction(f"[{body}] is not a move here; moves: " + ", ".join(_example(k, items) for k in allowed))
    rest = body[len(kind):].strip()
    if kind == "OFFER":
        return Move(kind, message, amount=_money(rest))
    if kind == "PROPOSE":
        return Move(kind, message, split=_split(rest, items))
    if rest:
        raise IllegalAction(f"[{kind}] takes nothing after it, got [{body}]")
    return Move(kind, message)


def _money(text: str) -> float:
    m = MONEY.match(text.replace(",", ""))
    if not m:
        raise IllegalAction(f"an offer needs an amount like [OFFER $12.50]; got [OFFER {text}]")
    amount = float(m.group(1))
    if amount <= 0:
        raise IllegalAction("an offer must be a positive amount")
    return amount


def _split(text: str, items: tuple[str, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in text.replace(",", " ").split():
        key, eq, value = part.partition("=")
        if not eq or key.lower() not in items or not value.isdigit():
            raise IllegalAction(f"a proposal lists what you get as item=count for each of {', '.join(items)}, "
                                f"e.g. {_example('PROPOSE', items)}; could not read {part!r}")
        found[key.lower()] = int(value)
    missing = [i for i in items if i not in found]
    if missing:
        raise IllegalAction(f"a proposal must give a count for every item; missing: {', '.join(missing)}")
    return {i: found[i] for i in items}


def _example(kind: str, items: tuple[str, ...]) -> str:
    if kind == "OFFER":
        return "[OFFER $X]"
    if kind == "PROPOSE":
        return "[PROPOSE " + " ".join(f"{i}=N" for i in items) + "]"
    return f"[{kind}]"


MESSAGE = r"[^\[\]]*"  # the free message around a tag (tags use the brackets)


def int_range_regex(low: int, high: int) -> str:
    """A regex matching exactly the decimal integers ``low..high`` (no leading zeros), ``0 <= low <= high``."""
    if not 0 <= low <= high:
        raise ValueError(f"need 0 <= low <= high, got {low}..{high}")
    parts = []
    for digits in range(len(str(low)), len(str(high)) + 1):
        lo = max(low, 10 ** (digits - 1) if digits > 1 else 0)
        hi = min(high, 10 ** digits - 1)
        parts.append(_same_length(str(lo), str(hi)))
    return "(?:" + "|".join(parts) + ")"


def _same_length(lo: str, hi: str) -> str:
    if lo == hi:
        return lo
    if len(lo) == 1:
        return f"[{lo}-{hi}]"
    if lo[0] == hi[0]:
        return lo[0] + "(?:" + _same_length(lo[1:], hi[1:]) + ")"
    rest = len(lo) - 1
    parts = [lo[0] + "(?:" + _same_length(lo[1:], "9" * rest) + ")"]
    if int(hi[0]) - int(lo[0]) > 1:
        parts.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}]" + "[0-9]" * rest)
    parts.append(hi[0] + "(?:" + _same_length("0" * rest, hi[1:]) + ")")
    return "(?:" + "|".join(parts) + ")"


def answer_pattern(kinds: tuple[str, ...], offer: tuple[int, int] | None = None,
                   pool: dict[str, int] | None = None) -> str:
    """A message with at most one tag of ``kinds``: offers in whole dollars within ``offer``
    (low, high), proposals giving at most ``pool[item]`` of each item."""
    tags = []
    for kind in kinds:
        if kind == "OFFER" and offer is not None and offer[0] <= offer[1]:
            tags.append(r"OFFER \$" + int_range_regex(*offer))
        elif kind == "PROPOSE" and pool is not None:
            tags.append("PROPOSE " + " ".join(f"{i}={int_range_regex(0, n)}" for i, n in pool.items()))
        elif kind in ("ACCEPT", "WALK AWAY"):
            tags.append(kind)
    if not tags:
        return MESSAGE
    return MESSAGE + r"(?:\[(?:" + "|".join(tags) + r")\]" + MESSAGE + ")?"
