"""Remote LLMs: any litellm model id, or an OpenAI-compatible server straight over HTTP.

``RemoteBackend("openai/gpt-4o-mini")``, ``RemoteBackend("ollama/llama3")``,
``RemoteBackend("hosted_vllm/Qwen/Qwen2.5-7B-Instruct", api_base="http://host:8000/v1")``.
Keys come from the environment (``OPENAI_API_KEY``, ``HOSTED_VLLM_API_KEY``, ...);
``**extra`` goes to the request unchanged (``api_key``, ``extra_headers``, ``extra_body``...).

- **Client** (``client``): ``"http"`` posts to ``{api_base}/chat/completions`` with
  :mod:`arena.agents.backends.openai_compat` (aiohttp); ``"litellm"`` goes through
  ``litellm.acompletion``. ``"auto"`` (default) takes ``http`` when an ``api_base`` is given
  with an OpenAI-compatible prefix (``openai/``, ``hosted_vllm/``: vLLM, SGLang, LM servers,
  OpenAI itself) — litellm's client CPU per call is several times higher and caps
  throughput with many matches in flight — and litellm for every other provider.
  :attr:`RemoteBackend.client` says which.
- **Structured outputs** (``structured``): ``complete(..., allowed=[...])`` or
  ``pattern=...`` asks the provider to hold the answer to the legal set, see
  :mod:`arena.agents.backends.structured`. ``"auto"`` uses a JSON schema for providers that
  document it (OpenAI, vLLM, SGLang, Ollama, Azure, LM Studio), ``"guided_choice"`` vLLM's
  own fields, ``"off"`` none. When the provider refuses (a client error naming
  ``response_format`` / structured / unsupported) or ignores the schema, the backend
  remembers it (:attr:`structured_refused`) and plain text is sent from then on, to be
  parsed and re-prompted by the agent; ``Completion.constrained`` says which path each
  answer took ("json_schema", "guided_choice" or "").
- **Retries**: the arena's one policy, :func:`arena.retry.with_retries`; litellm's and the
  OpenAI SDK's own retries are switched off (``max_retries=0, num_retries=0``), otherwise
  each of our attempts would hide up to 3 requests.
- **Timeout**: ``timeout`` seconds per attempt (given to the client, with a hard asyncio ceiling).
- **Concurrency**: at most ``max_concurrency`` requests in flight per event loop (an
  ``asyncio.Semaphore`` made lazily for each loop, so one backend serves several loops;
  it is held per attempt, not during backoff).
- **Failures** after the retry policy (HTTP 400/401/5xx, timeouts, malformed replies) raise
  :class:`BackendError`, an :class:`~arena.errors.InfrastructureError` (the match ends as
  ``error``, not a forfeit); its message is passed through :func:`arena.redact.redact` and
  never chains the original exception (whose text may carry credentials). An empty reply
  is :class:`EmptyCompletion` (the agent's own empty answer).
- **Offline**: litellm is imported lazily, with its cost-map download and other fetches
  switched off (``LITELLM_LOCAL_MODEL_COST_MAP``, ``LITELLM_OFFLINE_MODE``).
- **Cost**: litellm's price map; on the http path only for OpenAI's own host (self-hosted
  servers are unpriced: 0.0).

Scoring (:meth:`RemoteBackend.score`) uses the provider's log-probabilities, which only
cover the top-20 tokens along the one reply the model generated. One request is made
(``temperature=0, logprobs=True, top_logprobs=20``) and each option is matched against
those tokens; see :func:`option_logprob` for what that can and cannot measure. Its
:class:`~arena.agents.backends.base.Scores` carry that request's real tokens and cost.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from typing import Any
from urllib.parse import urlparse

from arena.agents.backends.base import Completion, EmptyCompletion, Scores, ScoringUnsupported
from arena.agents.backends.openai_compat import OpenAICompatClient, speaks_openai
from arena.agents.backends.structured import holds, is_refusal, read_reply, request_fields, resolve_mode
from arena.errors import InfrastructureError
from arena.redact import redact
from arena.retry import status_of, with_retries

TOP_LOGPROBS = 20  # the most OpenAI (and vLLM by default) will return
CLIENTS = ("auto", "http", "litellm")
JSON_OVERHEAD = 16  # tokens added to max_tokens for the JSON around a structured answer
PRICED_HOSTS = ("api.openai.com",)  # http-path hosts whose prices litellm's map knows
log = logging.getLogger("arena.remote")


class BackendError(InfrastructureError):
    """A remote completion failed for good (after retries), or came back malformed.

    ``status`` is the HTTP status when there was one; ``kind`` the original exception's
    class name. The message is redacted; the original exception is not chained.
    """

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class OptionsUnseen(ScoringUnsupported):
    """This reply's top log-probs show none of the options (another prompt may): unsupported for this call only.

    ``spent`` carries the request's tokens and cost (it was made and may be paid for).
    """

    per_call = True

    def __init__(self, message: str, spent: Scores) -> None:
        super().__init__(message)
        self.spent = spent


def _litellm() -> Any:
    """Import litellm with its network side effects off (idempotent)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download at import
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")  # no other catalogue/tokenizer fetches
    try:
        import litellm
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("remote LLM backends need litellm: pip install litellm") from exc
    litellm.telemetry = False
    litellm.suppress_debug_info = True  # no "Give Feedback / Get Help" banners on stdout
    return litellm


