"""Atomic outputs: every file or folder arena writes appears complete or not at all.

``atomic_write(path)`` yields a temporary path beside the target (same folder, so the
final :func:`os.replace` is a rename on one file system); when the block ends normally
the temporary is flushed to disk and renamed over the target, when it raises the
temporary is removed and the previous target is left byte-identical.  ``atomic_dir``
does the same for a folder (a trained model).  A process killed with SIGKILL cannot
clean up, so temporaries carry the writer's pid and the next write of the same target
removes those whose writer is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO

PREFIX = ".arena-tmp-"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temporary(target: Path) -> Path:
    return target.with_name(f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{target.name}")


def sweep(target: Path) -> None:
    """Remove temporaries of ``target`` left by writers that no longer run (killed mid-write)."""
    for tmp in target.parent.glob(f"{PREFIX}*-*-{target.name}"):
        pid = tmp.name[len(PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or pid_alive(int(pid)):
            continue
        if tmp.is_dir() and not target.exists():
            continue  # killed between the two renames of atomic_dir: this may be the only copy
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file path beside ``path``; renamed over ``path`` when the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep(target)
    tmp = _temporary(target)
    try:
        yield tmp
        if not tmp.exists():
            tmp.touch()
        _fsync(tmp)
        os.replace(tmp, target)
    finally:
        _remove(tmp)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """An open file (text by default; ``mode="wb"`` for bytes) that replaces ``path`` when closed normally."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """``Path.write_text``, atomically."""
    with atomic_write(path, encoding=encoding) as handle:
        handle.write(text)
    return Path(path)


@contextlib.contextmanager
def atomic_dir(path: str | Path, overwrite: bool = True) -> Iterator[Path]:
    """A fresh temporary folder beside ``path``; it becomes ``path`` when the block succeeds.

    An existing ``path`` is replaced only at the very end (renamed aside, then removed), so a
    failure or a kill leaves either the old folder or the new one, never a mix.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep(target)
    tmp = _temporary(target)
    tmp.mkdir()
    try:
        yield tmp
        old = _temporary(target) if target.exists() else None
        if old is not None:
            if not overwrite:
                raise FileExistsError(f"{target}: already exists")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            _remove(old)
    finally:
        _remove(tmp)
