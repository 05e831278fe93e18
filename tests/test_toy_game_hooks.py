"""A game with its own metric and analysis, defined in this module alone (issue 19's Done-when).

The toy game, its ``GameInfo`` with a metric column and an analysis hook, and two scripted agents
live here; the game is registered through the public plug-in path (an ``arena.games`` entry point
of a distribution on ``sys.path``), a tournament is played into a temp store, and the metric and
the table show up in the leaderboard JSON (``arena leaderboard --json``), the terminal tables and
the HTML report without any other module knowing the game.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

import arena
from arena.cli_board import print_document
from arena.games.analysis import AnalysisOptions, AnalysisTable, MetricColumn, Result
from arena.games.base import GameInfo, IllegalAction, State
from arena.report import build_report
from arena.tournaments.rating_options import RatingOptions
from arena.store import Store
from arena.tournaments.analyses import run_analyses
from arena.tournaments.summary import RESERVED, store_document
from arena.trajectory import Outcome, Player
from tests.conftest import run_cli


class PickState(State):
    """Toy: each player in turn picks 1, 2 or 3 and scores it, unless both pick 3 (then both score 0).
    Metric ``boldness``: pick / 3 per player; ``total``: the sum of the picks."""

    game_id = "toy-pick"
    action_vocab = ("1", "2", "3")

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(2, seed)
        self.picks: list[int] = []

    def to_move(self) -> list[int]:
        return [len(self.picks)] if len(self.picks) < 2 else []

    def legal_actions(self, player: int) -> list[str]:
        return list(self.action_vocab)

    def apply(self, player: int, action: str) -> None:
        if action not in self.action_vocab:
            raise IllegalAction(f"{action!r}: pick 1, 2 or 3")
        self.picks.append(int(action))

    def returns(self) -> list[float]:
        if len(self.picks) < 2 or self.picks == [3, 3]:
            return [0.0, 0.0]
        return [float(p) for p in self.picks]

    def rules_text(self, player: int) -> str:
        return "Pick 1, 2 or 3; you score your pick unless both pick 3."

    def observation(self, player: int) -> str:
        return f"picks so far: {self.picks}"

    def metrics(self) -> dict[str, object]:
        return {"boldness": [p / 3 for p in self.picks], "total": sum(self.picks)}


def totals(results: Sequence[Result], options: AnalysisOptions) -> AnalysisTable:
    """The toy's analysis: how many matches ended with each total pick."""
    counts = Counter(o.metrics["total"] for _, _, _, o in results)
    return AnalysisTable("toy_totals", "toy: matches by total pick", ["total", "matches"],
                         [[t, n] for t, n in sorted(counts.items())], note="a total of 6 scores nothing", labels=0)


def broken(results: Sequence[Result], options: AnalysisOptions) -> AnalysisTable:
    raise RuntimeError("this analysis always fails")


TOY_GAME = GameInfo("toy-pick", PickState, {}, "toy pick game (a test plug-in)", utility="general-sum",
                    metric_columns=(MetricColumn("boldness", "bold", "percent"),), analyses=(totals, broken))


class Greedy:
    def act(self, turn: object) -> str:
        return "3"


class Timid:
    def act(self, turn: object) -> str:
        return "1"


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The toy game as the ``arena.games`` entry point of a distribution on sys.path (this process and
    the CLI's); returns the environment a subprocess needs."""
    dist = tmp_path / "site" / "arena_toy_game-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: arena-toy-game\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[arena.games]\ntoy-pick = {__name__}:TOY_GAME\n")
    here = str(Path(__file__).parent)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.syspath_prepend(here)  # this module by the name the entry point gives
    root = str(Path(__file__).parent.parent)
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), here, root])}


