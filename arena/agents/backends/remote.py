"""Remote LLMs through litellm: any litellm model id, keys from the environment.

``RemoteBackend("openai/gpt-4o-mini")``, ``RemoteBackend("ollama/llama3")``,
``RemoteBackend("hosted_vllm/Qwen/Qwen2.5-7B-Instruct", api_base="http://host:8000/v1")``.
litellm reads provider keys from the environment (``OPENAI_API_KEY``, ...);
``**extra`` goes to ``litellm.acompletion`` unchanged (``api_key``, ``extra_headers``...).

- **Retries**: the arena's one policy, :func:`arena.retry.with_retries`; litellm's and the
  OpenAI SDK's own retries are switched off (``max_retries=0, num_retries=0``), otherwise
  each of our attempts would hide up to 3 requests.
- **Timeout**: ``timeout`` seconds per attempt (given to litellm, with a hard asyncio ceiling).
- **Concurrency**: at most ``max_concurrency`` requests in flight per event loop (an
  ``asyncio.Semaphore`` made lazily for each loop, so one backend serves several loops;
  it is held per attempt, not during backoff).
- **Failures** raise :class:`BackendError`; its message is passed through
  :func:`arena.redact.redact` and never chains the original exception (whose text may
  carry credentials). Empty or malformed completions are failures too.
- **Offline**: litellm is imported lazily, with its cost-map download and other fetches
  switched off (``LITELLM_LOCAL_MODEL_COST_MAP``, ``LITELLM_OFFLINE_MODE``).

Scoring (:meth:`RemoteBackend.score`) uses the provider's log-probabilities, which only
cover the top-20 tokens along the one reply the model generated. One request is made
(``temperature=0, logprobs=True, top_logprobs=20``) and each option is matched against
those tokens; see :func:`option_logprob` for what that can and cannot measure.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from typing import Any

from arena.agents.backends.base import Completion, EmptyCompletion, ScoringUnsupported
from arena.errors import InfrastructureError
from arena.redact import redact
from arena.retry import status_of, with_retries

TOP_LOGPROBS = 20  # the most OpenAI (and vLLM by default) will return


class BackendError(InfrastructureError):
    """A remote completion failed for good (after retries), or came back empty or malformed.

    ``status`` is the HTTP status when there was one; ``kind`` the original exception's
    class name. The message is redacted; the original exception is not chained.
    """

    def __init__(self, message: str, *, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


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
    """``obj.name`` or ``obj[name]`` (litellm hands back objects or dicts), else None."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


