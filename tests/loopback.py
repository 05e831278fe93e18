"""A tiny OpenAI-compatible chat server on 127.0.0.1, for tests and benchmarks.

It serves ``POST /v1/chat/completions`` and ``POST /chat/completions`` from a
background thread (one thread per connection, so requests are served
concurrently) with deterministic replies: ``reply(last_user_message) -> str``
(default: always ``"C"``).

Faults for the next requests are queued with :meth:`LoopbackServer.inject`;
each request pops at most one:

- ``"500"``: HTTP 500 with an OpenAI-style error body;
- ``"429"``: HTTP 429 with ``Retry-After: 0``;
- ``"slow"`` or ``"slow:SECONDS"``: sleep (default :attr:`slow_seconds`), then reply normally;
- ``"malformed"``: HTTP 200 whose body is not JSON;
- ``"shapeless"``: HTTP 200 whose JSON has no ``choices``;
- ``"empty"``: a well-formed completion whose content is ``""``;
- ``"400"``: HTTP 400 (a client error, not worth retrying);
- ``"401"``: HTTP 401 whose message echoes the Authorization header it got, the
  way some servers do (to check that keys are redacted from errors).

Structured outputs: a request with ``response_format`` (a JSON schema) or vLLM's
``structured_outputs`` is answered within it, the way a constrained decoder would: the
reply if it is in the schema's ``enum`` (or matches its ``pattern``), else the first enum
value (or :attr:`pattern_default`); with a ``reasoning`` property the JSON carries one first. :attr:`structured` set to
``"reject"`` makes it a server without them (HTTP 400 naming ``response_format``), and
``"ignore"`` one that drops them silently (plain text back).

``latency`` adds a sleep to every request. Every request is recorded
(:attr:`requests`: path, lower-cased headers, parsed JSON body, fault applied), and
:attr:`max_in_flight` is the most requests it was serving at once.
When a request asks for ``logprobs`` and :attr:`top_logprobs` is set (a dict
token -> log-prob), the reply carries one position of log-probs whose sampled
token is the most likely entry.

Use it as a context manager, or through the pytest fixture ``loopback_server``::

    from tests.loopback import loopback_server  # noqa: F401  (in conftest.py)
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

FAULTS = ("500", "429", "slow", "malformed", "empty", "400", "401", "shapeless")
STRUCTURED = ("accept", "reject", "ignore")


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    fault: str | None
    peer: str = ""  # client host:port, one per TCP connection
    at: float = field(default_factory=time.monotonic)


def _last_user(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages or []):
        if m.get("role") == "user":
            content = m.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def _words(text: str) -> int:
    return len(text.split())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once in the benchmark
    owner: "LoopbackServer"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    disable_nagle_algorithm = True  # else headers and body, written apart, meet delayed ACKs: +40 ms a reply
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing to do

    def do_GET(self) -> None:
        self._send(404, b'{"error": {"message": "not found"}}')

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fault = owner._next_fault()
        owner._record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body, fault,
                               "%s:%s" % self.client_address[:2]))
        owner._enter()
        try:
            self._serve(owner, body, fault)
        finally:
            owner._leave()

    def _serve(self, owner: "LoopbackServer", body: dict[str, Any] | None, fault: str | None) -> None:
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, b'{"error": {"message": "no such route", "type": "invalid_request_error"}}')
            return
        if owner.latency:
            time.sleep(owner.latency)
        if fault == "500":
            self._send(500, b'{"error": {"message": "loopback: injected server error", "type": "server_error"}}')
            return
        if fault == "400":
            self._send(400, b'{"error": {"message": "loopback: injected bad request", "type": "invalid_request_error"}}')
            return
        if fault == "401":
            said = self.headers.get("Authorization", "")
            msg = {"error": {"message": f"loopback: invalid credentials {said!r}", "type": "invalid_request_error"}}
            self._send(401, json.dumps(msg).encode())
            return
        if fault == "429":
            self._send(429, b'{"error": {"message": "loopback: injected rate limit", "type": "rate_limit"}}',
                       {"Retry-After": "0"})
            return
        if fault is not None and fault.startswith("slow"):
            _, _, secs = fault.partition(":")
            time.sleep(float(secs) if secs else owner.slow_seconds)
        if fault == "malformed":
            self._send(200, b'{"id": "chatcmpl-broken", "choices": [ {"message": ')
            return
        if fault == "shapeless":
            self._send(200, b'{"id": "chatcmpl-shapeless", "object": "chat.completion", "choices": []}')
            return
        if body is None:
            self._send(400, b'{"error": {"message": "body is not JSON", "type": "invalid_request_error"}}')
            return
        if owner.structured == "reject" and ("response_format" in body or "structured_outputs" in body):
            self._send(400, b'{"error": {"message": "loopback: response_format / structured outputs are not '
                            b'supported by this server", "type": "invalid_request_error"}}')
            return
        self._send(200, json.dumps(owner._completion(body, empty=(fault == "empty"))).encode())


class LoopbackServer:
    """An OpenAI-compatible chat-completions server on 127.0.0.1 (free port)."""

    def __init__(self, reply: Callable[[str], str] | None = None, *, latency: float = 0.0,
                 slow_seconds: float = 2.0, model: str = "test-model") -> None:
        self.reply: Callable[[str], str] = reply or (lambda _user: "C")
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.model = model
        self.top_logprobs: dict[str, float] | None = None
        self.structured = "accept"
        self.pattern_default = "[OFFER $10]"
        self.finish_reason = "stop"  # "length": replies say they were cut at max_tokens
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> "LoopbackServer":
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="loopback-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What to pass as litellm's ``api_base`` (ends in ``/v1``)."""
        return f"{self.url}/v1"

    # -- faults and records ------------------------------------------------
    def inject(self, *faults: str) -> None:
        """Apply ``faults`` to the next ``len(faults)`` requests, in order."""
        for f in faults:
            if f.split(":")[0] not in FAULTS:
                raise ValueError(f"unknown fault {f!r}; expected one of {FAULTS} (or 'slow:SECONDS')")
        with self._lock:
            self._faults.extend(faults)

    def reset(self) -> None:
        """Forget recorded requests, pending faults and the in-flight peak."""
        with self._lock:
            self._faults.clear()
            self.requests.clear()
            self.max_in_flight = self.in_flight

    @property
    def pending_faults(self) -> list[str]:
        with self._lock:
            return list(self._faults)

    def _next_fault(self) -> str | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    # -- replies -----------------------------------------------------------
    def _constrained(self, body: dict[str, Any], text: str) -> str:
        """``text`` held to the request's structured-output constraint, if any (and accepted)."""
        if self.structured != "accept":
            return text
        guide = body.get("structured_outputs")
        if isinstance(guide, dict) and guide.get("choice"):
            return text if text in guide["choice"] else guide["choice"][0]
        fmt = body.get("response_format")
        if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
            return text
        props = fmt["json_schema"]["schema"]["properties"]
        answer = props["answer"]
        if "enum" in answer and text not in answer["enum"]:
            text = answer["enum"][0]
        elif "pattern" in answer and not re.search(answer["pattern"], text):
            text = self.pattern_default  # what a constrained decoder would have been held to
        out = {k: (text if k == "answer" else "loopback reasoning; Final answer: no") for k in props}
        return json.dumps(out)

    def _completion(self, body: dict[str, Any], *, empty: bool) -> dict[str, Any]:
        messages = body.get("messages") or []
        text = "" if empty else self._constrained(body, self.reply(_last_user(messages)))
        prompt_tokens = sum(_words(m.get("content") or "") for m in messages if isinstance(m.get("content"), str))
        choice: dict[str, Any] = {"index": 0, "finish_reason": self.finish_reason, "logprobs": None,
                                  "message": {"role": "assistant", "content": text}}
        if body.get("logprobs") and self.top_logprobs and not empty:
            k = int(body.get("top_logprobs") or 0)
            ranked = sorted(self.top_logprobs.items(), key=lambda kv: -kv[1])
            first, first_lp = ranked[0]
            choice["message"]["content"] = text = first
            choice["logprobs"] = {"content": [{
                "token": first, "logprob": first_lp, "bytes": list(first.encode()),
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in ranked[:k]],
            }]}
        completion_tokens = max(_words(text), 1) if text else 0
        return {
            "id": f"chatcmpl-loopback-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [choice],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    """A started :class:`LoopbackServer` (default reply ``"C"``), stopped after the test."""
    with LoopbackServer() as server:
        yield server


def serve_in_process(latency: float, addresses: Any) -> None:
    """Serve a :class:`LoopbackServer` in this (child) process until it is terminated.

    Benchmarks run it with :mod:`multiprocessing` so that the server's CPU stays out of the
    client's ``time.process_time``; its ``api_base`` is put on ``addresses`` (a queue).
    """
    with LoopbackServer(latency=latency) as server:
        addresses.put(server.api_base)
        threading.Event().wait()