def _get(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]`` (litellm hands back objects, the http path dicts), else None."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(usage: Any, name: str) -> int:
    value = _get(usage, name)
    return value if isinstance(value, int) and value >= 0 else 0


class RemoteBackend:
    """A :class:`~arena.agents.backends.base.Backend` for any litellm model id or OpenAI-compatible server."""

    def __init__(self, model: str, api_base: str | None = None, timeout: float = 60.0,
                 max_concurrency: int = 16, attempts: int = 4, structured: str = "auto",
                 client: str = "auto", **extra: Any) -> None:
        if max_concurrency < 1 or attempts < 1 or timeout <= 0:
            raise ValueError("max_concurrency and attempts must be >= 1, timeout > 0")
        if client not in CLIENTS:
            raise ValueError(f"unknown client {client!r}; valid: {', '.join(CLIENTS)}")
        if client == "http" and not api_base:
            raise ValueError("client='http' needs an api_base (an OpenAI-compatible server)")
        self.name = model
        self.model = model
        self.api_base = api_base
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.attempts = attempts
        #: The structured-output path asked for ("json_schema", "guided_choice", "" none).
        self.structured = resolve_mode(structured, model)
        #: Why the provider refused or ignored structured outputs ("" while it has not).
        self.structured_refused = ""
        #: Which client sends the requests: "http" (direct, OpenAI-compatible) or "litellm".
        self.client = "http" if client == "http" or (client == "auto" and speaks_openai(model, api_base)) else "litellm"
        self.extra: dict[str, Any] = {"drop_params": True, **extra}  # unsupported params dropped, not fatal
        self._http = (OpenAICompatClient(model, api_base or "", timeout=timeout, max_connections=max_concurrency,
                                         extra=self.extra) if self.client == "http" else None)
        self._priced = self._http is None or (urlparse(api_base or "").hostname or "") in PRICED_HOSTS
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def __repr__(self) -> str:
        return f"RemoteBackend({self.model!r}, api_base={self.api_base!r}, client={self.client!r})"

    def check(self) -> None:
        """Raise :class:`~arena.errors.NotReady` when the provider's key is missing (litellm's own
        ``validate_environment``) or the given ``api_base`` does not accept a TCP connection."""
        from arena.agents.backends.preflight import check_remote
        check_remote(self.model, self.api_base, self.extra.get("api_key"))

    # -- plumbing ------------------------------------------------------------
    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._semaphores.get(loop)
        if sem is None:
            sem = self._semaphores[loop] = asyncio.Semaphore(self.max_concurrency)
        return sem

    def _scrub(self, text: str) -> str:
        key = self.extra.get("api_key")
        if isinstance(key, str) and key:
            text = text.replace(key, "[REDACTED]")
        return redact(text)

    def _error(self, what: str, exc: BaseException | None = None) -> BackendError:
        if exc is None:
            return BackendError(self._scrub(f"{self.model}: {what}")[:2000])
        return BackendError(self._scrub(f"{self.model}: {what}: {type(exc).__name__}: {exc}")[:2000],
                            status=status_of(exc), kind=type(exc).__name__)

    async def _send(self, messages: list[dict[str, str]], params: dict[str, Any]) -> Any:
        """One request, no retry: through the direct client or litellm."""
        if self._http is not None:
            return await self._http.chat(messages, params)
        if "extra_body" in params and "extra_body" in self.extra:
            params = {**params, "extra_body": {**self.extra["extra_body"], **params["extra_body"]}}
        return await _litellm().acompletion(
            model=self.model, messages=messages, api_base=self.api_base, timeout=self.timeout,
            **{**self.extra, **params, "max_retries": 0, "num_retries": 0})

    async def _request(self, messages: list[dict[str, str]], **params: Any) -> Any:
        """One chat completion, retried; returns (response, first choice, its message)."""
        tries = 0

        async def attempt() -> Any:
            nonlocal tries
            tries += 1
            async with self._semaphore():
                async with asyncio.timeout(self.timeout + 1.0):  # ceiling, should the client's timeout not fire
                    return await self._send(messages, params)

        try:
            response = await with_retries(attempt, attempts=self.attempts)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a redacted BackendError
            raise self._error(f"failed after {tries} attempt(s)", exc) from None
        choices = _get(response, "choices")
        message = _get(choices[0], "message") if isinstance(choices, list) and choices else None
        if message is None:
            raise self._error(f"malformed response (no choices/message): {str(response)[:300]}")
        return response, choices[0], message

    def _refuse(self, reason: str) -> None:
        """Remember that this provider does not do structured outputs; plain text from now on."""
        if not self.structured_refused:
            self.structured_refused = reason[:300]
            log.warning("%s: structured outputs off for this backend (%s); answers are parsed instead",
                        self.model, self.structured_refused)

    # -- Backend protocol ------------------------------------------------------
    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                       temperature: float = 0.0, seed: int | None = None, allowed: list[str] | None = None,
                       pattern: str | None = None, reasoning: bool = False) -> Completion:
        """One chat completion. ``latency`` is wall time including retries and queueing.

        ``allowed`` / ``pattern`` hold the answer to the legal set through structured
        outputs where the provider supports them; ``reasoning`` puts a free reasoning field
        before the answer in the schema (the reply then reads ``...\nFinal answer: X``).
        """
        if self._http is None:
            _litellm()  # the first import takes seconds: not the model's latency
        start = time.monotonic()
        params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if seed is not None:
            params["seed"] = seed
        path, fields = request_fields("" if self.structured_refused else self.structured, allowed, pattern,
                                      reasoning)
        if path == "json_schema":
            fields["max_tokens"] = max_tokens + JSON_OVERHEAD
        try:
            response, choice, message = await self._request(messages, **{**params, **fields})
        except BackendError as exc:
            if not path or not is_refusal(exc.status, exc.kind, str(exc)):
                raise
            self._refuse(f"{path} refused: {exc}")
            path = ""
            response, choice, message = await self._request(messages, **params)
        text = _get(message, "content")
        if not isinstance(text, str) or not text.strip():
            finish = _get(choice, "finish_reason")
            hint = " (max_tokens too small for a reasoning model?)" if finish == "length" else ""
            raise EmptyCompletion(self._scrub(f"{self.name}: empty completion (finish_reason={finish!r}){hint}"))
        if path:
            text, answer = read_reply(text, path, reasoning)
            if answer is None and _get(choice, "finish_reason") == "length":
                log.warning("%s: structured reply cut at max_tokens; passed on as text", self.model)
                path = ""
            elif answer is None:
                self._refuse(f"{path} ignored: the reply was not the JSON asked for")
                path = ""
            elif not holds(answer, allowed, pattern):
                log.warning("%s: %s answer %r is outside what was asked for", self.model, path, answer[:80])
                path = ""
        usage = _get(response, "usage")
        return Completion(text=text, tokens_in=_count(usage, "prompt_tokens"),
                          tokens_out=_count(usage, "completion_tokens"), cost=self._cost(response),
                          latency=time.monotonic() - start, constrained=path)

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> Scores:
        """Log-probability of each option as the reply, from the provider's top-20 log-probs.

        Approximate, see :func:`option_logprob`. The :class:`Scores` carry the scoring
        request's tokens and cost. Raises :class:`ScoringUnsupported` when the provider
        returns no log-probs (or rejects the request for them), or when no option is
        visible among them.
        """
        if not options:
            return Scores([], [])
        longest = max(len(o) for o in options)
        try:
            response, choice, _ = await self._request(messages, max_tokens=min(longest + 2, 64), temperature=0.0,
                                                      logprobs=True, top_logprobs=TOP_LOGPROBS)
        except BackendError as exc:
            if exc.status in (400, 422) or exc.kind == "UnsupportedParamsError":
                raise ScoringUnsupported(f"{self.model} refused a logprobs request: {exc}") from None
            raise
        content = _get(_get(choice, "logprobs"), "content")
        if not content or not isinstance(content, list):
            raise ScoringUnsupported(f"{self.model} returned no log-probabilities")
        positions = _positions(content)
        walked = [option_score(o, positions) for o in options]
        usage = _get(response, "usage")
        scores = Scores([lp for lp, _ in walked], [n for _, n in walked], _count(usage, "prompt_tokens"),
                        _count(usage, "completion_tokens"), self._cost(response))
        if all(lp == float("-inf") for lp in scores.logprobs):
            raise OptionsUnseen(f"{self.model}: none of the options is among the top-{TOP_LOGPROBS} "
                                f"first tokens (reply began {positions[0][0]!r})", scores)
        return scores

    def _cost(self, response: Any) -> float:
        """USD cost from litellm's price map; 0.0 for unpriced models (local servers)."""
        if not self._priced:
            return 0.0
        try:
            hidden = getattr(response, "_hidden_params", None)
            if isinstance(hidden, dict) and "response_cost" in hidden:  # litellm priced it already
                return float(hidden["response_cost"] or 0.0)
            if isinstance(response, dict):  # the http path: price the usage by the model's id
                usage = response.get("usage")
                cin, cout = _litellm().cost_per_token(model=self.model, prompt_tokens=_count(usage, "prompt_tokens"),
                                                      completion_tokens=_count(usage, "completion_tokens"))
                return float(cin + cout)
            return float(_litellm().completion_cost(completion_response=response) or 0.0)
        except Exception:  # noqa: BLE001 - an unknown price is not an error
            return 0.0


