"""The spec mini-language: one grammar for every game and agent spec string.

    [NAME=]KIND[:ARG...][:key=value,key=value,...]

* ``NAME=`` (agents only) names the seat; without it the whole spec is the name.
* ``KIND`` is everything up to the first ``:``: a game id, a built-in agent kind,
  ``local``, a litellm model id (``provider/model``), a module (``pkg.mod``), ``critic``.
* ``ARG``\\ s are the ``:``-separated segments after ``KIND`` that hold no ``=``: the model
  of ``local:MODEL``, a litellm tag (``ollama/llama3:8b``), the attribute of an import
  string (``pkg.mod:Class``), TextArena's environment (``textarena:EnvId``).
* The parameters begin at the first segment holding an ``=`` and run to the end, split on
  commas, so a value may contain ``:`` (``api_base=http://gpu:8000/v1``,
  ``model=local:smollm2``).  A bare item among them is kept as ``positional`` (the old
  alias ``local:MODEL,key=value``).

Pure text: no game or agent is imported here; the registries
(:mod:`arena.games.registry`, :mod:`arena.agents.registry`) give the parts their meaning.
Every failure is a :class:`SpecError` of one line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from arena.errors import ArenaError

_NAME = re.compile(r"^([A-Za-z0-9_.\-]+)=")


class SpecError(ArenaError, ValueError):
    """A bad game/agent spec, import string or parameter (one line, names valid choices)."""


@dataclass(frozen=True)
class Spec:
    """One parsed spec string (see the module docstring for the grammar)."""

    name: str
    kind: str
    args: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    #: bare items in the parameter list (``local:MODEL,key=value`` puts MODEL here)
    positional: tuple[str, ...] = ()
    #: everything after ``KIND:`` verbatim (a wrapper kind such as ``critic`` reads it as specs)
    rest: str = ""


def parse_spec(text: str, *, named: bool = True, where: str = "") -> Spec:
    """Split ``[NAME=]KIND[:ARG...][:key=value,...]`` into its parts (no meaning checked);
    ``named=False`` (games) reads no ``NAME=``; an error's line starts ``WHERE KIND:``."""
    text = text.strip()
    match = _NAME.match(text) if named else None
    name = match.group(1) if match else text
    body = text[match.end():] if match else text
    kind, _, rest = body.partition(":")
    segments = rest.split(":") if rest else []
    first = next((i for i, seg in enumerate(segments) if "=" in seg), len(segments))
    positional, params = split_params(":".join(segments[first:]), f"{where} {kind}".strip())
    return Spec(name, kind, tuple(segments[:first]), params, tuple(positional), rest)


def split_params(text: str, where: str) -> tuple[list[str], dict[str, str]]:
    """``a,b=1,c=x`` -> (["a"], {"b": "1", "c": "x"})."""
    positional: list[str] = []
    params: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            positional.append(item)
        elif not key.strip():
            raise SpecError(f"{where}: empty parameter name in {item!r}")
        else:
            params[key.strip()] = value.strip()
    return positional, params


def coerce(value: str, default: Any, key: str, where: str) -> Any:
    """Parse ``value`` as the type of ``default`` (bool, int, float, str)."""
    try:
        if isinstance(default, bool):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
    except ValueError:
        raise SpecError(f"{where}: {key}={value!r} is not a valid {type(default).__name__}") from None
    return value


def literal(value: str) -> Any:
    """Best-effort typing of a parameter with no declared default."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


def typed_params(raw: dict[str, str], defaults: dict[str, Any], where: str) -> dict[str, Any]:
    """``raw`` typed as ``defaults``; an unknown key is refused naming the valid ones."""
    unknown = sorted(set(raw) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none"
        raise SpecError(f"{where}: unknown parameter(s) {', '.join(unknown)}; valid: {valid}")
    return {k: coerce(v, defaults[k], k, where) for k, v in raw.items()}
