"""The local LLM path on the embedded SmolLM2: sound choice scoring, constrained answers, honest records.

Model tests use the user's warm model cache (built under its lock if missing) and the
smallest games that still show the behaviour.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"  # never reach the hub, whatever happens

from llguidance import LLMatcher  # noqa: E402

from arena.agents.backends import local  # noqa: E402
from arena.agents.backends.base import Completion, Scores, ScoringUnsupported, as_scores  # noqa: E402
from arena.agents.base import Turn  # noqa: E402
from arena.agents.llm import LLMAgent  # noqa: E402
from arena.games.offers import answer_pattern, int_range_regex  # noqa: E402
from arena.match import Policy, play_match  # noqa: E402
from arena.registry import SpecError, parse_agent, parse_game  # noqa: E402
from arena.trajectory import Player  # noqa: E402

PLAYERS = [Player(0, "llm", "llm"), Player(1, "rnd", "rnd")]
CHAT = [{"role": "user", "content": "Hello"}]


# --- no model -----------------------------------------------------------------------------

def test_int_range_regex_is_exact() -> None:
    for low, high in [(0, 0), (0, 10), (8, 20), (1, 9999), (1000, 10000), (37, 512), (99, 101)]:
        rx = re.compile(int_range_regex(low, high))
        assert [n for n in range(0, 11000) if rx.fullmatch(str(n))] == list(range(low, high + 1))
        assert not rx.fullmatch("0" + str(low))


def test_free_text_games_state_their_answer_grammar() -> None:
    seller = parse_game("bargaining").make(1)
    pattern = seller.answer_pattern(0)
    assert re.fullmatch(pattern, "Hello! [OFFER $18] It is a great balloon.")
    assert not re.fullmatch(pattern, "[OFFER $7]")  # below the seller's cost
    assert not re.fullmatch(pattern, "[ACCEPT]")  # nothing to accept yet
    assert not re.fullmatch(pattern, "[OFFER $9] [OFFER $10]")  # one move per message
    seller.apply(0, seller.parse(0, "[OFFER $15]"))
    buyer = seller.answer_pattern(1)
    assert re.fullmatch(buyer, "[ACCEPT]") and re.fullmatch(buyer, "ok [OFFER $20]")
    assert not re.fullmatch(buyer, "[OFFER $21]")  # above the buyer's budget
    deal = parse_game("deal-or-no-deal").make(1)
    counts = deal.counts
    ok = "[PROPOSE " + " ".join(f"{i}={n}" for i, n in counts.items()) + "]"
    too_many = "[PROPOSE " + " ".join(f"{i}={n + 1}" for i, n in counts.items()) + "]"
    assert re.fullmatch(deal.answer_pattern(0), ok) and not re.fullmatch(deal.answer_pattern(0), too_many)
    auction = parse_game("auction").make(1)
    assert re.fullmatch(auction.answer_pattern(0), "bid 1000") and re.fullmatch(auction.answer_pattern(0), "pass")
    assert not re.fullmatch(auction.answer_pattern(0), "bid 999")
    assert not re.fullmatch(auction.answer_pattern(0), "bid 10001")
    for state, player in [(seller, 1), (deal, 0), (auction, 0)]:  # llguidance compiles every one
        assert LLMatcher.validate_grammar(LLMatcher.grammar_from_regex(state.answer_pattern(player))) == ""
        assert answer_pattern(("OFFER",), (1, 5)).startswith("[^")


def test_scores_read_like_a_list_and_normalise() -> None:
    scores = Scores([-2.0, -3.0], [1, 3], tokens_in=9)
    assert list(scores) == [-2.0, -3.0] and scores[1] == -3.0 and len(scores) == 2
    assert scores.normalised("sum") == [-2.0, -3.0] and scores.normalised("mean") == [-2.0, -1.0]
    assert as_scores([-1.0, -0.5]).lengths == [1, 1] and as_scores(scores) is scores


class _NoScoring:
    """A backend without scoring or constraints (like a plain chat API)."""

    name = "plain"

    async def complete(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                       temperature: float = 0.0, seed: int | None = None) -> Completion:
        return Completion("D", tokens_in=5, tokens_out=1)

    async def score(self, messages: list[dict[str, str]], options: list[str]) -> list[float]:
        raise ScoringUnsupported("no logprobs here")


def _turn() -> Turn:
    return Turn("prisoners-dilemma", 0, "rules", "round 1", ["C", "D"])


def test_downgrades_are_recorded() -> None:
    choice = asyncio.run(LLMAgent(_NoScoring(), mode="choice").aact(_turn()))
    assert choice.action == "D" and choice.downgrades == ["choice->generate: backend cannot score"]
    assert choice.info["path"] == "unconstrained"
    plain = asyncio.run(LLMAgent(_NoScoring()).aact(_turn()))  # auto: nothing to downgrade from
    assert plain.downgrades == []
    asked = asyncio.run(LLMAgent(_NoScoring(), constrain="true").aact(_turn()))
    assert asked.downgrades == ["constrain->parse: backend cannot constrain decoding"]


def test_bad_norm_and_constrain_are_one_line_errors() -> None:
    with pytest.raises(SpecError, match="unknown norm 'max'; valid: mean, sum"):
        parse_agent("local:smollm2:norm=max").make()
    with pytest.raises(SpecError, match="constrain='maybe'"):
        parse_agent("local:smollm2:constrain=maybe").make()


def test_scoring_never_waits_behind_a_generation_backlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three generation batches queued, then a scoring request: it runs right after the first."""
    order: list[str] = []

    def fake_generate(shared: object, reqs: list) -> list:
        order.append(f"gen{reqs[0].max_tokens}")
        time.sleep(0.05)
        return [("x", 1, 1, False)] * len(reqs)

    def fake_score(shared: object, reqs: list) -> list:
        order.append("score")
        return [local.Scores([0.0], [1])] * len(reqs)

    monkeypatch.setattr(local, "shared_model", lambda model, device: local._Shared(None, None, "cpu", 0, [0], ""))
    monkeypatch.setattr(local, "generate", fake_generate)
    monkeypatch.setattr(local, "score", fake_score)
    backend = local.LocalBackend("smollm2", device="cpu")

    async def mixed() -> None:
        gens = [asyncio.create_task(backend.complete(CHAT, max_tokens=n)) for n in (16, 17, 18)]
        await asyncio.sleep(0.02)  # the first generation batch is running
        await asyncio.gather(backend.score(CHAT, ["a"]), *gens)
        waits = local.queue_waits()
        assert len(waits["complete"]) == 3 and len(waits["score"]) == 1
    asyncio.run(mixed())
    assert order == ["gen16", "score", "gen17", "gen18"]


