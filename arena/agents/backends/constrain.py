"""Constrained decoding for local models: llguidance matchers behind transformers' logits-processor API.

A row of a batched ``generate`` may carry a constraint: a finite set of answers (``allowed``,
compiled to a Lark grammar of literal alternatives) or a regular expression (``pattern``, the
game's answer grammar).  At every step the row's matcher consumes the token just sampled and
masks the next-token logits to the tokens the grammar still admits; once the answer is complete
only the end-of-sequence token is allowed.  Rows without a constraint pass untouched.

Why llguidance: it is installed with the project, compiles a grammar in well under a millisecond
(no per-vocabulary precomputation), computes a mask in tens of microseconds on the CPU and has a
stable Python API (``LLMatcher``); its Rust regex dialect covers the games' answer grammars.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import torch

from arena.agents.backends.base import GrammarError

_TOKENIZERS: dict[int, Any] = {}
_LOCK = threading.Lock()


def grammar(allowed: list[str] | None, pattern: str | None) -> str | None:
    """The llguidance grammar for a finite answer set or a regex, or None for free text."""
    from llguidance import LLMatcher

    if allowed:
        return LLMatcher.grammar_from_lark("start: " + " | ".join(json.dumps(a) for a in dict.fromkeys(allowed)))
    if pattern:
        return LLMatcher.grammar_from_regex(pattern)
    return None


def ll_tokenizer(tokenizer: Any, eos_ids: list[int], n_vocab: int) -> Any:
    """llguidance's view of a Hugging Face fast tokenizer (built once per tokenizer: ~1 s)."""
    import llguidance.hf

    with _LOCK:
        key = id(tokenizer)
        if key not in _TOKENIZERS:
            _TOKENIZERS[key] = llguidance.hf.from_tokenizer(tokenizer, n_vocab=n_vocab, eos_token=eos_ids[0])
        return _TOKENIZERS[key]


def matcher(ll_tok: Any, spec: str) -> Any:
    """A fresh matcher for one answer; a grammar that does not compile is a :class:`GrammarError`."""
    from llguidance import LLMatcher

    found = LLMatcher(ll_tok, spec, log_level=0)
    if found.is_error():
        raise GrammarError(f"the answer grammar does not compile: {found.get_error()}")
    return found


def _bits_to_bool(bitmask: torch.Tensor, vocab: int) -> torch.Tensor:
    """Unpack llguidance's int32 bitmask (bit i of word w = token 32*w+i) into a bool mask."""
    shifts = torch.arange(32, dtype=torch.int32)
    return ((bitmask.unsqueeze(-1) >> shifts) & 1).bool().flatten()[:vocab]


class GrammarMask:
    """Logits processor: row ``i`` follows ``matchers[i]`` (None: free text).

    The first call sees the prompt only; later calls first feed the token the row just got.
    A row whose answer is complete (its matcher stopped) may only end; ``generate`` pads it after.
    """

    def __init__(self, matchers: list[Any | None], eos_ids: list[int]) -> None:
        self.matchers, self.eos_ids = matchers, eos_ids
        self.started = False

    @property
    def active(self) -> bool:
        return any(m is not None for m in self.matchers)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        words = (scores.shape[-1] + 31) // 32
        for row, found in enumerate(self.matchers):
            if found is None:
                continue
            if self.started and not found.is_stopped():
                found.consume_token(int(input_ids[row, -1]))
            if found.is_stopped():  # the answer is complete: only the end of the reply may follow
                ends = scores[row, self.eos_ids].clone()
                scores[row] = -torch.inf
                scores[row, self.eos_ids] = ends
                continue
            if found.is_error():
                continue
            bitmask = torch.full((words,), -1, dtype=torch.int32)
            found.unsafe_compute_mask_ptr(bitmask.data_ptr(), words * 4)
            allowed = _bits_to_bool(bitmask, scores.shape[-1]).to(scores.device)
            scores[row] = scores[row].masked_fill(~allowed, -torch.inf)
        self.started = True
        return scores
