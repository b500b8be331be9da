"""Download image URLs concurrently into a folder: timeouts, a size limit, a content-type check
and retries with backoff. What comes back is a file to hand to the importer, or a reason.

Downloads run in threads sharing one httpx client (it is thread-safe and pools connections).
Bodies are streamed and counted, so a server that lies about Content-Length or never stops
sending is cut off at the limit instead of filling the disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

from core import __version__
from core.collect.urllist import UrlItem, url_problem
from core.jobs.retry import RetryPolicy

USER_AGENT = f"MMInstructStudio/{__version__} (local dataset builder)"

# Registry of download failure codes: code -> what it means. Each failed URL carries one.
REASONS: dict[str, str] = {
    "bad_url": "not an http(s) URL with a host",
    "duplicate_url": "the same URL appears earlier in the list",
    "http_error": "the server answered with an error status",
    "timeout": "no complete answer within the time limits",
    "connection": "could not connect or the connection broke (DNS, refused, TLS, reset)",
    "too_large": "larger than the download size limit",
    "bad_content_type": "the server did not label the answer as an image",
    "empty": "the server sent zero bytes",
    "cancelled": "the download was cancelled before this URL was fetched",
}

# Suffixes only make temp files readable to a person; the importer decodes named files
# whatever their suffix, and sniffs the real format itself.
_SUFFIX = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "image/avif": ".avif",
}
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class DownloadPolicy:
    timeout_s: float = 20.0  # connect and per-read
    total_timeout_s: float = 120.0  # one attempt, headers to last byte
    max_bytes: int = 50 << 20
    retries: int = 2  # extra attempts after the first, for transient failures only
    concurrency: int = 4
    max_redirects: int = 5
    backoff: RetryPolicy = field(default_factory=lambda: RetryPolicy(base_s=1.0, cap_s=30.0))
    max_retry_after_s: float = 120.0  # a server asking us to wait longer is given up on


@dataclass
class Fetched:
    index: int
    item: UrlItem
    path: str | None = None
    sha256: str | None = None
    size: int = 0
    content_type: str | None = None
    reason: str | None = None
    detail: str = ""
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.reason is None


class _Transient(Exception):
    def __init__(self, reason: str, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.reason, self.detail, self.retry_after = reason, detail, retry_after


class _Final(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def make_client(policy: DownloadPolicy, accept: str = "image/*"):
    import httpx

    return httpx.Client(
        follow_redirects=True,
        max_redirects=policy.max_redirects,
        timeout=httpx.Timeout(policy.timeout_s),
        headers={"User-Agent": USER_AGENT, "Accept": accept},
        limits=httpx.Limits(max_connections=max(1, policy.concurrency) * 2),
    )


class Downloader:
    def __init__(
        self,
        dest: Path,
        policy: DownloadPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.dest = Path(dest)
        self.policy = policy or DownloadPolicy()
        self.sleep = sleep

    def fetch_all(
        self,
        items: Sequence[UrlItem],
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Fetched]:
        """Fetch every item; results are in input order, one per item. Once `cancel` is set,
        items not yet started end as `cancelled` (those on the wire finish)."""
        self.dest.mkdir(parents=True, exist_ok=True)
        results = [Fetched(i, item) for i, item in enumerate(items)]
        todo = []
        for res in results:
            problem = url_problem(res.item.url)
            if problem:
                res.reason, res.detail = "bad_url", problem
            else:
                todo.append(res)
        total, done = len(results), len(results) - len(todo)
        if progress:
            progress(done, total)
        if not todo:
            return results
        with (
            make_client(self.policy) as client,
            ThreadPoolExecutor(
                max_workers=max(1, self.policy.concurrency), thread_name_prefix="download"
            ) as pool,
        ):
            futures = [pool.submit(self._fetch, client, res, cancel) for res in todo]
            for _ in as_completed(futures):
                done += 1
                if progress:
                    progress(done, total)
        return results

    def _fetch(self, client, res: Fetched, cancel: threading.Event | None = None) -> None:
        policy = self.policy
        if cancel is not None and cancel.is_set():
            res.reason, res.detail = "cancelled", "cancelled before it started"
            return
        last = _Transient("connection", "not attempted")
        for attempt in range(1, policy.retries + 2):
            res.attempts = attempt
            try:
                self._once(client, res)
                return
            except _Final as exc:
                res.reason, res.detail = exc.reason, exc.detail
                return
            except _Transient as exc:
                last = exc
            if attempt > policy.retries:
                break
            if last.retry_after is not None and last.retry_after > policy.max_retry_after_s:
                break
            self.sleep(policy.backoff.delay(attempt, last.retry_after))
        res.reason = last.reason
        res.detail = f"{last.detail} (after {res.attempts} attempt{'s' * (res.attempts > 1)})"

    def _once(self, client, res: Fetched) -> None:
        import httpx

        policy = self.policy
        start = time.monotonic()
        part = self.dest / f"{res.index:06d}.part"
        try:
            with client.stream("GET", res.item.url) as resp:
                status = resp.status_code
                if status in _RETRY_STATUS:
                    raise _Transient(
                        "http_error",
                        f"HTTP {status}",
                        retry_after_seconds(resp.headers.get("retry-after")),
                    )
                if status >= 400:
                    raise _Final("http_error", f"HTTP {status}")
                ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if not ctype.startswith("image/"):
                    raise _Final("bad_content_type", f"content type {ctype or '(none)'!r}")
                length = resp.headers.get("content-length", "")
                if length.isdigit() and int(length) > policy.max_bytes:
                    raise _Final(
                        "too_large", f"{int(length)} bytes announced, limit {policy.max_bytes}"
                    )
                digest, size = hashlib.sha256(), 0
                with part.open("wb") as fh:
                    for chunk in resp.iter_bytes():  # as it arrives: a size hint would buffer
                        size += len(chunk)
                        if size > policy.max_bytes:
                            raise _Final("too_large", f"more than {policy.max_bytes} bytes")
                        if time.monotonic() - start > policy.total_timeout_s:
                            raise _Transient("timeout", f"slower than {policy.total_timeout_s:g} s")
                        digest.update(chunk)
                        fh.write(chunk)
            if size == 0:
                raise _Final("empty", "zero bytes")
            final = self.dest / f"{res.index:06d}{_SUFFIX.get(ctype, '.img')}"
            os.replace(part, final)
            res.path, res.sha256, res.size, res.content_type = (
                str(final),
                digest.hexdigest(),
                size,
                ctype,
            )
            res.reason, res.detail = None, ""
        except httpx.TimeoutException as exc:
            raise _Transient("timeout", f"timed out ({type(exc).__name__})") from None
        except httpx.TooManyRedirects:
            raise _Final("http_error", f"more than {policy.max_redirects} redirects") from None
        except httpx.UnsupportedProtocol as exc:
            raise _Final("bad_url", f"redirected to an unsupported address ({exc})") from None
        except httpx.TransportError as exc:
            raise _Transient("connection", f"{type(exc).__name__}: {exc}") from None
        finally:
            part.unlink(missing_ok=True)


def fetch_all(
    items: Sequence[UrlItem],
    dest: Path,
    policy: DownloadPolicy | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[Fetched]:
    return Downloader(dest, policy).fetch_all(items, progress, cancel)


PREVIEW_BYTES = 4 << 20


def fetch_preview(url: str, max_bytes: int = PREVIEW_BYTES, timeout_s: float = 15.0) -> bytes:
    """The bytes of a small image (a search result's thumbnail) to show before anything is
    downloaded into the project; CollectError with the reason when it cannot be had."""
    from core.collect.errors import CollectError

    policy = DownloadPolicy(timeout_s=timeout_s, total_timeout_s=timeout_s * 2, retries=0,
                            max_bytes=max_bytes, concurrency=1)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mmstudio-preview-") as tmp:
        got = Downloader(Path(tmp), policy).fetch_all([UrlItem(url)])[0]
        if not got.ok:
            raise CollectError(f"no preview from {url}: {got.reason} ({got.detail})")
        return Path(got.path).read_bytes()
