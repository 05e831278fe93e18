"""The one registry: game and agent spec strings, import strings, entry points.

Specs: games ``ID[:key=value,...]``; agents ``[NAME=]KIND[:key=value,...]`` where
KIND is a built-in id, ``local:MODEL``, a litellm model id (``provider/model``), an
import string ``pkg.mod:Class`` or an entry point of group ``arena.agents``.  Every
failure is a :class:`SpecError` with one line naming the valid choices.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from arena.errors import ArenaError
from arena.games.base import GameInfo, State
from arena.games.index import GAME_MODULES, game_index


class SpecError(ArenaError, ValueError):
    """A bad game/agent spec, import string or parameter (one line, names valid choices)."""


@dataclass(frozen=True)
class GameSpec:
    info: GameInfo
    params: dict[str, Any]
    spec: str

    def make(self, seed: int | None = None) -> State:
        return self.info.make(seed=seed, **self.params)


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


# --- spec strings ----------------------------------------------------------------
def split_params(text: str, where: str) -> tuple[list[str], dict[str, str]]:
    """``a,b=1,c=x`` -> (["a"], {"b": "1", "c": "x"})."""
    positional: list[str] = []
    params: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            positional.append(item)
        elif not key.strip():
            raise SpecError(f"{where}: empty parameter name in {item!r}")
        else:
            params[key.strip()] = value.strip()
    return positional, params


def coerce(value: str, default: Any, key: str, where: str) -> Any:
    """Parse ``value`` as the type of ``default`` (bool, int, float, str)."""
    try:
        if isinstance(default, bool):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
    except ValueError:
        raise SpecError(f"{where}: {key}={value!r} is not a valid {type(default).__name__}") from None
    return value


def literal(value: str) -> Any:
    """Best-effort typing of a parameter with no declared default."""
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)


def typed_params(raw: dict[str, str], defaults: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none"
        raise SpecError(f"{where}: unknown parameter(s) {', '.join(unknown)}; valid: {valid}")
    return {k: coerce(v, defaults[k], k, where) for k, v in raw.items()}


# --- games -----------------------------------------------------------------------
@cache
def native_games() -> dict[str, GameInfo]:
    games: dict[str, GameInfo] = {}
    for module in GAME_MODULES:
        games.update(importlib.import_module(module).GAMES)
    return games


def builtin_games() -> dict[str, GameInfo]:
    """Native games, then TextArena's offline multi-player ones as ``textarena:<EnvId>`` (if installed)."""
    from arena.games.textarena import textarena_games
    return {**native_games(), **textarena_games()}


def game_listing() -> list[tuple[str, str, dict[str, Any], str]]:
    """(id, players, parameters, summary) of every game, for listings: the built-in games from
    the static index (no game module imported), then TextArena's and plug-ins'."""
    from arena.games.textarena.catalog import textarena_listing
    rows = [(gid, e["players"], e["params"], e["summary"]) for gid, e in game_index().items()]
    rows += textarena_listing()
    rows += [(gid, "?", {}, "plug-in") for gid in _entry_points("arena.games") if gid not in game_index()]
    return sorted(rows)


def _entry_points(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=group)}


def game_ids() -> list[str]:
    return sorted(set(builtin_games()) | set(_entry_points("arena.games")))


@cache
def _native(game_id: str) -> GameInfo:
    """A built-in game, importing only the module that defines it (found in the static index)."""
    return importlib.import_module(game_index()[game_id]["module"]).GAMES[game_id]


def game_info(game_id: str) -> GameInfo:
    if game_id in game_index():
        return _native(game_id)
    if game_id.startswith("textarena:"):
        from arena.games.textarena import game_info as textarena_info
        try:
            return textarena_info(game_id)
        except ValueError as err:
            raise SpecError(str(err)) from None
    eps = _entry_points("arena.games")
    if game_id in eps:
        loaded = eps[game_id].load()
        return loaded if isinstance(loaded, GameInfo) else GameInfo(game_id, loaded, _signature_defaults(loaded))
    valid = sorted(set(game_index()) | set(eps))
    raise SpecError(f"unknown game {game_id!r}; valid: {', '.join(valid)}, textarena:<EnvId> (see `arena list games`)")


