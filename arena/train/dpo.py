"""Preference training with TRL on an exported file: DPO with any of TRL's losses, SimPO (TRL's CPO
trainer), KTO; the result is a LoRA adapter (or, with ``lora=False``, a full model) usable as ``local:DIR``.

``train_dpo("pairs.jsonl", "local:smollm2", "out/", loss="ipo")`` trains a few steps (on the CPU
unless ``device`` says otherwise, see :mod:`arena.train.common`) and writes the adapter, the
tokenizer and ``arena-train.json`` (what was trained on, how, the losses, the ranking accuracy
before/after) to ``out``.  Only the ``train`` split is trained on; the ``test`` rows are evaluated
(TRL's loss and reward accuracy, and the policy's ranking accuracy before and after).

``loss``: ``simpo`` (SimPO, reference-free, TRL's CPOTrainer with ``cpo_alpha=0``) or any
``loss_type`` the installed TRL's ``DPOConfig`` lists (``sigmoid`` = DPO, ``ipo``, ``sppo_hard``,
``robust``, ``hinge``, ...); an unknown name is refused with the valid ones.
:func:`train_kto` trains KTO on a ``--kind kto`` file (prompt, completion, label).

Known pitfalls, handled here:

- TRL >= 0.29 rebuilds the reference model from ``config._name_or_path`` when ``ref_model``
  is None and the model is not a PEFT model; a full fine-tune gets its reference explicitly.
- TRL drops rows whose prompt alone fills ``max_length`` without a word and truncates the
  others; rows are measured first with the model's chat template: the ones TRL would drop
  are dropped here with a warning that counts them, truncations are counted and warned about.
- Only the trainer's columns reach it: metadata never meets Arrow's type inference inside TRL.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from arena.atomic import atomic_dir, write_text
from arena.options import build
from arena.train.common import (
    RANKING_LIMIT,
    Progress,
    TrainingError,
    all_cores,
    bf16_on,
    folder_mb,
    load_for_training,
    no_checkpointing,
    prepare_out,
    progress_callback,
    ranking_accuracy,
    resolve_base,
    resolve_device,
    save_trained,
)
from arena.train.options import DPOOptions

log = logging.getLogger(__name__)
PAIR_COLUMNS = ("prompt", "chosen", "rejected")
KTO_COLUMNS = ("prompt", "completion", "label")
REPORT = "arena-train.json"
EXTRA_LOSSES = ("simpo",)  # through TRL's CPO trainer


def dpo_losses() -> list[str]:
    """The ``loss_type`` values the installed TRL's DPOConfig documents."""
    from trl import DPOConfig
    help_text = DPOConfig.__dataclass_fields__["loss_type"].metadata.get("help", "")
    return list(dict.fromkeys(re.findall(r"`'([a-z_0-9]+)'`", help_text))) or ["sigmoid"]


def valid_losses() -> list[str]:
    return dpo_losses() + list(EXTRA_LOSSES)


def load_pairs(path: str | Path, split: str = "train", columns: tuple[str, ...] = PAIR_COLUMNS) -> Any:
    """The ``split`` rows of an exported file as a Dataset with only ``columns``."""
    from arena.export.dataset import load_rows
    data = load_rows(path, split)
    missing = [c for c in columns if c not in data.column_names]
    if missing:
        hint = ""
        if columns == PAIR_COLUMNS and "completion" in data.column_names:
            hint = " (a kto/sft file? DPO needs --kind step or outcome)"
        elif columns == KTO_COLUMNS and "chosen" in data.column_names:
            hint = " (a pair file? KTO needs --kind kto)"
        raise TrainingError(f"{path}: missing column(s) {', '.join(missing)}{hint}")
    return data.select_columns(list(columns))


def measure(tokenizer: Any, data: Any, max_length: int) -> tuple[list[int], int, int]:
    """(indices to keep, rows dropped because the prompt fills max_length, rows that will be truncated)."""
    def length(messages: list[dict[str, str]], prompt: bool) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    sides = [c for c in ("chosen", "rejected", "completion") if c in data.column_names]
    keep, dropped, truncated = [], 0, 0
    for i, row in enumerate(data):
        if length(row["prompt"], True) >= max_length:
            dropped += 1
            continue
        keep.append(i)
        if max(length(row["prompt"] + row[side], False) for side in sides) > max_length:
            truncated += 1
    return keep, dropped, truncated


def _options(options: DPOOptions | None, overrides: dict[str, Any]) -> DPOOptions:
    return build(DPOOptions, overrides, options)


def train_dpo(data: str | Path, base: str, out: str | Path, options: DPOOptions | None = None,
              progress: Progress | None = None, **overrides: Any) -> dict[str, Any]:
    """Train ``base`` on the pairs of ``data`` with ``loss`` and save it to ``out``; returns the report."""
    opts = _options(options, overrides)
    losses = valid_losses()
    if opts.loss not in losses:
        raise TrainingError(f"unknown loss {opts.loss!r}; valid (installed TRL): {', '.join(losses)}")
    with all_cores(resolve_device(opts.device)):
        return _train("simpo" if opts.loss == "simpo" else "dpo", data, base, Path(out), opts, progress)


def train_kto(data: str | Path, base: str, out: str | Path, options: DPOOptions | None = None,
              progress: Progress | None = None, **overrides: Any) -> dict[str, Any]:
    """Train ``base`` with KTO on a ``--kind kto`` file (prompt, completion, label) and save it to ``out``."""
    opts = _options(options, overrides)
    with all_cores(resolve_device(opts.device)):
        return _train("kto", data, base, Path(out), opts, progress)


