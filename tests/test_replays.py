"""Visual replays in the HTML report, checked in the file and in a real browser (headless Chromium):
chess boards (python-chess SVG), connect-four grids, a hold'em table that hides the opponent's hole
cards from a player's view until the showdown, a bargaining chat with its offers chart, a werewolf
day/night timeline with votes; stepping through a replay with the page's own script."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from arena.agents.base import Decision, Turn
from arena.export.replay import default_resolver, replay
from arena.report import build_report
from arena.tournaments.rating_options import RatingOptions
from arena.store import Store
from arena.tournaments.config import RunConfig
from arena.tournaments.runner import execute, new_run
from arena.trajectory import Trajectory
from tests.test_report import CHROMIUM, chromium, png_info

RUNS = [
    (["chess:max_plies=12", "connect-four"], ["random", "r2=random"]),
    (["holdem:hands=2"], ["calling-station", "c2=calling-station"]),
    (["bargaining"], ["boulware", "conceder"]),
    (["werewolf"], [f"v{i}=random-voter:seed={i}" for i in range(7)]),
    (["prisoners-dilemma:rounds=3"], ["tit-for-tat", "always-defect"]),
    (["tic-tac-toe"], ["tests.test_replays:Graded:isolate=false", "random"]),
]


class Graded:
    """Plays the first legal cell and grades its own move (as the evaluation's move quality would)."""

    def act(self, turn: Turn) -> Decision:
        return Decision(action=turn.legal_actions[0], info={"quality": 0.25 * (turn.step % 2 + 1)})


@dataclass
class Built:
    store: Store
    path: Path
    text: str

    def match(self, game: str) -> Trajectory:
        mid = next(m for m, _ in sorted(self.store.match_players().items())
                   if self.store.trajectory(m).game.partition(":")[0] == game)
        return self.store.trajectory(mid)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("replays")
    store = Store(tmp / "arena.db")
    for games, agents in RUNS:
        execute(store, new_run(store, RunConfig(games=games, agents=agents, games_per_pair=1, seed=7)))
    path = build_report(store, tmp / "report.html", rating=RatingOptions(bootstrap=20))
    return Built(store, path, path.read_text(encoding="utf-8"))


class Frames(HTMLParser):
    """The inner HTML of every replay frame, keyed by (match anchor, step), and which frames are hidden."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.frames: dict[tuple[str, int], list[str]] = {}
        self.hidden: dict[tuple[str, int], bool] = {}
        self.viewer: dict[tuple[str, int], str] = {}
        self.replay_step: dict[str, str | None] = {}
        self._match: str | None = None
        self._open: tuple[str, int] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "details" and "match" in str(a.get("class")):
            self._match = a.get("id")
        if tag == "div" and a.get("class") == "replay" and self._match:
            self.replay_step[self._match] = a.get("data-step")
        if self._open is not None:
            self._depth += tag == "section"
            self.frames[self._open].append(self.get_starttag_text() or "")
        elif tag == "section" and "frame" in str(a.get("class")) and self._match:
            self._open = (self._match, int(str(a["data-step"])))
            self.frames[self._open], self.hidden[self._open] = [], "hidden" in a
            self.viewer[self._open] = str(a.get("data-viewer"))

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None:
            if tag == "section" and self._depth == 0:
                self._open = None
                return
            self._depth -= tag == "section"
            self.frames[self._open].append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.frames[self._open].append(data)

    def html(self, anchor: str, step: int) -> str:
        return "".join(self.frames[(anchor, step)])

    def visible(self, anchor: str) -> list[int]:
        return [s for (m, s), hidden in self.hidden.items() if m == anchor and not hidden]


def frames_of(text: str) -> Frames:
    parsed = Frames()
    parsed.feed(text)
    return parsed


def holdem_secret(traj: Trajectory) -> tuple[int, list[str], list[str]]:
    """A pre-flop step of seat 0 in the first hand, seat 0's and seat 1's hole cards then."""
    point = next(p for p in replay(traj, default_resolver(traj.game)) if p.player == 0)
    state = point.state
    assert state.observation_data(0)["board"] == [] and not state.records
    return point.step.index, state.hole_cards(0), state.hole_cards(1)


def test_every_family_has_a_replay(built: Built) -> None:
    page = frames_of(built.text)
    for game, family in (("chess", "chess"), ("connect-four", "grids"), ("holdem", "poker"), ("bargaining", "talk"),
                         ("werewolf", "werewolf")):
        traj = built.match(game)
        anchor = f"m-{traj.match_id}"
        steps = sorted(s for m, s in page.frames if m == anchor)
        assert steps == list(range(len(traj.steps) + 1)), game  # one frame per stored step, and the end
        assert page.visible(anchor) == [0]  # without script: the first frame
        assert f'data-family="{family}"' in built.text
        for step in traj.steps:  # each frame is the mover's view, with what it saw and its answer
            assert page.viewer[(anchor, step.index)] == str(step.player)


def test_chess_frames_are_python_chess_boards(built: Built) -> None:
    traj = built.match("chess")
    page = frames_of(built.text)
    anchor = f"m-{traj.match_id}"
    assert built.text.count('<g id="white-pawn"') == 1  # piece drawings once per page
    second = page.html(anchor, 2)
    assert "<svg" in second and 'href="#white-pawn"' in second and "lastmove" in second
    assert f"last move" in second and re.search(r"\.[a-h]\d|[a-h]\d", second)
    assert page.html(anchor, 0).count("lastmove") == 0  # nothing moved yet


def test_connect_four_grid_and_last_move(built: Built) -> None:
    traj = built.match("connect-four")
    page = frames_of(built.text)
    end = page.html(f"m-{traj.match_id}", len(traj.steps))
    discs = end.count('class="X') + end.count('class="O')
    assert discs == len(traj.steps) and end.count(" last") == 1


def test_holdem_hides_the_opponents_cards_until_showdown(built: Built) -> None:
    traj = built.match("holdem")
    step, mine, theirs = holdem_secret(traj)
    page = frames_of(built.text)
    anchor = f"m-{traj.match_id}"
    frame = page.html(anchor, step)
    assert all(f'<span class="card">{c}</span>' in frame for c in mine)
    assert not any(c in frame for c in theirs), "the opponent's hole cards leak into seat 0's view"
    assert frame.count('class="card back"') == 2
    end = page.html(anchor, len(traj.steps))  # the public end: the last hand went to showdown
    assert "showdown:" in end and traj.outcome is not None and traj.outcome.metrics["showdowns"] == 2


def test_bargaining_chat_and_offers_chart(built: Built) -> None:
    traj = built.match("bargaining")
    page = frames_of(built.text)
    anchor = f"m-{traj.match_id}"
    assert page.html(anchor, 3).count('class="msg seat') == 3  # the messages said before step 3
    assert page.html(anchor, len(traj.steps)).count('class="msg seat') == len(traj.steps)
    chart = built.text.split(f'id="{anchor}"', 1)[1].split("</details>", 1)[0]
    assert 'class="match-chart"' in chart and "offers over turns" in chart and 'id="series-0"' in chart


def test_werewolf_timeline_with_votes(built: Built) -> None:
    traj = built.match("werewolf")
    page = frames_of(built.text)
    anchor = f"m-{traj.match_id}"
    end = page.html(anchor, len(traj.steps))
    assert 'class="phase night"' in end and 'class="phase"' in end and 'class="votes"' in end
    roles = traj.outcome.metrics["role"]  # type: ignore[union-attr]
    assert all(f"P{i + 1} ({role})" in end for i, role in enumerate(roles))  # revealed at the end
    villager_step = next(s for s in traj.steps if roles[s.player] == "villager")
    seen = page.html(anchor, villager_step.index)
    assert "(werewolf)" not in seen  # a villager's view does not know the wolves


@pytest.mark.parametrize("game", ["kuhn-poker:hands=3", "leduc-poker:hands=2"])
def test_kuhn_and_leduc_show_only_the_viewers_card(game: str) -> None:
    import arena
    from arena.report.replays import build_replay
    traj = arena.play(game, ["random", "random"], seed=3)
    rep = build_replay(traj)
    assert rep is not None and rep.family == "poker"
    for point, frame in zip(replay(traj, default_resolver(traj.game)), rep.frames):
        me, other = point.player, 1 - point.player
        seats = {s["seat"]: s for s in frame["seats"]}
        assert seats[me]["cards"] == [point.state.observation_data(me)["card"]]
        assert seats[other]["cards"] is None and seats[other]["backs"] == 1
        shown = frame["last_hand"]["shown"] if frame["last_hand"] else {}
        assert not shown or frame["last_hand"]["showdown"]  # earlier hands' cards only after a showdown


def test_grid_frames_mark_the_last_cell() -> None:
    from arena.registry import parse_game
    from arena.report.visuals import frame
    hexes = parse_game("hex:size=5").make(0)
    for player, cell in ((0, "c2"), (1, "a5")):
        hexes.apply(player, cell)
    f = frame(hexes, 0)
    assert f["family"] == "grids" and f["hex"] and f["mark"] == (4, 0) and f["grid"][1][2] == "X"
    ttt = parse_game("tic-tac-toe").make(0)
    for player, cell in ((0, "5"), (1, "3")):
        ttt.apply(player, cell)
    f = frame(ttt, 1)
    assert f["mark"] == (0, 2) and f["grid"] == [["1", "2", "O"], ["4", "X", "6"], ["7", "8", "9"]]
    four = parse_game("connect-four").make(0)
    for player, col in ((0, "4"), (1, "4")):
        four.apply(player, col)
    assert frame(four, 0)["mark"] == (4, 3)  # the second disc in column 4 sits on the first


def test_matrix_strip_with_payoffs(built: Built) -> None:
    traj = built.match("prisoners-dilemma")
    page = frames_of(built.text)
    anchor = f"m-{traj.match_id}"
    assert page.html(anchor, 0).count("<tr><td>") == 0  # both seats move at once: round 1 unseen
    end = page.html(anchor, len(traj.steps))
    rows = re.findall(r"<tr><td>(\d)</td><td class=\"t (c|d)\">(\w)</td><td class=\"t (c|d)\">(\w)</td><td>([^<]*)</td>", end)
    assert [(r[2], r[4], r[5]) for r in rows] == [("C", "D", "0 : 5"), ("D", "D", "1 : 1"), ("D", "D", "1 : 1")]
    assert "2.0 : 7.0" in end  # the totals: tit-for-tat 2, always-defect 7


def test_move_quality_is_shown(built: Built) -> None:
    traj = built.match("tic-tac-toe")
    page = frames_of(built.text)
    graded = [s for s in traj.steps if s.player == 0]
    for step in graded:
        assert f"move quality {step.info['quality']:.3g}" in page.html(f"m-{traj.match_id}", step.index)
    assert any(f"move quality" not in page.html(f"m-{traj.match_id}", s.index) for s in traj.steps if s.player == 1)


# --- a real browser ------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium: apt-get install -y chromium")
def test_chromium_steps_through_replays(built: Built, tmp_path: Path) -> None:
    chess_match, holdem = built.match("chess"), built.match("holdem")
    url = built.path.as_uri()
    dom = chromium(tmp_path, "--dump-dom", f"{url}#m-{chess_match.match_id}@5").stdout
    page = frames_of(dom)
    anchor = f"m-{chess_match.match_id}"
    assert page.visible(anchor) == [5], "the page script selects the step named in the URL"
    assert page.replay_step[anchor] == "5" and f"step 6 / {len(chess_match.steps) + 1}" in dom
    assert "<svg" in page.html(anchor, 5) and "<rect" in page.html(anchor, 5)
    for m, _ in page.frames:  # other replays stay at their first step
        if m != anchor:
            assert page.visible(m) == [0]

    step, mine, theirs = holdem_secret(holdem)
    dom = chromium(tmp_path, "--dump-dom", f"{url}#m-{holdem.match_id}@{step}").stdout
    page = frames_of(dom)
    anchor = f"m-{holdem.match_id}"
    (shown,) = page.visible(anchor)
    frame = page.html(anchor, shown)
    assert shown == step and page.viewer[(anchor, shown)] == "0"
    assert all(c in frame for c in mine) and not any(c in frame for c in theirs)

    for game, colours in (("chess", {(0xFF, 0xCE, 0x9E), (0xD1, 0x8B, 0x47)}),  # python-chess squares
                          ("connect-four", {(0xFB, 0xD5, 0xD5), (0xD5, 0xE3, 0xFB)})):  # X and O cells
        traj = built.match(game)
        shot = tmp_path / f"{game}.png"
        # "@solo": the page shows that replay alone (headless screenshots of far-scrolled pages are blank)
        chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900",
                 f"{url}#m-{traj.match_id}@{len(traj.steps)}@solo")
        _, _, seen = png_info(shot)
        rgb = {tuple(c[:3]) for c in seen}
        assert colours <= rgb, f"{game}: the board's colours are not on the screen"
