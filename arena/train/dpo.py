"""DPO with TRL on an exported preference file; the result is a plain model folder, usable as ``local:DIR``.

``train_dpo("pairs.jsonl", "local:smollm2", "out/")`` trains a few steps on the CPU (by
default) and writes the model, its tokenizer and ``arena-train.json`` (what was trained
on, how, and the losses) to ``out``.  Only the ``train`` split of the file is used; when
the file also has ``test`` rows they are evaluated after training (DPO loss and reward
accuracy on held-out matches).

Known pitfalls, handled here:

- TRL >= 0.29 rebuilds the reference model from ``config._name_or_path`` when
  ``ref_model`` is None; the reference is loaded from the base folder and passed explicitly.
- TRL drops rows whose prompt alone fills ``max_length`` without a word and truncates the
  others; rows are measured first with the model's chat template: the ones TRL would drop
  are dropped here with a warning that counts them, truncations are counted and warned about.
- Only ``prompt``/``chosen``/``rejected`` reach the trainer: metadata never meets Arrow's
  type inference inside TRL.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from arena.atomic import atomic_dir

log = logging.getLogger(__name__)
PAIR_COLUMNS = ("prompt", "chosen", "rejected")
REPORT = "arena-train.json"


@dataclass
class DPOOptions:
    steps: int = 10
    lr: float = 5e-6
    beta: float = 0.1
    batch_size: int = 2
    grad_accum: int = 1
    max_length: int = 1024
    seed: int = 0
    evaluate: bool = True  # evaluate on the file's test split when it has one
    device: str = "cpu"
    overwrite: bool = False

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "grad_accum", "max_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', '-')} must be at least 1")
        if self.lr <= 0 or self.beta <= 0:
            raise ValueError("lr and beta must be positive")


def resolve_base(base: str) -> Path:
    """``local:smollm2`` / ``local:PATH`` / ``PATH`` -> the model folder to load (builds SmolLM2 once)."""
    from arena.agents.backends.local import model_folder
    return model_folder(base.removeprefix("local:"))


def load_pairs(path: str | Path, split: str = "train") -> Any:
    """The ``split`` rows of a preference file as a Dataset with only prompt/chosen/rejected."""
    from arena.export.dataset import load_rows
    data = load_rows(path, split)
    missing = [c for c in PAIR_COLUMNS if c not in data.column_names]
    if missing:
        hint = " (a kto/sft file? DPO needs --kind step or outcome)" if "completion" in data.column_names else ""
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}{hint}")
    return data.select_columns(list(PAIR_COLUMNS))


def measure(tokenizer: Any, data: Any, max_length: int) -> tuple[list[int], int, int]:
    """(indices to keep, rows dropped because the prompt fills max_length, rows that will be truncated)."""
    def length(messages: list[dict[str, str]], prompt: bool) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    keep, dropped, truncated = [], 0, 0
    for i, row in enumerate(data):
        if length(row["prompt"], True) >= max_length:
            dropped += 1
            continue
        keep.append(i)
        full = max(length(row["prompt"] + row[side], False) for side in ("chosen", "rejected"))
        if full > max_length:
            truncated += 1
    return keep, dropped, truncated


def train_dpo(data: str | Path, base: str, out: str | Path, options: DPOOptions | None = None,
              **overrides: Any) -> dict[str, Any]:
    """Train ``base`` with DPO on ``data`` and save it to ``out``; returns (and writes) the training report."""
    known = {f.name for f in fields(DPOOptions)}
    if set(overrides) - known:
        raise TypeError(f"unknown option(s) {', '.join(sorted(set(overrides) - known))}")
    opts = DPOOptions(**{**(asdict(options) if options else {}), **overrides})
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not opts.overwrite:
        raise ValueError(f"{out} exists and is not empty (a model already loaded from it would be stale); "
                         "choose a new folder or pass overwrite")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import DPOConfig, DPOTrainer
    from trl import __version__ as trl_version

    started = time.perf_counter()
    folder = resolve_base(base)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    train = load_pairs(data, "train")
    total = len(train)
    keep, dropped, truncated = measure(tokenizer, train, opts.max_length)
    if dropped:
        log.warning("%d of %d pairs dropped: their prompt alone fills max_length=%d tokens", dropped, total,
                    opts.max_length)
    if truncated:
        log.warning("%d of %d pairs will be truncated to max_length=%d tokens", truncated, total, opts.max_length)
    if not keep:
        raise ValueError(f"{data}: no training pair left ({total} in the train split, {dropped} too long)")
    train = train.select(keep)
    test = _test_pairs(data, tokenizer, opts) if opts.evaluate else None

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(opts.device)
    ref_model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(opts.device).eval()
    scratch = Path(tempfile.mkdtemp(prefix="arena-dpo-"))
    try:
        config = DPOConfig(
            output_dir=str(scratch), max_steps=opts.steps, per_device_train_batch_size=opts.batch_size,
            per_device_eval_batch_size=opts.batch_size, gradient_accumulation_steps=opts.grad_accum,
            learning_rate=opts.lr, lr_scheduler_type="constant", warmup_steps=0, beta=opts.beta,
            max_length=opts.max_length, seed=opts.seed, data_seed=opts.seed, logging_steps=1,
            save_strategy="no", report_to="none", use_cpu=opts.device == "cpu", bf16=False, fp16=False,
            disable_tqdm=True, dataloader_num_workers=0, **_no_checkpointing(DPOConfig))
        trainer = DPOTrainer(model=model, ref_model=ref_model, args=config, train_dataset=train,
                             eval_dataset=test, processing_class=tokenizer)
        trainer.remove_callback(PrinterCallback)  # the losses go to the report, not to stdout
        result = trainer.train()
        evaluation = trainer.evaluate() if test is not None else {}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    model = trainer.model
    model.config.use_cache = True
    history = [h for h in trainer.state.log_history if "loss" in h]
    report = {"base": base, "base_folder": str(folder), "data": str(data), "out": str(out), "options": asdict(opts),
              "pairs": total, "dropped_too_long": dropped, "truncated": truncated, "trained_pairs": len(keep),
              "test_pairs": 0 if test is None else len(test), "steps": int(result.global_step),
              "train_loss": float(result.training_loss),
              "losses": [float(h["loss"]) for h in history],
              "reward_accuracies": [float(h.get("rewards/accuracies", float("nan"))) for h in history],
              "eval": {k: float(v) for k, v in evaluation.items() if isinstance(v, (int, float))},
              "trl": trl_version, "seconds": round(time.perf_counter() - started, 1)}
    with atomic_dir(out) as folder_tmp:  # the folder appears complete (or the old one stays)
        model.save_pretrained(folder_tmp, safe_serialization=True)
        tokenizer.save_pretrained(folder_tmp)
        (folder_tmp / REPORT).write_text(json.dumps(report, indent=1))
    return report


def _no_checkpointing(config: type) -> dict[str, bool]:
    """Activation checkpointing off (TRL turns it on; a 135M model on a CPU does not need it), by the
    option's name in the installed transformers (renamed activation_checkpointing in 5.x)."""
    names = getattr(config, "__dataclass_fields__", {})
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": False}


def _test_pairs(data: str | Path, tokenizer: Any, opts: DPOOptions) -> Any:
    test = load_pairs(data, "test")
    if len(test) == 0:
        return None
    keep, _, _ = measure(tokenizer, test, opts.max_length)
    return test.select(keep) if keep else None
