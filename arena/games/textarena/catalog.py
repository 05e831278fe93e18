"""TextArena's registry seen from arena: which games exist, run offline, and with how many players;
the sandbox that keeps TextArena's global randomness and prints away from the arena."""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import inspect
import io
import json
import os
import random
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from arena.cache import cache_dir
from arena.errors import ArenaError
from arena.games.base import GameInfo
from arena.games.textarena import kinds

PREFIX = "textarena:"
MAX_PLAYERS = 15
#: A game ends (that player last) when TextArena hands the turn back to the same player after this many
#: invalid moves in a row (plus the env's error allowance): some envs (e.g. PublicGoodsGame) never
#: rotate past an eliminated player, and a move TextArena crashes on leaves the turn where it was.
STALL = 10

#: Families refused because they need the network, an LLM or downloads (tests check it equals what
#: ``scan_source`` finds, so a new TextArena version that adds one is caught).
REFUSED = {
    "Debate": "needs an LLM jury over the network (OpenRouter)",
    "ScenarioPlanning": "needs an LLM jury over the network (OpenRouter)",
    "GuessWho": "needs an LLM game master over the network (OpenRouter)",
    "TwentyQuestions": "needs an LLM game master over the network (OpenRouter)",
    **{family: "downloads NLTK corpora when imported (nltk.download)" for family in (
        "Codenames", "DontSayIt", "Hangman", "LetterAuction", "SpellingBee", "WordChains",
        "WordLadder", "WordSearch", "Wordle")},
}
NETWORK_MARKERS = re.compile(
    r"^\s*(?:import|from)\s+(?:nltk|requests|openai|urllib|httpx|datasets|huggingface_hub)\b"
    r"|OpenRouter|jury_class|\bta\.agents\.|word_lists", re.MULTILINE)


class TextArenaUnavailable(ArenaError, ValueError):
    """A TextArena game that cannot be played here (one line saying why)."""


# --- isolation of TextArena's global randomness ----------------------------------
_LOCK = threading.RLock()


class _Generators:
    """This game's private copies of the global generators TextArena draws from."""

    def __init__(self, seed: int) -> None:
        self.py = random.Random(seed).getstate()
        self.np = np.random.RandomState(seed).get_state()

    def __deepcopy__(self, memo: dict) -> _Generators:
        new = object.__new__(_Generators)
        new.py = self.py  # an immutable tuple
        new.np = (self.np[0], self.np[1].copy(), *self.np[2:])
        return new


@contextlib.contextmanager
def _inside(gens: _Generators) -> Iterator[None]:
    """Run TextArena code on ``gens`` and give the process its own global generators back."""
    with _LOCK:
        saved_py, saved_np = random.getstate(), np.random.get_state()
        random.setstate(gens.py)
        np.random.set_state(gens.np)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                yield
        finally:
            gens.py, gens.np = random.getstate(), np.random.get_state()
            random.setstate(saved_py)
            np.random.set_state(saved_np)


@cache
def _textarena() -> Any:
    try:
        with _inside(_Generators(0)):  # importing textarena draws from the global random
            import textarena
    except ImportError as err:
        raise TextArenaUnavailable(f"textarena is not installed ({err}); pip install 'arena[textarena]'") from None
    return textarena


# --- the catalogue ---------------------------------------------------------------
@dataclass(frozen=True)
class TextArenaSpec:
    env_id: str
    family: str
    factory: Callable[..., Any]
    kwargs: dict[str, Any]
    players: tuple[int, ...]
    params: dict[str, Any]
    action_wrappers: tuple[Any, ...] = field(default=())

    def __deepcopy__(self, memo: dict) -> TextArenaSpec:
        return self

    @property
    def default_players(self) -> int:
        return self.params.get("players", self.players[0])

    @property
    def summary(self) -> str:
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", self.family)
        variant = self.env_id.split("-v0", 1)[1].lstrip("-") if "-v0" in self.env_id else ""
        return f"TextArena: {name}" + (f" ({variant})" if variant else "")

    def format_action(self, text: str) -> str:
        for wrapper in self.action_wrappers:
            text = wrapper.action(text)
        return text


