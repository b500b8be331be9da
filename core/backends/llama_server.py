"""A managed local `llama_cpp.server`: a child process on 127.0.0.1 with a random port and key.

A native crash in llama.cpp takes down only the child; we restart it once and report
clearly if it dies again. The child's output goes to a log file that is kept. On Linux the
child is told to exit when its parent dies, so a killed app never leaves a model in memory.
"""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.backends.base import BackendUnavailable
from core.backends.keys import remember_secret
from core.childenv import clean_child_env
from core.frozen import python_command

_live: weakref.WeakSet = weakref.WeakSet()
# Linux delivers the parent-death signal (set by the child, see llama_child.py) when the
# *thread* that forked the child ends, not the process; children are therefore forked from
# this one long-lived thread, never from a short-lived worker (asyncio.to_thread).
_SPAWNER = ThreadPoolExecutor(1, thread_name_prefix="llama-spawner")


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ManagedServer:
    def __init__(
        self,
        gguf: str | Path,
        mmproj: str | Path | None = None,
        chat_format: str | None = None,
        n_ctx: int = 4096,
        n_gpu_layers: int = 0,
        n_threads: int | None = None,
        log_path: str | Path | None = None,
        startup_timeout_s: float = 180.0,
        alias: str = "local",
        max_restarts: int = 1,
    ):
        self.gguf = Path(gguf)
        self.mmproj = Path(mmproj) if mmproj else None
        self.chat_format = chat_format
        self.n_ctx, self.n_gpu_layers, self.n_threads = n_ctx, n_gpu_layers, n_threads
        self.log_path = Path(log_path) if log_path else None
        self.startup_timeout_s = startup_timeout_s
        self.alias = alias
        self.max_restarts = max_restarts
        self.restarts = 0
        self.port: int | None = None
        self.api_key = secrets.token_urlsafe(24)
        remember_secret(self.api_key)
        self._proc: subprocess.Popen | None = None
        self._log = None
        self._lock = threading.RLock()  # stop() runs inside ensure_running on a failed start

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # what differs between servers: command line, how the key is passed, the readiness URL
    slots = 1  # llama_cpp.server runs one llama.cpp context: one request at a time

    def command(self) -> list[str]:
        cmd = python_command("core.backends.llama_child") + ["--model", str(self.gguf)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--model_alias", self.alias]
        cmd += ["--n_ctx", str(self.n_ctx), "--n_gpu_layers", str(self.n_gpu_layers)]
        # The server keeps logits for every prompt token by default (for prompt logprobs we
        # never ask for); plain generation as in-process Llama() is measurably faster.
        cmd += ["--logits_all", "false"]
        if self.n_threads:
            cmd += ["--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads)]
        if self.mmproj:
            cmd += ["--clip_model_path", str(self.mmproj)]
        if self.chat_format:
            cmd += ["--chat_format", self.chat_format]
        return cmd

    def key_env(self) -> dict[str, str]:
        return {"API_KEY": self.api_key}

    def health_url(self) -> str:
        return f"{self.base_url}/models"

    # lifecycle -----------------------------------------------------------------------------
    def ensure_running(self) -> str:
        """Start on first use; restart once after a crash. Returns the base URL."""
        with self._lock:
            if self.alive():
                return self.base_url
            if self._proc is not None:  # it ran before and died
                if self.restarts >= self.max_restarts:
                    raise BackendUnavailable(
                        f"the local model server died again (exit {self._proc.returncode}); "
                        f"see {self.log_path or 'its log'}{self._log_tail()}"
                    )
                self.restarts += 1
            self._start()
            return self.base_url

    def _start(self) -> None:
        for path, what in ((self.gguf, "model"), (self.mmproj, "mmproj")):
            if path is not None and not path.is_file():
                raise BackendUnavailable(f"{what} file not found: {path}")
        self.port = free_port()
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
            self._log.write(f"\n=== start {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode())
            self._log.flush()
        # the key goes in the environment, not argv (which `ps` shows to every local user)
        env = clean_child_env(os.environ) | self.key_env()
        env["MMSTUDIO_PARENT_PID"] = str(os.getpid())
        self._proc = _SPAWNER.submit(
            subprocess.Popen,
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self._log else subprocess.DEVNULL,
            env=env,
        ).result()
        _live.add(self)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        req = urllib.request.Request(
            self.health_url(), headers={"Authorization": f"Bearer {self.api_key}"}
        )
        # A loopback server must never be reached through the user's HTTP(S)_PROXY.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BackendUnavailable(
                    f"the local model server exited at start (code {self._proc.returncode})"
                    f"{self._log_tail()}"
                )
            try:
                with opener.open(req, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise BackendUnavailable(
            f"the local model server did not answer within {self.startup_timeout_s:.0f} s"
        )

    def exited_within(self, seconds: float) -> bool:
        """True if the process is gone or goes within `seconds` (a crash in progress)."""
        proc = self._proc
        if proc is None:
            return True
        try:
            proc.wait(seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

    def _log_tail(self, n: int = 800) -> str:
        if not self.log_path or not self.log_path.is_file():
            return ""
        if self._log:
            self._log.flush()
        tail = self.log_path.read_bytes()[-n:].decode("utf-8", "replace").strip()
        return f"; last log lines:\n{tail}" if tail else ""

    def stop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            if self._log:
                self._log.close()
                self._log = None
            _live.discard(self)
