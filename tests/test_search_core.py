"""The shared search core (arena.agents.search): public names, deterministic tie-breaks."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_search_core_ties_follow_the_search_order_not_a_set() -> None:
    """A tie at the root goes to the first action the search listed, in every process (no hash order)."""
    from arena.agents.search import best_action
    assert best_action({"x": (3, 0.5), "y": (3, 0.5)}) == "x"
    assert best_action({"y": (3, 0.5), "x": (3, 0.5)}) == "y"
    assert best_action({"y": (1, 0.0)}, {"b": 1.0, "a": 1.0}) == "b"
    assert best_action({"a": (5, 0.9)}, {"b": 1.0, "c": -1.0}) == "b"


def test_llm_mcts_uses_only_public_search_names() -> None:
    tree = ast.parse((ROOT / "arena" / "agents" / "llm_mcts.py").read_text())
    imported = [(node.module, a.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                for a in node.names if node.module and node.module.startswith("arena.agents.")]
    assert ("arena.agents.search", "puct_select") in imported
    assert [name for module, name in imported if name.startswith("_")] == []
    assert not any(module == "arena.agents.mcts" for module, _ in imported)


def test_puct_select_weighs_prior_against_value() -> None:
    from arena.agents.search import Node, backup, puct_select
    root = Node()
    root.priors = {"a": 0.7, "b": 0.3}
    assert puct_select(root, ["a", "b"], 1.5) == "a"  # unvisited: Q = 1/2 each, the prior decides
    assert puct_select(root, ["c"], 1.5) is None
    a = root.children["a"] = Node()
    for _ in range(4):  # four losses through "a": Q(a) = 0 < Q(b) = 1/2
        backup([0.0, 1.0], [root, a], [-1, 0])
    assert (root.n, a.n, a.w) == (4, 4, 0.0)
    assert puct_select(root, ["a", "b"], 1.5) == "b"
