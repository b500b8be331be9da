"""A script run in a fresh interpreter: for what a process imports (pandas, torch), which the
test's own process has long since loaded."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(script: str, timeout: float = 120) -> list[str]:
    """The lines `script` (dedented) prints, run from the checkout with nothing of this
    process's environment but the interpreter; a failure shows its stderr."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True,
        text=True, timeout=timeout, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()
