"""The boundary every agent answer crosses: checked, coerced, bounded and redacted.

:func:`checked_decision` turns whatever an agent returned (a :class:`Decision`, a bare
string or number, or the JSON dict an isolated agent's process sent back) into a clean
Decision: JSON-safe, of bounded size, with every known secret scrubbed.  What cannot be
coerced raises :class:`InvalidDecision`, which the match treats as an illegal answer
of that agent: a bad answer never crashes a run or breaks a store.

Limits: an action of at most :data:`MAX_ACTION` characters; completions, message
contents and strings in ``info`` cut at :data:`MAX_TEXT` characters with a marker, the
original length kept in ``info["truncated"]`` (a message that repeats an over-long
completion keeps a marker only, so the text is stored once); at most
:data:`MAX_MESSAGES` messages and :data:`MAX_DOWNGRADES` downgrades; ``info`` at most
:data:`MAX_INFO_CHARS` as JSON; numbers finite (non-finite ones in ``info`` become null).
"""

from __future__ import annotations

import json
import math
from typing import Any

from arena.agents.base import DECISION_FIELDS, Decision
from arena.errors import ArenaError
from arena.redact import redact, secrets

MAX_ACTION = 8_192
MAX_TEXT = 65_536
MAX_MESSAGES = 512
MAX_DOWNGRADES = 32
MAX_DOWNGRADE_CHARS = 200
MAX_INFO_CHARS = 262_144
MAX_DEPTH = 32
MAX_COUNT = 10**12


class InvalidDecision(ArenaError, ValueError):
    """An agent's answer that cannot be stored: an illegal answer of that agent."""


#: Room left for the marker: a text cut once is not cut again when checked a second time.
MARKER_ROOM = 100


def checked_decision(out: Any, legal: list[str] | None = None) -> Decision:
    """A clean :class:`Decision` from an agent's answer, or :class:`InvalidDecision` saying why
    (an action that is exactly one of ``legal`` needs no scrubbing)."""
    if isinstance(out, Decision):
        raw = {name: getattr(out, name) for name in DECISION_FIELDS}
    elif isinstance(out, dict):
        unknown = sorted(set(out) - set(DECISION_FIELDS))
        if unknown or "action" not in out:
            raise InvalidDecision(f"a decision has the fields {', '.join(DECISION_FIELDS)} (action required); "
                                  f"got {', '.join(map(str, out)) or 'none'}")
        raw = {name: out[name] for name in DECISION_FIELDS if name in out}
    elif isinstance(out, (str, int)) and not isinstance(out, bool):
        raw = {"action": out}
    else:
        raise InvalidDecision(f"agent returned {type(out).__name__}; expected a Decision or a string")
    info: dict[str, Any] = {}
    truncations: dict[str, int] = {}
    completion = raw.get("completion")
    if completion is not None and not isinstance(completion, str):
        raise InvalidDecision(f"completion must be a string or null, not {type(completion).__name__}")
    decision = Decision(
        action=raw["action"] if legal and type(raw["action"]) is str and raw["action"] in legal
        else _action(raw["action"]),
        messages=_messages(raw.get("messages"), completion, truncations),
        completion=None if completion is None else _stored(completion, "completion", truncations),
        tokens_in=_count(raw.get("tokens_in", 0), "tokens_in"),
        tokens_out=_count(raw.get("tokens_out", 0), "tokens_out"),
        cost=_cost(raw.get("cost", 0.0)),
        info=info,
        downgrades=_downgrades(raw.get("downgrades")),
    )
    info.update(_info(raw.get("info"), truncations))
    if truncations:
        info["truncated"] = truncations
    return decision


