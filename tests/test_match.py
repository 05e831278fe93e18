"""The match loop: illegal-move policy, time limits, agent failures, trajectory round trip."""

from __future__ import annotations

from arena.match import Policy, play_match
from arena.registry import parse_agent, parse_game
from arena.trajectory import Player, Trajectory
from tests.plugins.bots import Babbler, LateDefector, Raiser, Sleeper

PD = parse_game("prisoners-dilemma:rounds=3")
PLAYERS = [Player(0, "a", "a"), Player(1, "b", "b")]


def test_illegal_answers_are_explained_retried_then_fall_back() -> None:
    traj = play_match(PD.make, [Babbler(), parse_agent("always-cooperate").make()], PLAYERS, 5, "m1",
                      policy=Policy(retries=2, fallback="random"))
    mine = [s for s in traj.steps if s.player == 0]
    assert len(mine) == 3 and all(s.fallback for s in mine)
    assert all(len(s.attempts) == 3 for s in mine)  # first answer + 2 retries, all refused
    assert "answer with exactly one of: C, D" in mine[0].attempts[0].error
    assert all(s.action in ("C", "D") for s in mine)
    assert traj.outcome.reason == "normal"


def test_retry_with_feedback_succeeds_and_is_counted() -> None:
    traj = play_match(PD.make, [LateDefector(), parse_agent("always-cooperate").make()], PLAYERS, 5, "m2",
                      policy=Policy(retries=1))
    mine = [s for s in traj.steps if s.player == 0]
    assert [s.action for s in mine] == ["D", "D", "D"]
    assert all(len(s.attempts) == 1 and not s.fallback for s in mine)
    assert traj.outcome.scores == [15.0, 0.0]


def test_forfeit_fallback() -> None:
    traj = play_match(PD.make, [parse_agent("always-cooperate").make(), Babbler()], PLAYERS, 5, "m3",
                      policy=Policy(retries=0, fallback="forfeit"))
    assert traj.outcome.reason == "forfeit" and traj.outcome.forfeited_by == 1
    assert traj.outcome.ranks == [1, 2]
    assert "illegal move after 1 attempt(s)" in traj.outcome.detail


def test_agent_that_raises_forfeits_with_reason() -> None:
    traj = play_match(PD.make, [Raiser(), parse_agent("tit-for-tat").make()], PLAYERS, 5, "m4")
    assert traj.outcome.reason == "forfeit" and traj.outcome.forfeited_by == 0
    assert traj.outcome.detail == "agent raised RuntimeError: boom inside the agent"
    assert traj.outcome.ranks == [2, 1]


def test_time_limit_counts_as_an_illegal_attempt() -> None:
    traj = play_match(PD.make, [Sleeper(), parse_agent("always-defect").make()], PLAYERS, 5, "m5",
                      policy=Policy(retries=0, fallback="random", time_limit=0.05))
    mine = [s for s in traj.steps if s.player == 0]
    assert all(s.fallback for s in mine)
    assert "time limit of 0.05s" in mine[0].attempts[0].error


def test_trajectory_json_round_trip() -> None:
    traj = play_match(PD.make, [LateDefector(), parse_agent("tit-for-tat").make()], PLAYERS, 9, "m6",
                      game="prisoners-dilemma:rounds=3", config=PD.params)
    again = Trajectory.from_json(traj.to_json())
    assert again == traj
    assert again.steps[0].attempts[0].text == "maybe"


def test_same_seed_same_match() -> None:
    def run(seed: int) -> list[str]:
        agents = [parse_agent("random:seed=3").make(), parse_agent("random:seed=4").make()]
        return [s.action for s in play_match(PD.make, agents, PLAYERS, seed, "m").steps]
    assert run(1) == run(1)
