"""How the trainer child is started, for `mmstudio train` and the Training tab alike.

`launch_spec` gives the argv, the environment and the working folder; the Training tab shows
`spec.display()`, the exact command it then starts.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from core.childenv import clean_child_env
from core.frozen import source_dir


def trainer_env(base: dict | None = None) -> dict:
    """The child's environment: no bundle paths, unbuffered output, and our plain `core` and
    `trainer` sources on PYTHONPATH (the checkout, or the bundle's copy) so that any
    interpreter with torch can run `-m trainer` without installing this project."""
    env = clean_child_env(dict(os.environ) if base is None else base)
    env["PYTHONUNBUFFERED"] = "1"
    root = source_dir()
    if root:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    return env


@dataclass(frozen=True)
class LaunchSpec:
    argv: list[str]  # argv[0] is the interpreter
    env: dict[str, str]
    cwd: Path  # the config's folder: relative paths in it mean the same from the CLI and GUI

    def display(self) -> str:
        """The command as a shell line (the Training tab's log shows it before starting)."""
        if os.name == "nt":
            return subprocess.list2cmdline(self.argv)
        return shlex.join(self.argv)


def launch_spec(
    config: Path, python: str | None = None, check: bool = False, base_env: dict | None = None
) -> LaunchSpec:
    """`PYTHON -m trainer CONFIG [--check]` (PYTHON: this interpreter unless one is named)."""
    config = Path(config).resolve()
    argv = [python or sys.executable, "-m", "trainer", str(config)]
    if check:
        argv.append("--check")
    return LaunchSpec(argv, trainer_env(base_env), config.parent)
