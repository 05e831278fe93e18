"""The loop on the real embedded model: SmolLM2 plays, its turns become pairs, TRL trains it with DPO on the
CPU, and the trained folder plays again as ``local:DIR``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from arena.export.preferences import export_preferences
from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from arena.trajectory import Player
from tests.conftest import requires

pytestmark = requires("trl", "datasets")


@pytest.mark.slow
def test_play_export_train_dpo_and_play_the_result(built: tuple[Path, float], tmp_path: Path) -> None:
    from datasets import load_dataset

    from arena import cli_data

    store = Store(tmp_path / "arena.db")
    run_id = new_run(store, RunConfig(games=["prisoners-dilemma:rounds=3"],
                                      agents=["smollm2=local:smollm2:mode=choice", "always-defect"],
                                      games_per_pair=1, seed=3))
    execute(store, run_id)
    pairs = tmp_path / "pairs.jsonl"
    result = export_preferences(store, pairs, kind="step", rollouts=4, min_margin=2.0)
    assert result.stats["decision_points"] == 3 and len(result.rows) == 3
    # D earns 1 or 2 more than C this round (against a D or a C), whatever the random future: chosen D
    assert {(r["chosen_action"], r["rejected_action"]) for r in result.rows} == {("D", "C")}

    data = load_dataset("json", data_files=str(pairs), split="train")
    assert {"prompt", "chosen", "rejected", "values", "split"} <= set(data.column_names)
    assert data[0]["chosen"] == [{"role": "assistant", "content": "D"}]

    app = typer.Typer()
    cli_data.mount(app)
    model = tmp_path / "tuned"
    done = CliRunner().invoke(app, ["train", "dpo", "--data", str(pairs), "--base", "local:smollm2",
                                    "--out", str(model), "--steps", "2", "--batch-size", "1", "--lr", "1e-5", "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["steps"] == 2 and len(report["losses"]) == 2 and report["trained_pairs"] == 3
    assert report["dropped_too_long"] == 0 and report["losses"][0] == pytest.approx(0.6931, abs=1e-3)  # log 2
    # a LoRA adapter of a few MB (issue 21.3: under 20 MB), in the model's dtype
    assert (model / "adapter_config.json").is_file() and (model / "adapter_model.safetensors").is_file()
    assert report["adapter"] and report["size_mb"] < 20 and report["dtype"] == "float32"
    assert sum(p.stat().st_size for p in model.iterdir()) < 20 * 2 ** 20
    assert json.loads((model / "arena-train.json").read_text())["base"] == "local:smollm2"

    # the trained folder plays as local:DIR, and prefers D over C more than its base did at a trained-on prompt
    game = parse_game("prisoners-dilemma:rounds=3").make
    margins = {}
    for name, spec in (("tuned", f"local:{model}:mode=choice"), ("base", "local:smollm2:mode=choice")):
        traj = play_match(game, [parse_agent(spec).make(), parse_agent("tit-for-tat").make()],
                          [Player(0, name, spec), Player(1, "tft", "tit-for-tat")], 0, f"after-{name}")
        assert traj.outcome is not None and traj.outcome.reason == "normal"
        first = traj.steps[0]
        assert first.messages and first.completion in ("C", "D") and not first.fallback
        margins[name] = first.info["logprobs"]["D"] - first.info["logprobs"]["C"]
    assert margins["tuned"] > margins["base"]


def test_train_refuses_kto_files_and_non_empty_output(tmp_path: Path) -> None:
    from arena.train.dpo import load_pairs, train_dpo

    kto = tmp_path / "kto.jsonl"
    kto.write_text(json.dumps({"prompt": [{"role": "user", "content": "x"}],
                               "completion": [{"role": "assistant", "content": "C"}], "label": True}) + "\n")
    with pytest.raises(ValueError, match="kto/sft file"):
        load_pairs(kto)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "f").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        train_dpo(kto, "local:smollm2", tmp_path / "busy")


def tiny_model(folder: Path, source: Path) -> Path:
    """A randomly initialised 2-layer model with SmolLM2's tokenizer and chat template: trains in seconds."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(source)
    config.update({"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
                   "num_key_value_heads": 1, "head_dim": 16})
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return folder


