"""RemoteBackend against a real OpenAI-compatible server on 127.0.0.1, through both clients.

No mock of litellm or httpx: every test is an HTTP round trip to :mod:`tests.loopback`.
Fault tests run on the direct http client and on litellm (``client`` fixture).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

import pytest

from arena.agents.backends.base import EmptyCompletion, Scores, ScoringUnsupported
from arena.agents.backends.remote import BackendError, RemoteBackend, option_logprob, option_score
from arena.errors import InfrastructureError
from arena.retry import is_transient, retry_after, with_retries
from tests.loopback import LoopbackServer

KEY = "sk-test-PLANTED-1234567890"
MODEL = "openai/test-model"
MESSAGES = [{"role": "system", "content": "You play the prisoner's dilemma."},
            {"role": "user", "content": "Round 1. Answer C or D."}]


@pytest.fixture(autouse=True)
def planted_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture everything, litellm's debug chatter included, to look for the key in it."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="LiteLLM")
    return caplog


@pytest.fixture(params=["http", "litellm"])
def client(request: pytest.FixtureRequest) -> str:
    return request.param


def backend(server: LoopbackServer, **kw) -> RemoteBackend:
    return RemoteBackend(MODEL, api_base=server.api_base, **{"timeout": 5.0, **kw})


def complete(b: RemoteBackend, **kw):
    return asyncio.run(b.complete(MESSAGES, **kw))


def assert_no_key(*texts: str) -> None:
    for text in texts:
        assert KEY not in text
        assert "PLANTED" not in text


def no_key_anywhere(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture, *more: str) -> None:
    out = capsys.readouterr()
    assert_no_key(caplog.text, out.out, out.err, *[r.getMessage() for r in caplog.records], *more)


# -- the happy path ---------------------------------------------------------------------

def test_reply_tokens_and_key_sent(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.reply = lambda user: "D" if "Round 1" in user else "C"
    c = complete(backend(loopback_server, client=client), max_tokens=8, seed=3)
    assert c.text == "D"
    assert (c.tokens_in, c.tokens_out) == (11, 1)  # the loopback counts words
    assert c.cost == 0.0  # unknown model: no price, no crash
    assert 0 < c.latency < 5
    (req,) = loopback_server.requests
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"  # litellm took the key from the environment
    assert req.body["model"] == "test-model" and req.body["messages"] == MESSAGES
    assert req.body["max_tokens"] == 8 and req.body["seed"] == 3 and req.body["temperature"] == 0.0


def test_same_backend_serves_several_event_loops(loopback_server: LoopbackServer) -> None:
    b = backend(loopback_server)
    assert [complete(b).text for _ in range(3)] == ["C", "C", "C"]


def test_concurrency_is_capped(loopback_server: LoopbackServer) -> None:
    loopback_server.latency = 0.2
    b = backend(loopback_server, max_concurrency=3)

    async def many() -> list[str]:
        return [c.text for c in await asyncio.gather(*(b.complete(MESSAGES) for _ in range(9)))]

    start = time.monotonic()
    assert asyncio.run(many()) == ["C"] * 9
    assert loopback_server.max_in_flight == 3
    assert time.monotonic() - start >= 0.55  # three waves of 0.2 s


# -- faults -----------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["500", "429"])
def test_transient_error_is_retried_once(loopback_server: LoopbackServer, client: str, fault: str,
                                         caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture) -> None:
    loopback_server.inject(fault)
    assert complete(backend(loopback_server, client=client)).text == "C"
    assert [r.fault for r in loopback_server.requests] == [fault, None]  # litellm's own retries are off
    retries = [r for r in caplog.records if r.name == "arena.retry"]
    assert len(retries) == 1 and "attempt 1/4" in retries[0].getMessage()
    no_key_anywhere(caplog, capsys)


def test_rate_limit_retry_after_is_honoured(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.inject("429", "429")
    start = time.monotonic()
    assert complete(backend(loopback_server, client=client)).text == "C"
    assert len(loopback_server.requests) == 3
    assert time.monotonic() - start < 0.4  # Retry-After: 0, not the 0.25-1.5 s exponential backoff


def test_slow_reply_times_out_then_retry_succeeds(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.inject("slow:3")
    start = time.monotonic()
    c = complete(backend(loopback_server, client=client, timeout=0.5))
    assert c.text == "C"
    assert len(loopback_server.requests) == 2
    assert time.monotonic() - start < 2.5  # did not wait for the slow reply


def test_always_slow_gives_backend_error_after_attempts(loopback_server: LoopbackServer, client: str,
                                                        caplog: pytest.LogCaptureFixture,
                                                        capsys: pytest.CaptureFixture) -> None:
    loopback_server.inject("slow:3", "slow:3")
    with pytest.raises(BackendError) as info:
        complete(backend(loopback_server, client=client, timeout=0.4, attempts=2))
    assert len(loopback_server.requests) == 2
    assert "failed after 2 attempt(s)" in str(info.value) and "Timeout" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    no_key_anywhere(caplog, capsys, str(info.value), repr(info.value))


def test_malformed_json_is_retried_then_reported(loopback_server: LoopbackServer, client: str,
                                                 caplog: pytest.LogCaptureFixture,
                                                 capsys: pytest.CaptureFixture) -> None:
    loopback_server.inject("malformed")
    assert complete(backend(loopback_server, client=client)).text == "C"  # litellm maps a broken body to a 500: retried
    loopback_server.reset()
    loopback_server.inject(*["malformed"] * 2)
    with pytest.raises(BackendError) as info:
        complete(backend(loopback_server, client=client, attempts=2))
    assert len(loopback_server.requests) == 2
    msg = str(info.value)
    assert msg.startswith("openai/test-model: failed after 2 attempt(s)") and "Expecting value" in msg
    no_key_anywhere(caplog, capsys, msg)


def test_empty_content_is_an_error_not_retried(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.inject("empty")
    with pytest.raises(EmptyCompletion, match="empty completion"):
        complete(backend(loopback_server, client=client))
    assert len(loopback_server.requests) == 1


@pytest.mark.parametrize("fault,status", [("400", 400), ("401", 401)])
def test_client_errors_are_not_retried_and_key_is_redacted(loopback_server: LoopbackServer, client: str, fault: str,
                                                           status: int, caplog: pytest.LogCaptureFixture,
                                                           capsys: pytest.CaptureFixture) -> None:
    loopback_server.inject(fault)  # the 401 echoes "Bearer <key>" in its error message
    with pytest.raises(BackendError) as info:
        complete(backend(loopback_server, client=client))
    assert len(loopback_server.requests) == 1
    assert info.value.status == status
    assert "failed after 1 attempt(s)" in str(info.value)
    if fault == "401":
        assert "[REDACTED]" in str(info.value)
    no_key_anywhere(caplog, capsys, str(info.value), repr(info.value), info.value.kind or "")


def test_explicit_api_key_is_redacted_too(loopback_server: LoopbackServer, client: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    secret = "explicit-secret-9f8e7d6c5b"  # not key-shaped, not in the environment
    loopback_server.inject("401")
    with pytest.raises(BackendError) as info:
        complete(backend(loopback_server, client=client, api_key=secret))
    assert loopback_server.requests[0].headers["authorization"] == f"Bearer {secret}"
    assert secret not in str(info.value)


# -- scoring ----------------------------------------------------------------------------

def test_score_from_top_logprobs_with_its_tokens(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.top_logprobs = {"C": -0.1, "D": -2.5, " J": -4.0}
    scores = asyncio.run(backend(loopback_server, client=client).score(MESSAGES, ["C", "D", "J", "X"]))
    assert isinstance(scores, Scores)
    assert scores.logprobs[:3] == [-0.1, -2.5, -4.0] and scores.logprobs[3] == -math.inf
    assert scores.lengths == [2, 2, 2, 1]  # one token each plus the end of the reply; X: not seen
    assert (scores.tokens_in, scores.tokens_out, scores.cost) == (11, 1, 0.0)  # the request's own usage
    (req,) = loopback_server.requests
    assert req.body["logprobs"] is True and req.body["top_logprobs"] == 20 and req.body["temperature"] == 0.0


def test_score_without_logprobs_is_unsupported(loopback_server: LoopbackServer) -> None:
    with pytest.raises(ScoringUnsupported, match="no log-probabilities"):
        asyncio.run(backend(loopback_server).score(MESSAGES, ["C", "D"]))


def test_score_rejected_by_provider_is_unsupported(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.inject("400")
    with pytest.raises(ScoringUnsupported, match="refused a logprobs request"):
        asyncio.run(backend(loopback_server, client=client).score(MESSAGES, ["C", "D"]))


def test_option_logprob_walks_the_generated_tokens() -> None:
    # generated "Cooperate" as "Co" + "operate"; alternatives seen at each position
    positions = [("Co", {"Co": -0.2, "Def": -1.9, "C": -3.0}), ("operate", {"operate": -0.01, "op": -5.0})]
    assert option_logprob("Cooperate", positions) == pytest.approx(-0.21)  # exact, along the path
    assert option_logprob("Defect", positions) == -1.9  # leaves the path: upper bound from the prefix
    assert option_logprob("C", positions) == -3.0  # a whole option among the alternatives
    assert option_logprob("Coop", positions) == pytest.approx(-5.2)
    assert option_logprob("Zebra", positions) == -math.inf
    assert option_logprob(" Co", [(" Co", {" Co": -0.5})]) == -0.5  # leading whitespace ignored
    assert option_score("Cooperate", positions) == (pytest.approx(-0.21), 3)  # two tokens + end of reply


# -- the retry policy itself ------------------------------------------------------------

class _Status(Exception):
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"status {status}")
        self.status_code = status
        self.headers = headers or {}


def test_retry_predicate() -> None:
    assert all(is_transient(_Status(s)) for s in (408, 429, 500, 502, 503, 529))
    assert not any(is_transient(_Status(s)) for s in (400, 401, 403, 404, 422))
    assert is_transient(TimeoutError()) and is_transient(ConnectionResetError())
    assert not is_transient(ValueError("nope"))
    assert retry_after(_Status(429, {"retry-after": "1.5"})) == 1.5
    assert retry_after(_Status(429)) is None


def test_with_retries_gives_up_and_reraises_the_last_error() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        raise _Status(503, {"Retry-After": "0"})

    with pytest.raises(_Status):
        asyncio.run(with_retries(flaky, attempts=3))
    assert len(calls) == 3

    calls.clear()

    async def bad_request() -> str:
        calls.append(1)
        raise _Status(400)

    with pytest.raises(_Status):
        asyncio.run(with_retries(bad_request, attempts=3))
    assert len(calls) == 1


# -- every failure after the retry policy is an infrastructure error -----------------------

def test_server_errors_after_retries_are_infrastructure_errors(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.inject("500", "500")
    with pytest.raises(BackendError) as info:
        complete(backend(loopback_server, client=client, attempts=2))
    assert isinstance(info.value, InfrastructureError) and info.value.status == 500
    assert len(loopback_server.requests) == 2


def test_unreachable_server_is_a_backend_error(client: str) -> None:
    with LoopbackServer() as gone:
        api_base = gone.api_base  # a port nobody listens on once it is stopped
    b = RemoteBackend(MODEL, api_base=api_base, client=client, timeout=2.0, attempts=2)
    with pytest.raises(BackendError, match="failed after 2 attempt"):
        complete(b)


def test_client_choice() -> None:
    assert RemoteBackend(MODEL, api_base="http://127.0.0.1:1/v1").client == "http"
    assert RemoteBackend("hosted_vllm/Qwen/Qwen2.5-7B", api_base="http://127.0.0.1:1/v1").client == "http"
    assert RemoteBackend(MODEL).client == "litellm"  # OpenAI itself, priced by litellm
    assert RemoteBackend("ollama/llama3", api_base="http://127.0.0.1:1").client == "litellm"
    assert RemoteBackend(MODEL, api_base="http://127.0.0.1:1/v1", client="litellm").client == "litellm"
    with pytest.raises(ValueError, match="client='http' needs an api_base"):
        RemoteBackend(MODEL, client="http")
    with pytest.raises(ValueError, match="unknown client 'curl'"):
        RemoteBackend(MODEL, client="curl")


def test_hosted_vllm_prefix_and_its_key(loopback_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTED_VLLM_API_KEY", "vllm-token-abcdef123")
    b = RemoteBackend("hosted_vllm/Qwen/Qwen2.5-7B", api_base=loopback_server.api_base)
    assert asyncio.run(b.complete(MESSAGES)).text == "C"
    (req,) = loopback_server.requests
    assert req.body["model"] == "Qwen/Qwen2.5-7B" and req.headers["authorization"] == "Bearer vllm-token-abcdef123"


# -- structured outputs -------------------------------------------------------------------

def test_json_schema_arrives_and_the_answer_is_held_to_it(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.reply = lambda user: "Cooperate, obviously"  # outside the set: the server holds it to the enum
    b = backend(loopback_server, client=client)
    c = complete(b, allowed=["C", "D"])
    assert (c.text, c.constrained) == ("C", "json_schema")
    fmt = loopback_server.requests[0].body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["properties"] == {"answer": {"type": "string", "enum": ["C", "D"]}}
    assert schema["required"] == ["answer"] and schema["additionalProperties"] is False
    loopback_server.reply = lambda user: "D"
    assert complete(b, allowed=["C", "D"]).text == "D"
    plain = complete(b)  # nothing to hold: no schema sent
    assert plain.constrained == "" and "response_format" not in loopback_server.requests[-1].body


def test_schema_with_reasoning_puts_a_free_field_first(loopback_server: LoopbackServer, client: str) -> None:
    from arena.agents.llm import extract_answer
    loopback_server.reply = lambda user: "D"
    c = complete(backend(loopback_server, client=client), allowed=["C", "D"], reasoning=True)
    schema = loopback_server.requests[0].body["response_format"]["json_schema"]["schema"]
    assert list(schema["properties"]) == ["reasoning", "answer"] and schema["required"] == ["reasoning", "answer"]
    assert c.constrained == "json_schema" and c.text.endswith("\nFinal answer: D")
    assert extract_answer(c.text, True) == "D"  # the reasoning's own "Final answer: no" does not win


def test_free_text_pattern_is_sent_anchored(loopback_server: LoopbackServer) -> None:
    loopback_server.reply = lambda user: "[OFFER $12]"
    c = complete(backend(loopback_server), pattern=r"\[OFFER \$\d+\]")
    answer = loopback_server.requests[0].body["response_format"]["json_schema"]["schema"]["properties"]["answer"]
    assert answer == {"type": "string", "pattern": r"^(?:\[OFFER \$\d+\])$"}
    assert (c.text, c.constrained) == ("[OFFER $12]", "json_schema")


def test_guided_choice_uses_vllms_field(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.reply = lambda user: "maybe"
    b = RemoteBackend("hosted_vllm/m", api_base=loopback_server.api_base, structured="guided_choice", client=client)
    c = asyncio.run(b.complete(MESSAGES, allowed=["C", "D"]))
    body = loopback_server.requests[0].body
    assert body["structured_outputs"] == {"choice": ["C", "D"]} and "response_format" not in body
    assert (c.text, c.constrained) == ("C", "guided_choice")


def test_refused_structured_outputs_fall_back_and_are_remembered(loopback_server: LoopbackServer,
                                                                 client: str) -> None:
    loopback_server.structured = "reject"
    loopback_server.reply = lambda user: "D"
    b = backend(loopback_server, client=client)
    c = complete(b, allowed=["C", "D"])
    assert (c.text, c.constrained) == ("D", "")
    first, retry = loopback_server.requests
    assert "response_format" in first.body and "response_format" not in retry.body
    assert "response_format" in b.structured_refused and "not supported" in b.structured_refused
    loopback_server.reset()
    assert complete(b, allowed=["C", "D"]).constrained == ""
    (again,) = loopback_server.requests  # remembered: one plain request
    assert "response_format" not in again.body


def test_ignored_schema_is_remembered_too(loopback_server: LoopbackServer) -> None:
    loopback_server.structured = "ignore"  # plain text back, as a provider that drops the parameter
    b = backend(loopback_server)
    c = complete(b, allowed=["C", "D"])
    assert (c.text, c.constrained) == ("C", "") and "ignored" in b.structured_refused
    complete(b, allowed=["C", "D"])
    assert "response_format" not in loopback_server.requests[-1].body


def test_other_client_errors_are_not_mistaken_for_a_refusal(loopback_server: LoopbackServer) -> None:
    loopback_server.inject("400")  # "injected bad request": says nothing of structured outputs
    b = backend(loopback_server)
    with pytest.raises(BackendError):
        complete(b, allowed=["C", "D"])
    assert len(loopback_server.requests) == 1 and b.structured_refused == ""


def test_structured_off_and_unknown_providers() -> None:
    assert RemoteBackend(MODEL, structured="off").structured == ""
    assert RemoteBackend("anthropic/claude-3-5-haiku").structured == ""  # not a documented json_schema provider
    assert RemoteBackend("ollama/llama3").structured == "json_schema"
    assert RemoteBackend("gpt-4o-mini").structured == "json_schema"
    with pytest.raises(ValueError, match="unknown structured mode 'xml'"):
        RemoteBackend(MODEL, structured="xml")


def test_truncated_structured_reply_is_not_taken_for_a_refusal(loopback_server: LoopbackServer) -> None:
    loopback_server.structured = "ignore"
    loopback_server.reply = lambda user: '{"answer": "C'  # cut short
    loopback_server.finish_reason = "length"
    b = backend(loopback_server)
    c = complete(b, allowed=["C", "D"], max_tokens=4)
    assert c.constrained == "" and b.structured_refused == ""  # still asked for next time
    assert loopback_server.requests[0].body["max_tokens"] == 4 + 16  # room for the JSON around the answer


def test_reply_without_choices_is_a_backend_error(loopback_server: LoopbackServer, client: str) -> None:
    loopback_server.inject(*["shapeless"] * 4)
    with pytest.raises(BackendError, match="openai/test-model: "):
        complete(backend(loopback_server, client=client))
