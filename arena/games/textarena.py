"""TextArena's catalogue as arena games: ``textarena:<EnvId>`` (e.g. ``textarena:SimpleNegotiation-v0``).

Card (TextArena 0.7.4, https://github.com/LeonGuertler/TextArena):

- **players**: whatever the TextArena env accepts, found by probing: reset with n players and keep n
  when the env's state really holds n players.  Parameter ``players`` when that is a range; the
  env's own constructor arguments (``num_rounds``, ``max_turns``, ...) are parameters too.
- **actions**: free text (``legal_actions`` is None), passed to TextArena after the registered
  *action* wrappers (offline string transforms: ``ActionFormattingWrapper`` adds [brackets],
  clipping).  The observation and render wrappers are stripped; nothing is fetched or judged online.
- **observation**: the messages TextArena routed to that player, ``[GAME] ...`` / ``[Player 1] ...``;
  the player's TextArena prompt (rules, private role and resources) is its rules text.
- **illegal moves**: ``parse`` plays the answer on a clone; if TextArena flags it (its
  ``set_invalid_move``: a retry message or a penalty) or raises, :class:`IllegalAction` carries
  TextArena's reason and the live env is untouched, so the arena policy (tell, retry, fallback)
  applies.  ``apply`` of an answer that never went through ``parse`` (the fallback's default ``""``,
  PettingZoo's index action) is handed to TextArena as it is: TextArena's own invalid-move rule
  applies (a retry, then its penalty, usually loss or elimination), counted in
  ``metrics()["invalid_moves"]``.  Lax rules are tightened in ``parse`` (IPD: an answer without
  ``[Cooperate]``/``[Defect]`` would silently cooperate).
- **scoring**: TextArena's final rewards (mostly +1/-1/0, or rank-linear in [-1, 1]); metrics carry
  the reason, turns, roles, invalid moves and the game's own scores when it keeps them.
- **determinism**: TextArena seeds and draws from the global ``random`` (one env numpy's): every call
  into TextArena runs under a lock with the global generators swapped for this game's own saved
  states (seeded from the State's rng) and swapped back after, so the arena's global random is
  untouched and the same seed gives the same game.  Prints are swallowed.
- **clone**: a deep copy (raw TextArena envs hold plain data); an env that cannot be deep-copied is
  re-made from its seed and the action log replayed.
- **refused**, with a one-line reason: games that need the network, an LLM judge or downloads (a
  curated list, checked against a scan of each env's source), games with fewer than two players,
  and games that do not load here (some TextArena 0.7.4 envs need Python 3.12 or miss data files).
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import io
import random
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from arena.games.base import GameInfo, IllegalAction, State

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


class TextArenaUnavailable(ValueError):
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

    def make(seed: int | None = None, **params: Any) -> TextArenaState:
        return TextArenaState(env_id, seed=seed, **params)
    return GameInfo(PREFIX + env_id, make, dict(spec.params), spec.summary, _players_text(spec.players))


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
def _ipd(env: Any, action: str) -> str | None:
    if env.state.game_state.get("phase") != "decision":
        return None
    named = {t.lower() for t in re.findall(r"\[(Cooperate|Defect)\]", action, re.IGNORECASE)}
    if len(named) != 1:
        return "this is the decision phase: answer with exactly one of [Cooperate] or [Defect]"
    return None


def _ipd3(env: Any, action: str) -> str | None:
    if env.state.game_state.get("phase") != "decision" or env.token_pat.search(action):
        return None
    return "this is the decision phase: answer with one token per opponent, e.g. [1 defect] [2 cooperate]"


STRICT: dict[str, Callable[[Any, str], str | None]] = {"IteratedPrisonersDilemma": _ipd, "ThreePlayerIPD": _ipd3}
_REASON = re.compile(r"Reason:\s*(.*?)\s*(?:Please resubmit|$)", re.DOTALL)


# --- the State ---------------------------------------------------------------------
class TextArenaState(State):
    """One TextArena env inside the arena's State contract (see the module card)."""

    free_text_default = ""

    def __init__(self, env_id: str, seed: int | None = None, players: int | None = None, **params: Any) -> None:
        spec = textarena_spec(env_id)
        n = spec.default_players if players is None else int(players)
        if n not in spec.players:
            raise ValueError(f"{PREFIX}{env_id} takes {_players_text(spec.players)} players, not {n}")
        unknown = sorted(set(params) - set(spec.params))
        if unknown:
            raise ValueError(f"unknown parameter(s) {', '.join(unknown)}")
        super().__init__(n, seed)
        self.game_id = PREFIX + env_id
        self._spec = spec
        self._kwargs = {**spec.kwargs, **{k: _typed(v, spec.params[k]) for k, v in params.items()}}
        self._seed = self.rng.getrandbits(31)
        self._restart()

    def _restart(self) -> None:
        self._gens = _Generators(self._seed)
        self._log: list[tuple[int, str]] = []
        self._prompts: list[list[str]] = [[] for _ in range(self.num_players)]
        self._seen: list[list[tuple[str, str, str]]] = [[] for _ in range(self.num_players)]
        self.invalid_moves = [0] * self.num_players
        self._stalled = 0  # invalid moves in a row with the turn staying put (see STALL)
        self._trial: tuple[int, str, int, TextArenaState] | None = None
        with _inside(self._gens):
            self.env = self._spec.factory(**self._kwargs)
            self.env.reset(num_players=self.num_players, seed=self._seed)
        self._drain()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_trial": None}  # a cached trial is never copied along

    def __deepcopy__(self, memo: dict) -> TextArenaState:
        """The env deep; the append-only records of immutable entries as shallow list copies."""
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key in ("_seen", "_prompts"):
                value = [list(entries) for entries in value]
            elif key in ("_log", "invalid_moves"):
                value = list(value)
            elif key == "_trial":
                value = None
            elif key == "env":
                logs = getattr(getattr(value, "state", None), "logs", None)
                if isinstance(logs, list):  # TextArena's append-only log of (sender, text) tuples
                    memo[id(logs)] = list(logs)
                value = copy.deepcopy(value, memo)
            else:
                value = copy.deepcopy(value, memo)
            new.__dict__[key] = value
        return new

    def _drain(self) -> None:
        """Move the messages TextArena queued for each player into that player's record."""
        ta = _textarena()
        st = self.env.state
        for pid in range(self.num_players):
            for sender, message, kind in st.observations.get(pid, []):
                if kind == ta.ObservationType.PROMPT:
                    self._prompts[pid].append(message)
                else:
                    name = "GAME" if sender == ta.GAME_ID else st.role_mapping.get(sender, f"Player {sender}")
                    self._seen[pid].append((str(name), str(message), kind.name))
            st.observations[pid] = []

    # --- the flow ----------------------------------------------------------------
    def to_move(self) -> list[int]:
        if self.env.state.done or self._stuck():
            return []
        return [int(self.env.state.current_player_id)]

    def legal_actions(self, player: int) -> list[str] | None:
        return None

    def parse(self, player: int, text: str) -> str:
        self._check_turn(player)
        action = self._spec.format_action(text.strip())
        strict = STRICT.get(self._spec.family)
        reason = strict(self.env, action) if strict else None
        if reason is None:
            trial = self.clone()
            reason = trial._step(player, action)
            if reason is None:
                self._trial = (player, action, len(self._log), trial)
        if reason is not None:
            raise IllegalAction(f"TextArena rejects this move: {reason}")
        return action

    def apply(self, player: int, action: str) -> None:
        self._check_turn(player)
        trial, self._trial = self._trial, None
        if trial is not None and trial[:3] == (player, action, len(self._log)):
            self.__dict__.update(trial[3].__dict__)
            return
        after = self.clone()  # an unchecked answer: TextArena's own invalid-move rule handles it
        try:
            after._step(player, self._spec.format_action(action))
        except IllegalAction as err:  # TextArena crashed on it: env untouched, counted as an invalid move
            self._seen[player].append(("GAME", f"{err}. Please resubmit a valid move.", "GAME_ADMIN"))
            self.invalid_moves[player] += 1
            self._stalled += 1
            return
        self.__dict__.update(after.__dict__)

    def _stuck(self) -> bool:
        return self._stalled > STALL + int(getattr(self.env.state, "error_allowance", 0) or 0)

    def _check_turn(self, player: int) -> None:
        if player not in self.to_move():
            raise IllegalAction(f"it is not player {player}'s turn" if self.to_move() else "the game is over")

    def _step(self, player: int, action: str) -> str | None:
        """Play ``action`` on this env; TextArena's reason if it counted it as invalid."""
        st = self.env.state
        flagged: list[str] = []
        rule = st.set_invalid_move

        def spy(reason: Any = None, *args: Any, **kwargs: Any) -> Any:
            flagged.append(str(reason or kwargs.get("reason") or "invalid move"))
            return rule(reason, *args, **kwargs)
        st.set_invalid_move = spy  # an instance attribute only for this step
        try:
            with _inside(self._gens):
                self.env.step(action)
        except Exception as err:
            raise IllegalAction(f"TextArena could not process this move ({type(err).__name__}: {err})") from None
        finally:
            del st.set_invalid_move
        st = self.env.state
        reason = flagged[-1] if flagged else None
        for _, message, kind in st.observations.get(player, []) if reason is None else ():
            if kind.name == "GAME_ADMIN" and "invalid move" in str(message).lower():
                found = _REASON.search(str(message))
                reason = (found.group(1) if found else str(message)).strip() or "invalid move"
        self._drain()
        self._log.append((player, action))
        self._stalled = self._stalled + 1 if reason is not None and player in self.to_move() else 0
        if reason is not None:
            self.invalid_moves[player] += 1
        return reason

    def clone(self) -> TextArenaState:
        try:
            return copy.deepcopy(self)
        except Exception:  # an env that cannot be deep-copied: re-make it and replay the moves
            other = copy.copy(self)
            other.rng = copy.deepcopy(self.rng)
            other._restart()
            for player, action in self._log:
                other._step(player, action)
            return other

    # --- results -------------------------------------------------------------------
    def returns(self) -> list[float]:
        if self._stuck() and not self.env.state.done:
            stuck = self.env.state.current_player_id
            return [-1.0 if p == stuck else 0.0 for p in range(self.num_players)]
        rewards = self.env.state.rewards or {}
        return [float(rewards.get(p, 0.0)) for p in range(self.num_players)]

    def metrics(self) -> dict[str, Any]:
        st = self.env.state
        info = st.game_info or {}
        reasons = [str(info[p]["reason"]) for p in info if isinstance(info.get(p), dict) and info[p].get("reason")]
        if self._stuck() and not st.done:
            reasons = [(f"stopped: TextArena kept the turn with player {st.current_player_id} "
                        f"after {self._stalled} invalid moves in a row")]
        out: dict[str, Any] = {
            "textarena_env": self._spec.env_id,
            "turns": int(st.turn),
            "reason": reasons[0] if reasons else "",
            "invalid_moves": list(self.invalid_moves),
            "roles": [str(info.get(p, {}).get("role", f"Player {p}")) for p in range(self.num_players)],
        }
        scores = st.game_state.get("scores") if isinstance(st.game_state, dict) else None
        if isinstance(scores, dict) and all(isinstance(v, (int, float)) for v in scores.values()):
            out["game_scores"] = [float(scores.get(p, 0.0)) for p in range(self.num_players)]
        return out

    # --- what players see -------------------------------------------------------------
    def rules_text(self, player: int) -> str:
        prompt = "\n\n".join(self._prompts[player])
        return (f"You are Player {player} of {self.num_players} in the TextArena game {self._spec.env_id}.\n\n"
                f"{prompt}\n\nAnswer with your move only, in the format the rules ask for "
                "(special tokens in [square brackets]).")

    def observation(self, player: int) -> str:
        lines = [f"[{name}] {message}" for name, message, _ in self._seen[player]]
        return "\n".join(lines) if lines else "[GAME] The game has started; no moves yet."

    def observation_data(self, player: int) -> dict[str, Any]:
        return {"env_id": self._spec.env_id, "prompt": "\n\n".join(self._prompts[player]),
                "messages": [{"from": n, "text": m, "type": k} for n, m, k in self._seen[player]]}


def _typed(value: Any, default: Any) -> Any:
    """Registry params come typed by their default; a ``None`` default leaves a string to type here."""
    if default is None and isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
        return {"true": True, "false": False, "none": None}.get(value.lower(), value)
    return value
