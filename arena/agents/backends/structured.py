"""Structured outputs for remote models: the answer held to the legal set by the provider.

Two documented ways, both through the OpenAI chat-completions request:

- ``json_schema``: ``response_format = {"type": "json_schema", "json_schema": {...}}`` whose
  schema is an object with one ``answer`` string field — an ``enum`` of the legal actions,
  or a ``pattern`` (the game's answer grammar, anchored) for free text. With reasoning, a
  free ``reasoning`` string field comes *before* the answer, so the model thinks first.
  OpenAI (strict mode), vLLM, SGLang and Ollama (litellm maps it to Ollama's ``format``)
  implement it.
- ``guided_choice``: vLLM's own fields, ``structured_outputs = {"choice": [...]}`` (or
  ``{"regex": ...}``) in the request body (vLLM >= 0.10.2; the older ``guided_choice`` /
  ``guided_regex`` names were removed in 0.12). The reply is the bare answer. Only
  without reasoning; with reasoning the JSON schema is used.

The reply handed to the agent is plain text it already parses: the answer, or with
reasoning ``"<reasoning>\\nFinal answer: <answer>"``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from arena.agents.backends.openai_compat import split_model

MODES = ("auto", "json_schema", "guided_choice", "off")
#: Provider prefixes (litellm's) whose chat API takes a JSON schema in ``response_format``.
JSON_SCHEMA_PROVIDERS = frozenset({"openai", "azure", "hosted_vllm", "ollama", "ollama_chat", "lm_studio"})
_OPENAI_BARE = re.compile(r"^(gpt-|o\d|chatgpt-)")  # litellm routes these bare names to OpenAI
_REFUSAL = re.compile(r"response_format|json_schema|structured|guided|schema|unsupported|not supported", re.I)
_FINAL = re.compile(r"final answer\s*[:\-]", re.I)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


def resolve_mode(mode: str, model: str) -> str:
    """The structured-output path a backend uses: "json_schema", "guided_choice" or "" (none)."""
    if mode not in MODES:
        raise ValueError(f"unknown structured mode {mode!r}; valid: {', '.join(MODES)}")
    if mode == "off":
        return ""
    if mode != "auto":
        return mode
    provider, _ = split_model(model)
    if provider in JSON_SCHEMA_PROVIDERS or (not provider and _OPENAI_BARE.match(model)):
        return "json_schema"
    return ""


def answer_schema(allowed: list[str] | None, pattern: str | None, reasoning: bool) -> dict[str, Any]:
    """The JSON schema of a reply: ``{"reasoning"?: str, "answer": enum | pattern}``."""
    answer: dict[str, Any] = {"type": "string"}
    if allowed is not None:
        answer["enum"] = list(allowed)
    elif pattern:
        answer["pattern"] = f"^(?:{pattern})$"  # JSON Schema patterns are not anchored; the game's is in full
    props: dict[str, Any] = {"reasoning": {"type": "string"}} if reasoning else {}
    props["answer"] = answer
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


def request_fields(mode: str, allowed: list[str] | None, pattern: str | None,
                   reasoning: bool) -> tuple[str, dict[str, Any]]:
    """(path used, request parameters) asking the provider to hold the answer; ("", {}) when nothing to hold."""
    if not mode or (allowed is None and not pattern):
        return "", {}
    if mode == "guided_choice" and not reasoning:
        guide = {"choice": list(allowed)} if allowed is not None else {"regex": pattern}
        return "guided_choice", {"extra_body": {"structured_outputs": guide}}
    schema = answer_schema(allowed, pattern, reasoning)
    return "json_schema", {"response_format": {"type": "json_schema", "json_schema": {
        "name": "answer", "strict": True, "schema": schema}}}


def holds(answer: str, allowed: list[str] | None, pattern: str | None) -> bool:
    """Whether ``answer`` is within what was asked for (the provider really held it)."""
    if allowed is not None:
        return answer in allowed
    return pattern is None or re.fullmatch(pattern, answer) is not None


def read_reply(text: str, path: str, reasoning: bool) -> tuple[str, str | None]:
    """(text for the agent, the answer field) of a structured reply; answer None when it is not the JSON asked for."""
    if path == "guided_choice":
        return text, text.strip()
    try:
        data = json.loads(_FENCE.sub("", text.strip()))
    except ValueError:
        return text, None
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return text, None
    answer, thought = data["answer"], data.get("reasoning")
    if reasoning and isinstance(thought, str):  # the agent reads the last "Final answer:": keep it the only one
        return f"{_FINAL.sub('answer:', thought.strip())}\nFinal answer: {answer}", answer
    return answer, answer


def is_refusal(status: int | None, kind: str | None, message: str) -> bool:
    """A client error that says the provider does not take structured outputs (so: fall back)."""
    return (status in (400, 404, 422) or kind == "UnsupportedParamsError") and bool(_REFUSAL.search(message))
