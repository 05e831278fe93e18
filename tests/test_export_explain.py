"""An export that explains itself: why decision points gave no pair, and for 0 rows what would change it."""

from __future__ import annotations

from pathlib import Path

from arena.export.preferences import export_preferences
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run


def test_zero_rows_end_with_the_counts_and_the_option_that_would_change_them(tmp_path: Path) -> None:
    store = Store(tmp_path / "k.db")
    execute(store, new_run(store, RunConfig(games=["kuhn-poker"], agents=["random", "cfr"], games_per_pair=4, seed=2)))
    nobody = export_preferences(store, kind="step", rollout="random", rollouts=2)
    assert nobody.rows == [] and "no row: no turn of the selected seats was found (try --agent, --experts" in \
        nobody.summary()
    strict = export_preferences(store, kind="step", rollout="random", rollouts=4, experts=True, min_margin=1e9)
    points = strict.stats["decision_points"]
    assert points > 0 and strict.stats["points_below_margin"] > 0
    assert len(strict.rows) <= strict.stats["points_deterministic"]  # an SE of 0 says nothing: the gap decides
    assert f"{strict.stats['points_below_margin']} decision points had a value gap within --min-margin" in \
        strict.summary()
    none = export_preferences(store, kind="step", rollout="random", rollouts=4, experts=True, min_gap=1e9)
    assert none.rows == [] and points == sum(none.stats[k] for k in (
        "points_below_margin", "points_tied", "points_below_gap", "points_single_candidate"))  # all accounted
    text = none.summary()
    assert text.startswith("0 rows") and "\nno row: " in text
    assert f"{none.stats['points_below_gap']} decision points had a value gap below --min-gap (try a lower " \
           "--min-gap)" in text
    kept = export_preferences(store, kind="step", rollout="random", rollouts=4, experts=True, min_margin=0.0)
    assert kept.rows and "try" not in kept.summary()  # hints only when nothing was kept
    store.close()
