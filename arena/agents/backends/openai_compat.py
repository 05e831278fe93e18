"""A direct client for OpenAI-compatible chat-completions servers (vLLM, SGLang, Ollama's /v1, OpenAI).

:class:`~arena.agents.backends.remote.RemoteBackend` uses it instead of litellm when an
``api_base`` is given for an OpenAI-compatible provider prefix (``openai/``,
``hosted_vllm/``): one ``POST {api_base}/chat/completions`` over a pooled ``aiohttp``
session, the JSON reply returned as a plain dict. It costs a fraction of litellm's client
CPU per call (see ``bench/litellm_concurrency.py``), which is what caps throughput when
many matches are in flight. aiohttp rather than httpx or the OpenAI SDK: httpx's
connection pool scans every connection on each request and response, so with 32 requests
in flight it spent ~2-3 ms of CPU per call against aiohttp's ~0.2-0.3 ms (measured on the
loopback server, 200 ms replies). Retries, timeouts, redaction and the concurrency cap stay in
``RemoteBackend`` (one policy for both paths).

Failures are raised so that :mod:`arena.retry` classifies them like litellm's:
:class:`ProviderHTTPError` carries ``status_code`` and the reply's ``headers``
(Retry-After); a 200 whose body is not a JSON object is a :class:`MalformedReply`
(``transient``: retried, as litellm retries it as a 500); aiohttp's own timeout and
connection errors pass through.
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from typing import Any, AsyncIterator

#: Provider prefixes whose ``api_base`` speaks the OpenAI chat-completions protocol, and the
#: environment variable their key is read from (litellm's names).
PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "hosted_vllm": "HOSTED_VLLM_API_KEY"}
#: litellm-only options that are not part of the request body.
_NOT_BODY = frozenset({"drop_params", "api_key", "extra_headers", "extra_body", "num_retries", "max_retries",
                       "timeout", "api_version", "custom_llm_provider", "api_base", "base_url"})


class ProviderHTTPError(Exception):
    """The server answered with an HTTP error status."""

    def __init__(self, status: int, message: str, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status_code = status
        self.headers = headers


class MalformedReply(Exception):
    """A 2xx reply whose body is not a JSON object (retried: a proxy or server hiccup)."""

    transient = True


def split_model(model: str) -> tuple[str, str]:
    """``"hosted_vllm/Qwen/Qwen2.5-7B"`` -> ``("hosted_vllm", "Qwen/Qwen2.5-7B")``; no prefix -> ``("", model)``."""
    provider, sep, name = model.partition("/")
    return (provider, name) if sep else ("", model)


def speaks_openai(model: str, api_base: str | None) -> bool:
    """True when requests for ``model`` at ``api_base`` can go straight to an OpenAI-compatible server."""
    return bool(api_base) and split_model(model)[0] in PROVIDER_KEYS


def _error_message(raw: bytes) -> str:
    try:
        body = json.loads(raw)
    except ValueError:
        return raw[:500].decode("utf-8", "replace")
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    if isinstance(err, str):
        return err
    detail = body.get("detail") if isinstance(body, dict) else None  # FastAPI-style (vLLM validation errors)
    return json.dumps(detail if detail is not None else body)[:500]


async def _close_at_shutdown(session: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await session.close()


class OpenAICompatClient:
    """``await client.chat(body) -> dict``: one chat completion, no retries (the caller retries)."""

    def __init__(self, model: str, api_base: str, *, timeout: float, max_connections: int,
                 extra: dict[str, Any]) -> None:
        provider, self.model = split_model(model)
        self.url = api_base.rstrip("/") + "/chat/completions"
        key = extra.get("api_key") or os.environ.get(PROVIDER_KEYS.get(provider, ""), "")
        self.headers = {"Content-Type": "application/json", **(extra.get("extra_headers") or {})}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.body_extra = {**{k: v for k, v in extra.items() if k not in _NOT_BODY}, **(extra.get("extra_body") or {})}
        self.timeout = timeout
        self.max_connections = max_connections
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    async def _session(self) -> Any:
        """One pooled ``aiohttp.ClientSession`` per event loop (a session cannot cross loops).

        It is closed when its loop shuts down: a suspended async generator holds it, and
        ``asyncio.run`` closes every live async generator before closing the loop.
        """
        import aiohttp

        loop = asyncio.get_running_loop()
        held = self._clients.get(loop)
        if held is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.max_connections),
                                            timeout=aiohttp.ClientTimeout(total=self.timeout))
            keeper = _close_at_shutdown(session)
            await keeper.__anext__()
            held = self._clients[loop] = (session, keeper)
        return held[0]

    async def chat(self, messages: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
        """POST the request; the decoded JSON reply, or an exception :mod:`arena.retry` can classify."""
        params = dict(params)
        body = {"model": self.model, "messages": messages, **self.body_extra, **params.pop("extra_body", {}),
                **params}
        session = await self._session()
        async with session.post(self.url, data=json.dumps(body), headers=self.headers) as reply:
            raw = await reply.read()
            status, headers = reply.status, dict(reply.headers)
        if status >= 400:
            raise ProviderHTTPError(status, _error_message(raw), headers)
        try:
            decoded = json.loads(raw)
        except ValueError as exc:
            raise MalformedReply(f"reply is not JSON ({exc}): {raw[:200]!r}") from None
        if not isinstance(decoded, dict):
            raise MalformedReply(f"reply is not a JSON object: {raw[:200]!r}")
        return decoded
