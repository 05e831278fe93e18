"""Worker processes die with their parent: kill -9 of a `--workers 2` run leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")


def _children(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _stat(int(entry.name))[1] == parent:
            found.add(int(entry.name))
    return found


def _stat(pid: int) -> tuple[str, int]:
    """(state, parent pid) of a process; ("X", 0) once it is gone."""
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return "X", 0
    return fields[0], int(fields[1])


def _running(pid: int) -> bool:
    return _stat(pid)[0] not in ("X", "Z")  # a zombie is dead (only not yet reaped by its new parent)


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_kill_9_of_parallel_run_leaves_no_worker(tmp_path: Path) -> None:
    args = ["run", "-g", "prisoners-dilemma:rounds=40", "-a", "slow=tests.plugins.bots:SlowCooperator:delay=0.2",
            "-a", "tit-for-tat", "-n", "8", "--workers", "2", "--db", str(tmp_path / "arena.db"), "--json"]
    proc = subprocess.Popen([sys.executable, "-m", "arena.cli", *args], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        assert _wait(lambda: len(_children(proc.pid)) >= 2, timeout=300), "the workers never started"
        workers = _children(proc.pid)
        assert all(_running(pid) for pid in workers)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _wait(lambda: not any(_running(pid) for pid in workers), timeout=60), \
        f"orphans left running: {[pid for pid in workers if _running(pid)]}"


def test_die_with_parent_in_a_grandchild(tmp_path: Path) -> None:
    """The helper on its own: a forked child that armed it dies when its parent is SIGKILLed."""
    code = """
import os, sys, time
from arena.lifeline import die_with_parent
parent = os.getpid()
child = os.fork()
if child == 0:
    die_with_parent(parent)
    time.sleep(300)
    os._exit(0)
print(child, flush=True)
time.sleep(300)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    assert _wait(lambda: _running(child) and _stat(child)[1] == proc.pid, timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _wait(lambda: not _running(child), timeout=60)
