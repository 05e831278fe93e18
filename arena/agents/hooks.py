"""Calling an agent's hooks safely: ``act`` under a hard time limit, ``reset``, ``finish``, close.

A synchronous agent asked under a time limit runs in a daemon thread of its own; when
late, the match stops waiting (the late answer is discarded) and the agent is not
called again until that thread has returned: every later ask fails at once as a
timeout, so the run finishes in bounded time even with an agent that never returns.
Agents with ``aact`` are awaited under ``asyncio.wait_for`` (an isolated agent kills
its process when cancelled).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from typing import Any

from arena.agents.base import Turn, ask_raw
from arena.errors import ArenaError, InfrastructureError

#: id(agent) -> the thread still running that agent's abandoned call.
_BUSY: dict[int, threading.Thread] = {}


class AgentFailed(ArenaError, RuntimeError):
    """An agent's own failure reported from elsewhere (its process): ``reason`` is ``Type: message``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChildInfrastructureError(InfrastructureError):
    """An infrastructure failure raised inside an isolated agent's process: ``reason`` is ``Type: message``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AgentDied(AgentFailed):
    """An isolated agent's process ended (exit, crash, killed for memory): the message says how."""


async def ask_in_time(agent: Any, turn: Turn, limit: float | None) -> Any:
    """The agent's raw answer; raises :class:`TimeoutError` past ``limit`` seconds."""
    if limit is None:
        return await ask_raw(agent, turn)
    if hasattr(agent, "aact"):
        return await asyncio.wait_for(ask_raw(agent, turn), limit)
    return await asyncio.wait_for(_in_thread(agent, turn), limit)


def _in_thread(agent: Any, turn: Turn) -> asyncio.Future:
    key = id(agent)
    running = _BUSY.get(key)
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()
    if running is not None and running.is_alive():
        future.set_exception(TimeoutError("the agent has not returned from an earlier, abandoned move"))
        return future

    def deliver(value: Any, error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(value)

    def work() -> None:
        try:
            out = agent.act(turn)
            if inspect.isawaitable(out):
                out = asyncio.run(_awaited(out))
            value, error = out, None
        except BaseException as err:  # noqa: BLE001 - handed to the match, which decides
            value, error = None, err
        finally:
            _BUSY.pop(key, None)
        try:
            loop.call_soon_threadsafe(deliver, value, error)
        except RuntimeError:  # the match's loop is gone: nobody waits for this answer
            pass

    thread = threading.Thread(target=work, name=f"agent-{key:x}", daemon=True)
    _BUSY[key] = thread
    thread.start()
    return future


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


async def reset_agent_async(agent: Any, match_info: dict[str, Any]) -> None:
    """The optional ``areset``/``reset`` hook."""
    if hasattr(agent, "areset"):
        await agent.areset(match_info)
    elif hasattr(agent, "reset"):
        agent.reset(match_info)


async def finish_agent(agent: Any, result: Callable[[], dict[str, Any]]) -> None:
    """The optional ``afinish``/``finish`` hook (learning agents); ``result`` built only if needed."""
    if hasattr(agent, "afinish"):
        await agent.afinish(result())
    elif hasattr(agent, "finish"):
        agent.finish(result())


def close_agent(agent: Any) -> None:
    """End what an agent holds for its match (an isolated agent's process)."""
    shutdown = getattr(agent, "shutdown_process", None)
    if callable(shutdown):
        shutdown()