# --- the embedded model ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def backend() -> Any:
    from arena.agents.backends.local import LocalBackend
    found = LocalBackend("smollm2", device="cpu")
    found.load()
    return found


def _repeat_prompt(target: str) -> list[dict[str, str]]:
    """A few-shot 'repeat exactly' chat: the most likely complete reply is ``target``."""
    shots = [("zq7", "zq7"), ("b3 b", "b3 b"), ("12", "12")]
    chat = [{"role": "system", "content": "You repeat the user's text exactly, nothing else."}]
    for ask, say in shots:
        chat += [{"role": "user", "content": ask}, {"role": "assistant", "content": say}]
    return chat + [{"role": "user", "content": target}]


@pytest.mark.slow
@pytest.mark.parametrize("game", [pytest.param("hex", marks=pytest.mark.heavy), "public-goods", "holdem"])
def test_every_option_can_win(backend: Any, game: str) -> None:
    """Each option wins when it is the most likely complete answer, prefixes of others included
    ("1" vs "10", "a1" vs "a10"/"a11", "raise pot" vs "raise half-pot").  Hex scores 121 x 121
    (prompt, option) pairs: the longest test here (17 min wall at load 10)."""
    from arena.games.poker.holdem import MENU
    options = list(MENU) if game == "holdem" else parse_game(game).make(1).legal_actions(0)
    assert len(options) == {"hex": 121, "public-goods": 11, "holdem": 7}[game]

    async def winners() -> list[str]:
        found = await asyncio.gather(*(backend.score(_repeat_prompt(o), options) for o in options))
        return [options[max(range(len(s)), key=s.normalised("mean").__getitem__)] for s in found]
    assert asyncio.run(winners()) == options


@pytest.mark.slow
def test_choice_tokens_equal_the_tokenizers_count(backend: Any) -> None:
    from arena.agents.backends.local import shared_model
    tokenizer = shared_model("smollm2", "cpu").tokenizer
    agent = LLMAgent(backend, mode="choice")
    turn = Turn("public-goods", 0, "Contribute 0 to 10.", "round 1", [str(i) for i in range(11)])
    decision = asyncio.run(agent.aact(turn))
    text = tokenizer.apply_chat_template(decision.messages, tokenize=False, add_generation_prompt=True)
    prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
    options = sum(len(tokenizer(o, add_special_tokens=False)["input_ids"]) + 1 for o in turn.legal_actions or [])
    assert decision.tokens_in == len(prompt) + options > 0
    assert decision.info["path"] == "choice" and decision.downgrades == []
    assert decision.info["lengths"]["10"] == len(tokenizer("10", add_special_tokens=False)["input_ids"]) + 1


@pytest.mark.slow
@pytest.mark.parametrize("game", ["prisoners-dilemma:rounds=2", "connect-four:rows=4,cols=4", "hex:size=5",
                                  "holdem:hands=1", "bargaining:max_turns=4"])
def test_constrained_answers_are_always_legal(backend: Any, game: str) -> None:
    agent = parse_agent("local:smollm2").make()  # constrain=auto: on for the local backend
    traj = play_match(parse_game(game).make, [agent, parse_agent("random").make()], PLAYERS, 3, "m",
                      policy=Policy(retries=0))
    mine = [s for s in traj.steps if s.player == 0]
    assert mine
    assert all(not s.attempts and not s.fallback for s in mine), [(s.attempts, s.raw_action) for s in mine]
    assert {s.info["path"] for s in mine} == {"grammar"}
    assert all(s.tokens_out > 0 for s in mine)


@pytest.mark.slow
def test_reasoning_then_constrained_or_scored_answer(backend: Any) -> None:
    turn = Turn("prisoners-dilemma", 0, "Prisoner's dilemma. C cooperates, D defects.", "round 1", ["C", "D"])
    gen = asyncio.run(LLMAgent(backend, reasoning=True, max_tokens=40).aact(turn))
    assert gen.action in ("C", "D") and gen.info["path"] == "grammar"
    assert gen.completion.endswith(f"Final answer: {gen.action}") and len(gen.completion) > 20
    pick = asyncio.run(LLMAgent(backend, mode="choice", reasoning=True, max_tokens=40).aact(turn))
    assert pick.action in ("C", "D") and pick.info["path"] == "choice"
    assert "Final answer: " in pick.completion and pick.tokens_out > 0  # the reasoning was generated
