"""A CLIP encoder in a child process, for the desktop.

Importing torch and transformers holds the interpreter lock for seconds at a time (shared
libraries load under it), which freezes a GUI whose thread shares the process: bench/embed.py
measured a 2 s stall on the first embedding job. The child does the imports and the model
work; the parent sends decoded images or texts over a pipe and gets unit vectors back. It
quacks like encoder.ClipEncoder (key, dim, encode_images, encode_texts), so embed_images and
the searches take it as it is.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from collections.abc import Callable, Sequence

import numpy as np

from core.collect.errors import CollectError


def _serve(conn, name: str | None, device: str | None, threads: int | None) -> None:
    """The child: load the model (reporting download progress), then answer requests."""
    try:
        if threads:
            import torch

            torch.set_num_threads(threads)
        from core.collect.encoder import load_encoder

        enc = load_encoder(name, device, progress=lambda f, d, t: conn.send(("progress", f, d, t)))
        conn.send(("ready", enc.key, enc.dim))
    except Exception as exc:  # reported to the parent as the user's message
        conn.send(("error", f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)))
        return
    while True:
        try:
            kind, payload = conn.recv()
        except EOFError:
            return
        if kind == "stop":
            return
        try:
            if kind == "images":
                out = enc.encode_images(payload)
            else:
                out = enc.encode_texts(payload)
            conn.send(("ok", out))
        except Exception as exc:
            conn.send(("error", str(exc) or type(exc).__name__))


class ProcessEncoder:
    def __init__(
        self,
        name: str | None = None,
        device: str | None = "cpu",
        threads: int | None = None,
        progress: Callable[[str, int, int | None], None] | None = None,
    ):
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded GUI process
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, name, device, threads),
                                 name="mmstudio-clip", daemon=True)  # fmt: skip
        self._proc.start()
        child.close()
        self._lock = threading.Lock()
        while True:
            msg = self._recv()
            if msg[0] == "progress":
                if progress:
                    progress(msg[1], msg[2], msg[3])
            elif msg[0] == "ready":
                self.key, self.dim = msg[1], int(msg[2])
                return
            else:
                self.close()
                raise CollectError(msg[1])

    def _recv(self):
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            code = self._proc.exitcode
            raise CollectError(f"the CLIP process ended unexpectedly (exit code {code})") from None

    def _ask(self, kind: str, payload) -> np.ndarray:
        with self._lock:  # one request on the pipe at a time
            try:
                self._conn.send((kind, payload))
            except (BrokenPipeError, OSError):
                raise CollectError("the CLIP process is not running any more") from None
            msg = self._recv()
        if msg[0] != "ok":
            raise CollectError(msg[1])
        return msg[1]

    def encode_images(self, images: Sequence) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self._ask("images", list(images))

    def encode_texts(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return self._ask("texts", list(texts))

    def alive(self) -> bool:
        return self._proc.is_alive()

    def close(self) -> None:
        try:
            self._conn.send(("stop", None))
        except (BrokenPipeError, OSError):
            pass
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        self._conn.close()


_SHARED: dict[tuple, ProcessEncoder] = {}
_SHARED_LOCK = threading.Lock()


def shared_encoder(
    name: str | None, device: str | None = "cpu", threads: int | None = None, progress=None
) -> ProcessEncoder:
    """One live child per (model, device) for the whole process: a window opened again, or a
    second panel, does not load the model a second time. The children end with the app."""
    from core.collect.embed import model_key

    wanted = (model_key(name) if name else None, device, threads)
    with _SHARED_LOCK:
        enc = _SHARED.get(wanted)
        if enc is not None and enc.alive():
            return enc
        enc = ProcessEncoder(name, device, threads, progress)
        _SHARED[wanted] = enc
        return enc


def close_shared() -> None:
    with _SHARED_LOCK:
        for enc in _SHARED.values():
            enc.close()
        _SHARED.clear()


atexit.register(close_shared)
