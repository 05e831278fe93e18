"""The registry split by job: one spec grammar, a game registry, an agent registry, no import cycle."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from arena.spec import Spec, SpecError, parse_spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("text,expected", [
    ("random", Spec("random", "random", rest="")),
    ("lucky=random:seed=5", Spec("lucky", "random", (), {"seed": "5"}, (), "seed=5")),
    ("local:smollm2:mode=choice,reasoning=false",
     Spec("local:smollm2:mode=choice,reasoning=false", "local", ("smollm2",), {"mode": "choice", "reasoning": "false"},
          (), "smollm2:mode=choice,reasoning=false")),
    ("local:smollm2,mode=choice", Spec("local:smollm2,mode=choice", "local", (), {"mode": "choice"}, ("smollm2",),
                                       "smollm2,mode=choice")),
    ("q=hosted_vllm/Qwen/Q-7B:api_base=http://gpu:8000/v1",
     Spec("q", "hosted_vllm/Qwen/Q-7B", (), {"api_base": "http://gpu:8000/v1"}, (), "api_base=http://gpu:8000/v1")),
    ("ollama/llama3:8b:temperature=0.5",
     Spec("ollama/llama3:8b:temperature=0.5", "ollama/llama3", ("8b",), {"temperature": "0.5"}, (),
          "8b:temperature=0.5")),
    ("llm-mcts:model=local:smollm2,top_k=3",
     Spec("llm-mcts:model=local:smollm2,top_k=3", "llm-mcts", (), {"model": "local:smollm2", "top_k": "3"}, (),
          "model=local:smollm2,top_k=3")),
    ("tests.plugins.bots:Bot:delay=0.5",
     Spec("tests.plugins.bots:Bot:delay=0.5", "tests.plugins.bots", ("Bot",), {"delay": "0.5"}, (), "Bot:delay=0.5")),
])
def test_one_grammar_splits_every_kind(text: str, expected: Spec) -> None:
    assert parse_spec(text) == expected


def test_games_use_the_same_grammar_without_names() -> None:
    assert parse_spec("textarena:Poker-v0:rounds=2", named=False) == \
        Spec("textarena:Poker-v0:rounds=2", "textarena", ("Poker-v0",), {"rounds": "2"}, (), "Poker-v0:rounds=2")
    assert parse_spec("a=b", named=False).kind == "a=b"
    with pytest.raises(SpecError, match="^game tic-tac-toe: empty parameter name in '=3'$"):
        parse_spec("tic-tac-toe:=3", named=False, where="game")


@pytest.mark.parametrize("alias", ["local:smollm2,mode=choice,temperature=0.5",
                                   "local:smollm2:temperature=0.5,mode=choice"])
def test_llm_aliases_parse_to_the_canonical_spec(alias: str) -> None:
    from arena.agents.registry import parse_agent
    canonical = parse_agent("local:smollm2:mode=choice,temperature=0.5")
    old = parse_agent(alias)
    assert (old.kind, old.params) == (canonical.kind, canonical.params) == \
        ("local:smollm2", {"mode": "choice", "temperature": 0.5})


def test_remote_llm_specs_keep_tags_and_urls() -> None:
    from arena.agents.registry import parse_agent
    tagged = parse_agent("ollama/llama3:8b:temperature=0.5")
    assert (tagged.kind, tagged.params) == ("ollama/llama3:8b", {"temperature": 0.5})
    served = parse_agent("q=hosted_vllm/Qwen/Q-7B:api_base=http://gpu:8000/v1")
    assert (served.name, served.kind, served.params["api_base"]) == ("q", "hosted_vllm/Qwen/Q-7B", "http://gpu:8000/v1")
    with pytest.raises(SpecError, match="expected key=value parameters"):
        parse_agent("random:fast")


def test_the_compatibility_module_re_exports_the_same_objects() -> None:
    import arena.agents.base
    import arena.agents.registry
    import arena.games.registry
    import arena.plugins
    import arena.registry
    import arena.spec
    homes = (arena.spec, arena.games.registry, arena.agents.registry, arena.agents.base, arena.plugins)
    for name in arena.registry.__all__:
        assert any(getattr(home, name, None) is getattr(arena.registry, name) for home in homes), name


def test_no_library_module_imports_the_compatibility_module() -> None:
    offenders = []
    for path in (ROOT / "arena").rglob("*.py"):
        if path.name == "registry.py" and path.parent.name == "arena":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "arena.registry" or \
                    isinstance(node, ast.Import) and any(a.name == "arena.registry" for a in node.names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_agent_modules_import_no_registry() -> None:
    """The cycle is gone: an agent module loads without either registry (poker_bots uses the game registry's API)."""
    from arena.agents.registry import AGENT_MODULES
    code = ("import importlib, json, sys\n"
            "out = {}\n"
            f"for m in {list(AGENT_MODULES)!r}:\n"
            "    importlib.import_module(m)\n"
            "    out[m] = [r for r in ('arena.registry', 'arena.agents.registry') if r in sys.modules]\n"
            "print(json.dumps(out))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(run.stdout) == {m: [] for m in AGENT_MODULES}


def test_the_game_registry_imports_no_agent() -> None:
    code = ("import sys; from arena.games.registry import parse_game, game_listing; parse_game('kuhn-poker'); "
            "game_listing(); print(sorted(m for m in sys.modules if m.startswith('arena.agents')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert run.stdout.strip() == "[]"


def test_every_example_of_the_readme_spec_table_parses() -> None:
    """The one table of agent specs in README.md: each example is read as its row says (entry point aside)."""
    from arena.agents.registry import parse_agent
    text = (ROOT / "README.md").read_text()
    table = text[text.index("### Agent specs"):text.index("### LLM agents")]
    lines = [line for line in table.splitlines() if line.startswith("|")]
    rows = [line.split(" | ") for line in lines[2:]]  # after the header and its rule
    kinds = {}
    for row in rows:
        for example in row[1].replace("\\|", "|").split(", "):
            kinds[example.strip("`")] = parse_agent(example.strip("`")) if "entry point" not in row[0] else None
    assert len(rows) == 6 and len(kinds) == 10
    assert (kinds["lucky=random:seed=5"].name, kinds["mcts:simulations=200"].params) == ("lucky", {"simulations": 200})
    assert kinds["local:tuned/:mode=choice"].kind == "local:tuned/"
    assert kinds["ollama/llama3:8b"].kind == "ollama/llama3:8b"
    assert kinds["critic:tit-for-tat|local:smollm2"].params == {"inner": "tit-for-tat", "critic": "local:smollm2"}
    assert kinds["greedy=mybots:Greedy:prefer=C"].kind == "mybots:Greedy"

