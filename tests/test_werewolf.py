"""Werewolf: night and day rules, ties, win conditions, no leaks for any role, team ratings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.agents.base import Turn
from arena.games.base import IllegalAction
from arena.games.werewolf import DOCTOR, SEER, VILLAGER, WOLF, WerewolfState
from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.trajectory import Player
from tests.conftest import run_cli


def fixed(roles: list[str], **options: object) -> WerewolfState:
    """A game with the given roles (seat order), wolves' chat skipped when there is one wolf."""
    state = WerewolfState(seed=0, players=len(roles), wolves=roles.count(WOLF), **options)
    state.roles = list(roles)
    state.day = 0
    state._begin_night()
    return state


def night(state: WerewolfState, picks: dict[int, str]) -> None:
    while state.phase == "wolf_chat":
        state.apply(state.to_move()[0], "hi")
    for player in list(state.to_move()):
        state.apply(player, picks[player])


def talk(state: WerewolfState) -> None:
    while state.phase == "talk":
        state.apply(state.to_move()[0], "I am innocent.")


def vote(state: WerewolfState, votes: dict[int, str]) -> None:
    for player in list(state.to_move()):
        state.apply(player, votes[player])


ROLES5 = [WOLF, SEER, DOCTOR, VILLAGER, VILLAGER]


def test_night_kill_seer_and_doctor() -> None:
    s = fixed(ROLES5)
    assert sorted(s.to_move()) == [0, 1, 2]  # wolf, seer and doctor act at night, simultaneously
    with pytest.raises(IllegalAction, match="choose one of"):
        s.apply(0, "P1")  # a wolf cannot pick itself
    night(s, {0: "P4", 1: "P1", 2: "P3"})
    assert not s.alive[3] and "Night 1: P4 was killed." in s.public
    assert "you inspected P1: a werewolf" in s.observation(1)
    assert "inspected" not in s.observation(0) + s.observation(2) + s.observation(4)


def test_doctor_saves_the_victim() -> None:
    s = fixed(ROLES5)
    night(s, {0: "P4", 1: "P3", 2: "P4"})
    assert all(s.alive) and "Night 1: nobody died." in s.public


def test_day_vote_eliminates_and_reveals_role() -> None:
    s = fixed(ROLES5)
    night(s, {0: "P5", 1: "P3", 2: "P2"})
    talk(s)
    vote(s, {0: "P2", 1: "P1", 2: "P1", 3: "P1"})
    assert s.winner == "village" and "P1 was eliminated. They were a werewolf." in "\n".join(s.public)
    assert s.returns() == [0.0, 1.0, 1.0, 1.0, 1.0]


def test_tie_rules() -> None:
    s = fixed(ROLES5)
    night(s, {0: "P5", 1: "P3", 2: "P2"})
    talk(s)
    vote(s, {0: "P2", 1: "P1", 2: "P2", 3: "P1"})
    assert "Day 1: nobody was eliminated." in s.public and sum(s.alive) == 4
    r = fixed(ROLES5, tie="random")
    night(r, {0: "P5", 1: "P3", 2: "P2"})
    talk(r)
    vote(r, {0: "P2", 1: "P1", 2: "P2", 3: "P1"})
    assert sum(r.alive) == 3


def test_wolves_win_at_parity_and_hidden_roles() -> None:
    s = fixed(ROLES5, reveal_role=False)
    night(s, {0: "P5", 1: "P3", 2: "P2"})
    talk(s)
    vote(s, {0: "P4", 1: "P4", 2: "P4", 3: "skip"})
    assert "P4 was eliminated." in "\n".join(s.public) and "They were" not in "\n".join(s.public)
    night(s, {0: "P3", 1: "P3", 2: "P2"})
    assert s.winner == "wolves" and s.returns() == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_draw_after_max_days() -> None:
    s = fixed(ROLES5, max_days=1)
    night(s, {0: "P5", 1: "P3", 2: "P5"})
    talk(s)
    vote(s, {p: "skip" for p in range(5)})
    assert s.winner == "draw" and s.returns() == [0.5] * 5


