"""The agent registry: agent specs ``[NAME=]KIND[:ARG...][:key=value,...]`` to buildable agents.

KIND (grammar in :mod:`arena.spec`) is, in the order tried: ``critic`` (``critic:INNER[|LLM]``,
two agent specs), a built-in kind (``AGENTS`` of each module in :data:`AGENT_MODULES`),
``local:MODEL`` or a litellm model id ``provider/model[:tag]``, an entry point of group
``arena.agents``, or an import string ``pkg.mod:Class``.  ``isolate=`` and ``memory_mb=``
(any kind) place the agent in a child process; import strings run there by default.  Every
failure is a :class:`SpecError` with one line naming the valid choices.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from arena.agents.base import AgentInfo
from arena.games.registry import GameSpec, family_games
from arena.plugins import module_tables, plugin_entry_points
from arena.spec import Spec, SpecError, literal, parse_spec, typed_params

AGENT_MODULES = ("arena.agents.baselines", "arena.agents.negotiators", "arena.agents.werewolf_bots",
                 "arena.agents.mcts", "arena.agents.llm_mcts", "arena.agents.stockfish", "arena.agents.poker_bots",
                 "arena.agents.human")
_MODULE = re.compile(r"^[A-Za-z_][\w.]*$")
_ATTR = re.compile(r"^[A-Za-z_]\w*$")


@dataclass
class AgentSpec:
    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    spec: str = ""
    build: Callable[[], Any] | None = None

    def make(self) -> Any:
        assert self.build is not None
        return self.build()


@cache
def builtin_agents() -> dict[str, AgentInfo]:
    """Every module in :data:`AGENT_MODULES` exposes ``AGENTS: dict[str, AgentInfo]``."""
    return module_tables(AGENT_MODULES, "AGENTS")


def agent_kinds() -> dict[str, str]:
    """Kind -> one-line summary, for ``arena list agents``."""
    kinds = {k: info.summary for k, info in builtin_agents().items()}
    kinds["local:smollm2"] = "embedded SmolLM2-135M-Instruct on the CPU (local:PATH: any HF model folder)"
    kinds["provider/model"] = "any litellm model id, e.g. openai/gpt-4o-mini, ollama/llama3 (keys from env)"
    kinds["critic:INNER[|LLM]"] = "INNER coached between games by an LLM critic (in-context learning from feedback)"
    kinds.update({name: "plug-in (entry point)" for name in plugin_entry_points("arena.agents")})
    return kinds


def check_fit(agents: list[AgentSpec], games: list[GameSpec]) -> None:
    """Refuse, in one line naming the games it plays, a built-in agent seated in a game it was not built for."""
    for agent in agents:
        info = builtin_agents().get(agent.kind)
        if info is None or not info.games:
            continue
        plays = [gid for family in info.games for gid in family_games(family)]
        for game in games:
            if game.info.id not in plays:
                raise SpecError(f"agent {agent.name} ({agent.kind}) is built for {', '.join(plays)}, not "
                                f"{game.info.id}; pass --allow-any to seat it anyway")


def parse_agent(spec: str) -> AgentSpec:
    """Parse an agent spec; credentials in it are kept for the live agent only (``spec``, ``name``
    and ``params`` hold placeholders); ``isolate=`` and ``memory_mb=`` place it in a child process."""
    from arena.agents.isolate import isolation_options
    from arena.redact import SecretNotStored, redact_spec, restore_spec
    try:
        original = restore_spec(spec.strip())
    except SecretNotStored as err:
        raise SpecError(str(err)) from None
    text, isolate, memory_mb = isolation_options(original)
    parsed = _parse_agent(text, isolate, memory_mb)
    stored = redact_spec(original)
    if stored != original:
        parsed.spec, parsed.params = stored, {k: redact_spec(f"{k}={v}").partition("=")[2] if isinstance(v, str)
                                              else v for k, v in parsed.params.items()}
        parsed.name = redact_spec(parsed.name) if parsed.name in (text, original) else parsed.name
    else:
        parsed.spec = original
    return parsed


def _parse_agent(text: str, isolate: bool | None = None, memory_mb: int = 0) -> AgentSpec:
    spec = parse_spec(text, where="agent")
    name, kind = spec.name, spec.kind
    if isolate and kind != "critic":
        from arena.agents.isolate import Recipe, isolated_builder
        inner = _parse_agent(text)  # checks the spec here; the child builds it
        recipe = Recipe("spec", text, {}, tuple(sys.path), memory_mb)
        return AgentSpec(name, inner.kind, inner.params, text, isolated_builder(recipe, inner.kind))
    if kind == "critic":
        return _critic_spec(name, spec.rest, text)
    if kind in builtin_agents():
        info = builtin_agents()[kind]
        if spec.args or spec.positional:
            raise SpecError(f"agent {kind}: expected key=value parameters; valid keys: "
                            f"{', '.join(sorted(info.params)) or 'none'}")
        params = typed_params(spec.params, info.params, f"agent {kind}")
        return AgentSpec(name, kind, params, text, lambda: _build(info, params, kind))
    if kind == "local" or "/" in kind:
        return _llm_spec(spec, text)
    eps = plugin_entry_points("arena.agents")
    if kind in eps:
        params = {k: literal(v) for k, v in spec.params.items()}
        return AgentSpec(name, kind, params, text, lambda: instantiate(eps[kind].load(), params, kind))
    if _MODULE.match(kind) and spec.args and _ATTR.match(spec.args[0]):
        target = f"{kind}:{spec.args[0]}"
        params = {k: literal(v) for k, v in spec.params.items()}
        if isolate is not False:  # plug-ins run in a child process unless isolate=false
            from arena.agents.isolate import Recipe, isolated_builder
            recipe = Recipe("import", target, params, tuple(sys.path), memory_mb)
            return AgentSpec(name, target, params, text, isolated_builder(recipe, kind))
        loaded = load_import_string(target)
        return AgentSpec(name, target, params, text, lambda: instantiate(loaded, params, kind))
    raise SpecError(f"unknown agent {kind!r}; valid: {', '.join(sorted(agent_kinds()))}, "
                    "local:smollm2, local:PATH, provider/model (litellm), or pkg.module:Class")


def _critic_spec(name: str, rest: str, text: str) -> AgentSpec:
    """``critic:INNER[|CRITIC]``: INNER plays, CRITIC (an LLM spec) coaches it between games."""
    inner_text, _, critic_text = rest.partition("|")
    if not inner_text.strip():
        raise SpecError("critic needs the agent it coaches: critic:INNER[|CRITIC_LLM], e.g. critic:local:smollm2")
    inner = parse_agent(inner_text)
    if not critic_text:
        critic_text = inner_text if inner.kind.startswith("local:") or "/" in inner.kind else "local:smollm2"
    critic = parse_agent(critic_text)

    def build() -> Any:
        from arena.agents.critic import build_critic
        try:
            return build_critic(inner.make(), critic.make())
        except ValueError as err:
            raise SpecError(f"agent {text}: {err}") from None
    return AgentSpec(name, "critic", {"inner": inner.spec, "critic": critic.spec}, text, build)


def _build(info: AgentInfo, params: dict[str, Any], kind: str) -> Any:
    try:
        return info.make(**params)
    except ValueError as err:
        raise SpecError(f"agent {kind}: {err}") from None


def _llm_spec(spec: Spec, text: str) -> AgentSpec:
    """``local:MODEL[:key=value,...]`` / ``provider/model[:tag][:key=value,...]`` (and the old
    alias ``local:MODEL,key=value,...``: a bare item among the parameters is the model)."""
    from arena.agents.llm import LOCAL_PARAMS, REMOTE_PARAMS, build_llm
    kind = spec.kind
    params = typed_params(spec.params, LOCAL_PARAMS if kind == "local" else REMOTE_PARAMS, f"agent {kind}")
    if kind == "local":
        model = ":".join(spec.args) or ",".join(spec.positional) or "smollm2"
    else:
        kind, model = ":".join([kind, *spec.args, *spec.positional]), ""

    def build() -> Any:
        try:
            return build_llm(kind, model, params)
        except ValueError as err:
            raise SpecError(f"agent {text}: {err}") from None
    return AgentSpec(spec.name, kind if kind != "local" else f"local:{model}", params, text, build)


def load_import_string(target: str) -> Any:
    """The object ``pkg.mod:attr`` names; a missing module or attribute is a one-line :class:`SpecError`."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise SpecError(f"{target}: module {module_name!r} not found (is it installed or on PYTHONPATH?)") from None
        raise SpecError(f"{target}: importing {module_name!r} failed: No module named {err.name!r}") from None
    except Exception as err:
        raise SpecError(f"{target}: importing {module_name!r} failed: {type(err).__name__}: {err}") from None
    if not hasattr(module, attr):
        public = [n for n in dir(module) if not n.startswith("_")]
        raise SpecError(f"{target}: module {module_name!r} has no attribute {attr!r}; "
                        f"it has: {', '.join(public[:20])}")
    return getattr(module, attr)


def instantiate(target: Any, params: dict[str, Any], where: str) -> Any:
    """An agent from a plug-in: a class or factory called with ``params``, or a ready object with ``act``."""
    try:
        agent = target(**params) if callable(target) and isinstance(target, type) else (
            target(**params) if callable(target) and not hasattr(target, "act") else target)
    except TypeError as err:
        raise SpecError(f"agent {where}: {err}") from None
    if not (hasattr(agent, "act") or hasattr(agent, "aact")):
        raise SpecError(f"agent {where}: {type(agent).__name__} has no act(turn) or aact(turn) method")
    return agent
