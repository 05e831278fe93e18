"""The HTML report: built from real tournaments, self-contained, complete, escaped, and rendered by
a real browser (headless Chromium, Debian package ``chromium``; skipped when absent)."""

from __future__ import annotations

import html
import struct
import subprocess
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape as markup_escape

from arena.store import Store
from arena.report import build as report_mod
from arena.tournaments.bt import bt_leaderboard
from arena.tournaments.config import RunConfig
from arena.tournaments.ratings import elo_history
from arena.report import build_report
from arena.tournaments.rating_options import RatingOptions
from arena.report.sections import generic
from arena.tournaments.runner import execute, new_run
from arena.trajectory import Outcome, Player
from tests.plugins.bots import DOM_PAYLOAD, IMG_PAYLOAD, SCRIPT_PAYLOAD

CHROMIUM = Path("/usr/bin/chromium")
INJECTOR = f"tests.plugins.bots:HtmlInjector:note={SCRIPT_PAYLOAD}<img src=x onerror=document.title='pwned'>"
GAMES = ["prisoners-dilemma:rounds=4", "prisoners-dilemma:rounds=3,cheap_talk=true",
         "public-goods:players=3,rounds=2"]
AGENTS = ["tit-for-tat", "always-defect", "random", INJECTOR]


@dataclass
class Built:
    store: Store
    run_id: str
    other_run: str
    path: Path
    text: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("report")
    store = Store(tmp / "arena.db")
    run_id = new_run(store, RunConfig(games=GAMES, agents=AGENTS, games_per_pair=2, seed=3))
    execute(store, run_id)
    other = new_run(store, RunConfig(games=["stag-hunt:rounds=2"], agents=["tit-for-tat", "random"], seed=4))
    execute(store, other)
    path = build_report(store, tmp / "out" / "report.html", run_id, rating=RatingOptions(bootstrap=200))
    return Built(store, run_id, other, path, path.read_text(encoding="utf-8"))


class Page(HTMLParser):
    """Every start tag with its attributes, and the cell texts of every table that has an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "table" and dict(attrs).get("id"):
            self._table = str(dict(attrs)["id"])
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def named(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == name]


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def escape(text: str) -> str:
    """Text as Jinja2's autoescape writes it (quotes as &#34; and &#39;)."""
    return str(markup_escape(text))


def match_ids(store: Store, run_id: str) -> list[str]:
    return list(store.match_players(run_id))


def test_single_self_contained_file(built: Built) -> None:
    assert built.path.is_file()
    assert [p.name for p in built.path.parent.iterdir()] == ["report.html"]  # no assets, no leftover .tmp
    page = parse(built.text)
    assert "http://" not in built.text and "https://" not in built.text
    assert all(attrs.get("src") is None for _, attrs in page.tags), "nothing may be loaded"
    assert all(str(attrs["href"]).startswith("#") for _, attrs in page.tags if "href" in attrs)
    for name in ("link", "img", "iframe", "object", "embed", "base", "form"):
        assert not page.named(name), name
    assert len(page.named("script")) == 1  # the report's own few lines; none from the payloads
    assert page.named("meta")[1]["http-equiv"] == "Content-Security-Policy"


def test_every_match_has_a_listed_anchored_transcript(built: Built) -> None:
    ids = match_ids(built.store, built.run_id)
    assert len(ids) == 2 * 6 * 2 + 2 * 4  # two 2-player games over 6 pairs, one 3-player over 4 groups
    page = parse(built.text)
    anchors = {a.get("id") for a in page.named("details")}
    listed = [row[0] for row in page.tables["match-list"][1:]]
    assert listed == sorted(ids)
    for mid in ids:
        assert f"m-{mid}" in anchors
        assert f'href="#m-{mid}"' in built.text
    assert not any(mid in built.text for mid in match_ids(built.store, built.other_run))  # other run left out