def _text(text: str) -> str:
    """Storable text: lone surrogates replaced, every known secret scrubbed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return redact(text)


def _action(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidDecision(f"the action must be a string, not {type(value).__name__}")
    text = str(value)
    if len(text) > MAX_ACTION:
        raise InvalidDecision(f"the answer is {len(text)} characters long; at most {MAX_ACTION} are accepted")
    return _text(text)


def _stored(text: str, where: str, truncations: dict[str, int]) -> str:
    """Storable text cut at :data:`MAX_TEXT` with a marker (only the part kept is scrubbed: a 10 MB
    answer costs what 64 kB does; the window past the cut catches a secret that straddles it)."""
    if len(text) <= MAX_TEXT + MARKER_ROOM:
        return _text(text)
    truncations[where] = len(text)
    window = _text(text[:MAX_TEXT + max(map(len, secrets()), default=0) + MARKER_ROOM])
    return f"{window[:MAX_TEXT]}\n[truncated by arena: {len(text)} characters in all]"


def _messages(value: Any, completion: str | None, truncations: dict[str, int]) -> list[dict[str, Any]] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(m, dict) for m in value):
        raise InvalidDecision("messages must be a list of {'role': ..., 'content': ...} dicts")
    if len(value) > MAX_MESSAGES:
        raise InvalidDecision(f"{len(value)} messages; at most {MAX_MESSAGES} are accepted")
    out = []
    for i, message in enumerate(value):
        role, content = message.get("role"), message.get("content", "")
        if not isinstance(role, str) or not isinstance(content, (str, type(None))):
            raise InvalidDecision(f"messages[{i}] needs a string role and a string content")
        content = content or ""
        if len(content) > MAX_TEXT + MARKER_ROOM and content == completion:
            truncations[f"messages[{i}]"] = len(content)
            content = f"[the completion, {len(content)} characters: stored once, in the step's completion]"
        clean = _json_safe({k: v for k, v in message.items() if k not in ("role", "content")},
                           f"messages[{i}]", 0, truncations)
        out.append({"role": redact(role)[:64], "content": _stored(content, f"messages[{i}]", truncations), **clean})
    return out


def _count(value: Any, name: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise InvalidDecision(f"{name} must be a whole number of tokens from 0 to {MAX_COUNT}, not {value!r:.40}")
    return value


def _cost(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidDecision(f"cost must be a finite number >= 0, not {value!r:.40}")
    return float(value)


def _downgrades(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(d, str) for d in value):
        raise InvalidDecision("downgrades must be a list of strings")
    if len(value) > MAX_DOWNGRADES:
        raise InvalidDecision(f"{len(value)} downgrades; at most {MAX_DOWNGRADES} are accepted")
    return [_text(d)[:MAX_DOWNGRADE_CHARS] for d in value]


def _info(value: Any, truncations: dict[str, int]) -> dict[str, Any]:
    if value is None or (type(value) is dict and not value):
        return {}
    if not isinstance(value, dict):
        raise InvalidDecision(f"info must be a dict, not {type(value).__name__}")
    clean = _json_safe(value, "info", 0, truncations)
    size = len(json.dumps(clean, ensure_ascii=False, allow_nan=False))
    if size > MAX_INFO_CHARS:
        raise InvalidDecision(f"info is {size} characters as JSON; at most {MAX_INFO_CHARS} are accepted")
    return clean


def _json_safe(value: Any, path: str, depth: int, truncations: dict[str, int]) -> Any:
    """JSON data equal to ``value`` (tuples as lists, numpy scalars as numbers, non-finite floats as null)."""
    if depth > MAX_DEPTH:
        raise InvalidDecision(f"{path} is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _stored(value, path, truncations)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise InvalidDecision(f"{path} has a key of type {type(key).__name__}; keys must be strings")
            name = _text(key) if isinstance(key, str) else json.dumps(key)
            out[name] = _json_safe(item, f"{path}[{name!r}]", depth + 1, truncations)
        return out
    if isinstance(value, (list, tuple)):
        return [_json_safe(item, f"{path}[{i}]", depth + 1, truncations) for i, item in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and type(value).__module__ == "numpy":
        return _json_safe(item(), path, depth + 1, truncations)
    raise InvalidDecision(f"{path} holds a {type(value).__name__}, which is not JSON data")
