"""No Qt in core/ and no torch at app start: every core module imports with PySide6 and
torch blocked (a subprocess, so this test's own imports do not count)."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_core_module_imports_without_qt_and_torch():
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        for name in ("PySide6", "torch", "transformers", "peft"):
            sys.modules[name] = None  # any import of these now raises ImportError
        import core
        names = [m.name for m in pkgutil.walk_packages(core.__path__, "core.")
                 if not m.name.endswith("__main__")]  # running the CLI is not importing
        for name in names:
            importlib.import_module(name)
        print(len(names))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > 100  # it walked the whole package, not nothing


def test_only_the_store_writes_sql():
    """docs/CONTRACTS.md: other code calls core/store's typed functions."""
    import re

    sql = re.compile(
        r"\.(?:execute|executemany|fetchall|fetchone|scalar|sql)\(\s*f?[\"'](?:\s*)"
        r"(?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|COPY|WITH)\b",
        re.I,
    )
    found = []
    for folder in ("core", "desktop", "trainer"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "store" in path.relative_to(ROOT).parts[:2]:
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if sql.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}")
    assert not found, found
