"""Each baseline plays exactly as its namesake in the Axelrod library (same payoffs, 10 turns)."""

from __future__ import annotations

import itertools

import pytest

from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.trajectory import Player


def _axelrod():
    """The Axelrod library, imported when a test runs (its import costs seconds at collection)."""
    import axelrod
    return axelrod


NAMESAKES = {
    "always-cooperate": "Cooperator",
    "always-defect": "Defector",
    "tit-for-tat": "TitForTat",
    "suspicious-tit-for-tat": "SuspiciousTitForTat",
    "grim-trigger": "Grudger",
    "win-stay-lose-shift": "WinStayLoseShift",
    "alternate": "Alternator",
}


@pytest.mark.parametrize("a,b", list(itertools.product(NAMESAKES, repeat=2)))
def test_match_scores_equal_axelrod(a: str, b: str) -> None:
    turns = 10
    axl = _axelrod()
    players = (getattr(axl, NAMESAKES[a])(), getattr(axl, NAMESAKES[b])())
    axl_match = axl.Match(players, turns=turns, game=axl.Game(r=3, s=0, t=5, p=1))
    axl_match.play()
    expected = [sum(s[0] for s in axl_match.scores()), sum(s[1] for s in axl_match.scores())]
    game = parse_game(f"prisoners-dilemma:rounds={turns}")
    agents = [parse_agent(a).make(), parse_agent(b).make()]
    traj = play_match(game.make, agents, [Player(0, a, a), Player(1, b, b)], 7, "m", "pd")
    assert traj.outcome.scores == expected
    moves = [s.action for s in traj.steps]
    assert "".join(moves[0::2]) == "".join(str(m[0]) for m in axl_match.result)
    assert "".join(moves[1::2]) == "".join(str(m[1]) for m in axl_match.result)


def test_random_is_fair_and_seeded() -> None:
    game = parse_game("prisoners-dilemma:rounds=200")
    def coop_rate(seed: int) -> float:
        traj = play_match(game.make, [parse_agent(f"random:seed={seed}").make(), parse_agent("always-cooperate").make()],
                          [Player(0, "r", "random"), Player(1, "c", "c")], 11, "m", "pd")
        return traj.outcome.metrics["cooperation_rate"][0]
    assert 0.4 < coop_rate(1) < 0.6  # 200 fair coin flips: P(outside) < 0.01
    assert coop_rate(1) == coop_rate(1) and coop_rate(1) != coop_rate(2)


def test_baselines_in_public_goods() -> None:
    game = parse_game("public-goods:players=3,rounds=3")
    specs = ["always-cooperate", "always-defect", "tit-for-tat"]
    traj = play_match(game.make, [parse_agent(s).make() for s in specs],
                      [Player(i, s, s) for i, s in enumerate(specs)], 0, "m", "pg")
    contributions = [[int(s.action) for s in traj.steps[r * 3:(r + 1) * 3]] for r in range(3)]
    # tit-for-tat starts full, then matches the others' mean (10 + 0) / 2 = 5
    assert contributions == [[10, 0, 10], [10, 0, 5], [10, 0, 5]]
