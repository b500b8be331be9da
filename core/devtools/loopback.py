"""A loopback OpenAI-compatible server for tests and benchmarks (127.0.0.1 only).

Chat completions with image parts (images are decoded and their sizes recorded), a fixed
number of concurrency slots each holding a request for `latency` seconds (so capacity is
slots / latency requests per second), usage accounting, the Files + Batches API, and fault
injection: 429 with Retry-After, 500, 400, 401 (a wrong key is echoed back whole), a hang past any timeout, cut-off
JSON, empty content, and a dropped connection.

In-process:   with LoopbackServer(latency=0.05, slots=8) as srv: ... srv.url ...
Own process:  python -m core.devtools.loopback --latency 0.25 --slots 32   (prints its URL;
              GET /_stats returns the counters as JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from core.devtools import loopback_dialects as dialects
from core.devtools.httpmini import Disconnect, Request, Response, serve_connection
from core.devtools.loopback_batch import BatchStore
from core.devtools.loopback_limit import RequestLimit


@dataclass
class Fault:
    kind: str  # a key of FAULTS
    times: int = 1  # requests it hits; -1 for every matching request
    match: str | None = None  # only requests whose prompt text contains this
    retry_after: float | None = 1.0  # for 429
    every: int = 1  # hit one matching request in `every` (a steady fault rate)
    seen: int = 0


@dataclass
class Stats:
    requests: int = 0
    ok: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    faults: Counter = field(default_factory=Counter)
    by_text: Counter = field(default_factory=Counter)  # last user text -> calls answered OK
    seen_text: Counter = field(default_factory=Counter)  # last user text -> calls received
    images: list = field(default_factory=list)  # (mime, width, height) per image received
    auth_headers: list = field(default_factory=list)
    seen_routes: list = field(default_factory=list)  # (method, path as sent)
    seen_queries: list = field(default_factory=list)
    # per chat request (live or in a batch): the constraints its dialect enforces from it
    constraints: list = field(default_factory=list)
    ignored: Counter = field(default_factory=Counter)  # fields the dialect would drop silently

    def to_json(self) -> dict:
        return {
            "requests": self.requests,
            "ok": self.ok,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "faults": dict(self.faults),
            "by_text": dict(self.by_text),
            "seen_text": dict(self.seen_text),
            "images": self.images[-100:],
        }


def last_user_text(body: dict) -> str:
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            return content
        return " ".join(p.get("text", "") for p in content or [] if p.get("type") == "text")
    return ""


def _error(status: int, message: str, kind: str, **headers) -> Response:
    return Response.json(
        {"error": {"message": message, "type": kind, "code": None}}, status, **headers
    )


class LoopbackServer:
    def __init__(
        self,
        latency: float = 0.0,
        slots: int = 32,
        api_key: str | None = None,
        image_tokens: int = 85,
        hang_s: float = 30.0,
        model: str = "loopback-1",
        reply=None,
        port: int = 0,
        rpm: float | None = None,
        rate_headers: bool = True,
        strict_models: bool = False,  # a model other than `model` is a 404, like a provider's
        dialect: str = "openai",  # a key of loopback_dialects.DIALECTS: path, key header, listing
    ):
        self.latency = latency
        self.slots = slots
        self.api_key = api_key
        self.image_tokens = image_tokens
        self.hang_s = hang_s
        self.model = model
        self.reply = reply or self.default_reply
        self.port = port
        self.stats = Stats()
        self.faults: list[Fault] = []
        self.batches = BatchStore(self)
        # a limit the client is not told: requests per minute, with or without x-ratelimit-*
        self.limit = RequestLimit(rpm, headers=rate_headers) if rpm else None
        self.strict_models = strict_models
        self.dialect = dialect
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._sem: asyncio.Semaphore | None = None
        self._ids = 0

    # lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self._run, name="loopback-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("loopback server did not start")
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._sem = asyncio.Semaphore(self.slots)
        self._stop = asyncio.Event()
        server = await asyncio.start_server(
            lambda r, w: serve_connection(r, w, self.handle), "127.0.0.1", self.port, backlog=1024
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    def stop(self) -> None:
        if self._loop and self._thread and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # faults ----------------------------------------------------------------------------
    def add_fault(self, kind: str, times: int = 1, match: str | None = None, **kw) -> Fault:
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        fault = Fault(kind, times, match, **kw)
        self.faults.append(fault)
        return fault

    def _pick_fault(self, text: str) -> Fault | None:
        for fault in self.faults:
            if fault.times == 0 or (fault.match and fault.match not in text):
                continue
            fault.seen += 1
            if (fault.seen - 1) % fault.every:
                continue
            if fault.times > 0:
                fault.times -= 1
            return fault
        return None

    # request handling ------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}-{self._ids}"

    async def handle(self, req: Request) -> Response:
        if req.path.rstrip("/") == "/_stats":
            return Response.json(self.stats.to_json())
        route, given, deployment, early = dialects.route(self.dialect, req)
        self.stats.auth_headers.append(req.headers.get("authorization", ""))
        self.stats.seen_routes.append((req.method, req.path))
        self.stats.seen_queries.append(req.query)
        if early is not None:
            return early
        if self.api_key is not None and given != self.api_key:
            # Real providers echo (part of) the key they got; ours echoes it whole, so tests
            # can prove our error text never carries it.
            return _error(401, f"Incorrect API key provided: {given}", "invalid_api_key")
        if route == "/api/tags":
            return dialects.ollama_tags(self.model)
        if route == "/v1/chat/completions" and req.method == "POST":
            try:
                body = req.json()
            except ValueError:
                return _error(400, "body is not JSON", "invalid_request_error")
            if deployment is not None:
                body["model"] = deployment  # Azure: the deployment names the model
            if self.strict_models and body.get("model") != self.model:
                msg = f"The model `{body.get('model')}` does not exist or you do not have access to it."
                return _error(404, msg, "model_not_found")
            limit_headers = {}
            if self.limit is not None:
                ok, limit_headers = self.limit.take()
                if not ok:
                    self.stats.faults["rate_limit"] += 1
                    return _error(429, "Rate limit reached for requests", "requests",
                                  **limit_headers)  # fmt: skip
            status, obj, headers = await self.complete(body)
            if isinstance(obj, Response):
                obj.headers.update(limit_headers)
                return obj
            return Response.json(obj, status, **headers, **limit_headers)
        if route == "/v1/models":
            return dialects.models(self.dialect, self.model)
        handled = await self.batches.route(req, route)
        if handled is not None:
            return handled
        return _error(404, f"no route {req.method} {req.path}", "not_found")

    async def complete(self, body: dict):
        """One chat completion: (status, json or Response, headers). Shared with the Batch API."""
        stats = self.stats
        stats.requests += 1
        text = last_user_text(body)
        stats.seen_text[text] += 1
        enforced, ignored, refused = dialects.check_params(self.dialect, body)
        stats.ignored.update(ignored)
        if refused is not None:
            return 400, refused, {}
        stats.constraints.append(frozenset(enforced))
        fault = self._pick_fault(text)
        if fault is not None:
            stats.faults[fault.kind] += 1
            early = await FAULTS[fault.kind](self, fault, body)
            if early is not None:
                return early
        try:
            images = self._images(body)
        except ValueError as exc:
            return 400, {"error": {"message": str(exc), "type": "invalid_request_error"}}, {}
        async with self._sem:
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            try:
                if self.latency:
                    await asyncio.sleep(self.latency)
            finally:
                stats.in_flight -= 1
        content = "" if fault and fault.kind == "empty" else self.reply(body, images)
        prompt_tokens = self._count_prompt(body, len(images))
        completion_tokens = max(1, len(content) // 4) if content else 0
        stats.prompt_tokens += prompt_tokens
        stats.completion_tokens += completion_tokens
        obj = {
            "id": self.next_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        if fault and fault.kind == "truncated":
            raw = Response.json(obj).body
            return 200, Response(200, raw[: len(raw) // 2]), {}
        stats.ok += 1
        stats.by_text[text] += 1
        return 200, obj, {}

    def _images(self, body: dict) -> list[tuple[str, int, int]]:
        from PIL import Image

        found = []
        for msg in body.get("messages") or []:
            content = msg.get("content")
            if isinstance(content, str):
                continue
            for part in content or []:
                if part.get("type") != "image_url":
                    continue
                url = (part.get("image_url") or {}).get("url", "")
                m = re.match(r"data:(image/[a-z+.\-]+);base64,(.*)$", url, re.S)
                if not m:
                    raise ValueError("image_url must be a base64 data URI here")
                try:
                    img = Image.open(io.BytesIO(base64.b64decode(m.group(2))))
                    img.load()
                except Exception:
                    raise ValueError("image data is not a readable image") from None
                declared = m.group(1)
                actual = Image.MIME.get(img.format or "", "")
                if actual != declared:
                    raise ValueError(f"image declared {declared} but is {actual or 'unknown'}")
                found.append((declared, img.width, img.height))
        self.stats.images.extend(found)
        return found

    def _count_prompt(self, body: dict, n_images: int) -> int:
        chars = 0
        for msg in body.get("messages") or []:
            content = msg.get("content")
            if isinstance(content, str):
                chars += len(content)
            else:
                chars += sum(len(p.get("text", "")) for p in content or [])
        return max(1, chars // 4) + n_images * self.image_tokens

    @staticmethod
    def default_reply(body: dict, images: list) -> str:
        sizes = " ".join(f"[{mime} {w}x{h}]" for mime, w, h in images)
        return f"loopback reply to: {last_user_text(body)[:200]} {sizes}".strip()


# fault behaviours: each returns an early (status, body, headers) or None to carry on ----------
async def _f429(server, fault, body):
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    return 429, _error(429, "Rate limit reached for requests", "rate_limit_exceeded", **headers), {}


async def _f500(server, fault, body):
    return 500, _error(500, "The server had an error processing your request", "server_error"), {}


async def _f400(server, fault, body):
    return 400, _error(400, "Invalid request: unsupported parameter", "invalid_request_error"), {}


async def _f401(server, fault, body):
    return 401, _error(401, "Incorrect API key provided", "invalid_api_key"), {}


async def _fhang(server, fault, body):
    await asyncio.sleep(server.hang_s)
    raise Disconnect


async def _fdisconnect(server, fault, body):
    raise Disconnect


async def _fnone(server, fault, body):
    return None  # handled after the normal answer is built (empty, truncated)


FAULTS = {
    "429": _f429,
    "500": _f500,
    "400": _f400,
    "401": _f401,
    "hang": _fhang,
    "disconnect": _fdisconnect,
    "truncated": _fnone,
    "empty": _fnone,
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m core.devtools.loopback")
    p.add_argument("--latency", type=float, default=0.25)
    p.add_argument("--slots", type=int, default=32)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--api-key")
    p.add_argument("--rpm", type=float, help="a request limit per minute (429 past it)")
    p.add_argument("--no-rate-headers", action="store_true", help="send no x-ratelimit-* headers")
    args = p.parse_args(argv)
    server = LoopbackServer(
        args.latency, args.slots, api_key=args.api_key, port=args.port, rpm=args.rpm,
        rate_headers=not args.no_rate_headers,
    ).start()  # fmt: skip
    print(f"LOOPBACK {server.url}", flush=True)
    try:
        sys.stdin.read()  # serve until the parent closes our stdin (or kills us)
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