def _positions(content: list[Any]) -> list[tuple[str, dict[str, float]]]:
    """(sampled token, {token: logprob} of its top alternatives and itself) for each generated position."""
    out = []
    for pos in content:
        alts: dict[str, float] = {}
        for t in [*(_get(pos, "top_logprobs") or []), pos]:
            token, lp = _get(t, "token"), _get(t, "logprob")
            if isinstance(token, str) and isinstance(lp, (int, float)):
                alts[token] = float(lp)
        out.append((_get(pos, "token") or "", alts))
    return out


def option_logprob(option: str, positions: list[tuple[str, dict[str, float]]]) -> float:
    """Log-prob of ``option`` given the generated tokens and their top alternatives (see :func:`option_score`)."""
    return option_score(option, positions)[0]


def option_score(option: str, positions: list[tuple[str, dict[str, float]]]) -> tuple[float, int]:
    """(log-prob, tokens) of ``option`` given the generated tokens and their top alternatives.

    ``positions[i] = (sampled token, {token: logprob} of the top alternatives, sampled
    included)``. Walking the option's text: at each position, a visible token equal to
    the rest of the option ends the walk (exact); else if the sampled token is a prefix of
    the rest, take it and move on (the option follows the generated path); else the option
    leaves the generated path, where later log-probs are unknown, and the best visible
    prefix is used — an *upper bound*. Leading whitespace of the first token is ignored.
    The end-of-reply token is counted in ``tokens`` (the providers do not return its
    log-prob, so it adds 0), so "C" also stands for "Cooperate". An option whose first token
    is not among the top alternatives scores ``-inf`` (below all we saw). Only one
    tokenisation per option is considered, so every score is an approximation.
    """
    total, rest = 0.0, option.strip()
    if not rest:
        return float("-inf"), 1
    for i, (sampled, alts) in enumerate(positions):
        norm = {}
        for tok, lp in alts.items():
            t = tok.lstrip() if i == 0 else tok
            if t and rest.startswith(t):
                norm[t] = max(lp, norm.get(t, float("-inf")))
        if not norm:
            return (total if i else float("-inf")), i + 1
        if rest in norm:
            return total + norm[rest], i + 2
        s = sampled.lstrip() if i == 0 else sampled
        if s in norm:
            total += norm[s]
            rest = rest[len(s):]
            continue
        return total + max(norm.values()), i + 2
    return total, len(positions) + 1  # the reply ended before the option did: upper bound
