"""One TextArena game as an arena rules ``State`` (see the package docstring for the card)."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from typing import Any

from arena.games.base import IllegalAction, State
from arena.games.textarena import kinds
from arena.games.textarena.catalog import (PREFIX, STALL, _Generators, _inside, _players_text, _textarena,
                                           textarena_spec)


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
        self.information = kinds.information(spec.family, self._kwargs)  # e.g. a board made blind by is_open=false
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

    @property
    def rng(self) -> random.Random:
        return self._rng

    @rng.setter
    def rng(self, value: random.Random) -> None:
        """A generator handed in after the start (rollouts, search) also reseeds TextArena's private
        generators from one draw of it, so TextArena's chance (dice, later deals) follows it too."""
        self._rng = value
        if "_gens" in self.__dict__:
            self._gens = _Generators(value.getrandbits(32))

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
            other._rng = copy.deepcopy(self._rng)
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

    #: the keys of ``turn.data`` (:meth:`observation_data`) and what they hold; ``arena list data GAME``
    data_keys = {"env_id": "the TextArena environment id", "prompt": "TextArena's prompt(s) for you",
                 "messages": "messages you have seen: {from, text, type}"}

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
