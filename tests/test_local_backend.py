"""The local transformers backend on the embedded SmolLM2 (built once per session in a temp cache)."""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # never reach the hub, whatever happens

from arena.agents.backends import local, model_cache  # noqa: E402
from arena.agents.backends.local import LocalBackend, model_folder  # noqa: E402

pytestmark = pytest.mark.slow

FRANCE = [{"role": "user", "content": "What is the capital of France? Answer with one word."}]
QUESTIONS = ["What is the capital of France?", "Write a haiku about rain.", "What is 2+2?",
             "Name three colors.", "Translate 'hello' to Spanish.", "Who wrote Hamlet?",
             "Give me a synonym for happy.", "What color is grass?"]


@pytest.fixture(scope="session")
def backend(built: tuple[Path, float]) -> LocalBackend:
    return LocalBackend("local:smollm2", device="cpu")


def test_cache_is_built_then_reused(built: tuple[Path, float]) -> None:
    folder, build_seconds = built
    assert folder.parent.parent == Path(os.environ["ARENA_CACHE"])
    assert (folder / "model.safetensors").stat().st_size > 100_000_000
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    assert "quantization_config" not in (folder / "config.json").read_text()
    started = time.perf_counter()
    assert model_folder("smollm2") == folder
    loaded = local._load(folder, "cpu")  # a fresh load from the cache, not the shared instance
    reuse_seconds = time.perf_counter() - started
    assert loaded.model.num_parameters() > 100_000_000
    assert reuse_seconds < build_seconds / 3, (reuse_seconds, build_seconds)


def test_missing_marker_invalidates_cache(built: tuple[Path, float]) -> None:
    folder, _ = built
    marker = folder / model_cache._MARKER
    assert model_cache._cache_is_valid(folder, model_cache.gguf_path())
    saved = marker.read_bytes()
    marker.unlink()
    try:
        assert not model_cache._cache_is_valid(folder, model_cache.gguf_path())
    finally:
        marker.write_bytes(saved)
    assert model_cache._cache_is_valid(folder, model_cache.gguf_path())


def test_corrupt_cache_is_rebuilt(built: tuple[Path, float]) -> None:
    folder, _ = built
    weights = folder / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as handle:
        handle.truncate(size // 2)
    assert model_folder("smollm2") == folder
    assert weights.stat().st_size == size
    assert local._load(folder, "cpu").model.num_parameters() > 100_000_000
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".") and p.is_dir()]  # no temp left


def test_cache_that_fails_to_load_is_rebuilt(built: tuple[Path, float], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, _ = built
    forced: list[bool] = []
    real_load = local._load

    def flaky_load(where: Path, device: str) -> local._Shared:
        if not any(forced):
            raise OSError("unreadable safetensors")
        return real_load(where, device)

    def fake_rebuild(name: str, force: bool = False) -> Path:
        forced.append(force)
        return folder

    monkeypatch.setattr(local, "_MODELS", {})
    monkeypatch.setattr(local, "_load", flaky_load)
    monkeypatch.setattr(local, "_ensure_embedded", fake_rebuild)
    monkeypatch.setattr(model_cache, "_ensure_embedded", fake_rebuild)
    assert local.shared_model("smollm2", "cpu").model is not None
    assert forced == [False, True]


def test_model_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found.*config.json"):
        model_folder(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="unknown local model 'gpt5'.*smollm2.*path"):
        model_folder("gpt5")
    with pytest.raises(ValueError, match="config.json"):
        model_folder(str(tmp_path))  # exists, but is no model folder
    with pytest.raises(ValueError, match="unknown local model"):
        LocalBackend("local:gpt5")
    (tmp_path / "config.json").write_text("{}")
    assert model_folder(str(tmp_path)) == tmp_path.resolve()


def test_greedy_completion_is_deterministic(backend: LocalBackend) -> None:
    async def twice() -> list:
        return [await backend.complete(FRANCE, max_tokens=16) for _ in range(2)]
    first, second = asyncio.run(twice())
    assert backend.name == "local:smollm2"
    assert first.text.strip() and first.text == second.text
    assert "Paris" in first.text
    assert first.tokens_in > 10 and 0 < first.tokens_out <= 16 and first.latency > 0


def test_seeded_sampling_is_reproducible(backend: LocalBackend) -> None:
    async def sample(seed: int) -> str:
        return (await backend.complete(FRANCE, max_tokens=12, temperature=1.0, seed=seed)).text
    assert asyncio.run(sample(7)) == asyncio.run(sample(7))


def test_concurrent_requests_are_batched_and_match_sequential(backend: LocalBackend,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    real = local.generate
    monkeypatch.setattr(local, "generate", lambda shared, reqs: sizes.append(len(reqs)) or real(shared, reqs))
    chats = [[{"role": "user", "content": q}] for q in QUESTIONS]

    async def both() -> tuple[list[str], list[str]]:
        one = [(await backend.complete(c, max_tokens=20)).text for c in chats]
        many = await asyncio.gather(*(backend.complete(c, max_tokens=20) for c in chats))
        return one, [c.text for c in many]
    one, many = asyncio.run(both())
    assert sizes == [1] * 8 + [8]
    assert many == one
    assert len(set(one)) > 4  # the prompts really differ


def test_score_ranks_right_answer_first(backend: LocalBackend) -> None:
    async def scores() -> tuple[list[float], list[list[float]]]:
        alone = await backend.score(FRANCE, ["Paris", "Berlin"])
        together = await asyncio.gather(backend.score(FRANCE, ["Paris", "Berlin"]),
                                        backend.score(FRANCE, ["Berlin", "London", "Paris"]))
        return alone, together
    (paris, berlin), together = asyncio.run(scores())
    assert all(math.isfinite(x) and x < 0 for x in (paris, berlin))
    assert paris > berlin + 3
    assert list(together[0]) == pytest.approx([paris, berlin], abs=1e-3)
    assert max(range(3), key=together[1].__getitem__) == 2
    assert list(asyncio.run(backend.score(FRANCE, []))) == []

