"""A small HTTP/1.1 server core on asyncio streams (keep-alive, Content-Length and chunked).

Just enough for the loopback OpenAI server: it must hold hundreds of slow requests open at
once without a thread each, which the standard library's http.server cannot do cheaply.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""  # after the "?", undecoded

    def json(self):
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    close: bool = False  # drop the connection after writing (or instead, when body is None)

    @classmethod
    def json(cls, obj, status: int = 200, **headers) -> Response:
        return cls(status, json.dumps(obj).encode(), dict(headers))


class Disconnect(Exception):
    """Raised by a handler to drop the connection without any answer."""


Handler = Callable[[Request], Awaitable[Response]]


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readline()).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readline()
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readline()
    length = int(headers.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""


async def serve_connection(reader, writer, handler: Handler) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _version = line.decode("latin-1").split(" ", 2)
            headers = {}
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            body = await _read_body(reader, headers)
            try:
                path, _, query = target.partition("?")
                resp = await handler(Request(method, path, headers, body, query))
            except Disconnect:
                return
            head = [f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, 'Status')}"]
            head.append(f"Content-Type: {resp.content_type}")
            if not any(k.lower() == "content-length" for k in resp.headers):  # HEAD sets its own
                head.append(f"Content-Length: {len(resp.body)}")
            for k, v in resp.headers.items():
                head.append(f"{k}: {v}")
            if resp.close:
                head.append("Connection: close")
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + resp.body)
            await writer.drain()
            if resp.close:
                return
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return
    finally:
        try:
            writer.close()
        except Exception:  # the peer may already be gone
            pass


def parse_multipart(body: bytes, content_type: str) -> dict[str, tuple[dict, bytes]]:
    """name -> (part headers, bytes) for a multipart/form-data body."""
    boundary = None
    for piece in content_type.split(";"):
        k, _, v = piece.strip().partition("=")
        if k == "boundary":
            boundary = v.strip('"')
    if not boundary:
        raise ValueError("multipart body without boundary")
    out = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.lstrip(b"\r\n").partition(b"\r\n\r\n")
        part_headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            part_headers[k.strip().lower()] = v.strip()
        disp = part_headers.get("content-disposition", "")
        name = None
        for piece in disp.split(";"):
            k, _, v = piece.strip().partition("=")
            if k == "name":
                name = v.strip('"')
            elif k == "filename":
                part_headers["filename"] = v.strip('"')
        if name:
            out[name] = (part_headers, data[:-2] if data.endswith(b"\r\n") else data)
    return out
