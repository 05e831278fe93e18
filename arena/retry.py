"""The arena's one retry policy for remote calls.

:func:`with_retries` awaits ``call()`` up to ``attempts`` times. It retries only
failures that may go away by themselves (:func:`is_transient`): rate limits
(429), server errors (5xx), request timeouts (408), timeouts and connection
errors, and exceptions marked ``transient = True`` (a malformed reply). Client errors
(400, 401, 403, 404, 422, ...) are raised at once.

Between attempts it sleeps ``min(max_delay, base_delay * 2**n)`` with "equal
jitter" (half fixed, half uniform random), unless the exception carries a
Retry-After hint (``retry_after`` attribute, or a ``Retry-After`` header on
``headers`` / ``response.headers``), which is used instead, capped at
``max_delay``. Each retry is logged at WARNING on the ``arena.retry`` logger
with the error text passed through :func:`arena.redact.redact`. When attempts
run out, the last exception is re-raised unchanged.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from typing import Awaitable, Callable, TypeVar

from arena.redact import redact

T = TypeVar("T")
log = logging.getLogger("arena.retry")

# Substrings of exception class names (anywhere in the MRO) meaning "timed out" or "connection failed":
# httpx.ReadTimeout, openai.APITimeoutError, litellm.Timeout, litellm.APIConnectionError, aiohttp errors...
_TRANSIENT_NAMES = ("timeout", "connect", "remoteprotocol", "disconnected", "readerror")


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (``status_code``/``status``/``response.status_code``), if any."""
    for obj in (exc, getattr(exc, "response", None)):
        for attr in ("status_code", "status"):
            value = getattr(obj, attr, None)
            if isinstance(value, int) and 100 <= value <= 599:
                return value
    return None


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: 408, 429, 5xx, timeouts, connection errors, ``transient`` ones."""
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, ConnectionError)) or getattr(exc, "transient", False):
        return True
    names = [c.__name__.lower() for c in type(exc).__mro__]
    if any(t in n for n in names for t in _TRANSIENT_NAMES):
        return True  # httpx / openai / litellm timeout and connection errors, whatever their status
    status = status_of(exc)
    return status is not None and (status in (408, 429) or status >= 500)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait, from a Retry-After hint on ``exc``, if any."""
    value = getattr(exc, "retry_after", None)
    if value is None:
        for headers in (getattr(exc, "headers", None), getattr(getattr(exc, "response", None), "headers", None),
                        getattr(exc, "litellm_response_headers", None)):
            try:
                value = headers.get("retry-after") or headers.get("Retry-After")  # type: ignore[union-attr]
            except AttributeError:
                continue
            if value is not None:
                break
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:  # HTTP-date form
        when = email.utils.parsedate_to_datetime(str(value)).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - time.time())


async def with_retries(call: Callable[[], Awaitable[T]], *, attempts: int = 4, base_delay: float = 0.5,
                       max_delay: float = 8.0,
                       retry_on: Callable[[BaseException], bool] = is_transient) -> T:
    """Await ``call()``; on a failure ``retry_on`` accepts, back off and try again (``attempts`` in all)."""
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as exc:  # noqa: BLE001 - filtered by retry_on, re-raised otherwise
            if attempt == attempts or not retry_on(exc):
                raise
            hint = retry_after(exc)
            if hint is not None:
                delay = min(hint, max_delay)
            else:
                step = min(max_delay, base_delay * 2 ** (attempt - 1))
                delay = step / 2 + random.uniform(0, step / 2)
            log.warning("attempt %d/%d failed (%s); retrying in %.2fs", attempt, attempts,
                        redact(f"{type(exc).__name__}: {exc}")[:500], delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