def _signature_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """Parameters (with defaults) of a plug-in game factory ``f(seed=None, **params)``."""
    return {name: p.default for name, p in inspect.signature(factory).parameters.items()
            if name != "seed" and p.default is not inspect.Parameter.empty}


def parse_game(spec: str) -> GameSpec:
    game_id, _, rest = spec.strip().partition(":")
    if game_id == "textarena":  # textarena:<EnvId>[:key=value,...]
        env_id, _, rest = rest.partition(":")
        game_id = f"textarena:{env_id}"
    info = game_info(game_id)
    positional, raw = split_params(rest, f"game {game_id}")
    if positional:
        raise SpecError(f"game {game_id}: expected key=value parameters, got {', '.join(positional)}; "
                        f"valid keys: {', '.join(sorted(info.params)) or 'none'}")
    params = typed_params(raw, info.params, f"game {game_id}")
    try:
        info.make(seed=0, **params)
    except (ValueError, TypeError) as err:
        raise SpecError(f"game {game_id}: {err}") from None
    return GameSpec(info, params, spec.strip())


# --- agents ----------------------------------------------------------------------
_NAME = re.compile(r"^([A-Za-z0-9_.\-]+)=")


@dataclass(frozen=True)
class AgentInfo:
    """A built-in agent kind: ``make(**params)`` builds one; ``params`` are the typed defaults;
    ``games``: the game ids or game families (:data:`GAME_FAMILIES`) it is built for, () = any game."""

    make: Callable[..., Any]
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    games: tuple[str, ...] = ()


# A game family is every game registered by these modules (what agents built for a kind of game name).
GAME_FAMILIES = {"repeated": ("arena.games.matrix_catalog", "arena.games.public_goods"),
                 "negotiation": ("arena.games.bargaining", "arena.games.deal_or_no_deal"),
                 "poker": ("arena.games.poker",), "chess": ("arena.games.chess",), "werewolf": ("arena.games.werewolf",)}


def family_games(family: str) -> list[str]:
    """The game ids of a family (a plain game id stands for itself)."""
    if family not in GAME_FAMILIES:
        return [family]
    return [gid for module in GAME_FAMILIES[family] for gid in importlib.import_module(module).GAMES]


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


AGENT_MODULES = ("arena.agents.baselines", "arena.agents.negotiators", "arena.agents.werewolf_bots",
                 "arena.agents.mcts", "arena.agents.llm_mcts", "arena.agents.stockfish", "arena.agents.poker_bots",
                 "arena.agents.human")


@cache
def builtin_agents() -> dict[str, AgentInfo]:
    """Every module in :data:`AGENT_MODULES` exposes ``AGENTS: dict[str, AgentInfo]``."""
    agents: dict[str, AgentInfo] = {}
    for module in AGENT_MODULES:
        agents.update(importlib.import_module(module).AGENTS)
    return agents


