"""Options declared once: a config dataclass is the single place an option is named, typed,
defaulted and explained.

Each field carries its help text (and, when they are not ``--kebab-name``, its command-line
names) in ``field(metadata=...)``, as TRL's dataclasses do; :func:`option` writes such a field::

    @dataclass
    class DPOOptions:
        steps: int = option(10, "optimizer steps")
        lora: bool = option(True, "LoRA adapter, or full fine-tuning", flags=("--lora/--full",))

A dataclass composes another by holding it in a field whose ``expose`` metadata names the nested
fields it shows, flat, and under which name (``{"split": "test_split"}``): ``SelfPlayOptions``
holds a ``DPOOptions`` and an ``ExportOptions`` and offers ``steps`` and ``test_split`` itself,
so no field is declared twice.

:func:`specs` lists a class's flat options (what a command line shows: :mod:`arena.cli_options`),
:func:`build` makes an instance from flat values (the Python API's ``**overrides`` and the parsed
command line alike), :func:`flat` gives an instance's flat values back.

Metadata keys: ``help``; ``flags`` (command-line names; default ``--kebab-name``, for a bool
``--name/--no-name``); ``choices`` (the valid values of a str field, listed in the help);
``expose`` (only on a field holding a nested options dataclass, whose ``help`` then titles the group).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Spec:
    """One flat option of an options class."""

    name: str  # the Python keyword; the flag is --name in kebab case unless ``flags`` says otherwise
    path: tuple[str, ...]  # attributes from the instance to the value: ("steps",) or ("train", "steps")
    type: Any  # the declared type, resolved
    default: Any
    help: str
    flags: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    group: str = ""  # for an exposed nested option: the nested field's help (a --help panel)


def option(default: Any = MISSING, help: str = "", *, factory: Callable[[], Any] | None = None,
           flags: tuple[str, ...] = (), choices: tuple[str, ...] = (),
           expose: Mapping[str, str] | None = None) -> Any:
    """A dataclass field with its help text and command-line metadata (``factory`` for mutable defaults)."""
    metadata: dict[str, Any] = {"help": help}
    if flags:
        metadata["flags"] = tuple(flags)
    if choices:
        metadata["choices"] = tuple(choices)
    if expose is not None:
        metadata["expose"] = dict(expose)
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _default(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    raise TypeError(f"option {f.name} has no default")


def specs(cls: type) -> list[Spec]:
    """The flat options of ``cls``, nested dataclasses expanded by their ``expose`` metadata."""
    hints = typing.get_type_hints(cls)
    found: list[Spec] = []
    for f in fields(cls):
        expose = f.metadata.get("expose")
        if expose is None:
            found.append(Spec(f.name, (f.name,), hints[f.name], _default(f), f.metadata.get("help", ""),
                              f.metadata.get("flags", ()), f.metadata.get("choices", ())))
            continue
        nested = _default(f)
        inner = {s.name: s for s in specs(type(nested))}
        for inner_name, outer_name in expose.items():
            s = inner[inner_name]
            found.append(dataclasses.replace(
                s, name=outer_name, path=(f.name, *s.path), default=_get(nested, s.path),
                flags=s.flags if outer_name == inner_name else (), group=f.metadata.get("help", "") or f.name))
    names = [s.name for s in found]
    if len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: an option name appears twice ({', '.join(sorted(names))})")
    return found


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        obj = getattr(obj, part)
    return obj


def _replaced(obj: T, changes: dict[tuple[str, ...], Any]) -> T:
    """``obj`` with the values at these attribute paths replaced (nested instances rebuilt, so validated)."""
    top = {path[0]: value for path, value in changes.items() if len(path) == 1}
    deeper: dict[str, dict[tuple[str, ...], Any]] = {}
    for path, value in changes.items():
        if len(path) > 1:
            deeper.setdefault(path[0], {})[path[1:]] = value
    for name, sub in deeper.items():
        top[name] = _replaced(getattr(obj, name), sub)
    return dataclasses.replace(obj, **top)  # type: ignore[type-var]


def build(cls: type[T], values: Mapping[str, Any], base: T | None = None) -> T:
    """``base`` (default: ``cls()``) with the flat ``values`` applied; an unknown name is a TypeError."""
    by_name = {s.name: s for s in specs(cls)}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(by_name))}")
    start = base if base is not None else cls()
    return _replaced(start, {by_name[name].path: value for name, value in values.items()})


def flat(obj: Any) -> dict[str, Any]:
    """The flat options of an instance, by name (lists copied)."""
    return {s.name: _copy(_get(obj, s.path)) for s in specs(type(obj))}


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value
