from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def requires(*modules: str) -> pytest.MarkDecorator:
    """Skip unless every module is installed, found with ``importlib.util.find_spec`` and not imported
    (``pytest.importorskip`` at module level imported trl, torch and textarena while collecting)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"needs {', '.join(missing)} (pip install -e '.[test]')")


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 1200,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``arena`` entry point (as a user would) in a subprocess."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "arena.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=cwd or ROOT)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "arena.db")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, float]]:
    """A fresh ARENA_CACHE for the session with SmolLM2 built into it, and the build time.

    Subprocesses started after this fixture inherit ARENA_CACHE, so they reuse the build.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"  # never reach the hub, whatever happens
    from arena.agents.backends.local import model_folder
    cache = tmp_path_factory.mktemp("arena-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARENA_CACHE", str(cache))
        started = time.perf_counter()
        folder = model_folder("smollm2")
        yield folder, time.perf_counter() - started
    shutil.rmtree(cache, ignore_errors=True)  # half a gigabyte

from tests.loopback import loopback_server  # noqa: E402,F401  (a fixture, shared by the test modules)
