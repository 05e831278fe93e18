"""Constrained decoding libraries on the embedded model: llguidance (arena's choice) vs xgrammar.

Same model (SmolLM2-135M, CPU, one thread), same chat prompts, greedy decoding of the final
answer under (a) a finite legal set (prisoner's dilemma: C / D; connect four: columns 1-7) and
(b) a regular expression (bargaining: ``[OFFER $N]`` / ``[ACCEPT]`` / ``[WALK AWAY]`` with a
message).  Both are applied as transformers logits processors: llguidance through arena's
``GrammarMask``, xgrammar through its own ``xgrammar.contrib.hf.LogitsProcessor`` (compiled
grammar per call, as arena would per decision).  Each repetition runs both back to back (order
alternating) and prints the paired ratio of seconds per decision (median and range) and each
library's legal-answer rate.  Needs ``pip install --no-deps xgrammar apache-tvm-ffi`` (its
declared dependencies pull triton, a GPU compiler).  lm-format-enforcer 0.11.3 was tried too:
its transformers integration does not import with transformers 5 (``transformers.tokenization_utils``).
Run: ``python bench/constraint_libraries.py [--reps 5]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import torch

from arena.agents.backends import constrain
from arena.agents.backends.model_cache import model_folder

CASES = {  # name: (user prompt, legal answers or None, regex)
    "prisoners-dilemma": ("Round 3 of 10. Answer with exactly one of: C, D.", ["C", "D"], r"(C|D)"),
    "connect-four": ("Choose a column, one of 1, 2, 3, 4, 5, 6, 7.", [str(c) for c in range(1, 8)], r"[1-7]"),
    "bargaining": ("You are the buyer; the seller asks $20 for a balloon. Make an offer: [OFFER $N] with a "
                   "short message, or [ACCEPT], or [WALK AWAY].", None,
                   r"(\[OFFER \$(1[0-9]|[1-9])\] [A-Za-z ,.!']{0,40}|\[ACCEPT\]|\[WALK AWAY\])"),
}


def load() -> tuple[object, object]:
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.set_num_threads(1)
    folder = model_folder("smollm2")
    return AutoModelForCausalLM.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


def prompt_ids(tokenizer: object, text: str) -> torch.Tensor:
    chat = [{"role": "user", "content": text}]
    text = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)  # type: ignore[attr-defined]
    return tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids  # type: ignore[operator]


def with_llguidance(model: object, tokenizer: object, ids: torch.Tensor, legal: list[str] | None,
                    regex: str) -> str:
    from transformers import LogitsProcessorList
    eos = [tokenizer.convert_tokens_to_ids("<|im_end|>")]  # type: ignore[attr-defined]
    ll_tok = constrain.ll_tokenizer(tokenizer, eos, model.config.vocab_size)  # type: ignore[attr-defined]
    mask = constrain.GrammarMask([constrain.matcher(ll_tok, constrain.grammar(legal, None if legal else regex))], eos)
    out = model.generate(ids, max_new_tokens=48, do_sample=False, eos_token_id=eos,  # type: ignore[attr-defined]
                         logits_processor=LogitsProcessorList([mask]), pad_token_id=eos[0])
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)  # type: ignore[attr-defined]


_COMPILERS: dict[int, object] = {}


def _xgrammar_compiler(model: object, tokenizer: object) -> object:
    """One compiler per tokenizer (as arena keeps one llguidance tokenizer): built once, not per decision."""
    import xgrammar as xgr
    if id(tokenizer) not in _COMPILERS:
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=model.config.vocab_size)  # type: ignore[attr-defined]
        _COMPILERS[id(tokenizer)] = xgr.GrammarCompiler(info)
    return _COMPILERS[id(tokenizer)]


def with_xgrammar(model: object, tokenizer: object, ids: torch.Tensor, legal: list[str] | None, regex: str) -> str:
    from transformers import LogitsProcessorList
    from xgrammar.contrib.hf import LogitsProcessor
    compiler = _xgrammar_compiler(model, tokenizer)
    pattern = "(" + "|".join(re.escape(a) for a in legal) + ")" if legal else regex
    compiled = compiler.compile_regex(pattern)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")  # type: ignore[attr-defined]
    out = model.generate(ids, max_new_tokens=48, do_sample=False, eos_token_id=eos,  # type: ignore[attr-defined]
                         logits_processor=LogitsProcessorList([LogitsProcessor(compiled)]), pad_token_id=eos)
    return tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)  # type: ignore[attr-defined]


def timed(fn: object, *args: object) -> tuple[float, str]:
    start = time.perf_counter()
    text = fn(*args)  # type: ignore[operator]
    return time.perf_counter() - start, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    model, tokenizer = load()
    for name, (text, legal, regex) in CASES.items():
        ids = prompt_ids(tokenizer, text)
        ratios, legal_hits = [], {"llguidance": 0, "xgrammar": 0}
        for rep in range(args.reps):
            order = [("llguidance", with_llguidance), ("xgrammar", with_xgrammar)]
            results = {}
            for label, fn in (order if rep % 2 == 0 else order[::-1]):
                seconds, answer = timed(fn, model, tokenizer, ids, legal, regex)
                results[label] = seconds
                ok = answer.strip() in legal if legal else re.fullmatch(regex, answer.strip()) is not None
                legal_hits[label] += ok
            ratios.append(results["xgrammar"] / results["llguidance"])
        print(f"{name:18s} xgrammar / llguidance seconds per decision: median "
              f"{statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f}); legal answers: "
              + ", ".join(f"{k} {v}/{args.reps}" for k, v in legal_hits.items()), flush=True)


if __name__ == "__main__":
    main()