def test_leaderboard_in_bradley_terry_order(built: Built) -> None:
    results = list(built.store.results(built.run_id))
    expected = [r["agent"] for r in bt_leaderboard(results, n_boot=10)]
    table = parse(built.text).tables["leaderboard-table"]
    assert [row[0] for row in table[1:]] == expected
    assert INJECTOR in expected
    head = table[0]
    for col in ("BT rating", "95% CI", "rank (95%)", "W", "D", "L", "Elo", "illegal", "fallback", "latency",
                "tokens"):
        assert col in head
    injector = next(row for row in table[1:] if row[0] == INJECTOR)
    assert injector[head.index("illegal")] != "0.0%"  # its refused answers are counted
    assert int(injector[head.index("tokens")]) > 0
    assert "pl-table" in parse(built.text).tables  # a 3-player game: the Plackett–Luce / OpenSkill view


def test_agent_text_is_escaped(built: Built) -> None:
    text = built.text
    for payload in (SCRIPT_PAYLOAD, IMG_PAYLOAD, DOM_PAYLOAD, INJECTOR, "<img src=x"):
        assert payload not in text
    assert escape(SCRIPT_PAYLOAD) in text  # agent name, refused answers
    assert escape(IMG_PAYLOAD) in text  # raw answers, messages, cheap-talk observations
    assert escape(DOM_PAYLOAD) in text  # completions
    assert escape(INJECTOR) in text
    assert "&lt;img src=x onerror=" in text
    assert text.count("<script") == 1 and "<img" not in text


def test_heatmaps_and_rating_plot(built: Built) -> None:
    page = parse(built.text)
    divs = [attrs.get("class") for attrs in page.named("div")]
    assert "heatmap" in divs and "heatmap-bt" in divs and "elo-plot" in divs
    assert built.text.count("<svg") >= 5  # two forest plots, two heatmaps, the Elo chart
    series = {a.get("id") for a in page.named("g") if str(a.get("id")).startswith("series-")}
    assert series == {f"series-{n}" for n in range(len(AGENTS))}  # one Elo line per agent (matplotlib)
    assert "[" in built.text and "n=" in built.text  # Wilson intervals and counts in the cells


def test_per_game_tables(built: Built) -> None:
    page = parse(built.text)
    h3 = {str(a.get("id")) for a in page.named("h3")}
    assert len([h for h in h3 if h.startswith("game-")]) == len(GAMES)
    for game in GAMES:
        assert f"{html.escape(game)} — " in built.text


def test_results_document_rendered_key_by_key(built: Built) -> None:
    assert 'id="document"' in built.text and "every key of the results document" in built.text
    drawn = generic({"leaderboard": [{"agent": "a", "wins": 2}, {"agent": "b", "new_key": [1, 2]}],
                     "headline": {"best": "a", "gap": 12.34567}, "note": None})
    assert drawn["kind"] == "map"
    (key, table), (_, headline), (_, note) = drawn["items"]
    assert key == "leaderboard" and table["table"]["heads"] == ["agent", "wins", "new_key"]
    assert table["table"]["rows"] == [["a", "2", "–"], ["b", "–", "[1, 2]"]]  # a key only some rows have
    assert headline["items"] == [("best", {"kind": "text", "text": "a"}), ("gap", {"kind": "text", "text": "12.35"})]
    assert note == {"kind": "text", "text": "–"}


def test_elo_history_known_values() -> None:
    a, b = Player(0, "a", "a"), Player(1, "b", "b")
    win = Outcome([1.0, 0.0], [1, 2])
    b0, a1 = Player(0, "b", "b"), Player(1, "a", "a")
    history = elo_history([(0, "g", [a, b], win), (1, "g", [b0, a1], Outcome([0.0, 1.0], [2, 1]))])
    # first game: 1500 vs 1500, a wins: +16; second: a (1516) beats b (1484) again: +32 * (1 - 1/(1+10^(-32/400)))
    second = 32 * (1 - 1 / (1 + 10 ** (-32 / 400)))
    assert history["a"] == [(0, 1500.0), (1, 1516.0), (2, pytest.approx(1516.0 + second))]
    assert history["b"][-1][1] == pytest.approx(1484.0 - second)