class Spy:
    def __init__(self, seen: list[tuple[int, str]]) -> None:
        self.seen = seen

    def act(self, turn: Turn) -> str:
        self.seen.append((turn.player, turn.rules + "\n" + turn.text + "\n" + json.dumps(turn.data)))
        return "hello" if turn.legal_actions is None else turn.legal_actions[0]


@pytest.mark.parametrize("seed", range(6))
def test_no_leaks_for_any_role(seed: int) -> None:
    game = parse_game("werewolf:players=7,wolves=2")
    seen: list[tuple[int, str]] = []
    traj = play_match(game.make, [Spy(seen) for _ in range(7)], [Player(i, f"a{i}", "spy") for i in range(7)],
                      seed, "m")
    roles = traj.outcome.metrics["role"]
    wolves = {f"P{i + 1}" for i, r in enumerate(roles) if r == WOLF}
    for player, text in seen:
        role = roles[player]
        if role != WOLF:
            assert "(wolf chat)" not in text and "Fellow werewolves" not in text
            assert '"wolves": []' in text
        if role != SEER:
            assert "you inspected" not in text and '"inspections": {}' in text
        if role != DOCTOR:
            assert "you protected" not in text
        for other, other_role in enumerate(roles):
            if other != player and f"P{other + 1}, a {other_role}." in text:
                pytest.fail("another player's role leaked")
        if role == WOLF:
            assert all(w in text for w in wolves)


def test_rule_bots_and_role_metrics(tmp_path: Path) -> None:
    agents = ["rule-seer", "rule-villager", "random-voter", "b=rule-villager", "c=rule-villager", "d=rule-seer",
              "e=random-voter"]
    proc = run_cli("run", "-g", "werewolf:players=7", *sum((["-a", a] for a in agents), []), "-n", "8",
                   "--json", "--db", str(tmp_path / "w.db"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {r["role"] for r in doc["roles"]} == {WOLF, SEER, DOCTOR, VILLAGER}
    for r in doc["roles"]:
        assert 0 <= r["win_rate"] <= 1 and 0 <= r["base_rate"] <= 1 and 0 <= r["survival"] <= 1
    seer_rows = [r for r in doc["roles"] if r["role"] == SEER and r["agent"] in ("rule-seer", "d")]
    assert all(r["vote_accuracy"] in (None, 1.0) or r["vote_accuracy"] >= 0.5 for r in seer_rows)
    team = doc["team_ratings"]
    assert {r["agent"] for r in team["ratings"]} == {a.split("=")[0] for a in agents}
    assert "7p-2w-1s-1d" in team["config_effect_elo"] and len(team["openskill"]) == 7


def test_rule_seer_accuses_what_it_found() -> None:
    s = fixed(ROLES5)
    night(s, {0: "P5", 1: "P1", 2: "P2"})
    agent = parse_agent("rule-seer").make()
    said = agent.act(Turn("werewolf", 1, s.rules_text(1), s.observation(1), None, s.observation_data(1))).action
    assert said == "I am the seer. P1 is a werewolf."
    talk(s)
    votes = parse_agent("rule-villager").make()
    data = s.observation_data(3)
    data["speeches"] = ['P2: "I am the seer. P1 is a werewolf."']
    assert votes.act(Turn("werewolf", 3, "", "", s.legal_actions(3), data)).action == "P1"


@pytest.mark.slow
@pytest.mark.heavy
def test_seven_llm_players_offline(built: tuple[Path, float], tmp_path: Path) -> None:
    agents = sum((["-a", f"p{i}=local:smollm2:mode=choice"] for i in range(7)), [])
    proc = run_cli("run", "-g", "werewolf:players=7,max_days=1", *agents, "-n", "1", "--json",
                   "--db", str(tmp_path / "llm.db"), env={"HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert sum(r["games"] for r in doc["leaderboard"]) == 7 and doc["team_ratings"]["ratings"]
