"""Typer options generated from an options dataclass (:mod:`arena.options`), so a command never
repeats a field: its name (``--kebab-name`` unless the field's ``flags`` say otherwise), type,
default, help and choices come from the field; a list field is a repeatable option, a bool
``--x/--no-x``.

:func:`command` expands one parameter of a command function into those options and hands the
function the built dataclass (or, with ``partial=True``, only the values given on the command
line, for configs that merge a spec file first).  It builds the command's ``inspect.Signature``
from ``typer.Option`` parameters, the public way to give Typer parameters it did not see written.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, TypeVar

import typer
from rich.markup import escape

from arena.console import fail
from arena.errors import ArenaError
from arena.options import Spec, build, specs

F = TypeVar("F", bound=Callable[..., Any])
GENERATED: Any = None  # the default of the parameter a @command replaces by generated options


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _plain(annotation: Any) -> Any:
    """``float | None`` -> ``float`` (the option's default None stands for unset)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _shown(default: Any) -> str:
    if isinstance(default, list):
        return ", ".join(map(str, default))
    return "none" if default is None else str(default).lower() if isinstance(default, bool) else str(default)


def _parameter(spec: Spec, partial: bool) -> inspect.Parameter:
    kind = _plain(spec.type)
    annotation: Any = kind
    default = spec.default
    if spec.choices:
        annotation = Enum(f"{spec.name}_choice", {c: c for c in spec.choices}, type=str)  # type: ignore[misc]
        default = annotation(default)
    flags = spec.flags or ((f"--{_kebab(spec.name)}/--no-{_kebab(spec.name)}",) if kind is bool
                           else (f"--{_kebab(spec.name)}",))
    help_text = escape(spec.help)  # Typer renders help as Rich markup: [all] would vanish
    unset = partial or isinstance(spec.default, list)  # Typer shows neither a merged default nor a list one
    if unset:
        if spec.default not in (None, [], "") and not help_text.endswith("]"):
            help_text += escape(f" [{_shown(spec.default)}]")
        default = None
    extra: dict[str, Any] = {"metavar": ""} if kind is bool else {}
    if spec.group:
        extra["rich_help_panel"] = spec.group
    return inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=typer.Option(default, *flags, help=help_text, **extra))


def _value(raw: Any) -> Any:
    if isinstance(raw, Enum):
        return raw.value
    if isinstance(raw, (list, tuple)):
        return list(raw)
    return raw


def command(param: str, cls: type, *, only: Iterable[str] | None = None, exclude: Iterable[str] = (),
            partial: bool = False) -> Callable[[F], F]:
    """Replace parameter ``param`` of the decorated command by the options of ``cls`` (``only`` these when
    given, minus ``exclude``).

    The function then gets ``param=cls(...)`` built from the parsed values (an invalid combination is
    the command's one-line error), or with ``partial`` a dict of only the options that were given.
    """
    skip, keep = set(exclude), None if only is None else set(only)
    chosen = [s for s in specs(cls) if s.name not in skip and (keep is None or s.name in keep)]

    def decorate(func: F) -> F:
        hints = typing.get_type_hints(func)
        own = [p.replace(annotation=hints.get(p.name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY)
               for p in inspect.signature(func).parameters.values()]
        names = [p.name for p in own]
        clash = {s.name for s in chosen} & set(names)
        if param not in names or clash:
            raise TypeError(f"{func.__name__}: no parameter {param!r} or options clash with {sorted(clash)}")
        at = names.index(param)
        generated = [_parameter(s, partial) for s in chosen]
        parameters = own[:at] + generated + own[at + 1:]

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            given = {s.name: _value(kwargs.pop(s.name)) for s in chosen}
            given = {k: v for k, v in given.items() if v is not None and v != []}
            if partial:
                return func(**kwargs, **{param: given})
            try:
                built = build(cls, given)
            except (ArenaError, ValueError, TypeError) as error:
                fail(str(error))
            return func(**kwargs, **{param: built})

        wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": hints.get("return")}
        return typing.cast(F, wrapper)

    return decorate
