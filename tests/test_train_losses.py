"""TRL's preference losses through ``arena train``: validation, ranking accuracy on a tiny dataset with a
known answer, SimPO (CPO trainer), KTO, LoRA adapters that ``local:DIR`` loads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.conftest import requires
from tests.test_training import tiny_model

pytestmark = requires("trl", "peft")


def _pairs(path: Path, n: int = 16) -> Path:
    """Every prompt prefers "no" to "yes"; every fourth row is held out."""
    rows = [{"prompt": [{"role": "user", "content": f"Question {i}?"}],
             "chosen": [{"role": "assistant", "content": "no"}],
             "rejected": [{"role": "assistant", "content": "yes"}],
             "split": "test" if i % 4 == 0 else "train", "values": '{"no": 1.0, "yes": 0.0}'} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _policy_prefers(folder: Path, prompts: list[str]) -> list[bool]:
    """Through the local backend (another code path): does the model score "no" above "yes"?"""
    from arena.agents.backends.local import LocalBackend

    backend = LocalBackend(str(folder), device="cpu")  # options scored with their end token

    async def run() -> list[bool]:
        out = []
        for prompt in prompts:
            scores = await backend.score([{"role": "user", "content": prompt}], ["no", "yes"])
            logprobs = getattr(scores, "logprobs", scores)
            out.append(logprobs[0] > logprobs[1])
        return out
    return asyncio.run(run())


def test_unknown_loss_is_refused_with_the_valid_ones(tmp_path: Path) -> None:
    from arena.train.common import TrainingError
    from arena.train.dpo import train_dpo, valid_losses

    losses = valid_losses()
    assert {"sigmoid", "ipo", "sppo_hard", "robust", "simpo"} <= set(losses)
    with pytest.raises(TrainingError, match=r"unknown loss 'nope'; valid \(installed TRL\): sigmoid, .*simpo"):
        train_dpo(_pairs(tmp_path / "p.jsonl"), "local:smollm2", tmp_path / "out", loss="nope")


def test_bad_device_is_one_line(tmp_path: Path) -> None:
    from arena.train.common import TrainingError, resolve_device

    with pytest.raises(TrainingError, match="unknown device 'gpu'; valid: cpu, cuda, auto"):
        resolve_device("gpu")
    assert resolve_device("cpu") == "cpu"


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["ipo", "simpo"])
def test_ranking_accuracy_before_and_after_on_a_known_answer(built: tuple[Path, float], tmp_path: Path,
                                                              loss: str) -> None:
    from arena.train.dpo import train_dpo

    tiny = tiny_model(tmp_path / "tiny", built[0])
    held_out = [f"Question {i}?" for i in range(0, 16, 4)]
    assert _policy_prefers(tiny, held_out) == [False] * 4  # the untrained model ranks "yes" first everywhere
    steps: list[tuple[int, int]] = []
    report = train_dpo(_pairs(tmp_path / "p.jsonl"), f"local:{tiny}", tmp_path / "out", steps=8, lr=1e-2,
                       batch_size=4, loss=loss, device="cpu", progress=lambda s, n, _: steps.append((s, n)))
    assert report["method"] == ("simpo" if loss == "simpo" else "dpo") and report["loss"] == loss
    assert report["ranking_accuracy"] == {"before": 0.0, "after": 1.0, "pairs": 4}
    assert report["test_pairs"] == 4 and "eval_rewards/accuracies" in report["eval"]
    assert steps[-1] == (8, 8) and report["steps"] == 8
    out = tmp_path / "out"
    assert report["adapter"] and (out / "adapter_config.json").is_file() and not (out / "model.safetensors").exists()
    assert _policy_prefers(out, held_out) == [True] * 4  # local:DIR loads base + adapter


@pytest.mark.slow
def test_kto_trains_on_labelled_completions(built: tuple[Path, float], tmp_path: Path) -> None:
    from arena.train.dpo import train_kto

    tiny = tiny_model(tmp_path / "tiny", built[0])
    rows = [{"prompt": [{"role": "user", "content": f"Question {i}?"}],
             "completion": [{"role": "assistant", "content": "no" if i % 2 else "yes"}], "label": bool(i % 2),
             "split": "train"} for i in range(12)]
    data = tmp_path / "kto.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = train_kto(data, f"local:{tiny}", tmp_path / "out", steps=6, lr=1e-2, batch_size=4, device="cpu")
    assert report["method"] == "kto" and report["steps"] == 6 and report["ranking_accuracy"]["before"] is None
    assert _policy_prefers(tmp_path / "out", ["Question 99?"]) == [True]
    with pytest.raises(ValueError, match="a pair file\\? KTO needs --kind kto"):
        train_kto(_pairs(tmp_path / "p.jsonl"), f"local:{tiny}", tmp_path / "o2", steps=1)