def test_all_runs_and_big_store_truncation(built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_mod, "BIG_STORE", 5)
    monkeypatch.setattr(report_mod, "BIG_FIELD_LIMIT", 40)
    text = build_report(built.store, tmp_path / "all.html",
                        rating=RatingOptions(bootstrap=50)).read_text(encoding="utf-8")
    for mid in match_ids(built.store, built.run_id) + match_ids(built.store, built.other_run):
        assert f'id="m-{mid}"' in text
    assert "Large report" in text and "more characters not shown" in text
    assert IMG_PAYLOAD not in text and SCRIPT_PAYLOAD not in text  # a cut never splits an escape


def test_anchor(built: Built, tmp_path: Path) -> None:
    text = build_report(built.store, tmp_path / "a.html", built.run_id,
                        rating=RatingOptions(anchor="random", bootstrap=20)).read_text()
    rows = parse(text).tables["leaderboard-table"]
    assert next(r for r in rows if r[0] == "random")[rows[0].index("BT rating")] == "1500"
    assert "random = 1500" in text and "the mean rating = 1500" in built.text
    with pytest.raises(ValueError, match="nobody"):
        build_report(built.store, tmp_path / "b.html", built.run_id,
                     rating=RatingOptions(anchor="nobody", bootstrap=20))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html"]  # a failed build leaves nothing


def test_report_cli_takes_the_leaderboards_rating_options(built: Built, tmp_path: Path) -> None:
    """``arena report --seat-advantage`` rates as ``arena leaderboard --seat-advantage`` does (the same
    document), and says so in the leaderboard's note."""
    from arena.tournaments.summary import store_document
    from tests.conftest import run_cli
    out = tmp_path / "s.html"
    done = run_cli("report", "--db", str(built.store.path), "--run", built.run_id, "--out", str(out),
                   "--seat-advantage", "--bootstrap", "20", "--anchor", "random")
    assert done.returncode == 0, done.stderr
    doc = store_document(built.store, built.run_id, n_boot=20, anchor="random", seat_advantage=True)
    rows = parse(out.read_text(encoding="utf-8")).tables["leaderboard-table"]
    shown = {r[0]: r[rows[0].index("BT rating")] for r in rows[1:]}
    assert shown == {r["agent"]: f"{r['bt']:.0f}" for r in doc["leaderboard"]}
    assert shown["random"] == "1500" and "first-seat advantage" in out.read_text(encoding="utf-8")


def test_empty_run(tmp_path: Path) -> None:
    store = Store(tmp_path / "empty.db")
    run_id = new_run(store, RunConfig(games=["stag-hunt"], agents=["tit-for-tat", "random"]))
    text = build_report(store, tmp_path / "empty.html", run_id).read_text(encoding="utf-8")
    assert "No finished matches" in text and "2 pending" in text


# --- a real browser ------------------------------------------------------------
def png_info(path: Path) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct pixel colours of an 8-bit RGB/RGBA PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0], "bad CRC"
        chunks.append((kind, body))
        pos += 12 + n
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND" and depth == 8 and interlace == 0
    bpp = {2: 3, 6: 4}[colour]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride, prev, colours = width * bpp, bytearray(width * bpp), set()
    assert len(raw) == height * (stride + 1)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        unfilter(kind, line, prev, bpp)
        colours.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp))
        prev = line
    return width, height, colours


def unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if kind == 1:
            line[i] = (line[i] + a) & 255
        elif kind == 2:
            line[i] = (line[i] + b) & 255
        elif kind == 3:
            line[i] = (line[i] + ((a + b) >> 1)) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'profile'}"]
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium: apt-get install -y chromium")
def test_chromium_renders_the_report(built: Built, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", built.path.as_uri())
    assert shot.exists(), proc.stderr[-2000:]
    width, height, colours = png_info(shot)
    assert (width, height) == (1280, 2000)
    assert len(colours) >= 50, f"a nearly blank page: {len(colours)} colours"

    injected = next(mid for mid, players in built.store.match_players(built.run_id).items()
                    if any(p.name == INJECTOR for p in players))
    proc = chromium(tmp_path, "--dump-dom", f"{built.path.as_uri()}#m-{injected}")
    dom = proc.stdout
    assert "<table" in dom, proc.stderr[-2000:]
    page = parse(dom)
    assert [row[0] for row in page.tables["leaderboard-table"][1:]][0]  # the leaderboard was rendered
    assert INJECTOR in [row[0] for row in page.tables["leaderboard-table"][1:]]
    assert page.named("body") == [{}]  # no payload ran: they would set body[data-pwned] ...
    assert f"<title>arena report — {built.run_id}</title>" in dom  # ... or the title
    assert not page.named("img") and len(page.named("script")) == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # the payload is there, as text
    target = next(a for a in page.named("details") if a.get("id") == f"m-{injected}")
    assert "open" in target  # the report's own script ran (its CSP hash is right) and opened the link


def test_report_shows_the_leaderboards_numbers_with_replicates_counted_once(tmp_path: Path) -> None:
    """Deterministic agents replay identical matches: the report rates them as ``arena leaderboard`` does
    (each distinct match once; it used to refit over all 12 and print always-defect at 1775 beside the
    leaderboard's 1711), and ranks a general-sum game's table by mean payoff, as the terminal does."""
    from arena.tournaments.summary import store_document
    store = Store(tmp_path / "r.db")
    run_id = new_run(store, RunConfig(agents=["tit-for-tat", "always-defect", "always-cooperate"], games_per_pair=4))
    execute(store, run_id)
    doc = store_document(store, run_id, n_boot=50)
    assert (doc["replicates"]["matches"], doc["replicates"]["distinct"]) == (12, 6)
    text = build_report(store, tmp_path / "r.html", run_id,
                        rating=RatingOptions(bootstrap=50)).read_text(encoding="utf-8")
    tables = parse(text).tables
    board = tables["leaderboard-table"]
    head = board[0]
    shown = {r[0]: (r[head.index("BT rating")], r[head.index("95% CI")], r[head.index("games")],
                    r[head.index("distinct")]) for r in board[1:]}
    assert shown == {r["agent"]: (f"{r['bt']:.0f}", f"[{r['bt_ci'][0]:.0f}, {r['bt_ci'][1]:.0f}]", "8", "4")
                     for r in doc["leaderboard"]}
    [game] = doc["games"]
    per_game = tables[f"game-{game['game']}-ratings"]
    assert [r[0] for r in per_game[1:]] == ["always-defect", "tit-for-tat", "always-cooperate"]  # 32 > 19.5 > 15
    assert per_game[1][per_game[0].index("mean payoff [95% CI]")] == "32.00 [32.00, 32.00]"
    assert "12 matches (6 distinct), ranked by mean payoff" in text


def test_heatmaps_show_the_documents_win_matrix_and_grey_for_pairs_that_never_met(tmp_path: Path) -> None:
    """A gauntlet: tit-for-tat meets both others, who never meet.  The BT map prints the results
    document's own prediction for each pair that played (the leaderboard's fit, not a refit) and
    "not played" for the pair that did not, in both maps and both directions."""
    import re
    from arena.tournaments.summary import store_document
    store = Store(tmp_path / "g.db")
    agents = ["tit-for-tat", "always-defect", "always-cooperate"]
    run_id = new_run(store, RunConfig(agents=agents, schedule="gauntlet", focus="tit-for-tat",
                                      games_per_pair=2, seed=1))
    execute(store, run_id)
    doc = store_document(store, run_id, n_boot=50)
    met = {(c["agent"], c["opponent"]) for c in doc["win_matrix"]}
    assert ("always-defect", "always-cooperate") not in met and ("tit-for-tat", "always-defect") in met
    text = build_report(store, tmp_path / "g.html", run_id,
                        rating=RatingOptions(bootstrap=50)).read_text(encoding="utf-8")

    def cells(cls: str) -> list[str]:
        svg = text.split(f'<div class="{cls}">', 1)[1].split("</svg>", 1)[0]
        return [html.unescape(t).strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]

    predicted = cells("heatmap-bt")
    assert predicted.count("not played") == 2 and cells("heatmap").count("not played") == 2
    shown = [c for c in predicted if c.endswith("%")]
    assert sorted(shown) == sorted(f"{c['predicted']:.0%}" for c in doc["win_matrix"])