def _trainer_classes(method: str) -> tuple[type, type]:
    if method == "kto":
        from trl import KTOConfig, KTOTrainer
        return KTOConfig, KTOTrainer
    if method == "simpo":
        from trl.experimental.cpo import CPOConfig, CPOTrainer
        return CPOConfig, CPOTrainer
    from trl import DPOConfig, DPOTrainer
    return DPOConfig, DPOTrainer


def _method_args(method: str, opts: DPOOptions, rows: int) -> dict[str, Any]:
    if method == "simpo":
        return {"loss_type": "simpo", "cpo_alpha": 0.0, "simpo_gamma": opts.simpo_gamma}
    if method == "dpo":
        # the reference's log-probabilities once per row rather than once per step, when the steps
        # revisit the rows anyway (a few pairs, many steps: the usual self-play case on a CPU)
        precompute = rows <= opts.steps * opts.batch_size * opts.grad_accum
        return {"loss_type": [opts.loss], "precompute_ref_log_probs": precompute}
    return {}


def _train(method: str, data: str | Path, base: str, out: Path, opts: DPOOptions,
           progress: Progress | None) -> dict[str, Any]:
    prepare_out(out, opts.overwrite)
    from transformers import AutoTokenizer, PrinterCallback
    from trl import __version__ as trl_version

    started = time.perf_counter()
    device = resolve_device(opts.device)
    folder = resolve_base(base)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    columns = KTO_COLUMNS if method == "kto" else PAIR_COLUMNS
    train = load_pairs(data, "train", columns)
    total = len(train)
    keep, dropped, truncated = measure(tokenizer, train, opts.max_length)
    noun = "rows" if method == "kto" else "pairs"
    if dropped:
        log.warning("%d of %d %s dropped: their prompt alone fills max_length=%d tokens", dropped, total, noun,
                    opts.max_length)
    if truncated:
        log.warning("%d of %d %s will be truncated to max_length=%d tokens", truncated, total, noun, opts.max_length)
    if not keep:
        raise TrainingError(f"{data}: no training row left ({total} in the train split, {dropped} too long)")
    train = train.select(keep)
    test = _test_rows(data, tokenizer, opts, columns) if opts.evaluate else None
    pairs_test = test if method != "kto" else None

    loaded = load_for_training(folder, device, opts.lora, opts.lora_rank)
    before = ranking_accuracy(loaded.model, tokenizer, pairs_test)
    config_cls, trainer_cls = _trainer_classes(method)
    scratch = Path(tempfile.mkdtemp(prefix=f"arena-{method}-"))
    try:
        config = config_cls(
            output_dir=str(scratch), max_steps=opts.steps, per_device_train_batch_size=opts.batch_size,
            per_device_eval_batch_size=opts.batch_size, gradient_accumulation_steps=opts.grad_accum,
            learning_rate=opts.lr, lr_scheduler_type="constant", warmup_steps=0, beta=opts.beta,
            max_length=opts.max_length, seed=opts.seed, data_seed=opts.seed, logging_steps=1,
            save_strategy="no", report_to="none", use_cpu=device == "cpu", bf16=bf16_on(device), fp16=False,
            disable_tqdm=True, dataloader_num_workers=0, **_method_args(method, opts, len(train)), **no_checkpointing(config_cls))
        extra: dict[str, Any] = {} if method == "simpo" else {"ref_model": loaded.ref_model}
        trainer = trainer_cls(model=loaded.model, args=config, train_dataset=train, eval_dataset=test,
                              processing_class=tokenizer, peft_config=loaded.peft_config,
                              callbacks=[progress_callback(progress)], **extra)
        trainer.remove_callback(PrinterCallback)  # the losses go to the report and the progress bar
        result = trainer.train()
        evaluation = trainer.evaluate() if test is not None else {}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    model = trainer.model
    after = ranking_accuracy(model, tokenizer, pairs_test)
    with atomic_dir(out) as staged:  # the folder appears complete (or the old one stays)
        save_trained(model, tokenizer, staged, folder, loaded.dtype)
        size = folder_mb(staged)
    history = [h for h in trainer.state.log_history if "loss" in h]
    report = {"base": base, "base_folder": str(folder), "data": str(data), "out": str(out), "method": method,
              "loss": opts.loss if method != "kto" else "kto", "options": asdict(opts), "device": device,
              "adapter": bool(opts.lora), "size_mb": round(size, 2), "dtype": loaded.dtype,
              "pairs": total, "dropped_too_long": dropped, "truncated": truncated, "trained_pairs": len(keep),
              "test_pairs": 0 if test is None else len(test), "steps": int(result.global_step),
              "train_loss": float(result.training_loss),
              "losses": [float(h["loss"]) for h in history],
              "reward_accuracies": [float(h.get("rewards/accuracies", float("nan"))) for h in history],
              "reward_margins": [float(h.get("rewards/margins", float("nan"))) for h in history],
              "ranking_accuracy": {"before": before, "after": after, "pairs": 0 if pairs_test is None else
                                   min(len(pairs_test), RANKING_LIMIT)},
              "eval": {k: float(v) for k, v in evaluation.items() if isinstance(v, (int, float))},
              "trl": trl_version, "seconds": round(time.perf_counter() - started, 1)}
    write_text(out / REPORT, json.dumps(report, indent=1))
    return report


def _test_rows(data: str | Path, tokenizer: Any, opts: DPOOptions, columns: tuple[str, ...]) -> Any:
    test = load_pairs(data, "test", columns)
    if len(test) == 0:
        return None
    keep, _, _ = measure(tokenizer, test, opts.max_length)
    return test.select(keep) if keep else None
