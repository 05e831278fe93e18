"""What LLM-using agents really did, against the loopback server: structured answers and their
fallback, and the tokens, cost and downgrades of choice scoring, llm-mcts and the critic.

The loopback server counts tokens as words (prompt: words of every message; reply: words of
its content), so every expected count below is recomputed from the requests it recorded.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from arena.agents.backends.remote import RemoteBackend
from arena.agents.base import Turn
from arena.agents.critic import MEMORY, UNCHARGED, CriticAgent
from arena.agents.llm import LLMAgent
from arena.agents.llm_mcts import LLMMCTSAgent
from arena.match import play_match
from arena.registry import parse_agent, parse_game
from arena.trajectory import Player
from tests.loopback import LoopbackServer, Recorded

PLAYERS = [Player(0, "me", "me"), Player(1, "them", "them")]


@pytest.fixture(autouse=True)
def planted_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-accounting-0123456789")


def prompt_words(req: Recorded) -> int:
    return sum(len(m["content"].split()) for m in req.body["messages"])


def pd_turn(game: str = "prisoners-dilemma:rounds=2") -> Turn:
    state = parse_game(game).make(seed=1)
    return Turn(state.game_id, 0, state.rules_text(0), state.observation(0), state.legal_actions(0),
                state.observation_data(0))


def remote(server: LoopbackServer, **kw: Any) -> RemoteBackend:
    return RemoteBackend("openai/test-model", api_base=server.api_base, timeout=5.0, **kw)


# -- structured answers in the agent ------------------------------------------------------------

def test_agent_sends_the_legal_set_and_records_the_path() -> None:
    with LoopbackServer(reply=lambda user: "Let me think... D") as server:  # prose: held to the enum by the server
        traj = play_match(parse_game("prisoners-dilemma:rounds=2").make,
                          [LLMAgent(remote(server)), parse_agent("tit-for-tat").make()], PLAYERS, 1, "m")
        enums = [r.body["response_format"]["json_schema"]["schema"]["properties"]["answer"]["enum"]
                 for r in server.requests]
    mine = [s for s in traj.steps if s.player == 0]
    assert enums == [["C", "D"], ["C", "D"]]
    assert [s.action for s in mine] == ["C", "C"] and not any(s.attempts for s in mine)  # no refusal, no re-prompt
    assert all(s.info["constrained"] == "json_schema" for s in mine)


def test_agent_falls_back_when_the_provider_refuses_and_records_a_downgrade() -> None:
    with LoopbackServer(reply=lambda user: "D") as server:
        server.structured = "reject"
        agent = LLMAgent(remote(server))
        first = asyncio.run(agent.aact(pd_turn()))
        second = asyncio.run(agent.aact(pd_turn()))
        sent = [("response_format" in r.body) for r in server.requests]
    assert sent == [True, False, False]  # refused once, then plain for good
    for d in (first, second):
        assert d.action == "D" and d.info["constrained"] == ""
        assert len(d.downgrades) == 1 and d.downgrades[0].startswith("json_schema->parse: json_schema refused")


def test_reasoning_agent_gets_a_reasoning_field_and_only_the_answer_is_played() -> None:
    with LoopbackServer(reply=lambda user: "D") as server:
        d = asyncio.run(LLMAgent(remote(server), reasoning=True).aact(pd_turn()))
        props = server.requests[0].body["response_format"]["json_schema"]["schema"]["properties"]
    assert list(props) == ["reasoning", "answer"]
    assert d.action == "D" and d.info["constrained"] == "json_schema" and not d.downgrades


# -- choice mode: the scoring request is paid for -------------------------------------------------

def test_choice_mode_records_the_scoring_requests_tokens() -> None:
    with LoopbackServer() as server:
        server.top_logprobs = {"D": -0.2, "C": -1.9}
        d = asyncio.run(LLMAgent(remote(server), mode="choice").aact(pd_turn()))
        (req,) = server.requests
    assert d.action == "D" and d.info["mode"] == "choice"
    assert d.tokens_in == prompt_words(req) > 0 and d.tokens_out == 1


# -- llm-mcts ---------------------------------------------------------------------------------

def ttt_turn(moves: tuple[str, ...] = ("1", "4", "2", "5")) -> Turn:
    state = parse_game("tic-tac-toe").make(seed=0)
    for i, move in enumerate(moves):
        state.apply(i % 2, move)
    return Turn("tic-tac-toe", 0, state.rules_text(0), state.observation(0), state.legal_actions(0),
                state.observation_data(0), state=state)


def test_llm_mcts_sums_every_scoring_call_into_the_decision() -> None:
    with LoopbackServer() as server:
        server.top_logprobs = {**{str(i): -0.1 * i for i in range(1, 10)}, "win": -0.5, "draw": -1.5, "lose": -2.5}
        d = asyncio.run(LLMMCTSAgent(backend=remote(server), simulations=6, llm_value=True).aact(ttt_turn(())))
        requests = list(server.requests)
    assert d.info["llm_calls"] == len(requests) >= 3  # the root prior, then a prior and a value per new leaf
    assert any("win, draw or lose" in r.body["messages"][-1]["content"] for r in requests)
    assert d.tokens_in == sum(prompt_words(r) for r in requests)
    assert d.tokens_out == len(requests)  # each reply is one word
    assert d.cost == 0.0 and not d.downgrades


def test_llm_mcts_uniform_prior_is_a_downgrade_and_not_asked_again() -> None:
    with LoopbackServer() as server:  # no top_logprobs: the replies carry no log-probabilities
        agent = LLMMCTSAgent(backend=remote(server), simulations=4)
        first = asyncio.run(agent.aact(ttt_turn()))
        asked = len(server.requests)
        second = asyncio.run(agent.aact(ttt_turn()))
        assert len(server.requests) == asked == 1  # learnt from the first refusal
    for d in (first, second):
        assert len(d.downgrades) == 1 and d.downgrades[0].startswith("llm-mcts->uniform prior: backend cannot score")
        assert all(p == pytest.approx(0.2) for p in d.info["prior"].values())
    assert first.info["llm_calls"] == 1 and second.info["llm_calls"] == 0


def test_llm_mcts_unseen_options_fall_back_for_that_position_only() -> None:
    with LoopbackServer() as server:
        server.top_logprobs = {"Z": -0.1}  # a reply that shows none of the legal moves
        agent = LLMMCTSAgent(backend=remote(server), simulations=3)
        d = asyncio.run(agent.aact(ttt_turn(())))
        n = len(server.requests)
    assert agent.unscorable == "" and n == d.info["llm_calls"] >= 2  # each new position asked again
    assert d.downgrades and d.downgrades[0].startswith(f"llm-mcts->uniform at {n} position(s)")
    assert d.tokens_out == n  # the unusable replies were still paid for


# -- the critic -------------------------------------------------------------------------------

def coached(server: LoopbackServer) -> CriticAgent:
    return CriticAgent(parse_agent("tit-for-tat").make(), LLMAgent(remote(server)))


def two_games(server: LoopbackServer) -> Any:
    game = parse_game("prisoners-dilemma:rounds=2")
    play_match(game.make, [coached(server), parse_agent("always-defect").make()], PLAYERS, 1, "g1")
    return play_match(game.make, [coached(server), parse_agent("always-defect").make()], PLAYERS, 2, "g2")


def test_critic_call_is_charged_to_the_next_decision_that_reads_its_advice() -> None:
    MEMORY.clear()
    UNCHARGED.clear()
    with LoopbackServer(reply=lambda user: "Defect back at once.") as server:
        second = two_games(server)
        critiques = [r for r in server.requests if "coach" in r.body["messages"][0]["content"]]
    assert len(critiques) == 2  # after each game
    mine = [s for s in second.steps if s.player == 0]
    assert mine[0].tokens_in == prompt_words(critiques[0]) and mine[0].tokens_out == 4
    assert mine[0].info["critic_calls"] == 1 and "critic_calls" not in mine[1].info
    assert mine[1].tokens_in == 0  # charged once
    assert len(UNCHARGED[("me", "prisoners-dilemma", ("them",))]) == 1  # the second critique awaits a third game


def test_failing_critic_is_a_downgrade_not_a_lost_match() -> None:
    MEMORY.clear()
    UNCHARGED.clear()
    with LoopbackServer() as server:
        server.inject("401")  # the first critique fails (a client error: not retried)
        agent = coached(server)
        play_match(parse_game("prisoners-dilemma:rounds=2").make, [agent, parse_agent("always-defect").make()],
                   PLAYERS, 1, "g1")
        agent.reset({"players": ["me", "them"], "player": 0, "game": "prisoners-dilemma"})
        d = asyncio.run(agent.aact(pd_turn()))
    assert len(d.downgrades) == 1 and d.downgrades[0].startswith("critic failed: BackendError")
    assert d.info["critic_calls"] == 1 and d.info["critic_lessons"] == 0  # no advice came of it
    assert "sk-test-accounting" not in d.downgrades[0]


def test_llm_mcts_reaches_a_server_by_api_base() -> None:
    with LoopbackServer() as server:
        server.top_logprobs = {"3": -0.1, "6": -3.0}
        agent = parse_agent(f"llm-mcts:model=hosted_vllm/m,api_base={server.api_base},simulations=2").make()
        d = asyncio.run(agent.aact(ttt_turn()))
        assert agent.backend.client == "http" and server.requests[0].body["model"] == "m"
    assert d.action == "3" and d.tokens_in > 0