def test_a_toy_game_brings_its_metric_and_table(plugin: dict[str, str], tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    agents = [f"{name}={__name__}:{cls}:isolate=false" for name, cls in
              (("greedy", "Greedy"), ("greedy2", "Greedy"), ("timid", "Timid"))]
    db = tmp_path / "toy.db"
    with caplog.at_level(logging.WARNING, logger="arena.tournaments.analyses"):
        results = arena.tournament(["toy-pick"], agents, db=db, games_per_pair=2, n_boot=50)
    assert len(results.matches) == 6  # 3 pairs x 2 seatings
    assert any("this analysis always fails" in r.getMessage() for r in caplog.records)  # left out, said so

    # the leaderboard JSON, as a user gets it
    proc = run_cli("leaderboard", "--db", str(db), "--json", "--bootstrap", "50", env=plugin)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = {r["agent"]: r for r in doc["leaderboard"]}
    assert rows["greedy"]["metrics"]["boldness"] == 1.0 and rows["timid"]["metrics"]["boldness"] == pytest.approx(1 / 3)
    assert doc["metric_columns"] == [{"metric": "boldness", "label": "bold", "format": "percent"}]
    assert doc["games"][0]["metric_columns"] == doc["metric_columns"]
    # greedy vs greedy2 twice (3+3), each greedy against timid twice (3+1)
    assert doc["toy_totals"] == [{"total": 4, "matches": 4}, {"total": 6, "matches": 2}]
    assert [a["key"] for a in doc["analyses"]] == ["toy_totals"]  # the failing analysis is left out
    assert doc["analyses"][0]["rows"] == [[4, 4], [6, 2]]

    # the terminal tables
    print_document(doc, overall=True)
    shown = capsys.readouterr().out
    assert "toy: matches by total pick" in shown and "a total of 6 scores nothing" in shown
    assert "bold" in shown and "100%" in shown and "33%" in shown

    # the HTML report
    page = build_report(db, tmp_path / "toy.html", rating=RatingOptions(bootstrap=50)).read_text(encoding="utf-8")
    assert 'id="analyses"' in page and html.escape("toy: matches by total pick") in page
    table = page[page.index('<table id="analysis-toy_totals">'):]
    table = table[:table.index("</table>")]
    assert "<th>total</th><th>matches</th>" in table
    assert "<tr><td>4</td><td>4</td></tr>" in table and "<tr><td>6</td><td>2</td></tr>" in table
    board = page[page.index('<table id="leaderboard-table">'):]
    board = board[:board.index("</table>")]
    assert "<th>bold</th>" in board
    assert '<td class="t">greedy</td>' in board and "<td>100%</td>" in board and "<td>33%</td>" in board


def test_analysis_tables_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A table cannot take one of the document's own keys, nor have rows of the wrong width."""
    def stealing(results: Sequence[Result], options: AnalysisOptions) -> AnalysisTable:
        return AnalysisTable("leaderboard", "steals a key", ["x"], [[1]])

    info = GameInfo("toy-steal", PickState, analyses=(stealing, totals))
    result = (0, "toy-steal", [Player(0, "a", "a"), Player(1, "b", "b")], Outcome([1.0, 3.0], [2, 1], metrics={"total": 4}))
    monkeypatch.setattr("arena.tournaments.analyses.game_hooks", lambda game: (info.metric_columns, info.analyses))
    tables = run_analyses([result], AnalysisOptions(), RESERVED)
    assert [t.key for t in tables] == ["toy_totals"]
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        AnalysisTable("k", "t", ["a", "b"], [[1]])
    assert MetricColumn("m", "m", "percent").text(0.254) == "25%" and MetricColumn("m", "m").text(None) == "–"


def test_store_document_of_a_game_no_longer_installed(tmp_path: Path) -> None:
    """Results of a game nobody can resolve any more still rate, with no hooks (no table, no column)."""
    store = Store(tmp_path / "gone.db")
    from arena.tournaments.config import RunConfig
    from arena.tournaments.runner import execute, new_run
    run_id = new_run(store, RunConfig(games=["stag-hunt:rounds=2"], agents=["tit-for-tat", "always-defect"]))
    execute(store, run_id)
    store.db.execute("UPDATE matches SET game = 'uninstalled-game'")
    store.db.commit()
    doc = store_document(store, run_id, n_boot=20)
    assert {r["agent"] for r in doc["leaderboard"]} == {"tit-for-tat", "always-defect"}
    assert "analyses" not in doc and "metric_columns" not in doc


def test_summarising_a_game_imports_only_its_own_hooks(tmp_path: Path) -> None:
    """The hooks are resolved per game summarised: a prisoner's dilemma leaderboard loads no other game."""
    import subprocess
    import sys
    code = ("import sys; from arena.store import Store; from arena.tournaments.config import RunConfig; "
            "from arena.tournaments.runner import execute, new_run; "
            "from arena.tournaments.summary import store_document; "
            f"s = Store({str(tmp_path / 'pd.db')!r}); "
            "r = new_run(s, RunConfig(games=['prisoners-dilemma:rounds=2'], agents=['tit-for-tat', 'always-defect'])); "
            "execute(s, r); doc = store_document(s, r, n_boot=20); "
            "print(doc['metric_columns'][0]['label'], sorted(m for m in ('pokerkit', 'arena.games.poker', "
            "'arena.games.werewolf', 'arena.games.negotiation', 'arena.tournaments.teams') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip() == "coop []"


def test_deal_price_table_known_values() -> None:
    """The negotiation family's hook: the k-th game of each pair, mean and sample std of the prices."""
    from arena.games.negotiation import deal_price_table
    a, b, c = Player(0, "a", "a"), Player(1, "b", "b"), Player(1, "c", "c")

    def deal(price: float | None) -> Outcome:
        return Outcome([1.0, 1.0], [1, 1], metrics={"deal": int(price is not None), "deal_price": price})
    results = [(0, "bargaining", [a, b], deal(10.0)), (1, "bargaining", [a, c], deal(14.0)),
               (2, "bargaining", [a, b], deal(None))]
    table = deal_price_table(results, AnalysisOptions())
    assert table is not None and table.key == "iterations"
    assert table.rows == [["bargaining", 1, 2, "100%", "12.00", "2.83"], ["bargaining", 2, 1, "0%", None, None]]
    assert table.document_value()[0] == {"game": "bargaining", "iteration": 1, "matches": 2, "deal_rate": 1.0,
                                         "mean_deal_price": 12.0, "std_deal_price": pytest.approx(8 ** 0.5)}
    assert deal_price_table([(0, "bargaining", [a, b], Outcome([1.0, 0.0], [1, 2]))], AnalysisOptions()) is None


def test_a_game_says_what_a_win_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sentence under a game's W/D/L columns is the game's own ``GameInfo.win`` (no table of game ids)."""
    from arena.games.index import game_index
    from arena.tournaments.headline import win_meaning
    race = GameInfo("toy-race", PickState, utility="zero-sum", win="reaching 10 first")
    monkeypatch.setattr("arena.tournaments.headline.game_info", lambda game_id: race)
    assert win_meaning("toy-race:target=10", "zero-sum") == "reaching 10 first"
    assert win_meaning("toy-race", "general-sum").startswith("a higher total payoff")  # the payoff is the headline
    monkeypatch.setattr("arena.tournaments.headline.game_info", lambda game_id: GameInfo("toy-plain", PickState))
    assert win_meaning("toy-plain", "zero-sum").startswith("finishing ranked first by the game's own scoring")
    assert game_index()["hex"]["win"] == "connecting your two sides of the board (hex has no draws)"
