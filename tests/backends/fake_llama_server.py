"""A stand-in for llama.cpp's `llama-server`: its command line, its /health, the OpenAI protocol.

Tests run it as an executable (`write_executable` puts a shim on disk) where no llama.cpp
build is at hand. It parses the flags the managed server passes, refuses unknown ones the way
llama-server does, loads nothing, and answers chat completions through the loopback server
with `--parallel` slots. What it saw is in GET /_stats: argv, the slot count, and `max_open`,
the most requests it held at once. Each request waits (up to 5 s) until all slots are
occupied, so `max_open` shows how many requests the client really sends together, without
depending on timing. A prompt containing CRASH kills the process (a native crash).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
from pathlib import Path

from core.devtools.httpmini import Response
from core.devtools.loopback import LoopbackServer, last_user_text

LOADING_S = 0.3  # /health answers 503 "Loading model" this long, as the real server does
GATHER_S = 5.0


class FakeLlamaServer(LoopbackServer):
    def __init__(self, argv: list[str], args, **kw):
        super().__init__(slots=args.parallel, **kw)
        self.argv, self.args = argv, args
        self.open = self.max_open = 0
        self._loaded_at = None
        self._cond: asyncio.Condition | None = None

    async def handle(self, req):
        loop = asyncio.get_running_loop()
        if self._loaded_at is None:
            self._loaded_at = loop.time() + LOADING_S
        route = req.path.rstrip("/")
        if route == "/health":
            if loop.time() < self._loaded_at:
                return Response.json({"error": {"code": 503, "message": "Loading model"}}, 503)
            return Response.json({"status": "ok"})
        if route == "/_stats":
            stats = self.stats.to_json() | {"max_open": self.max_open, "argv": self.argv}
            return Response.json(stats | {"slots": self.slots})
        return await super().handle(req)

    async def complete(self, body: dict):
        if "CRASH" in last_user_text(body):
            os._exit(134)
        if self._cond is None:
            self._cond = asyncio.Condition()
        async with self._cond:
            self.open += 1
            self.max_open = max(self.max_open, self.open)
            self._cond.notify_all()
            try:
                await asyncio.wait_for(
                    self._cond.wait_for(lambda: self.open >= self.slots), GATHER_S
                )
            except TimeoutError:
                pass
        try:
            return await super().complete(body)
        finally:
            self.open -= 1


def parse(argv: list[str]):
    p = argparse.ArgumentParser(prog="llama-server", add_help=False)
    p.add_argument("-m", "--model", required=True)
    p.add_argument("-mm", "--mmproj")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("-a", "--alias")
    p.add_argument("-c", "--ctx-size", type=int, default=4096)
    p.add_argument("-np", "--parallel", type=int, default=1)
    p.add_argument("-cb", "--cont-batching", action="store_true")
    p.add_argument("-ngl", "--n-gpu-layers", "--gpu-layers", type=int, default=0)
    p.add_argument("-t", "--threads", type=int)
    p.add_argument("-tb", "--threads-batch", type=int)
    p.add_argument("--no-webui", "--no-ui", action="store_true")
    args, unknown = p.parse_known_args(argv)
    if unknown:
        print(f"error: invalid argument: {unknown[0]}", file=sys.stderr)
        sys.exit(1)
    for path in (args.model, args.mmproj):
        if path and not Path(path).is_file():
            print(f"error: failed to open {path}", file=sys.stderr)
            sys.exit(1)
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    server = FakeLlamaServer(
        argv, args, api_key=os.environ.get("LLAMA_API_KEY"), model=args.alias or "model"
    )
    server.port = args.port
    server.start()
    print(f"main: server is listening on http://{args.host}:{args.port}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    server.stop()
    return 0


def write_executable(folder: Path) -> Path:
    """An executable `llama-server` in `folder` that runs this stand-in with this Python."""
    root = Path(__file__).resolve().parents[2]
    exe = folder / "llama-server"
    exe.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(root)!r})\n"
        "from tests.backends.fake_llama_server import main\nsys.exit(main())\n"
    )
    exe.chmod(0o755)
    return exe


if __name__ == "__main__":
    sys.exit(main())
