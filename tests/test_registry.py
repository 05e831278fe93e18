"""Spec strings, import strings and entry points, with one-line errors naming valid choices."""

from __future__ import annotations

import json

from pathlib import Path

import pytest

from arena.registry import SpecError, game_ids, parse_agent, parse_game


def test_game_spec_params_are_typed() -> None:
    game = parse_game("prisoners-dilemma:R=4,rounds=3,cheap_talk=yes")
    assert game.params == {"R": 4.0, "rounds": 3, "cheap_talk": True}


@pytest.mark.parametrize("spec,message", [
    ("chess-x", "unknown game 'chess-x'; valid: akata-battle-of-the-sexes"),
    ("prisoners-dilemma:X=1", "unknown parameter(s) X; valid: P, R, S, T, cheap_talk, rounds"),
    ("prisoners-dilemma:rounds=ten", "rounds='ten' is not a valid int"),
    ("prisoners-dilemma:rounds=0", "rounds must be at least 1"),
    ("ordinal-2x2:number=200", "1..144"),
])
def test_bad_game_specs(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_game(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_agent_spec_with_name_and_params() -> None:
    spec = parse_agent("lucky=random:seed=5")
    assert (spec.name, spec.kind, spec.params) == ("lucky", "random", {"seed": 5})
    assert parse_agent("tit-for-tat").name == "tit-for-tat"


@pytest.mark.parametrize("spec,message", [
    ("tit-for-tot", "unknown agent 'tit-for-tot'; valid: alternate, always-cooperate"),
    ("random:depth=3", "unknown parameter(s) depth; valid: seed"),
    ("tests.plugins.nope:Bot", "module 'tests.plugins.nope' not found"),
    ("tests.plugins.bots:Nope", "has no attribute 'Nope'; it has:"),
    ("tests.plugins.broken:Bot", "importing 'tests.plugins.broken' failed: No module named 'this_dependency_does_not_exist'"),
    ("tests.plugins.bots:NOT_AN_AGENT", "has no act(turn) or aact(turn) method"),
])
def test_bad_agent_specs(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        parse_agent(spec).make()
    assert message in str(err.value)


def test_import_string_agent_with_params() -> None:
    agent = parse_agent("slow=tests.plugins.bots:SlowCooperator:delay=0.5,isolate=false").make()
    assert agent.delay == 0.5


def test_entry_points_are_loaded_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "arena_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: arena-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[arena.agents]\ndemo-bot = tests.plugins.bots:LateDefector\n"
        "[arena.games]\ndemo-pd = arena.games.matrix_catalog:_pd\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "demo-pd" in game_ids()
    assert parse_game("demo-pd:rounds=2").make(0).rounds == 2
    agent = parse_agent("demo-bot").make()
    assert type(agent).__name__ == "LateDefector"
    assert "demo-bot" in str(pytest.raises(SpecError, parse_agent, "demo-botx").value)


def test_the_static_game_index_matches_the_game_modules() -> None:
    from arena.games.index import build_index, game_index
    assert game_index() == json.loads(json.dumps(build_index())), \
        "arena/games/index.json is stale: run `python -m arena.games.index`"


def test_a_game_imports_only_its_own_module() -> None:
    import subprocess
    import sys
    code = ("import sys; from arena.registry import parse_game; parse_game('prisoners-dilemma'); "
            "print(sorted(m for m in ('pokerkit', 'chess', 'arena.games.poker', 'arena.games.werewolf') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "[]"