def _family(entry_point: Any) -> tuple[str, str]:
    module = entry_point.split(":")[0] if isinstance(entry_point, str) else entry_point.__module__
    parts = module.split(".")
    return (parts[2] if len(parts) > 2 and parts[:2] == ["textarena", "envs"] else parts[-1]), module


def network_reason(family: str, module: str) -> str | None:
    """Why an env family needs the network/an LLM/downloads: the curated list, then :func:`scan_source`."""
    return REFUSED.get(family) or scan_source(module)


def scan_source(module: str) -> str | None:
    """A network/LLM/download marker in an env module's code (comments aside) or in the modules of its
    own package it imports; the files are read, never imported (some download when imported)."""
    root = Path(_textarena().__file__).parent
    main = root.joinpath(*module.split(".")[1:]).with_suffix(".py")
    if not main.exists():
        return None
    package = module.rsplit(".", 1)[0]
    local = re.findall(rf"^\s*from\s+(?:\.|{re.escape(package)}\.)([\w.]+)\s+import", _code(main), re.MULTILINE)
    for source in [main, *(main.parent.joinpath(*name.split(".")).with_suffix(".py") for name in local)]:
        found = NETWORK_MARKERS.search(_code(source)) if source.exists() else None
        if found:
            return f"uses {found.group(0).strip()!r} (network, LLM or downloads)"
    return None


def _code(path: Path) -> str:
    return "\n".join(line for line in path.read_text(errors="replace").splitlines()
                     if not line.lstrip().startswith("#"))


def _registered() -> dict[str, Any]:
    return _textarena().envs.registration.ENV_REGISTRY


def registered_ids() -> list[str]:
    """Every registered id except the wrapper variants (-raw/-train: the same game, other wrappers)."""
    return [i for i in _registered() if not i.endswith(("-raw", "-train"))]


@cache
def textarena_spec(env_id: str) -> TextArenaSpec:
    """Load, check and probe one TextArena env; :class:`TextArenaUnavailable` says why not."""
    registry = _registered()
    if env_id not in registry:
        near = [i for i in registered_ids() if i.lower().startswith(env_id.split("-")[0].lower()[:4])][:8]
        raise TextArenaUnavailable(f"unknown TextArena env {env_id!r}"
                                   + (f"; similar: {', '.join(near)}" if near else "; see `arena list games`"))
    entry = registry[env_id]
    family, module = _family(entry.entry_point)
    reason = network_reason(family, module)
    if reason:
        raise TextArenaUnavailable(f"{PREFIX}{env_id} is refused: it {reason}; arena plays TextArena offline")
    try:
        if isinstance(entry.entry_point, str):
            with _inside(_Generators(0)):
                factory = getattr(importlib.import_module(module), entry.entry_point.split(":")[1])
        else:
            factory = entry.entry_point
    except Exception as err:  # broken on this Python / install (SyntaxError, missing module, ...)
        raise TextArenaUnavailable(f"{PREFIX}{env_id} does not load here: {type(err).__name__}: "
                                   f"{str(err).splitlines()[0] if str(err) else ''}") from None
    if _single_player(factory):
        raise TextArenaUnavailable(f"{PREFIX}{env_id} is a single-player game")
    players, error = _probe_players(factory, dict(entry.kwargs))
    if not players:
        raise TextArenaUnavailable(f"{PREFIX}{env_id} is not a multi-player game here"
                                   + (f" ({error})" if error else ""))
    try:  # one (empty) move: TextArena should answer it, not crash (CharacterConclave does in 0.7.4)
        with _inside(_Generators(0)):
            env = factory(**entry.kwargs)
            env.reset(num_players=players[0], seed=0)
            env.step("")
    except Exception as err:
        raise TextArenaUnavailable(f"{PREFIX}{env_id} does not run here: a move raises "
                                   f"{type(err).__name__}: {err}".splitlines()[0]) from None
    params = _params(factory, dict(entry.kwargs))
    if len(players) > 1:
        wanted = entry.kwargs.get("num_players", entry.kwargs.get("default_num_players"))
        params = {"players": wanted if wanted in players else players[0], **params}
    ta = _textarena()
    wrappers = tuple(w(_NoEnv()) for w in entry.default_wrappers or () if issubclass(w, ta.ActionWrapper))
    return TextArenaSpec(env_id, family, factory, dict(entry.kwargs), players, params, wrappers)


