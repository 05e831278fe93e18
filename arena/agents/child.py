"""The child side of an isolated agent (``python -m arena.agents.child FD``), see :mod:`arena.agents.isolate`.

Reads pickled requests from the socket ``FD`` (first the build recipe, then ``act``,
``reset``, ``finish``), answers each with one JSON object: ``{"ok": ...}``,
``{"error": "Type: message", "infra": bool}`` or ``{"invalid": why}``.  Kept light
(asyncio is imported only for an async agent): a child starts once per agent per match.
"""

from __future__ import annotations

import ctypes
import inspect
import json
import pickle
import resource
import signal
import sys
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from arena.agents.base import DECISION_FIELDS, Decision, turn_from_dict
from arena.errors import InfrastructureError

DEFAULT_MEMORY_MB = 8192


@dataclass(frozen=True)
class Recipe:
    """How the child builds its agent: ``import`` (an import string and its params) or ``spec``."""

    how: str
    target: str
    params: dict[str, Any] = field(default_factory=dict)
    sys_path: tuple[str, ...] = ()
    memory_mb: int = DEFAULT_MEMORY_MB



def child_main(conn: Any) -> None:
    """Build the agent, then answer requests until the socket closes."""
    try:
        _, recipe = pickle.loads(conn.recv_bytes())
    except EOFError:
        return
    _confine(recipe.memory_mb)
    sys.path[:] = list(recipe.sys_path) or sys.path
    try:
        agent = _build(recipe)
    except Exception as err:  # noqa: BLE001 - reported to the parent, which decides
        from arena.spec import SpecError
        _send(conn, {"error": str(err) if isinstance(err, SpecError) else f"{type(err).__name__}: {err}",
                     "spec": isinstance(err, SpecError)})
        return
    _send(conn, {"ok": {"needs_state": bool(getattr(agent, "needs_state", False))}})
    while True:
        try:
            op, payload = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):  # the parent went away (finished, killed, interrupted): end quietly
            return
        try:
            reply = _serve(agent, op, payload)
        except Exception as err:  # noqa: BLE001 - the agent's own failure
            reply = {"error": f"{type(err).__name__}: {err}", "infra": isinstance(err, InfrastructureError)}
        try:
            _send(conn, reply)
        except OSError:  # nobody left to answer
            return


def _serve(agent: Any, op: str, payload: Any) -> dict[str, Any]:
    if op == "act":
        data, state = payload
        turn = turn_from_dict(data, state)
        out = _run(agent.aact(turn)) if hasattr(agent, "aact") else agent.act(turn)
        return {"ok": _decision_data(_run(out) if inspect.isawaitable(out) else out)}
    hook = getattr(agent, "a" + op, None) or getattr(agent, op, None) if op in ("reset", "finish") else None
    if hook is not None:
        out = hook(payload)
        if inspect.isawaitable(out):
            _run(out)
    return {"ok": None}


_LOOP: list[Any] = []


def _run(awaitable: Any) -> Any:
    """Await in the child's one event loop (made on first use)."""
    if not _LOOP:
        import asyncio
        _LOOP.append(asyncio.new_event_loop())
    return _LOOP[0].run_until_complete(awaitable)


def _decision_data(out: Any) -> Any:
    if isinstance(out, Decision):
        return {name: getattr(out, name) for name in DECISION_FIELDS}
    return out if isinstance(out, (str, int)) and not isinstance(out, bool) else {"__type__": type(out).__name__}


def _send(conn: Any, reply: dict[str, Any]) -> None:
    ok = reply.get("ok")
    if isinstance(ok, dict) and "__type__" in ok:
        reply = {"invalid": f"agent returned {ok['__type__']}; expected a Decision or a string"}
    try:
        data = json.dumps(reply)
    except (TypeError, ValueError) as err:
        data = json.dumps({"invalid": f"the decision is not JSON data: {err}"})
    conn.send_bytes(data.encode())


def _build(recipe: Any) -> Any:
    from arena.agents.registry import instantiate, load_import_string, parse_agent
    if recipe.how == "import":
        return instantiate(load_import_string(recipe.target), dict(recipe.params), recipe.target)
    return parse_agent(recipe.target + (":" if ":" not in recipe.target else ",") + "isolate=false").make()


def _confine(memory_mb: int) -> None:
    """Cap the address space; die with the parent (Linux)."""
    limit = memory_mb * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends the child
    child_main(Connection(int(sys.argv[1])))
