"""Options declared once (arena/options.py, arena/cli_options.py): the dataclasses carry help and
defaults, the CLI options are generated from them with the flags and defaults they always had,
self-play composes the DPO and export options, and the Python API's flat keywords still work."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from arena.cli import app
from arena.cli_options import GENERATED, command
from arena.errors import ArenaError
from arena.export.preferences import ExportOptions
from arena.options import build, flat, option, specs
from arena.train.dpo import DPOOptions
from arena.train.selfplay import SelfPlayOptions

runner = CliRunner()

# every flag each command had before the options were generated, with its default then (None: required/unset)
OLD = {
    ("export", "preferences"): {
        "--db": "arena.db", "--out": None, "--kind": "step", "--game": None, "-g": None, "--run": None, "--agent": None,
        "-a": None, "--min-margin": 2.0, "--split": 0.0, "--split-seed": "", "--rollouts": 16, "--rollout": "players",
        "--min-gap": 0.0, "--allow-peeking": False, "--experts": False, "--co-movers": "policy", "--candidates": 0,
        "--sample": 1.0, "--max-points": 0, "--free-text-samples": 0, "--sampler": "", "--seed": 0, "--json": False},
    ("train", "dpo"): {
        "--data": None, "--base": "local:smollm2", "--out": None, "--loss": "sigmoid", "--steps": 10, "--lr": 5e-6,
        "--beta": 0.1, "--batch-size": 2, "--grad-accum": 1, "--max-length": 1024, "--seed": 0, "--no-eval": None,
        "--overwrite": False, "--device": "auto", "--full": None, "--lora-rank": 8, "--json": False},
    ("selfplay",): {
        "--game": None, "-g": None, "--iterations": 1, "--out": "selfplay", "--base": "local:smollm2",
        "--baseline": None, "-b": None, "--games-per-pair": 8, "-n": None, "--eval-seeds": 16,
        "--llm-params": "mode=choice", "--kind": "step", "--rollout": "players", "--rollouts": 8, "--min-margin": 2.0,
        "--min-gap": 0.0, "--experts": False, "--test-split": 0.2, "--loss": "sigmoid", "--steps": 20, "--lr": 1e-4,
        "--beta": 0.1, "--batch-size": 4, "--full": None, "--device": "auto", "--elo0": 0.0, "--elo1": 50.0,
        "--seed": 0, "--json": False},
    ("run",): {
        "--game": None, "-g": None, "--agent": None, "-a": None, "--games-per-pair": None, "-n": None,
        "--schedule": None, "--successive": None, "--parallel-pairs": None, "--swap-seats": None,
        "--fixed-seats": None, "--focus": None, "--swiss-rounds": None, "--seed": None, "--retries": None,
        "--fallback": None, "--time-limit": None, "--workers": None, "--backend": None, "--concurrency": None,
        "--strict": None, "--max-games-per-pair": None, "--max-matches": None, "--allow-any": None,
        "--db": "arena.db", "--resume": None, "--json": False, "--prior": 2.0},
    ("compare",): {
        "--game": None, "-g": None, "--elo0": 0.0, "--elo1": 20.0, "--alpha": 0.05, "--beta": 0.05, "--batch": 8,
        "--max-pairs": 1000, "--seed": 0, "--db": "arena.db", "--resume": None, "--json": False},
    ("play",): {  # the RunConfig options play shows are unset unless given (RunConfig's defaults: 0, 2, random)
        "--agent": None, "-a": None, "--seat": 0, "--seed": None, "--time-limit": None, "--retries": None,
        "--fallback": None, "--db": "arena.db"},
}
OLD[("train", "kto")] = {k: v for k, v in OLD[("train", "dpo")].items() if k != "--loss"}


def _click_command(path: tuple[str, ...]) -> Any:
    cmd = typer.main.get_command(app)
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def _by_flag(path: tuple[str, ...]) -> dict[str, Any]:
    found = {}
    for param in _click_command(path).params:
        for flag in (*param.opts, *getattr(param, "secondary_opts", ())):
            found[flag] = param
    return found


@pytest.mark.parametrize("path", list(OLD), ids=" ".join)
def test_every_old_flag_keeps_its_name_and_default(path: tuple[str, ...]) -> None:
    params = _by_flag(path)
    assert set(OLD[path]) <= set(params), set(OLD[path]) - set(params)
    for flag, default in OLD[path].items():
        if default is None or not flag.startswith("--"):
            continue
        got = params[flag].default
        assert getattr(got, "value", got) == default, flag
        assert params[flag].help, flag  # help text survives generation


def test_the_generated_defaults_are_the_dataclass_defaults() -> None:
    params = _by_flag(("train", "dpo"))
    for s in specs(DPOOptions):
        flag = s.flags[0].split("/")[0] if s.flags else "--" + s.name.replace("_", "-")
        assert params[flag].default == s.default, flag


def test_selfplay_composes_dpo_and_export_options_without_repeating_a_field() -> None:
    own = {f.name for f in fields(SelfPlayOptions)}
    assert own & {f.name for f in fields(DPOOptions)} == {"seed"}  # self-play's seed derives the nested ones
    assert own & {f.name for f in fields(ExportOptions)} == {"seed"}
    opts = build(SelfPlayOptions, {"steps": 3, "test_split": 0.5, "rollouts": 4, "lora": False, "baselines": ["cfr"]})
    assert (opts.train.steps, opts.train.lora, opts.train.lr) == (3, False, 1e-4)  # self-play's own default lr
    assert (opts.export.split, opts.export.rollouts, opts.export.kind) == (0.5, 4, "step")
    assert opts.baselines == ["cfr"] and SelfPlayOptions().baselines == ["random"]
    values = flat(opts)
    assert (values["steps"], values["test_split"], values["base"], values["rollout"]) == (3, 0.5, "local:smollm2",
                                                                                          "players")
    assert build(SelfPlayOptions, values) == opts  # flat values round-trip
    with pytest.raises(TypeError, match="unknown option\\(s\\) split;"):  # the nested name is not exposed flat
        build(SelfPlayOptions, {"split": 0.5})
    with pytest.raises(ValueError, match="kind must be step or outcome"):
        build(SelfPlayOptions, {"kind": "kto"})


def test_python_api_keywords_build_on_a_given_options_object() -> None:
    base = DPOOptions(steps=5, loss="ipo")
    opts = build(DPOOptions, {"lr": 1e-3}, base)
    assert (opts.steps, opts.loss, opts.lr) == (5, "ipo", 1e-3) and base.lr == 5e-6
    with pytest.raises(ArenaError, match="steps must be at least 1"):
        build(DPOOptions, {"steps": 0})
    with pytest.raises(TypeError, match="unknown option\\(s\\) stpes"):
        build(ExportOptions, {"stpes": 1})


def test_export_preferences_cli_hands_the_built_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from arena.export import preferences as prefs
    seen: list[ExportOptions] = []

    def fake(db: str, out: str, options: ExportOptions) -> Any:
        seen.append(options)
        raise ValueError("stop here")

    monkeypatch.setattr(prefs, "export_preferences", fake)
    done = runner.invoke(app, ["export", "preferences", "--out", "x.jsonl", "--kind", "kto", "-g", "a", "--game", "b",
                               "--run", "r1", "--min-margin", "0.5", "--allow-peeking", "--sample-temperature", "0.7"])
    assert done.exit_code == 2 and "stop here" in done.output
    assert seen == [ExportOptions(kind="kto", games=["a", "b"], run_id="r1", min_margin=0.5, allow_peeking=True,
                                  sample_temperature=0.7)]
    bad = runner.invoke(app, ["export", "preferences", "--out", "x.jsonl", "--kind", "nope"])
    assert bad.exit_code == 2 and len(seen) == 1  # refused by the parser, with the valid choices
    assert "step" in bad.output and "sft" in bad.output


def test_selfplay_and_train_cli_build_nested_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from arena import cli_data
    from arena.train import dpo
    from arena.train import selfplay as sp
    seen: list[Any] = []
    monkeypatch.setattr(cli_data, "quiet_libraries", lambda: None)
    monkeypatch.setattr(sp, "selfplay", lambda game, it, out, options, progress: seen.append(options) or
                        (_ for _ in ()).throw(ValueError("stop")))
    done = runner.invoke(app, ["selfplay", "-g", "kuhn-poker"])
    assert done.exit_code == 2 and seen == [SelfPlayOptions()]
    done = runner.invoke(app, ["selfplay", "-g", "kuhn-poker", "--steps", "3", "--test-split", "0", "-b", "cfr",
                               "-b", "random", "--full", "--rollout", "cfr", "-n", "2"])
    assert done.exit_code == 2
    assert seen[1] == build(SelfPlayOptions, {"steps": 3, "test_split": 0.0, "baselines": ["cfr", "random"],
                                              "lora": False, "rollout": "cfr", "games_per_pair": 2})
    refused = runner.invoke(app, ["selfplay", "-g", "kuhn-poker", "--kind", "kto"])
    assert refused.exit_code == 2 and "kind must be step or outcome" in refused.output and len(seen) == 2

    monkeypatch.setattr(dpo, "train_kto", lambda data, base, out, options, progress: seen.append(options) or
                        (_ for _ in ()).throw(ValueError("stop")))
    done = runner.invoke(app, ["train", "kto", "--data", "d.jsonl", "--out", "m", "--no-eval", "--full", "--beta", "0.2"])
    assert done.exit_code == 2 and seen[2] == DPOOptions(evaluate=False, lora=False, beta=0.2)
    zero = runner.invoke(app, ["train", "kto", "--data", "d.jsonl", "--out", "m", "--steps", "0"])
    assert zero.exit_code == 2 and "steps must be at least 1" in zero.output and len(seen) == 3


def test_run_gets_only_the_flags_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from arena import cli_run
    seen: list[dict[str, Any]] = []

    def fake(spec: str | None, overrides: dict[str, Any]) -> Any:
        seen.append(overrides)
        raise ArenaError("stop")

    monkeypatch.setattr(cli_run, "build_config", fake)
    done = runner.invoke(app, ["run", "-g", "x", "-n", "3", "--strict", "--parallel-pairs", "--time-limit", "1.5"])
    assert done.exit_code == 2
    assert seen == [{"games": ["x"], "games_per_pair": 3, "strict": True, "successive": False, "time_limit": 1.5}]


@dataclass
class Toy:
    name: str = option("a", "the [name] of it")
    mode: str = option("fast", "how", choices=("fast", "slow"))
    tags: list[str] = option(factory=lambda: ["x"], help="tags; repeatable", flags=("--tag", "-t"))
    verbose: bool = option(False, "talk more")
    limit: float | None = option(None, "a bound")


def test_generated_options_from_a_toy_dataclass() -> None:
    toy = typer.Typer()
    got: list[Toy] = []

    @toy.command()
    @command("opts", Toy)
    def main(opts: Toy = GENERATED) -> None:
        got.append(opts)

    assert runner.invoke(toy, []).exit_code == 0 and got[-1] == Toy()
    done = runner.invoke(toy, ["--name", "b", "--mode", "slow", "-t", "p", "--tag", "q", "--verbose", "--limit", "2"])
    assert done.exit_code == 0 and got[-1] == Toy("b", "slow", ["p", "q"], True, 2.0)
    assert runner.invoke(toy, ["--mode", "medium"]).exit_code == 2 and len(got) == 2
    text = runner.invoke(toy, ["--help"], env={"COLUMNS": "200"}).output
    assert "the [name] of it" in text and "[x]" in text and "--no-verbose" in text  # markup shown verbatim


@pytest.mark.parametrize("name", ["selfplay_kuhn", "selfplay_tictactoe"])
def test_the_measured_examples_settings_are_valid_options(name: str) -> None:
    """The README's measured self-play examples must build (a renamed option fails here, not after 20 min),
    and their anchors and LLM spec must parse."""
    import importlib

    from arena.agents.registry import parse_agent
    settings = importlib.import_module(f"examples.{name}").SETTINGS
    opts = build(SelfPlayOptions, dict(settings))
    assert opts.train.steps == settings["steps"] and opts.export.rollout == settings["rollout"]
    for spec in [*opts.baselines, f"local:smollm2:{opts.llm_params}"]:
        parse_agent(spec)
