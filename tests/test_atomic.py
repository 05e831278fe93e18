"""Atomic outputs: a failed or killed write leaves the previous file (or folder) byte-identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from arena.atomic import PREFIX, atomic_dir, atomic_write, write_text
from arena.export.dataset import write_rows
from tests.conftest import ROOT


def test_failed_write_keeps_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old good export\n")
    with pytest.raises(RuntimeError, match="half-way"):
        with atomic_write(target) as handle:
            handle.write("new partial")
            raise RuntimeError("half-way")
    assert target.read_bytes() == b"old good export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
    write_text(target, "complete\n")
    assert target.read_text() == "complete\n" and sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_parquet_and_jsonl_writers_are_atomic(tmp_path: Path) -> None:
    target = tmp_path / "rows.parquet"
    write_rows([{"a": 1}], target)
    before = target.read_bytes()
    with pytest.raises(Exception):
        write_rows([{"a": 1}, {"a": object()}], target)  # Arrow cannot convert an object column
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["rows.parquet"]


def test_failed_folder_keeps_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "weights").write_text("v1")
    with pytest.raises(OSError):
        with atomic_dir(target) as tmp:
            (tmp / "weights").write_text("v2 half")
            raise OSError("disk full")
    assert (target / "weights").read_text() == "v1" and [p.name for p in tmp_path.iterdir()] == ["model"]
    with atomic_dir(target) as tmp:
        (tmp / "weights").write_text("v2")
    assert sorted(p.name for p in target.iterdir()) == ["weights"] and (target / "weights").read_text() == "v2"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_kill_9_mid_export_leaves_old_file_byte_identical(tmp_path: Path) -> None:
    """A real export writer (``write_rows``) SIGKILLed after writing part of its rows."""
    target = tmp_path / "pairs.jsonl"
    old = b"".join(b'{"prompt": "old", "row": %d}\n' % i for i in range(631))
    target.write_bytes(old)
    code = textwrap.dedent(f"""
        import sys, time
        from arena.export.dataset import write_rows

        class SlowRows(list):
            def __iter__(self):
                for i in range(6000):
                    if i == 500:
                        print("midway", flush=True)
                        time.sleep(300)
                    yield {{"prompt": "new", "row": i}}

        write_rows(SlowRows(), {str(target)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "midway"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert target.read_bytes() == old
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(PREFIX)]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # the killed writer's temporary
    write_rows([{"prompt": "next"}], target)  # the next write of the target removes it
    assert [p.name for p in tmp_path.iterdir()] == ["pairs.jsonl"]
    assert target.read_text() == '{"prompt": "next"}\n'