class _NoEnv:
    """Stand-in env for instantiating TextArena's (stateless) action wrappers."""


def _single_player(factory: Callable[..., Any]) -> bool:
    """Its module builds only TextArena's SinglePlayerState (saves probing: some build puzzles slowly)."""
    try:
        source = inspect.getsource(inspect.getmodule(factory))
    except (TypeError, OSError):
        return False
    return "SinglePlayerState" in source and not re.search(r"(TwoPlayer|MultiPlayer)State", source)


def _probe_players(factory: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[tuple[int, ...], str]:
    ok, error = [], ""
    for n in range(2, MAX_PLAYERS + 1):
        try:
            with _inside(_Generators(0)):
                env = factory(**kwargs)
                env.reset(num_players=n, seed=0)
            if env.state.num_players == n:
                ok.append(n)
        except Exception as err:
            error = error or f"{type(err).__name__}: {err}".splitlines()[0][:160]
    return tuple(ok), error


def _params(factory: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The constructor's scalar arguments with the registered values as defaults."""
    try:
        signature = inspect.signature(factory)
        defaults = {k: p.default for k, p in signature.parameters.items()
                    if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        defaults = {}
    merged = {**defaults, **kwargs}
    return {k: v for k, v in merged.items() if k not in ("num_players", "default_num_players")
            and (v is None or isinstance(v, (bool, int, float, str)))}


def _players_text(players: tuple[int, ...]) -> str:
    if len(players) == 1:
        return str(players[0])
    if players == tuple(range(players[0], players[-1] + 1)):
        return f"{players[0]}-{players[-1]}"
    return ",".join(map(str, players))


def game_info(game_id: str) -> GameInfo:
    """The :class:`GameInfo` of ``textarena:<EnvId>`` (raises :class:`TextArenaUnavailable`)."""
    env_id = game_id.removeprefix(PREFIX)
    spec = textarena_spec(env_id)

    def make(seed: int | None = None, **params: Any) -> Any:
        from arena.games.textarena.determinize import make_state
        return make_state(env_id, seed=seed, **params)
    # imperfect unless the family is known to hide nothing (arena.games.textarena.kinds)
    return GameInfo(PREFIX + env_id, make, dict(spec.params), spec.summary, _players_text(spec.players),
                    information=kinds.information(spec.family, spec.kwargs), chance=kinds.chance(spec.family),
                    utility="general-sum")


@cache
def textarena_games() -> dict[str, GameInfo]:
    """Every TextArena game playable here: multi-player, offline, loading (``{}`` without textarena)."""
    try:
        ids = registered_ids()
    except TextArenaUnavailable:
        return {}
    games = {}
    for env_id in ids:
        try:
            games[PREFIX + env_id] = game_info(env_id)
        except TextArenaUnavailable:
            continue
    return games


Listed = tuple[str, str, dict[str, Any], str]  # id, players, parameters, summary


def textarena_listing() -> list[Listed]:
    """Every playable TextArena game as listed by ``arena list games``, cached per installed
    TextArena version (probing every env takes seconds; a warm cache imports nothing)."""
    try:
        version = importlib.metadata.version("textarena")
    except importlib.metadata.PackageNotFoundError:
        return []
    path = cache_dir() / f"textarena-{version}-catalogue.json"
    try:
        return [tuple(row) for row in json.loads(path.read_text(encoding="utf-8"))]  # type: ignore[misc]
    except (OSError, ValueError):
        pass
    rows: list[Listed] = [(gid, i.players, dict(i.params), i.summary) for gid, i in textarena_games().items()]
    try:  # written whole then renamed: a killed listing never leaves half a cache
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(rows), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs the probe next time
    return rows


def refused_games() -> dict[str, str]:
    """TextArena ids that are not offered, with the reason (for docs and tests)."""
    out = {}
    for env_id in registered_ids():
        try:
            textarena_spec(env_id)
        except TextArenaUnavailable as err:
            out[PREFIX + env_id] = str(err)
    return out


# --- lax rules, tightened ---------------------------------------------------------
