"""A human seat through ``arena play``, driven in a real terminal (tmux): the person's typed moves,
a refused one with the game's explanation, and the stored match."""

from __future__ import annotations

import io
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from arena.cli_play import seat_specs
from arena.registry import SpecError
from arena.report import build_report
from arena.tournaments.rating_options import RatingOptions
from arena.store import Store
from tests.conftest import ROOT

TMUX = shutil.which("tmux")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=60).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", session)


def wait_for(session: str, pattern: str, seen: int, timeout: float = 300) -> tuple[str, int]:
    """Wait until ``pattern`` occurs more than ``seen`` times on the screen; returns (screen, count)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = screen(session)
        count = len(re.findall(pattern, text))
        if count > seen:
            return text, count
        time.sleep(0.3)
    raise AssertionError(f"no {pattern!r} on the screen after {timeout}s:\n{screen(session)}")


def test_seat_specs() -> None:
    assert seat_specs("tic-tac-toe", ["random"], 1) == ["random", "human"]
    assert seat_specs("werewolf", ["random-voter"], 2)[2] == "human"
    assert len(set(seat_specs("werewolf", ["random-voter"], 0))) == 7  # one name per seat
    with pytest.raises(SpecError, match="at most 1"):
        seat_specs("tic-tac-toe", ["random", "random"], 0)
    with pytest.raises(SpecError, match="--seat"):
        seat_specs("tic-tac-toe", ["random"], 2)


def test_human_types_messages_in_a_free_text_game() -> None:
    import arena
    from arena.agents.human import HumanAgent
    screen_out = io.StringIO()
    typed = io.StringIO("I pay $30 [OFFER $30]\nHow about [OFFER $12]\n" + "Deal [ACCEPT]\n" * 6)
    human = HumanAgent(Console(file=screen_out, width=120), stream=typed)
    traj = arena.play("bargaining", ["boulware", human], seed=2)
    mine = [s for s in traj.steps if s.player == 1]
    assert mine[0].attempts[0].text == "I pay $30 [OFFER $30]"
    assert "budget" in mine[0].attempts[0].error  # the game's own explanation ...
    shown = screen_out.getvalue()
    assert f"refused: {mine[0].attempts[0].error}" in " ".join(shown.split())  # ... shown to the person
    assert "OFFER $12" in mine[0].action and "your message>" in shown and "rules" in shown
    assert all(s.info == {"human": True} for s in mine)
    assert traj.outcome is not None and traj.outcome.reason == "normal"


@pytest.mark.skipif(TMUX is None, reason="needs tmux")
def test_human_plays_tic_tac_toe_in_tmux(tmp_path: Path) -> None:
    db = tmp_path / "arena.db"
    session = f"arena-play-{time.monotonic_ns()}"
    command = (f"cd {shlex.quote(str(ROOT))} && PYTHONPATH={shlex.quote(str(ROOT))} {shlex.quote(sys.executable)} "
               f"-m arena play tic-tac-toe --agent random --seed 5 --db {shlex.quote(str(db))}; "
               "echo ARENA-EXIT-$?; sleep 600")
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", command)
    typed: list[str] = []
    try:
        prompts, text = 0, ""
        while True:
            text, prompts = wait_for(session, r"your move> |ARENA-EXIT-", prompts)
            if "ARENA-EXIT-" in text:
                break
            legal = re.findall(r"legal: ([\d, ]+)", text)[-1].split(", ")
            if not typed:  # first a taken-cell answer: refused with the game's own explanation
                tmux("send-keys", "-t", session, "a1 and b2", "Enter")
                text, prompts = wait_for(session, r"your move> ", prompts)
                assert "refused:" in text and "names several cells" in text
            move = legal[-1]
            typed.append(move)
            tmux("send-keys", "-t", session, move, "Enter")
        assert "ARENA-EXIT-0" in text, text
        assert "stored as run" in text and "final position" in text
    finally:
        tmux("kill-session", "-t", session)
    store = Store(db)
    (match_id,) = store.match_players()
    traj = store.trajectory(match_id)
    assert [p.name for p in traj.players] == ["human", "random"]
    human = [s for s in traj.steps if s.player == 0]
    assert [s.action for s in human] == typed  # every typed move, in order
    assert human[0].attempts[0].text == "a1 and b2" and "names several cells" in human[0].attempts[0].error
    assert traj.outcome is not None and len(traj.steps) >= 5
    report = build_report(store, tmp_path / "report.html",
                          rating=RatingOptions(bootstrap=20)).read_text(encoding="utf-8")
    assert f'id="m-{match_id}"' in report and 'data-family="grids"' in report  # it appears with its replay
