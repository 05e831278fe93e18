"""Analysis hooks: the tables and leaderboard columns a game adds to its results.

A game declares them on its :class:`~arena.games.base.GameInfo` (so they travel with the game,
built-in or plug-in; the static game index leaves them out, and the game's module is imported
only when results of that game are summarised):

- ``metric_columns``: :class:`MetricColumn` s, per-agent means of a per-player metric of
  ``State.metrics()`` (e.g. ``cooperation_rate``) shown as a leaderboard column;
- ``analyses``: callables ``analysis(results, options) -> AnalysisTable | list[AnalysisTable] | None``
  over the :data:`Result` tuples ``(idx, game spec, players, outcome)`` of every game that declares
  the same callable (in schedule order), with :class:`AnalysisOptions` (bootstrap size, seed, prior).

Each table's ``key`` is its key in the results document (``arena leaderboard --json``), holding
``data`` (any JSON value; default: one record per row); the terminal and the HTML report draw
every table generically from ``{"key", "title", "columns", "rows", "note", "labels"}``
(``labels``: how many leading columns are text).  Cells are display values: strings, numbers
or None (drawn by :func:`cell`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from arena.trajectory import Outcome, Player

Result = tuple[int, str, list[Player], Outcome]
FORMATS = {"percent": ".0%", "number": ".2f", "integer": ".0f"}  # named formats; anything else is a format spec


@dataclass(frozen=True)
class MetricColumn:
    """A leaderboard column: the per-agent mean of the per-player metric ``metric``."""

    metric: str
    label: str
    format: str = "number"  # "percent" | "number" | "integer" | a Python format spec

    def text(self, value: Any) -> str:
        return "–" if value is None else format(value, FORMATS.get(self.format, self.format))

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class AnalysisOptions:
    """What the results document was asked for: bootstrap replicates, seed, rating prior."""

    n_boot: int = 1000
    seed: int = 0
    prior: float = 2.0


@dataclass
class AnalysisTable:
    """One analysis of a game's results (see the module docstring)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""
    labels: int = 1
    data: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.key or not isinstance(self.key, str):
            raise ValueError(f"analysis table {self.title!r} needs a non-empty string key")
        if any(len(row) != len(self.columns) for row in self.rows):
            raise ValueError(f"analysis table {self.key!r}: every row needs {len(self.columns)} cells")

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "columns": list(self.columns),
                "rows": [list(r) for r in self.rows], "note": self.note, "labels": self.labels}

    def document_value(self) -> Any:
        """What the results document holds under ``key``: ``data``, or one record per row."""
        if self.data is not None:
            return self.data
        return [dict(zip(self.columns, row)) for row in self.rows]


Analysis = Callable[[Sequence[Result], AnalysisOptions], AnalysisTable | Sequence[AnalysisTable] | None]
Getter = str | Callable[[dict[str, Any]], Any]


def from_records(key: str, title: str, records: Sequence[dict[str, Any]],
                 columns: Sequence[tuple[str, Getter, str]], *, note: str = "", labels: int = 1,
                 data: Any = None) -> AnalysisTable:
    """A table of ``records``: each column is (label, record key or function of the record, format
    spec; "" = the value as is); a None value stays None.  ``data`` defaults to the records."""
    def value(record: dict[str, Any], getter: Getter, spec: str) -> Any:
        v = record.get(getter) if isinstance(getter, str) else getter(record)
        return v if v is None or not spec else format(v, spec)
    rows = [[value(r, getter, spec) for _, getter, spec in columns] for r in records]
    return AnalysisTable(key, title, [label for label, _, _ in columns], rows, note, labels,
                         list(records) if data is None else data)


def interval(low: str, high: str, spec: str) -> Callable[[dict[str, Any]], str]:
    """A column function: ``[low, high]`` of a record's two fields."""
    return lambda r: f"[{format(r[low], spec)}, {format(r[high], spec)}]"


def cell(value: Any) -> str:
    """A JSON value as one table cell."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value, default=str)
