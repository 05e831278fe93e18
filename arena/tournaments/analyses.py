"""The games' analysis hooks applied to results: metric columns and analysis tables.

The hooks are what each game declares on its ``GameInfo`` (:mod:`arena.games.analysis`);
a game's module is imported here only when results of that game are summarised.  An analysis
runs once over the results (in schedule order) of every game that declares it; one that fails
is left out with a warning (the leaderboard never depends on it).  A game that cannot be
resolved any more (a plug-in since uninstalled) simply has no hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any

from arena.games.analysis import Analysis, AnalysisOptions, AnalysisTable, MetricColumn
from arena.tournaments.headline import game_id
from arena.tournaments.ratings import Result

log = logging.getLogger(__name__)


def _hooks(gid: str) -> tuple[tuple[MetricColumn, ...], tuple[Analysis, ...]]:
    from arena.games.registry import game_info
    from arena.spec import SpecError
    try:
        info = game_info(gid)
    except (SpecError, ImportError) as err:
        log.debug("game %s: no analysis hooks (%s)", gid, err)
        return (), ()
    return tuple(getattr(info, "metric_columns", ())), tuple(getattr(info, "analyses", ()))


def game_hooks(game: str) -> tuple[tuple[MetricColumn, ...], tuple[Analysis, ...]]:
    """(metric columns, analyses) a stored game spec's game declares."""
    return _hooks(game_id(game))


def metric_columns(games: Sequence[str]) -> list[MetricColumn]:
    """The metric columns of these game specs, each metric once, in the order the games declare them."""
    columns: dict[str, MetricColumn] = {}
    for game in dict.fromkeys(sorted(games)):
        for column in game_hooks(game)[0]:
            columns.setdefault(column.metric, column)
    return list(columns.values())


def metric_dicts(games: Sequence[str]) -> list[dict[str, str]]:
    """:func:`metric_columns` in their JSON form (``{"metric", "label", "format"}``)."""
    return [c.as_dict() for c in metric_columns(games)]


def run_analyses(results: Sequence[Result], options: AnalysisOptions,
                 reserved: Collection[str] = ()) -> list[AnalysisTable]:
    """Every analysis the games of ``results`` declare, each over its games' results; one table per key
    (a key in ``reserved``, the document's own keys, is refused with a warning)."""
    declared = {game: game_hooks(game)[1] for game in dict.fromkeys(r[1] for r in results)}
    groups: dict[Analysis, list[Result]] = {}
    for result in results:
        for analysis in declared[result[1]]:
            groups.setdefault(analysis, []).append(result)
    tables: dict[str, AnalysisTable] = {}
    for analysis, subset in groups.items():
        for table in _run(analysis, subset, options):
            if table.key in tables or table.key in reserved:
                log.warning("analysis %s: key %r already taken; table left out", _name(analysis), table.key)
                continue
            tables[table.key] = table
    return list(tables.values())


def _run(analysis: Analysis, results: list[Result], options: AnalysisOptions) -> list[AnalysisTable]:
    try:
        out: Any = analysis(results, options)
        tables = [] if out is None else [out] if isinstance(out, AnalysisTable) else list(out)
        for table in tables:
            if not isinstance(table, AnalysisTable):
                raise TypeError(f"returned {type(table).__name__}, not an AnalysisTable")
        return tables
    except Exception as err:  # noqa: BLE001 -- a game's own analysis must not take the leaderboard down
        log.warning("analysis %s failed and is left out: %s: %s", _name(analysis), type(err).__name__, err)
        return []


def _name(analysis: Analysis) -> str:
    return f"{getattr(analysis, '__module__', '?')}.{getattr(analysis, '__qualname__', repr(analysis))}"
