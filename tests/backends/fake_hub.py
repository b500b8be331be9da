"""A loopback stand-in for the model hub's file endpoints (HEAD/GET .../resolve/REV/FILE)."""

from __future__ import annotations

import asyncio
import hashlib
import threading

from core.devtools.httpmini import Request, Response, serve_connection


class FakeHub:
    def __init__(self, files: dict[str, bytes], cut_first_get_at: int | None = None):
        self.files = files  # "org/repo/file.gguf" -> bytes
        self.cut_first_get_at = cut_first_get_at  # drop the first download after this many bytes
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, range)
        self.port = 0
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, req: Request) -> Response:
        self.requests.append((req.method, req.path, req.headers.get("range")))
        parts = req.path.strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return Response.json({"error": "not found"}, 404)
        key = "/".join(parts[:2] + parts[4:])
        data = self.files.get(key)
        if data is None:
            return Response(404, b"", {"X-Error-Code": "EntryNotFound"})
        sha = hashlib.sha256(data).hexdigest()
        headers = {"X-Repo-Commit": "0" * 40, "ETag": f'"{sha}"'}
        if req.method == "HEAD":
            return Response(200, b"", headers | {"Content-Length": str(len(data))})
        start = 0
        rng = req.headers.get("range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            return Response(206, data[start:], headers | {
                "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"
            }, content_type="application/octet-stream")  # fmt: skip
        if self.cut_first_get_at is not None:
            cut, self.cut_first_get_at = self.cut_first_get_at, None
            return Response(200, data[:cut], headers | {"Content-Length": str(len(data))},
                            content_type="application/octet-stream", close=True)  # fmt: skip
        return Response(200, data, headers, content_type="application/octet-stream")

    def start(self) -> FakeHub:
        def run():
            loop = asyncio.new_event_loop()
            server = loop.run_until_complete(
                asyncio.start_server(
                    lambda r, w: serve_connection(r, w, self.handle), "127.0.0.1", 0
                )
            )
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        self._ready.wait(5)
        return self