def agent_kinds() -> dict[str, str]:
    """Kind -> one-line summary, for ``arena list agents``."""
    kinds = {k: info.summary for k, info in builtin_agents().items()}
    kinds["local:smollm2"] = "embedded SmolLM2-135M-Instruct on the CPU (local:PATH: any HF model folder)"
    kinds["provider/model"] = "any litellm model id, e.g. openai/gpt-4o-mini, ollama/llama3 (keys from env)"
    kinds["critic:INNER[|LLM]"] = "INNER coached between games by an LLM critic (in-context learning from feedback)"
    kinds.update({name: "plug-in (entry point)" for name in _entry_points("arena.agents")})
    return kinds


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
    m = _NAME.match(text)
    name = m.group(1) if m else text
    body = text[m.end():] if m else text
    kind, _, rest = body.partition(":")
    if isolate and kind != "critic":
        from arena.agents.isolate import Recipe, isolated_builder
        inner = _parse_agent(text)  # checks the spec here; the child builds it
        recipe = Recipe("spec", text, {}, tuple(sys.path), memory_mb)
        return AgentSpec(name, inner.kind, inner.params, text, isolated_builder(recipe, inner.kind))
    if kind == "critic":
        return _critic_spec(name, rest, text)
    if kind in builtin_agents():
        info = builtin_agents()[kind]
        positional, raw = split_params(rest, f"agent {kind}")
        if positional:
            raise SpecError(f"agent {kind}: expected key=value parameters; valid keys: "
                            f"{', '.join(sorted(info.params)) or 'none'}")
        params = typed_params(raw, info.params, f"agent {kind}")
        return AgentSpec(name, kind, params, text, lambda: _build(info, params, kind))
    if kind == "local" or "/" in kind:
        return _llm_spec(name, kind, rest, text)
    eps = _entry_points("arena.agents")
    if kind in eps:
        _, raw = split_params(rest, f"agent {kind}")
        params = {k: literal(v) for k, v in raw.items()}
        return AgentSpec(name, kind, params, text, lambda: _instantiate(eps[kind].load(), params, kind))
    if re.match(r"^[A-Za-z_][\w.]*$", kind) and re.match(r"^[A-Za-z_]\w*(:|$)", rest):
        attr, _, rest2 = rest.partition(":")
        _, raw = split_params(rest2, f"agent {kind}:{attr}")
        params = {k: literal(v) for k, v in raw.items()}
        if isolate is not False:  # plug-ins run in a child process unless isolate=false
            from arena.agents.isolate import Recipe, isolated_builder
            recipe = Recipe("import", f"{kind}:{attr}", params, tuple(sys.path), memory_mb)
            return AgentSpec(name, f"{kind}:{attr}", params, text, isolated_builder(recipe, kind))
        target = load_import_string(f"{kind}:{attr}")
        return AgentSpec(name, f"{kind}:{attr}", params, text, lambda: _instantiate(target, params, kind))
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


def _llm_spec(name: str, kind: str, rest: str, text: str) -> AgentSpec:
    """``local:MODEL[,key=value...]`` / ``local:MODEL:key=value,...`` / ``provider/model[:tag][:key=value,...]``."""
    from arena.agents.llm import LOCAL_PARAMS, REMOTE_PARAMS, build_llm
    head, sep, tail = rest.partition(":")
    if sep and "=" not in head and "=" in tail:
        positional, raw = [head], split_params(tail, f"agent {kind}")[1]
    else:
        positional, raw = split_params(rest, f"agent {kind}")
    defaults = LOCAL_PARAMS if kind == "local" else REMOTE_PARAMS
    params = typed_params(raw, defaults, f"agent {kind}")
    if kind == "local":
        model = ",".join(positional) or "smollm2"
    else:
        kind, model = ":".join([kind, *positional]), ""
    def build() -> Any:
        try:
            return build_llm(kind, model, params)
        except ValueError as err:
            raise SpecError(f"agent {text}: {err}") from None
    return AgentSpec(name, kind if kind != "local" else f"local:{model}", params, text, build)


def load_import_string(target: str) -> Any:
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


def _instantiate(target: Any, params: dict[str, Any], where: str) -> Any:
    try:
        agent = target(**params) if callable(target) and isinstance(target, type) else (
            target(**params) if callable(target) and not hasattr(target, "act") else target)
    except TypeError as err:
        raise SpecError(f"agent {where}: {err}") from None
    if not (hasattr(agent, "act") or hasattr(agent, "aact")):
        raise SpecError(f"agent {where}: {type(agent).__name__} has no act(turn) or aact(turn) method")
    return agent
