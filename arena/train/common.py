"""What every trainer here shares: the device, the base model (a full folder or a LoRA adapter on one),
LoRA by default, the policy's ranking accuracy, a progress callback, and saving in the model's dtype.

- **Device** (``--device``): ``cpu``, ``cuda`` or ``auto`` (CUDA when available); on CUDA the
  model trains in bf16 when the GPU supports it, on the CPU in the model's own dtype.
- **LoRA by default** (``peft``): the saved folder is an adapter of a few MB (``adapter_config.json``,
  ``adapter_model.safetensors``) plus the tokenizer and the base model's ``config.json``; ``local:DIR``
  loads it on top of its base (:func:`arena.agents.backends.model_cache.load_causal_lm`).  Training
  from an adapter folder continues that adapter (on the same base), with the adapter's model as the
  reference.  ``lora=False`` fine-tunes every weight and saves a full model in the model's dtype.
- **Ranking accuracy** (Chen et al., "Preference Learning Algorithms Do Not Learn Preference
  Rankings"): the share of pairs where the policy's own log-probability of the chosen completion
  exceeds the rejected one's -- measured before and after training on held-out pairs, beside TRL's
  reward accuracy (which compares log-ratios to the reference, not the policy's ranking).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena.errors import ArenaError

log = logging.getLogger(__name__)
DEVICES = ("cpu", "cuda", "auto")
Progress = Callable[[int, int, "float | None"], None]  # (step, total steps, last loss)
RANKING_LIMIT = 256  # pairs measured for the ranking accuracy


class TrainingError(ArenaError, ValueError):
    """Training cannot start: bad option, bad data, missing base model (the message says which)."""


def resolve_device(device: str) -> str:
    if device not in DEVICES:
        raise TrainingError(f"unknown device {device!r}; valid: {', '.join(DEVICES)}")
    import torch
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    return device


@contextmanager
def all_cores(device: str) -> Iterator[None]:
    """Training on the CPU uses every core this process may run on, then restores torch's thread count
    (the local LLM backend sets one thread per process for play, which would halve training on 2 cores)."""
    if device != "cpu":
        yield
        return
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else
                              os.cpu_count() or 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def bf16_on(device: str) -> bool:
    import torch
    return device == "cuda" and torch.cuda.is_bf16_supported()


def resolve_base(base: str) -> Path:
    """``local:smollm2`` / ``local:PATH`` / ``PATH`` -> the model folder to load (builds SmolLM2 once)."""
    from arena.agents.backends.local import model_folder
    try:
        return model_folder(base.removeprefix("local:"))
    except ValueError as error:
        raise TrainingError(str(error)) from None


def is_adapter(folder: Path) -> bool:
    return (folder / "adapter_config.json").is_file()


@dataclass
class Loaded:
    model: Any  # the model to train (a PeftModel when continuing an adapter)
    ref_model: Any | None  # an explicit reference model, or None (TRL's adapter-disabled / its own)
    peft_config: Any | None  # a fresh LoRA config for TRL to apply, or None
    dtype: str  # the base model's own dtype (how a full model is saved)


def lora_config(rank: int) -> Any:
    from peft import LoraConfig
    return LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0, target_modules="all-linear",
                      task_type="CAUSAL_LM")


def load_for_training(folder: Path, device: str, lora: bool, rank: int) -> Loaded:
    """The policy to train from ``folder`` and how its reference is made (see the module doc)."""
    import torch
    from transformers import AutoModelForCausalLM

    from arena.agents.backends.model_cache import load_causal_lm
    dtype = torch.bfloat16 if bf16_on(device) else "auto"
    if is_adapter(folder):
        from peft import PeftModel
        if not lora:
            raise TrainingError(f"{folder} is a LoRA adapter: continue it with LoRA (drop --full) or "
                                "train from its base model")
        base_folder = Path(json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"])
        base = AutoModelForCausalLM.from_pretrained(base_folder, dtype=dtype)
        model = PeftModel.from_pretrained(base, folder, is_trainable=True).to(device)
        ref = load_causal_lm(folder, dtype).to(device).eval()
        return Loaded(model, ref, None, str(base.config.dtype).removeprefix("torch."))
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device)
    own = str(model.config.dtype).removeprefix("torch.")
    if lora:
        return Loaded(model, None, lora_config(rank), own)
    ref = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device).eval()
    return Loaded(model, ref, None, own)


def save_trained(model: Any, tokenizer: Any, out: Path, base_folder: Path, dtype: str) -> None:
    """An adapter folder (+ tokenizer, base config) for a PeftModel, else a full model in ``dtype``."""
    import torch
    out.mkdir(parents=True, exist_ok=True)
    if hasattr(model, "peft_config"):
        model.save_pretrained(out, safe_serialization=True)
        root = base_folder
        if is_adapter(base_folder):  # continuing an adapter: point at the original base
            root = Path(json.loads((base_folder / "adapter_config.json").read_text())["base_model_name_or_path"])
        config = json.loads((out / "adapter_config.json").read_text())
        config["base_model_name_or_path"] = str(root)
        (out / "adapter_config.json").write_text(json.dumps(config, indent=1))
        shutil.copy(root / "config.json", out / "config.json")
    else:
        model.config.use_cache = True
        model.to(getattr(torch, dtype)).save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2 ** 20


# --- ranking accuracy --------------------------------------------------------------------------
def completion_logp(model: Any, tokenizer: Any, prompt: list[dict[str, str]],
                    completion: list[dict[str, str]]) -> float:
    """Summed log-probability of the completion's tokens (end-of-turn included) after the prompt."""
    import torch
    head = tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True, return_dict=False)
    full = tokenizer.apply_chat_template(prompt + completion, tokenize=True, return_dict=False)
    start = next((i for i, (a, b) in enumerate(zip(head, full)) if a != b), len(head))
    device = next(model.parameters()).device
    ids = torch.tensor([full], device=device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, :-1].float()
    logps = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:, None])[:, 0]
    return float(logps[start - 1:].sum())


def ranking_accuracy(model: Any, tokenizer: Any, pairs: Any, limit: int = RANKING_LIMIT) -> float | None:
    """Share of (the first ``limit``) pairs where logp(chosen) > logp(rejected) under ``model``."""
    n = min(len(pairs), limit) if pairs is not None else 0
    if n == 0:
        return None
    was_training = model.training
    model.eval()
    wins = 0
    for row in pairs.select(range(n)):
        wins += completion_logp(model, tokenizer, row["prompt"], row["chosen"]) > \
            completion_logp(model, tokenizer, row["prompt"], row["rejected"])
    model.train(was_training)
    return wins / n


def progress_callback(progress: Progress | None) -> Any:
    """A transformers callback reporting (step, max steps, last loss) to ``progress``."""
    from transformers import TrainerCallback

    class _Report(TrainerCallback):  # type: ignore[misc]
        loss: float | None = None

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **_: Any) -> None:
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])
                if progress is not None:
                    progress(int(state.global_step), int(state.max_steps), self.loss)

        def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            if progress is not None:
                progress(int(state.global_step), int(state.max_steps), self.loss)

    return _Report()


def no_checkpointing(config: type) -> dict[str, bool]:
    """Activation checkpointing off (TRL turns it on; a 135M model on a CPU does not need it), by the
    option's name in the installed transformers (renamed activation_checkpointing in 5.x)."""
    names = getattr(config, "__dataclass_fields__", {})
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": False}


def prepare_out(out: Path, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise TrainingError(f"{out} exists and is not empty (a model already loaded from it would be stale); "
                            "choose a new folder or pass overwrite")