class RemoteBackend:
    """A :class:`~arena.agents.backends.base.Backend` for any litellm model id."""

    def __init__(self, model: str, api_base: str | None = None, timeout: float = 60.0,
                 max_concurrency: int = 16, attempts: int = 4, **extra: Any) -> None:
        if max_concurrency < 1 or attempts < 1 or timeout <= 0:
            raise ValueError("max_concurrency and attempts must be >= 1, timeout > 0")
        self.name = model
        self.model = model
        self.api_base = api_base
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.attempts = attempts
        self.extra: dict[str, Any] = {"drop_params": True, **extra}  # unsupported params dropped, not fatal
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def __repr__(self) -> str:
        return f"RemoteBackend({self.model!r}, api_base={self.api_base!r})"

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

    async def _request(self, messages: list[dict[str, str]], **params: Any) -> Any:
        """One chat completion through litellm, retried; returns (response, first choice, its message)."""
        litellm = _litellm()
        tries = 0

        async def attempt() -> Any:
            nonlocal tries
            tries += 1
            async with self._semaphore():
                async with asyncio.timeout(self.timeout + 1.0):  # ceiling, should litellm's timeout not fire
                    return await litellm.acompletion(
                        model=self.model, messages=messages, api_base=self.api_base, timeout=self.timeout,
                        **{**self.extra, **params, "max_retries": 0, "num_retries": 0})

        try:
            response = await with_retries(attempt, attempts=self.attempts)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a redacted BackendError
            raise self._error(f"failed after {tries} attempt(s)", exc) from None
        choices = _get(response, "choices")
        message = _get(choices[0], "message") if choices else None
        if message is None:
            raise self._error(f"malformed response (no choices/message): {str(response)[:300]}")
        return response, choices[0], message

    # -- Backend protocol ------------------------------------------------------
    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                       temperature: float = 0.0, seed: int | None = None) -> Completion:
        """One chat completion. ``latency`` is wall time including retries and queueing."""
        _litellm()  # the first import takes seconds: not the model's latency
        start = time.monotonic()
        params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": temperature}
        if seed is not None:
            params["seed"] = seed
        response, choice, message = await self._request(messages, **params)
        text = _get(message, "content")
        if not isinstance(text, str) or not text.strip():
            finish = _get(choice, "finish_reason")
            hint = " (max_tokens too small for a reasoning model?)" if finish == "length" else ""
            raise EmptyCompletion(self._scrub(f"{self.name}: empty completion (finish_reason={finish!r}){hint}"))
        usage = _get(response, "usage")
        return Completion(text=text, tokens_in=int(_get(usage, "prompt_tokens") or 0),
                          tokens_out=int(_get(usage, "completion_tokens") or 0),
                          cost=self._cost(response), latency=time.monotonic() - start)

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> list[float]:
        """Log-probability of each option as the reply, from the provider's top-20 log-probs.

        Approximate, see :func:`option_logprob`. Raises :class:`ScoringUnsupported` when
        the provider returns no log-probs (or rejects the request for them), or when no
        option is visible among them.
        """
        if not options:
            return []
        longest = max(len(o) for o in options)
        try:
            _, choice, _ = await self._request(messages, max_tokens=min(longest + 2, 64), temperature=0.0,
                                               logprobs=True, top_logprobs=TOP_LOGPROBS)
        except BackendError as exc:
            if exc.status in (400, 422) or exc.kind == "UnsupportedParamsError":
                raise ScoringUnsupported(f"{self.model} refused a logprobs request: {exc}") from None
            raise
        content = _get(_get(choice, "logprobs"), "content")
        if not content:
            raise ScoringUnsupported(f"{self.model} returned no log-probabilities")
        positions = _positions(content)
        scores = [option_logprob(o, positions) for o in options]
        if all(s == float("-inf") for s in scores):
            raise ScoringUnsupported(f"{self.model}: none of the options is among the top-{TOP_LOGPROBS} "
                                     f"first tokens (reply began {positions[0][0]!r})")
        return scores

    def _cost(self, response: Any) -> float:
        """USD cost from litellm's price map; 0.0 for unpriced models (local servers)."""
        try:
            hidden = getattr(response, "_hidden_params", None)
            if isinstance(hidden, dict) and "response_cost" in hidden:  # litellm priced it already
                return float(hidden["response_cost"] or 0.0)
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
    """Log-prob of ``option`` given the generated tokens and their top alternatives.

    ``positions[i] = (sampled token, {token: logprob} of the top alternatives, sampled
    included)``. Walking the option's text: at each position, a visible token equal to
    the rest of the option ends the walk (exact); else if the sampled token is a prefix of
    the rest, take it and move on (the option follows the generated path); else the option
    leaves the generated path, where later log-probs are unknown, and the best visible
    prefix is used — an *upper bound*. Leading whitespace of the first token is ignored.
    No end-of-reply term is added, so "C" also stands for "Cooperate". An option whose
    first token is not among the top alternatives scores ``-inf`` (below all we saw).
    Only one tokenisation per option is considered, so every score is an approximation.
    """
    total, rest = 0.0, option.strip()
    if not rest:
        return float("-inf")
    for i, (sampled, alts) in enumerate(positions):
        norm = {}
        for tok, lp in alts.items():
            t = tok.lstrip() if i == 0 else tok
            if t and rest.startswith(t):
                norm[t] = max(lp, norm.get(t, float("-inf")))
        if not norm:
            return total if i else float("-inf")
        if rest in norm:
            return total + norm[rest]
        s = sampled.lstrip() if i == 0 else sampled
        if s in norm:
            total += norm[s]
            rest = rest[len(s):]
            continue
        return total + max(norm.values())
    return total  # the reply ended before the option did: upper bound
