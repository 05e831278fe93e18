"""Batched rollouts: the rollouts of the step export run concurrently (``rollout_batch`` at a time), the
LLM calls pending together reach the local model as one batch, and the values equal the sequential path's."""

from __future__ import annotations

import asyncio
import importlib
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from arena.agents.base import Decision, Turn
from arena.agents.llm import LLMAgent
from arena.export.preferences import ExportOptions, export_preferences
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run

JITTERY = "tests.test_rollout_batching:Jittery:isolate=false"


class Jittery:
    """An async 'LLM' (it sends a prompt) that plays uniformly at random from its match seed and yields to
    the event loop a random number of times first, so concurrent rollouts interleave differently."""

    pending = 0
    peak = 0

    def __init__(self) -> None:
        self.rng = random.Random(0)
        self.prompter = LLMAgent(backend=None)  # type: ignore[arg-type]

    def reset(self, match_info: dict[str, Any]) -> None:
        self.rng = random.Random(f"{match_info.get('seed')}:{match_info.get('player')}")

    async def aact(self, turn: Turn) -> Decision:
        cls = type(self)
        cls.pending += 1
        cls.peak = max(cls.peak, cls.pending)
        try:
            for _ in range(1 + random.randrange(4)):  # the global random: the interleaving is not seeded
                await asyncio.sleep(0)
        finally:
            cls.pending -= 1
        return Decision(self.rng.choice(turn.legal_actions), self.prompter.messages(turn), "")


def _store(path: Path, game: str, agents: list[str]) -> Store:
    store = Store(path)
    execute(store, new_run(store, RunConfig(games=[game], agents=agents, games_per_pair=1, seed=3)))
    return store


def _values(store: Store, batch: int, **options: Any) -> tuple[list[dict[str, float]], int]:
    jittery = importlib.import_module("tests.test_rollout_batching").Jittery  # the class the spec loads
    jittery.peak = 0
    rows = export_preferences(store, kind="step", min_margin=0.0, rollout_batch=batch, **options).rows
    return [json.loads(r["values"]) for r in rows], jittery.peak


def test_rollouts_run_rollout_batch_at_a_time_and_give_the_sequential_values(tmp_path: Path) -> None:
    store = _store(tmp_path / "a.db", "tic-tac-toe", [f"j={JITTERY}", "random"])
    sequential, one = _values(store, 1, rollouts=4)
    batched, many = _values(store, 16, rollouts=4)
    assert one == 1 and many == 16  # tic-tac-toe: one pending decision per rollout in flight
    assert sequential and batched == sequential
    assert any(len(set(v.values())) > 1 for v in sequential)  # random rollouts: the values differ by action
    assert _values(store, 7, rollouts=4)[0] == sequential


def test_rollout_batch_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rollout_batch must be at least 1"):
        ExportOptions(rollout_batch=0)
    from arena import cli_data
    app = typer.Typer()
    cli_data.mount(app)
    store = _store(tmp_path / "c.db", "tic-tac-toe", [f"j={JITTERY}", "random"])
    out = tmp_path / "p.jsonl"
    bad = CliRunner().invoke(app, ["export", "preferences", "--db", store.path, "--out", str(out),
                                   "--rollout-batch", "0"])
    assert bad.exit_code == 2 and "rollout_batch must be at least 1" in bad.output and not out.exists()
    done = CliRunner().invoke(app, ["export", "preferences", "--db", store.path, "--out", str(out), "--rollout-batch",
                                    "3", "--rollouts", "2", "--min-margin", "0", "--json"])
    assert done.exit_code == 0 and json.loads(done.stdout.strip().splitlines()[-1])["rows"] > 0, done.output


@pytest.mark.slow  # ~40 s on a loaded 2-core machine
def test_smollm2_rollout_decisions_go_to_the_model_as_one_batch(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.agents.backends import local
    sizes: Counter = Counter()
    execute_batch = local._execute

    def spy(shared: Any, kind: str, batch: list[Any]) -> list[Any]:
        sizes[len(batch)] += 1
        return execute_batch(shared, kind, batch)
    store = _store(tmp_path / "b.db", "prisoners-dilemma:rounds=2", ["local:smollm2:mode=choice", "tit-for-tat"])
    monkeypatch.setattr(local, "_execute", spy)
    sequential, _ = _values(store, 1, rollouts=2)
    assert set(sizes) == {1}
    sizes.clear()
    batched, _ = _values(store, 32, rollouts=2)
    assert batched == sequential and sequential
    assert sizes == Counter({4: 1})  # round 1: 2 actions x 2 rollouts, each with one round-2 LLM decision