@pytest.mark.slow
@pytest.mark.heavy
def test_selfplay_iteration_evaluates_on_fresh_mirrored_seeds(built: tuple[Path, float], tmp_path: Path) -> None:
    from arena import cli_data

    tiny = tiny_model(tmp_path / "tiny", built[0])
    app = typer.Typer()
    cli_data.mount(app)
    done = CliRunner().invoke(app, ["selfplay", "--game", "prisoners-dilemma:rounds=2", "--iterations", "1",
                                    "--out", str(tmp_path / "sp"), "--base", f"local:{tiny}", "-b", "always-defect",
                                    "-n", "2", "--eval-seeds", "3", "--rollout", "random", "--rollouts", "2",
                                    "--min-margin", "0", "--test-split", "0", "--steps", "2", "--lr", "1e-4",
                                    "--device", "cpu", "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    (record,) = summary["iterations"]
    assert record["pairs"] > 0 and record["train"]["steps"] == 2
    assert (Path(record["model"]) / "adapter_model.safetensors").is_file()
    assert summary["eval_seeds"] == [7_000_000, 7_000_001, 7_000_002]
    # no chance, deterministic agents (greedy choice, always-defect): the 3 seeds play one game; 2 replicates go
    for entry in (summary["base"]["always-defect"], record["vs"]["always-defect"], record["head_to_head"]):
        assert entry["pairs"] == 1 and entry["replicates_dropped"] == 2
    assert record["vs"]["always-defect"]["change"]["pairs"] == 1
    assert record["head_to_head"]["sprt"]["verdict"] == "undecided"  # one pair decides nothing
    store = Store(tmp_path / "sp" / "selfplay.db")
    assert [status for _, _, status in store.runs()] == ["done", "done", "done"]  # base eval, play, eval
    eval_seeds = {int(store.trajectory(m).seed) for m in store.match_players(record["eval_run"])}
    assert eval_seeds == set(summary["eval_seeds"])
    assert not eval_seeds & {int(store.trajectory(m).seed) for m in store.match_players(record["play_run"])}
    store.close()
    html = (tmp_path / "sp" / "report.html").read_text()
    assert "Head-to-head" in html and "<svg" in html and "http" not in html.split("<svg")[0]
    cli_data.print_summary(summary)  # the table and the SPRT line render


def test_dpo_counts_long_prompts_and_evaluates_the_test_split(built: tuple[Path, float], tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from arena.train.dpo import train_dpo

    def row(user: str, chosen: str, split: str) -> dict:
        return {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": user}],
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": "C"}], "split": split, "values": '{"C": 0.0}'}

    rows = [row("Pick C or D.", "D", "train"), row("Pick C or D now.", "D", "train"),
            row("word " * 200, "D", "train"),  # the prompt alone fills max_length: TRL would drop it silently
            row("Pick one.", "D " * 80, "train"),  # fits, but prompt + chosen is cut to max_length
            row("Choose C or D.", "D", "test"), row("Choose now.", "D", "test")]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tiny = tiny_model(tmp_path / "tiny", built[0])
    with caplog.at_level(logging.WARNING, logger="arena.train.dpo"):
        report = train_dpo(data, f"local:{tiny}", tmp_path / "out", steps=2, batch_size=2, max_length=64)
    assert (report["pairs"], report["dropped_too_long"], report["truncated"], report["trained_pairs"]) == (4, 1, 1, 3)
    assert "1 of 4 pairs dropped" in caplog.text and "1 of 4 pairs will be truncated" in caplog.text
    assert report["test_pairs"] == 2 and "eval_loss" in report["eval"]
