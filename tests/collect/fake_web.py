"""A real HTTP server on 127.0.0.1 that plays image hosts and the Openverse search API.

Routes answer with scripted responses (consumed in order, the last one repeats), so a test can
make a URL fail twice and then succeed, lie about its size, stall, or send HTML.
`/v1/images/` pages through a catalog of results per query, the way Openverse does.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    ctype: str | None = "image/jpeg"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # before the headers
    drip: float = 0.0  # seconds between 1 KiB pieces of the body
    length: bool = True  # False: no Content-Length, the body ends when the connection closes


class FakeWeb:
    def __init__(self):
        self.routes: dict[str, list[Reply]] = {}
        self.catalog: dict[str, list[dict]] = {}
        self.search_replies: list[Reply] = []  # scripted answers before the real pages
        self.log: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                web._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, *replies: Reply) -> str:
        self.routes[path] = list(replies)
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.log if p == path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------------------------
    def _next(self, queue: list[Reply]) -> Reply:
        with self._lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.log.append((parts.path, params))
        if parts.path == "/v1/images/":
            if self.search_replies:
                reply = self.search_replies.pop(0)
            else:
                reply = self._search(params)
        elif parts.path in self.routes:
            reply = self._next(self.routes[parts.path])
        else:
            reply = Reply(404, b"not found", "text/plain")
        self._send(h, reply)

    def _search(self, params: dict) -> Reply:
        results = self.catalog.get(params.get("q", ""), [])
        if params.get("license_type") == "commercial":
            results = [r for r in results if "nc" not in r["license"]]
        size = int(params.get("page_size", 20))
        page = int(params.get("page", 1))
        count = max(1, math.ceil(len(results) / size))
        if page > count:
            return Reply(400, json.dumps({"detail": "Invalid page"}).encode(), "application/json")
        body = {
            "result_count": len(results),
            "page_count": count,
            "page_size": size,
            "page": page,
            "results": results[(page - 1) * size : page * size],
        }
        return Reply(200, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, reply: Reply) -> None:
        try:
            if reply.delay:
                time.sleep(reply.delay)
            h.send_response(reply.status)
            if reply.ctype:
                h.send_header("Content-Type", reply.ctype)
            headers = {"Content-Length": str(len(reply.body))} if reply.length else {}
            headers.update(reply.headers)
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            if reply.drip:
                for i in range(0, len(reply.body), 1024):
                    h.wfile.write(reply.body[i : i + 1024])
                    h.wfile.flush()
                    time.sleep(reply.drip)
            else:
                h.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (size limit, timeout)


def openverse_result(
    web: FakeWeb,
    n: int,
    body: bytes,
    license: str = "by",
    version: str = "4.0",
    title: str | None = None,
) -> dict:
    """One search result in Openverse's shape, its image served by `web`."""
    path = f"/media/{n}.jpg"
    web.add(path, Reply(body=body))
    title = title or f"Picture {n}"
    lic = "CC0 1.0" if license == "cc0" else f"CC {license.upper()} {version}"
    return {
        "id": f"00000000-0000-0000-0000-{n:012d}",
        "title": title,
        "foreign_landing_url": f"https://photos.example.org/p/{n}",
        "url": web.url(path),
        "creator": f"creator{n}",
        "creator_url": f"https://photos.example.org/u/{n}",
        "license": license,
        "license_version": version,
        "license_url": f"https://creativecommons.org/licenses/{license}/{version}/",
        "provider": "example",
        "source": "example",
        "attribution": f'"{title}" by creator{n} is licensed under {lic}.',
        "filetype": "jpg",
    }
