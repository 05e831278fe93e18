"""A tournament's configuration: defaults, the TOML spec file, and command-line overrides.

Spec file (``arena run spec.toml``; flags given on the command line win)::

    games = ["prisoners-dilemma:rounds=10", "stag-hunt"]   # or [[games]] tables:
    # [[games]]
    # id = "prisoners-dilemma"
    # rounds = 20
    agents = ["tit-for-tat", "grim-trigger", "lucky=random:seed=3"]
    schedule = "round-robin"        # round-robin | gauntlet | swiss
    focus = "tit-for-tat"           # gauntlet: the agent that meets the field
    swiss_rounds = 4                # swiss: rounds (default ceil(log2(agents)))
    games_per_pair = 4
    successive = false              # play each pair's games one after another (learning agents)
    swap_seats = true               # alternate/rotate seats game by game
    seed = 1
    workers = 1                     # local processes (1 = in this process)
    backend = "local"               # local | ray
    concurrency = 8                 # matches in flight per process (LLM calls overlap)
    time_limit = 30.0               # seconds per move
    retries = 2
    fallback = "random"             # random | forfeit
    max_games_per_pair = 1000       # safety bounds; raise them for a deliberately huge run
    max_matches = 20000
    allow_any = false               # seat agents in games they were not built for (experiments)

Every value is type-checked (``workers = 2.5``, ``retries = 1.5`` and ``seed = "abc"`` are
refused with one line naming the key); numbers must be finite.
    strict = false                  # any downgrade an agent reports ends its match as `error`
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from arena.match import Policy
from arena.options import option
from arena.spec import SpecError
from arena.tomlfile import read_toml

QUICKSTART_GAMES = ["prisoners-dilemma"]
QUICKSTART_AGENTS = ["smollm2=local:smollm2", "smollm2-choice=local:smollm2:mode=choice", "tit-for-tat",
                     "always-defect"]
SCHEDULES = ("round-robin", "gauntlet", "swiss")
BACKENDS = ("local", "ray")


@dataclass
class RunConfig:
    """A tournament: the spec file's keys and the ``arena run`` options (flags win over the file)."""

    games: list[str] = option(factory=lambda: list(QUICKSTART_GAMES), help="game spec ID[:key=value,...]; repeatable",
                              flags=("--game", "-g"))
    agents: list[str] = option(factory=lambda: list(QUICKSTART_AGENTS), flags=("--agent", "-a"),
                               help="agent spec [NAME=]KIND[:key=value,...]; repeatable")
    schedule: str = option("round-robin", "round-robin | gauntlet | swiss")
    focus: str = option("", "gauntlet: the agent that meets the field")
    swiss_rounds: int = option(0, "swiss: rounds [ceil(log2 agents)]")
    games_per_pair: int = option(2, "games per pair (seats alternate)", flags=("--games-per-pair", "-n"))
    successive: bool = option(False, "play each pair's games one after another (learning agents) [parallel]",
                              flags=("--successive/--parallel-pairs",))
    swap_seats: bool = option(True, "alternate seats game by game [swap]", flags=("--swap-seats/--fixed-seats",))
    seed: int = option(0, "run seed; same seed + deterministic agents = same results")
    workers: int = option(1, "local worker processes [1 = this process]")
    backend: str = option("local", "local | ray")
    concurrency: int = option(8, "matches in flight at once per process")
    time_limit: float | None = option(None, "seconds per move [none]")
    retries: int = option(2, "re-asks after an illegal answer before the fallback")
    fallback: str = option("random", "after the retries: random (legal action) or forfeit")
    max_games_per_pair: int = option(1000, "safety bound on -n")
    max_matches: int = option(20000, "safety bound on the matches of a run")
    allow_any: bool = option(False, "seat agents in games they were not built for (experiments)",
                             flags=("--allow-any",))
    strict: bool = option(False, "any downgrade an agent reports (e.g. choice->generate) ends its match as error",
                          flags=("--strict",))

    def __post_init__(self) -> None:
        check_types(self.__dict__, "config")
        if self.schedule not in SCHEDULES:
            raise SpecError(f"unknown schedule {self.schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.backend not in BACKENDS:
            raise SpecError(f"unknown backend {self.backend!r}; valid: {', '.join(BACKENDS)}")
        for name in ("games_per_pair", "workers", "concurrency"):
            if getattr(self, name) < 1:
                raise SpecError(f"{name.replace('_', '-')} must be at least 1")
        if self.swiss_rounds < 0:
            raise SpecError("swiss-rounds must be >= 0")
        if self.games_per_pair > self.max_games_per_pair:
            raise SpecError(f"games-per-pair {self.games_per_pair} is above the limit {self.max_games_per_pair} "
                            "(raise it with --max-games-per-pair)")
        self.policy()

    def policy(self) -> Policy:
        try:
            return Policy(self.retries, self.fallback, self.time_limit, self.strict)
        except ValueError as err:
            raise SpecError(str(err)) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> "RunConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpecError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        check_types(data, where)
        try:
            return cls(**data)
        except TypeError as err:
            raise SpecError(f"{where}: {err}") from None

    def check_plan(self, planned: int) -> None:
        """Refuse a schedule of more than ``max_matches`` matches (before anything is stored)."""
        if planned > self.max_matches:
            raise SpecError(f"this run plans {planned} matches, above the limit {self.max_matches} "
                            "(raise it with --max-matches)")


def _fits(value: Any, expected: Any) -> bool:
    """Whether a config value has the declared type (bools are not numbers; numbers are finite)."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    if expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _describe(expected: Any) -> str:
    names = {int: "an integer", float: "a finite number", bool: "true or false", str: "a string",
             type(None): "unset"}
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is list:
        return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    return names.get(expected, getattr(expected, "__name__", str(expected)))


def check_types(data: dict[str, Any], where: str) -> None:
    """One-line :class:`SpecError` for the first value whose type is not the declared one."""
    hints = typing.get_type_hints(RunConfig)
    for key, value in data.items():
        if key in hints and not _fits(value, hints[key]):
            raise SpecError(f"{where}: {key} = {value!r} must be {_describe(hints[key])}")


def _game_entry(entry: Any, where: str) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        params = ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                          for k, v in entry.items() if k != "id")
        return entry["id"] + (f":{params}" if params else "")
    raise SpecError(f"{where}: each game is a spec string or a table with an 'id' key, got {entry!r}")


def load_spec(path: str | Path) -> dict[str, Any]:
    """Read a tournament spec file into config keys; errors name the file and line/column."""
    try:
        data = read_toml(path)
    except ValueError as err:
        raise SpecError(str(err)) from None
    if "games" in data:
        games = data["games"] if isinstance(data["games"], list) else [data["games"]]
        data["games"] = [_game_entry(g, str(path)) for g in games]
    if "agents" in data and not (isinstance(data["agents"], list) and all(isinstance(a, str) for a in data["agents"])):
        raise SpecError(f"{path}: agents must be a list of agent spec strings")
    RunConfig.from_dict(data, str(path))  # validate keys and values now, with the file's name
    return data


def build_config(spec_file: str | None, overrides: dict[str, Any]) -> RunConfig:
    """Defaults, then the spec file, then every flag that was given (not None)."""
    data: dict[str, Any] = load_spec(spec_file) if spec_file else {}
    data.update({k: v for k, v in overrides.items() if v is not None and v != []})
    return RunConfig.from_dict(data)
