"""Start-up stays light: a scripted prisoner's dilemma never imports the heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("scipy.stats", "pokerkit", "transformers", "litellm", "torch", "textarena", "ray")

SCRIPT = """
import json, sys
from arena.cli import main
sys.argv = ["arena", "run", "-g", "prisoners-dilemma", "-a", "tit-for-tat", "-a", "always-defect",
            "-n", "1", "--json", "--db", sys.argv[1]]
try:
    main()
except SystemExit as stop:
    assert not stop.code, stop.code
sys.stderr.write("MODULES " + json.dumps([m for m in HEAVY if m in sys.modules]) + "\\n")
"""


def test_a_scripted_run_imports_no_heavy_library(tmp_path: Path) -> None:
    code = f"HEAVY = {HEAVY!r}\n" + SCRIPT
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a.db")], capture_output=True, text=True,
                          timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    assert json.loads(line.removeprefix("MODULES ")) == []
    assert json.loads(done.stdout)["leaderboard"]  # and it really played and rated the match
