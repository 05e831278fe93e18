"""No agent can break a match or spy on it: isolated plug-ins, copies, validated answers, hard time limits."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from arena.agents.base import Decision, Turn
from arena.agents.validate import MAX_TEXT, InvalidDecision, checked_decision
from arena.match import HiddenStateError, Policy, play_match
from arena.registry import SpecError, parse_agent, parse_game
from arena.trajectory import Player, Trajectory
from tests.conftest import ROOT, run_cli
from tests.loopback import LoopbackServer
from tests.plugins import hostile

PD = parse_game("prisoners-dilemma:rounds=3")
PLAYERS = [Player(0, "a", "a"), Player(1, "b", "b")]


def pd(first: str, second: str = "tit-for-tat", policy: Policy | None = None) -> Trajectory:
    return play_match(PD.make, [parse_agent(first).make(), parse_agent(second).make()], PLAYERS, 5, "m",
                      policy=policy or Policy())


@pytest.mark.parametrize("plugin,reason", [
    ("Exiter", "agent process exited with code 0 (sys.exit or os._exit) during act()"),
    ("HardExiter", "agent process exited with code 3 (sys.exit or os._exit) during act()"),
    ("Segfaulter", "agent process was killed by SIGSEGV during act()"),
    ("MemoryHog:memory_mb=256", "agent raised MemoryError"),
])
def test_isolated_plugin_that_dies_forfeits_with_the_reason(plugin: str, reason: str) -> None:
    traj = pd(f"tests.plugins.hostile:{plugin}")
    assert (traj.outcome.reason, traj.outcome.forfeited_by) == ("forfeit", 0)
    assert traj.outcome.detail.startswith(reason)
    assert traj.outcome.ranks == [2, 1]
    if plugin == "Exiter":  # it played its first round (steps 0 and 1), then exited
        assert [s.action for s in traj.steps] == ["C", "C"]


def test_isolated_plugin_plays_like_the_same_agent_in_process() -> None:
    isolated, local = pd("tests.plugins.bots:LateDefector"), pd("tests.plugins.bots:LateDefector:isolate=false")
    assert [s.action for s in isolated.steps] == [s.action for s in local.steps] == ["D", "C", "D", "D", "D", "D"]
    assert [a.error for s in isolated.steps for a in s.attempts] == [a.error for s in local.steps for a in s.attempts]
    assert isolated.outcome.detail == local.outcome.detail == ""


def test_isolated_raising_and_bad_plugins_fail_at_make_or_forfeit() -> None:
    assert pd("tests.plugins.bots:Raiser").outcome.detail == "agent raised RuntimeError: boom inside the agent"
    with pytest.raises(Exception, match="has no attribute 'Nope'"):
        parse_agent("tests.plugins.bots:Nope").make()


@pytest.mark.parametrize("isolate", ["true", "false"])
@pytest.mark.parametrize("game,seats,others", [
    ("werewolf:players=5", 5, "rule-villager"),
    ("holdem:hands=2", 2, "random"),
])
def test_a_spy_finds_no_hidden_state_when_isolated(isolate: str, game: str, seats: int, others: str) -> None:
    # in a fresh interpreter each time: what the spy can reach must not depend on earlier tests
    code = (f"from arena.match import play_match; from arena.registry import parse_agent, parse_game\n"
            f"from arena.trajectory import Player\nspec = parse_game({game!r})\n"
            f"agents = [parse_agent('tests.plugins.hostile:Spy:isolate={isolate}').make()]\n"
            f"agents += [parse_agent('{others}:seed=' + str(i)).make() for i in range(1, {seats})]\n"
            f"traj = play_match(spec.make, agents, [Player(i, 'p' + str(i), 'x') for i in range({seats})], 3, 'm',"
            f" game={game!r})\n"
            "import json; print(json.dumps([f for s in traj.steps if s.player == 0 for f in s.info.get('found', [])]"
            " + ['MOVES %d' % sum(s.player == 0 for s in traj.steps)]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    *found, moves = json.loads(proc.stdout.strip().splitlines()[-1])
    assert moves != "MOVES 0"
    if isolate == "true":
        assert found == []
    else:  # the same plug-in in-process reads the real state: the probe works
        assert found and any("State" in f for f in found)


def test_agents_get_copies_they_cannot_change_the_match() -> None:
    baseline = pd("always-cooperate", "always-cooperate")
    for spec in ("tests.plugins.hostile:Mutator:isolate=false", "tests.plugins.hostile:Mutator"):
        traj = pd(spec, spec)
        assert traj.outcome.reason == "normal"
        assert [(s.action, s.observation, s.legal_actions, s.attempts) for s in traj.steps] == \
            [(s.action, s.observation, s.legal_actions, s.attempts) for s in baseline.steps]
        assert traj.outcome.scores == baseline.outcome.scores


def test_sync_agent_that_never_returns_is_abandoned_and_not_called_again() -> None:
    hostile.Counting.calls = 0
    traj = pd("tests.plugins.hostile:Counting:isolate=false", "always-defect",
              Policy(retries=1, fallback="random", time_limit=0.2))
    mine = [s for s in traj.steps if s.player == 0]
    assert len(mine) == 3 and all(s.fallback for s in mine)
    assert hostile.Counting.calls == 1  # abandoned, never asked again while still running
    assert "no answer within the time limit of 0.2s" in mine[0].attempts[0].error
    assert traj.outcome.reason == "normal"


def test_isolated_sleeper_is_killed_and_respawned() -> None:
    traj = pd("tests.plugins.hostile:SleepForever", "always-defect", Policy(retries=0, time_limit=0.5))
    mine = [s for s in traj.steps if s.player == 0]
    assert len(mine) == 3 and all(s.fallback for s in mine)
    assert all("time limit of 0.5s" in s.attempts[0].error for s in mine)


def test_reset_and_finish_failures_are_the_agents_forfeit() -> None:
    for spec in ("tests.plugins.hostile:ResetRaiser:isolate=false", "tests.plugins.hostile:ResetRaiser"):
        traj = pd(spec)
        assert traj.outcome.forfeited_by == 0 and traj.steps == []
        assert traj.outcome.detail == "agent's reset() raised RuntimeError: cannot reset"
    traj = pd("tests.plugins.hostile:FinishRaiser:isolate=false")
    assert traj.outcome.forfeited_by == 0 and len(traj.steps) == 6
    assert traj.outcome.detail == "agent's finish() raised RuntimeError: cannot finish"


@pytest.mark.parametrize("isolate", ["true", "false"])
def test_a_10mb_completion_is_stored_truncated_once(isolate: str) -> None:
    traj = pd(f"tests.plugins.hostile:Verbose:isolate={isolate}")
    mine = [s for s in traj.steps if s.player == 0]
    assert [s.action for s in mine] == ["C", "C", "C"]
    text = traj.to_json()
    assert len(text) < 4 * MAX_TEXT  # 3 steps: one truncated completion each
    for step in mine:
        assert step.completion.endswith(f"[truncated by arena: {hostile.BIG} characters in all]")
        assert len(step.completion) < MAX_TEXT + 100
        assert step.info["truncated"] == {"completion": hostile.BIG, "messages[1]": hostile.BIG}
        assert "stored once" in step.messages[1]["content"] and len(step.messages[1]["content"]) < 200


@pytest.mark.parametrize("plugin,error", [
    ("BadInfo", "invalid answer: the decision is not JSON data"),
    ("BadTokens", "invalid answer: messages must be a list"),
])
@pytest.mark.parametrize("isolate", ["true", "false"])
def test_malformed_decisions_are_illegal_answers(plugin: str, error: str, isolate: str) -> None:
    traj = pd(f"tests.plugins.hostile:{plugin}:isolate={isolate}", policy=Policy(retries=1))
    mine = [s for s in traj.steps if s.player == 0]
    assert traj.outcome.reason == "normal" and all(s.fallback for s in mine)
    if isolate == "false" and plugin == "BadInfo":
        error = "invalid answer: info['x'] holds a object, which is not JSON data"
    assert all(a.error.startswith(error) for s in mine for a in s.attempts), mine[0].attempts
    json.loads(traj.to_json())  # storable


def test_checked_decision_coerces_and_bounds() -> None:
    import numpy as np
    d = checked_decision(Decision("C", tokens_in=3.0, info={"t": (1, 2), "x": float("inf"), "n": np.int64(4)},  # type: ignore[arg-type]
                                  downgrades=["a" * 500]))
    assert (d.tokens_in, d.info, len(d.downgrades[0])) == (3, {"t": [1, 2], "x": None, "n": 4}, 200)
    assert checked_decision({"action": 7}).action == "7"
    for bad in (None, True, 3.5, Decision("C", cost=float("nan")), Decision("C", tokens_out=-1),
                Decision("x" * 10_000), {"action": "C", "extra": 1}, Decision("C", info={"k": [1] * 100_000})):
        with pytest.raises(InvalidDecision):
            checked_decision(bad)


def test_search_agents_see_only_a_determinization_of_hidden_state() -> None:
    from arena.games.poker.holdem import HoldemState
    calls: list[int] = []
    real = HoldemState.determinize

    def spy(self, player, rng):  # type: ignore[no-untyped-def]
        calls.append(player)
        return real(self, player, rng)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HoldemState, "determinize", spy)
        game = parse_game("holdem:hands=1")
        traj = play_match(game.make, [parse_agent("tests.plugins.hostile:Peeker:isolate=false").make(),
                                      parse_agent("random:seed=1").make()], PLAYERS, 2, "m", game="holdem:hands=1")
    mine = [s for s in traj.steps if s.player == 0]
    assert mine and len(calls) == len(mine) and set(calls) == {0}
    werewolf = parse_game("werewolf:players=5")

    def without_determinize(seed: int):  # type: ignore[no-untyped-def]  # werewolf as if it offered none
        state = werewolf.make(seed)
        state.determinize = None
        return state
    agents = [parse_agent("tests.plugins.hostile:Peeker:isolate=false").make()]
    agents += [parse_agent(f"rule-villager:seed={i}").make() for i in range(1, 5)]
    with pytest.raises(HiddenStateError, match="werewolf hides information and has no determinize"):
        play_match(without_determinize, agents, [Player(i, f"p{i}", "x") for i in range(5)], 1, "m",
                   game="werewolf:players=5")


def test_secrets_in_specs_and_echoed_keys_are_in_no_output_byte(tmp_path: Path) -> None:
    """A key in the environment, one in api_key=, a URL password and a plug-in's token= parameter: the
    server and the plug-in echo them in completions; none reaches the db, report, export or console."""
    env_key, spec_key, url_key, token = "sk-envkey-0123456789", "hush-spec-key-5678", "urlpass-9f8e7d", "tok-plugin-4455"
    db, report, export = tmp_path / "s.db", tmp_path / "r.html", tmp_path / "p.jsonl"
    with LoopbackServer(lambda _user: f"C (keys: {env_key} {spec_key} {url_key})") as server:
        url = server.api_base.replace("http://", f"http://user:{url_key}@")
        procs = [run_cli("run", "-g", "prisoners-dilemma:rounds=2",
                         "-a", f"gpt=openai/test-model:api_base={server.api_base},api_key={spec_key},attempts=1",
                         "-a", f"tests.plugins.hostile:Keyed:token={token},endpoint={url}", "-a", "tit-for-tat",
                         "--db", str(db), env={"OPENAI_API_KEY": env_key})]
        assert procs[0].returncode == 0, procs[0].stderr
        assert server.requests and all(r.headers["authorization"] == f"Bearer {spec_key}" for r in server.requests)
    procs.append(run_cli("report", "--db", str(db), "--out", str(report)))
    procs.append(run_cli("export", "preferences", "--db", str(db), "--out", str(export), "--kind", "sft"))
    procs.append(run_cli("leaderboard", "--db", str(db), "--json"))
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]
    con = sqlite3.connect(db)
    steps = [json.loads(d) for (d,) in con.execute("SELECT data FROM steps")]
    assert any("[REDACTED]" in (s.get("completion") or "") for s in steps)  # the echoes were there, scrubbed
    specs = {p["spec"] for (d,) in con.execute("SELECT players FROM matches") for p in json.loads(d)}
    con.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    blob += b"".join(p.stdout.encode() + p.stderr.encode() for p in procs)
    for secret in (env_key, spec_key, url_key, token):
        assert secret.encode() not in blob, secret
    assert b"[REDACTED]" in db.read_bytes() and report.read_bytes().count(b"[REDACTED]") > 0
    assert {s for s in specs if "[REDACTED]" in s} == {s for s in specs if s != "tit-for-tat"}


def test_a_stored_spec_with_a_placeholder_is_restored_in_process_and_refused_elsewhere() -> None:
    from arena.redact import restore_spec
    spec = parse_agent("gpt=openai/x:api_base=http://u:pw-123456@127.0.0.1:1/v1,api_key=abc-secret-1")
    assert spec.spec == "gpt=openai/x:api_base=http://u:[REDACTED]@127.0.0.1:1/v1,api_key=[REDACTED]"
    assert spec.params["api_key"] == "[REDACTED]" and "pw-123456" not in spec.params["api_base"]
    assert parse_agent(spec.spec).make().backend.extra["api_key"] == "abc-secret-1"  # the live agent keeps it
    assert restore_spec(spec.spec).endswith("api_key=abc-secret-1")
    with pytest.raises(SpecError, match="had credentials, which arena never stores"):
        parse_agent("gpt=openai/x:api_key=[REDACTED],timeout=3")


@pytest.mark.slow
def test_a_run_with_hostile_plugins_exits_0_and_plays_every_other_match(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    proc = run_cli("run", "-g", "prisoners-dilemma:rounds=2", "-a", "abort=tests.plugins.hostile:HardExiter",
                   "-a", "exit=tests.plugins.hostile:Exiter", "-a", "sleep=tests.plugins.hostile:SleepForever:isolate=false",
                   "-a", "verbose=tests.plugins.hostile:Verbose", "-a", "tit-for-tat", "-n", "1", "--retries", "0",
                   "--time-limit", "3", "--json", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(db)
    rows = [(json.loads(p), json.loads(o)) for p, o in con.execute("SELECT players, outcome FROM matches")]
    assert len(rows) == 10 and all(o is not None for _, o in rows)
    for players, outcome in rows:
        names = [p["name"] for p in players]
        culprit = "abort" if "abort" in names else "exit" if "exit" in names else None
        if culprit:
            assert outcome["reason"] == "forfeit" and names[outcome["forfeited_by"]] == culprit, outcome
        else:
            assert outcome["reason"] == "normal", outcome
    stored = sum(len(f.read_bytes()) for f in tmp_path.glob("h.db*"))
    assert 2 * MAX_TEXT < stored < 2_000_000  # verbose's moves: 10 MB completions stored cut, once
    assert run_cli("leaderboard", "--db", str(db), "--json").returncode == 0
    report = run_cli("report", "--db", str(db), "--out", str(tmp_path / "r.html"))
    assert report.returncode == 0 and (tmp_path / "r.html").stat().st_size < 2_000_000


def test_turns_are_lazy_and_rules_are_computed_once_per_player() -> None:
    calls = {"rules_text": 0, "observation_data": 0, "observation": 0}

    def counted(seed: int):  # type: ignore[no-untyped-def]
        state = PD.make(seed)
        for name in calls:
            real = getattr(state, name)

            def wrapper(*args, _real=real, _name=name):  # type: ignore[no-untyped-def]
                calls[_name] += 1
                return _real(*args)
            setattr(state, name, wrapper)
        return state
    play_match(counted, [parse_agent("random:seed=1").make(), parse_agent("random:seed=2").make()], PLAYERS, 1, "m")
    # the text once per decision, for the record; the data never (nobody read it, no Turn outlived its
    # decision: see tests/test_speed_turns.py for a kept one); rules never, nobody read them
    assert calls == {"rules_text": 0, "observation_data": 0, "observation": 6}
    calls.update(dict.fromkeys(calls, 0))
    play_match(counted, [parse_agent("always-cooperate").make(), parse_agent("always-defect").make()], PLAYERS, 1, "m")
    assert calls == {"rules_text": 0, "observation_data": 6, "observation": 6}  # they read the labels in it
    calls.update(dict.fromkeys(calls, 0))
    play_match(counted, [parse_agent("tests.plugins.bots:LateDefector:isolate=false").make(),
                         parse_agent("tit-for-tat").make()], PLAYERS, 1, "m", policy=Policy(retries=1))
    assert calls["observation_data"] == 3  # tit-for-tat's 3 decisions read it, LateDefector's never
    assert calls["observation"] == 6  # once per decision, though LateDefector was asked twice a move
    calls.update(dict.fromkeys(calls, 0))
    play_match(counted, [parse_agent("tests.plugins.bots:LateDefector").make(),  # isolated: sent the whole Turn
                         parse_agent("random").make()], PLAYERS, 1, "m", policy=Policy(retries=1))
    assert calls == {"rules_text": 1, "observation_data": 3, "observation": 7}  # rules once; +1: its finish()


def test_a_search_agent_in_a_hidden_information_game_without_determinize_is_refused_before_play(db: str) -> None:
    # TextArena games are imperfect-information here and offer no determinize()
    proc = run_cli("run", "-g", "textarena:ColonelBlotto-v0", "-a", "mcts", "-a", "random", "--db", db)
    assert proc.returncode == 2 and "hides information and has no determinize()" in proc.stderr, proc.stderr
    assert not Path(db).exists()  # refused before the store was touched
    assert len(proc.stderr.strip().splitlines()) == 1


def test_built_in_agents_can_be_isolated_too_and_play_the_same() -> None:
    isolated, local = pd("random:seed=3,isolate=true", "random:seed=4"), pd("random:seed=3", "random:seed=4")
    assert [s.action for s in isolated.steps] == [s.action for s in local.steps]
    game = parse_game("tic-tac-toe")
    agents = [parse_agent("mcts:simulations=30,seed=1,isolate=true").make(), parse_agent("random:seed=2").make()]
    assert agents[0].needs_state  # learnt from the child: the match sends it (a pickled clone of) the state
    traj = play_match(game.make, agents, PLAYERS, 1, "m", game="tic-tac-toe")
    mine = [s for s in traj.steps if s.player == 0]
    assert traj.outcome.reason == "normal" and mine and not any(s.fallback for s in mine)
    assert all(s.info for s in mine)  # the search statistics came back across the boundary


def test_a_secret_straddling_the_cut_of_a_long_completion_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "straddling-secret-0042"
    monkeypatch.setenv("ARENA_TEST_API_KEY", secret)
    text = "x" * (MAX_TEXT - 5) + secret + "y" * 200_000
    d = checked_decision(Decision("C", completion=text, messages=[{"role": "user", "content": "z" + text}]))
    for stored in (d.completion, d.messages[0]["content"]):
        assert secret[:5] not in stored and len(stored) < MAX_TEXT + 100
    assert d.info["truncated"] == {"completion": len(text), "messages[0]": len(text) + 1}


def test_an_isolated_llm_agent_keeps_infrastructure_failures_apart() -> None:
    import asyncio

    from arena.agents.hooks import ChildInfrastructureError
    from arena.agents.isolate import IsolatedAgent
    with LoopbackServer() as server:
        spec = parse_agent(f"gpt=openai/test-model:api_base={server.api_base},api_key=k-123456,attempts=1,timeout=5,"
                          "isolate=true")
        agent = spec.make()
        assert isinstance(agent, IsolatedAgent)
        traj = play_match(PD.make, [agent, parse_agent("tit-for-tat").make()], PLAYERS, 5, "m")
        assert traj.outcome.reason == "normal" and [s.action for s in traj.steps if s.player == 0] == ["C"] * 3
        assert all(s.completion == "C" for s in traj.steps if s.player == 0)
        server.inject("500")
        agent = spec.make()
        turn = Turn("prisoners-dilemma", 0, "rules", "text", ["C", "D"])
        with pytest.raises(ChildInfrastructureError, match="BackendError"):  # an InfrastructureError, not a crash
            asyncio.run(agent.aact(turn))
        agent.shutdown_process()
