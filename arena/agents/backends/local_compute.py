"""The torch work of the local backend: one batched ``generate`` or one scoring pass per call.

Prompts are the model's chat template; a conversation whose last message is the assistant's is
*continued* (the reply so far is kept open), which is how reasoning is followed by a constrained
or scored final answer.  Generation rows may each carry a sampler (temperature, seed), a grammar
(:mod:`.constrain`) and a stop string.  Scoring treats each option as a complete reply: its
tokens plus the end-of-turn token, all prefilled after the prompt's KV cache computed once.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from arena.agents.backends import constrain
from arena.agents.backends.base import Scores

if TYPE_CHECKING:
    from arena.agents.backends.local import _Shared

SCORE_CHUNK = 32  # option rows per scoring forward pass
MIN_SHARED_PREFIX = 16  # a batch's common prompt prefix at least this long is prefilled once


@dataclass
class Request:
    kind: str  # "complete" or "score"
    messages: list[dict[str, str]]
    future: Any  # asyncio.Future of the caller
    max_tokens: int = 0
    temperature: float = 0.0
    seed: int | None = None
    options: list[str] = field(default_factory=list)
    grammar: str | None = None  # llguidance grammar the answer must follow
    stop: str | None = None  # generation of this row ends once its text contains this (case-insensitive)
    queued: float = 0.0  # loop time the request was queued (for the scheduler's wait statistics)


def encode(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of the chat so far, ready for the assistant's (next or continued) reply."""
    if messages and messages[-1]["role"] == "assistant":
        text = tokenizer.apply_chat_template(messages, tokenize=False, continue_final_message=True)
    else:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def option_tokens(shared: _Shared, option: str) -> list[int]:
    """An option as a complete answer: its tokens, then the end-of-turn token."""
    return list(shared.tokenizer(option, add_special_tokens=False)["input_ids"]) + shared.eos_ids[:1]


