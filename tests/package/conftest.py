"""The packaged app, built once per session from build.spec, and what its tests run it with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core import __version__

REPO = Path(__file__).resolve().parents[2]
# Everything the build writes stays under the repository's build/ folder (PyInstaller's own
# cache included), so CI caches nothing else and a user's dist/ is left alone.
OUT = REPO / "build" / "package-test"


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The onedir app folder (dist/mmstudio-VERSION), freshly built."""
    pytest.importorskip("PyInstaller", reason="the `package` extra (pyinstaller) is not installed")
    env = dict(os.environ, PYINSTALLER_CONFIG_DIR=str(OUT / "config"))
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    cmd += ["--distpath", str(OUT / "dist"), "--workpath", str(OUT / "work"), "build.spec"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"pyinstaller failed:\n{done.stderr[-6000:]}"
    app = OUT / "dist" / f"mmstudio-{__version__}"
    assert (app / "mmstudio").is_file(), f"no executable in {app}"
    return app


def app_env(tmp_path: Path, **extra: str) -> dict:
    """A user's environment without this test run's venv: the app must need nothing of it."""
    venv_bin = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MMSTUDIO_HOME", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        and not k.lower().endswith("_proxy")
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(HF_HUB_OFFLINE="1", QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path / "home"))
    env.update(extra)
    return env


class ProxyRecorder:
    """A TCP listener that stands in as every proxy: each connection made to it is an attempt
    by the app to reach the network, recorded with its first bytes and refused."""

    def __init__(self):
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.seen: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def env(self) -> dict:
        names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
        return {n: self.url for name in names for n in (name, name.lower())}

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(300))
                except OSError:
                    self.seen.append(b"")

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        except OSError:
            pass
        self._sock.close()
        self._thread.join(5)


@pytest.fixture
def proxy_recorder():
    rec = ProxyRecorder()
    yield rec
    rec.close()
