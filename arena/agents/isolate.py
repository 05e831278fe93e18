"""Agents in their own process: plug-ins cannot break a match or spy on it.

Import-string plug-ins (``pkg.mod:Class``, unless ``isolate=false``) and any agent asked
with ``isolate=true`` run in a child process (``python -m arena.agents.child``: a fresh
interpreter, never a fork of the match's process, killed with it on Linux).  The child builds the agent, then
receives only pickled Turns (and, for a ``needs_state`` agent, the state the match
allows it: a determinization in imperfect-information games) and answers with JSON,
which the parent validates like any answer: nothing of the parent's memory is
reachable from the agent, and nothing the agent sends is unpickled by the parent.

Failures are the agent's: ``sys.exit``, ``os._exit``, a segfault or a kill for memory
(the child's address space is capped at ``memory_mb``, default 8192) end its match as a
forfeit with the reason; a late answer under ``--time-limit`` kills the child (the next
move gets a fresh one, reset to the same match).  An ``InfrastructureError`` raised
in the child stays one.  One child per agent per match, closed when the match ends.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from arena.agents.base import Decision, turn_to_dict
from arena.agents.child import DEFAULT_MEMORY_MB, Recipe
from arena.agents.hooks import AgentDied, AgentFailed, ChildInfrastructureError
from arena.agents.validate import InvalidDecision, checked_decision
from arena.redact import redact

MAX_REPLY = 64 * 2**20  # bytes of one answer from a child
HOOK_TIMEOUT = 300.0  # seconds for the child to build its agent, reset or finish
_OPTION = re.compile(r"(?<=[:,])\s*(isolate|memory_mb)\s*=\s*([^,:|]*)\s*(,|$)")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def isolation_options(spec: str) -> tuple[str, bool | None, int]:
    """Strip ``isolate=`` and ``memory_mb=`` from an agent spec: (spec, isolate or None, memory_mb)."""
    isolate: bool | None = None
    memory_mb = DEFAULT_MEMORY_MB
    for key, value, _ in _OPTION.findall(spec):
        value = value.strip().lower()
        if key == "isolate" and value in _TRUE + _FALSE:
            isolate = value in _TRUE
        elif key == "memory_mb" and value.isdigit() and int(value) >= 64:
            memory_mb = int(value)
        else:
            from arena.spec import SpecError
            raise SpecError(f"agent {spec}: {key}={value!r} is not valid "
                            f"({'true or false' if key == 'isolate' else 'a whole number of MiB >= 64'})")
    stripped = _OPTION.sub("", spec).rstrip(":,")
    return stripped, isolate, memory_mb


def isolated_builder(recipe: Recipe, where: str) -> Callable[[], IsolatedAgent]:
    """``make()`` of an isolated agent: the first call builds it in a child (a bad plug-in fails
    here, as a :class:`SpecError`, before anything is played); each call hands a proxy a child
    started ahead (by the call before) and starts the next one, so a child boots while a match plays."""
    probed: list[bool] = []
    spare: list[_Child] = []

    def build() -> IsolatedAgent:
        if not probed:
            child = _Child(recipe)
            hello = child.wait_sync(HOOK_TIMEOUT, "build")
            if "error" in hello:
                child.close()
                from arena.spec import SpecError
                message = hello["error"] if hello.get("spec") else f"agent {where}: {hello['error']}"
                raise SpecError(redact(message))
            probed.append(bool(hello["ok"]["needs_state"]))
            child.built = True
            spare.append(child)
        agent = IsolatedAgent(recipe, probed[0])
        agent._child = spare.pop() if spare else None
        spare.append(_Child(recipe))
        return agent
    return build


class IsolatedAgent:
    """The parent's face of an agent living in a child process."""

    isolated = True

    def __init__(self, recipe: Recipe, needs_state: bool = False) -> None:
        self.recipe, self.needs_state = recipe, needs_state
        self._child: _Child | None = None
        self._match_info: dict[str, Any] | None = None

    async def _ready(self) -> _Child:
        """The agent's live, built child (a fresh one, reset to the current match, after a kill)."""
        child = self._child
        if child is not None and child.alive() and child.built:
            return child
        if child is None or not child.alive():
            self.shutdown_process()
            child = self._child = _Child(self.recipe)
        try:
            hello = await asyncio.wait_for(child.reply("build"), HOOK_TIMEOUT)
        except BaseException:
            self.shutdown_process()
            raise
        self._check(hello)
        child.built = True
        if self._match_info is not None:
            await self._call("reset", self._match_info, timeout=HOOK_TIMEOUT)
        return child

    async def _call(self, op: str, payload: Any, timeout: float | None = None) -> Any:
        child = self._child if op == "reset" and self._child is not None else await self._ready()
        try:
            child.send(op, payload)
            reply = await asyncio.wait_for(child.reply(op), timeout)
        except BaseException:  # cancelled (time limit) or timed out: the child may be anywhere
            if self._child is child and child.alive() and not child.replied:
                self.shutdown_process()
            raise
        if "invalid" in reply:
            raise InvalidDecision(reply["invalid"])
        if "error" in reply:
            raise ChildInfrastructureError(reply["error"]) if reply.get("infra") else AgentFailed(reply["error"])
        return reply["ok"]

    async def areset(self, match_info: dict[str, Any]) -> None:
        self._match_info = None
        await self._ready()
        self._match_info = dict(match_info)
        await self._call("reset", self._match_info, timeout=HOOK_TIMEOUT)

    async def aact(self, turn: Any) -> Decision:
        return checked_decision(await self._call("act", (turn_to_dict(turn), turn.state)))

    def reset(self, match_info: dict[str, Any]) -> None:
        """Blocking reset, for callers outside a match loop (exports' rollouts); a match awaits :meth:`areset`."""
        self._match_info = None
        child = self._child
        if child is None or not child.alive():
            self.shutdown_process()
            child = self._child = _Child(self.recipe)
        if not child.built:
            self._check(child.wait_sync(HOOK_TIMEOUT, "build"))
            child.built = True
        self._match_info = dict(match_info)
        child.send("reset", self._match_info)
        self._check(child.wait_sync(HOOK_TIMEOUT, "reset"))

    def _check(self, reply: dict[str, Any]) -> None:
        if "error" in reply:
            self.shutdown_process()
            raise AgentFailed(reply["error"])

    async def afinish(self, result: dict[str, Any]) -> None:
        if self._child is not None and self._child.alive():
            await self._call("finish", result, timeout=HOOK_TIMEOUT)

    def shutdown_process(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None

    def __del__(self) -> None:
        try:
            self.shutdown_process()
        except Exception:  # noqa: BLE001,S110 - interpreter shutdown
            pass


class _Child:
    """One agent process (a fresh interpreter) and the socket to it (pickle down, JSON up)."""

    def __init__(self, recipe: Recipe) -> None:
        mine, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "arena.agents.child", str(theirs.fileno())], pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, close_fds=True)
        finally:
            theirs.close()
        self.conn = Connection(mine.detach())
        self.replied, self.built = True, False
        self.send("build", recipe)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, op: str, payload: Any) -> None:
        self.replied = False
        try:
            self.conn.send_bytes(pickle.dumps((op, payload), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            raise self.died(op) from None

    async def reply(self, op: str) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self.conn.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        return self._receive(op)

    def wait_sync(self, timeout: float, op: str) -> dict[str, Any]:
        if not self.conn.poll(timeout):
            self.close()
            return {"error": f"the agent was not built within {timeout:g}s"}
        try:
            return self._receive(op)
        except AgentFailed as err:
            return {"error": err.reason}

    def _receive(self, op: str) -> dict[str, Any]:
        try:
            raw = self.conn.recv_bytes(MAX_REPLY)
        except EOFError:
            raise self.died(op) from None
        except OSError:  # over MAX_REPLY
            self.close()
            raise AgentFailed(f"AnswerTooLarge: the agent's answer is over {MAX_REPLY // 2**20} MiB") from None
        self.replied = True
        try:
            reply = json.loads(raw)
        except ValueError:
            return {"invalid": "the agent's process sent something that is not JSON"}
        if not isinstance(reply, dict) or not reply.keys() & {"ok", "error", "invalid"}:
            return {"invalid": "the agent's process sent a malformed reply"}
        return reply

    def died(self, op: str) -> AgentDied:
        try:
            code: int | None = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        self.close()
        if code is None:
            how = "stopped answering"
        elif code < 0:
            name = signal.Signals(-code).name
            how = f"was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        else:
            how = f"exited with code {code} (sys.exit or os._exit)"
        return AgentDied(f"agent process {how} during {op}()")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001,S110 - interpreter shutdown
            pass

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.conn.close()