def _pad(seqs: list[list[int]], pad_id: int, device: str, prefix: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows as ``seq[:prefix]`` + padding + ``seq[prefix:]`` (plain left padding when prefix is 0), and the mask."""
    width = max(len(s) for s in seqs)
    rows = [seq[:prefix] + [pad_id] * (width - len(seq)) + seq[prefix:] for seq in seqs]
    mask = [[1] * prefix + [0] * (width - len(seq)) + [1] * (len(seq) - prefix) for seq in seqs]
    return torch.tensor(rows, device=device), torch.tensor(mask, device=device)


def _common(seqs: list[list[int]], limit: int) -> int:
    length = 0
    while length < limit and all(seq[length] == seqs[0][length] for seq in seqs):
        length += 1
    return length


def _prefill(shared: _Shared, tokens: list[int], cache: Any = None) -> Any:
    """The KV cache of ``tokens`` (appended to ``cache`` when given, which is extended in place)."""
    from transformers import DynamicCache

    cache = DynamicCache(config=shared.model.config) if cache is None else cache
    if tokens:
        shared.model(input_ids=torch.tensor([tokens], device=shared.device), use_cache=True, logits_to_keep=1,
                     **{shared.cache_kw: cache})
    return cache


def _repeat(cache: Any, rows: int, keep: bool) -> Any:
    """The prefix cache repeated for ``rows`` rows (a copy when the original is needed again)."""
    out = copy.deepcopy(cache) if keep else cache
    out.batch_repeat_interleave(rows)
    return out


class _RowSampler:
    """Logits processor for greedy ``generate``: each sampling row draws a token with its
    own temperature and seeded generator and keeps only it; greedy rows pass untouched."""

    def __init__(self, requests: list[Request]) -> None:
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


class _StopOn:
    """Stopping criterion: a row with a stop string ends once its new text contains it."""

    def __init__(self, shared: _Shared, requests: list[Request], start: int) -> None:
        self.tokenizer, self.start = shared.tokenizer, start
        self.rows = [(i, r.stop.lower()) for i, r in enumerate(requests) if r.stop]
        self.done = [False] * len(requests)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        for row, stop in self.rows:
            if not self.done[row]:
                tail = self.tokenizer.decode(input_ids[row, self.start:].tolist()[-48:], skip_special_tokens=True)
                self.done[row] = stop in tail.lower()
        return torch.tensor(self.done, device=input_ids.device)


def generate(shared: _Shared, requests: list[Request]) -> list[tuple[str, int, int, bool]]:
    """One batched ``generate`` for requests sharing ``max_tokens``:
    (text, tokens_in, tokens_out, constrained) per request."""
    from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

    prompts = [encode(shared.tokenizer, r.messages) for r in requests]
    masks = constrain.GrammarMask([None if r.grammar is None else
                                   constrain.matcher(shared.ll_tokenizer(), r.grammar) for r in requests],
                                  shared.eos_ids)
    config = GenerationConfig(max_new_tokens=requests[0].max_tokens, do_sample=False,
                              pad_token_id=shared.pad_id, eos_token_id=shared.eos_ids)
    sampler = _RowSampler(requests)
    processors = ([masks] if masks.active else []) + ([sampler] if sampler.rows else [])
    with torch.inference_mode():
        limit = min(len(p) for p in prompts) - 1
        prefix = _common(prompts, limit) if len(prompts) > 1 else 0
        cache = {shared.cache_kw: _repeat(_prefill(shared, prompts[0][:prefix]), len(prompts), False)} \
            if prefix >= MIN_SHARED_PREFIX else {}
        prefix = prefix if cache else 0
        ids, mask = _pad(prompts, shared.pad_id, shared.device, prefix)
        stops = _StopOn(shared, requests, ids.shape[1])
        out = shared.model.generate(input_ids=ids, attention_mask=mask, generation_config=config,
                                    logits_processor=LogitsProcessorList(processors),
                                    stopping_criteria=StoppingCriteriaList([stops] if stops.rows else []), **cache)
    rows = out[:, ids.shape[1]:].tolist()
    return [(*_finish(shared, prompt, row), req.grammar is not None)
            for prompt, row, req in zip(prompts, rows, requests, strict=True)]


def _finish(shared: _Shared, prompt: list[int], row: list[int]) -> tuple[str, int, int]:
    end = next((i for i, tok in enumerate(row) if tok in shared.eos_ids), None)
    content, used = (row, len(row)) if end is None else (row[:end], end + 1)
    if end is None:  # a row stopped early (stop string) is padded after its last token
        while content and content[-1] == shared.pad_id and shared.pad_id not in shared.eos_ids:
            content = content[:-1]
        used = len(content)
    return shared.tokenizer.decode(content, skip_special_tokens=True), len(prompt), used


def score(shared: _Shared, requests: list[Request]) -> list[Scores]:
    """Every option of every request scored as a complete reply (option tokens + end-of-turn).

    The prefix all the batch's prompts share (the rules, typically) is prefilled once.  Few
    options in all: one forward pass over every (prompt rest + option) row; else per request,
    its prompt's rest prefilled once more and its options as rows on top of that cache."""
    prompts = [encode(shared.tokenizer, r.messages) for r in requests]
    options = [[option_tokens(shared, o) for o in r.options] for r in requests]
    common = _common(prompts, min(len(p) for p in prompts) - 1)
    with torch.inference_mode():
        head = _prefill(shared, prompts[0][:common]) if common >= MIN_SHARED_PREFIX else None
        common = common if head is not None else 0
        if sum(len(o) for o in options) <= SCORE_CHUNK:
            seqs = [(p, o) for p, opts in zip(prompts, options, strict=True) for o in opts]
            flat = iter(_score_rows(shared, seqs, None if head is None else _repeat(head, len(seqs), False), common))
            totals = [[next(flat) for _ in opts] for opts in options]
        else:
            totals = [_score_one(shared, p, opts, head, common) for p, opts in zip(prompts, options, strict=True)]
    return [Scores(t, [len(o) for o in opts], tokens_in=len(p) + sum(len(o) for o in opts))
            for t, p, opts in zip(totals, prompts, options, strict=True)]


def _score_one(shared: _Shared, prompt: list[int], options: list[list[int]], head: Any, common: int) -> list[float]:
    """One prompt: its KV cache (all but the last token) once, then its options in chunks."""
    cache = _prefill(shared, prompt[common:-1], None if head is None else copy.deepcopy(head))
    chunks = range(0, len(options), SCORE_CHUNK)
    totals: list[float] = []
    for at in chunks:
        part = options[at:at + SCORE_CHUNK]
        totals += _score_rows(shared, [(prompt, o) for o in part], _repeat(cache, len(part), len(chunks) > 1),
                              len(prompt) - 1)
    return totals


def _score_rows(shared: _Shared, rows: list[tuple[list[int], list[int]]], cache: Any, prefix: int) -> list[float]:
    """Rows ``prompt + option`` whose first ``prefix`` tokens are in ``cache`` (None: no cache),
    left-padded after the prefix so every option ends its row: only the option logits are computed."""
    seqs = [p + o for p, o in rows]
    lengths = [len(o) for _, o in rows]
    keep = max(lengths)
    ids, mask = _pad(seqs, shared.pad_id, shared.device, prefix)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    extra = {shared.cache_kw: cache} if cache is not None else {}
    logits = shared.model(input_ids=ids[:, prefix:], attention_mask=mask, position_ids=positions[:, prefix:],
                          logits_to_keep=keep + 1, **extra).logits[:, -(keep + 1):-1]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    per_token = logprobs.gather(-1, ids[:, -keep:].unsqueeze(-1)).squeeze(-1)
    return [float(per_token[row, keep - n:].sum()) for row, n in enumerate(lengths)]
