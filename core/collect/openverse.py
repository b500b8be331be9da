"""Keyword collection from Openverse: openly licensed images with their license and attribution.

`GET {base}/v1/images/?q=..&page=..&page_size=..[&license_type=..]` answers with pages of
results that carry url, title, creator, license, license_version, license_url,
foreign_landing_url and a ready attribution line. No key is needed; anonymous callers get at
most 20 results a page and about one request a second, so requests are paced and a 429's
Retry-After is honoured. The base URL is configurable (MMSTUDIO_OPENVERSE_URL) for mirrors and
for the loopback fake the tests run.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.collect.download import USER_AGENT, DownloadPolicy, retry_after_seconds
from core.collect.errors import CollectError
from core.collect.ingest import CollectSummary, collect_items
from core.collect.urllist import UrlItem
from core.project import Project

DEFAULT_BASE_URL = "https://api.openverse.org"
BASE_URL_ENV = "MMSTUDIO_OPENVERSE_URL"
LICENSE_TYPES = ("all", "commercial", "modification")
MAX_PAGE_SIZE = 20  # the anonymous limit; larger requests are refused or silently clamped
MAX_PAGES = 20  # Openverse stops paging at this depth


class Pacer:
    """At most one call per `interval_s`, across threads: the polite rate limit."""

    def __init__(
        self,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval_s, self.clock, self.sleep = interval_s, clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            delay = self._next - self.clock()
            if delay > 0:
                self.sleep(delay)
            self._next = self.clock() + self.interval_s

    def hold(self, seconds: float) -> None:
        """The server asked for a pause: no call before `seconds` from now."""
        with self._lock:
            self._next = max(self._next, self.clock() + seconds)


@dataclass
class OpenversePage:
    results: list[dict]
    page: int
    page_count: int
    result_count: int


def license_label(code: str | None, version: str | None) -> str | None:
    """Openverse's license code and version as people write them: 'CC BY-SA 2.0', 'CC0 1.0'."""
    code = (code or "").strip().lower()
    version = (version or "").strip()
    if not code:
        return None
    if code == "cc0":
        return f"CC0 {version or '1.0'}"
    if code == "pdm":
        return f"Public Domain Mark {version or '1.0'}"
    return f"CC {code.upper()}" + (f" {version}" if version else "")


def result_item(result: dict, query: str) -> UrlItem | None:
    """A search result as a URL to fetch, carrying its license and attribution."""
    url = result.get("url")
    if not isinstance(url, str) or not url:
        return None
    lic = license_label(result.get("license"), result.get("license_version"))
    meta = {
        "landing_url": result.get("foreign_landing_url"),
        "creator": result.get("creator"),
        "license": lic,
        "license_code": result.get("license"),
        "license_version": result.get("license_version"),
        "license_url": result.get("license_url"),
        "attribution": result.get("attribution") or _attribution(result, lic),
        "provider": result.get("provider") or result.get("source"),
        "source_id": result.get("id"),
        "query": query,
    }
    meta = {k: (str(v) if v is not None else None) for k, v in meta.items()}
    return UrlItem(url, result.get("title") or None, None, meta)


def _attribution(result: dict, lic: str | None) -> str | None:
    if not lic:
        return None
    title = result.get("title") or "This work"
    by = f" by {result['creator']}" if result.get("creator") else ""
    return f'"{title}"{by} is licensed under {lic}.'


class OpenverseClient:
    def __init__(
        self,
        base_url: str | None = None,
        min_interval_s: float = 1.0,
        timeout_s: float = 20.0,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ):
        import httpx

        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self.retries, self.sleep = retries, sleep
        if urlsplit(self.base_url).hostname == urlsplit(DEFAULT_BASE_URL).hostname:
            # The public service allows anonymous callers about one request a second.
            min_interval_s = max(min_interval_s, 1.0)
        self.pacer = Pacer(min_interval_s, sleep=sleep)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenverseClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def search(
        self, query: str, page: int = 1, page_size: int = MAX_PAGE_SIZE, license_type: str = "all"
    ) -> OpenversePage:
        import httpx

        if license_type not in LICENSE_TYPES:
            raise CollectError(f"license type must be one of {', '.join(LICENSE_TYPES)}")
        params = {"q": query, "page": page, "page_size": max(1, min(page_size, MAX_PAGE_SIZE))}
        if license_type != "all":
            params["license_type"] = license_type
        url = f"{self.base_url}/v1/images/"
        for attempt in range(self.retries + 1):
            self.pacer.wait()
            try:
                resp = self._http.get(url, params=params)
            except httpx.HTTPError as exc:
                if attempt == self.retries:
                    raise CollectError(f"Openverse at {self.base_url} unreachable: {exc}") from None
                self.pacer.hold(2.0**attempt)
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                wait = retry_after_seconds(resp.headers.get("retry-after"))
                if attempt == self.retries or (wait is not None and wait > 300):
                    hint = f"; it asks to wait {wait:.0f} s" if wait else ""
                    raise CollectError(
                        f"Openverse answered HTTP {resp.status_code} for {query!r} page {page}{hint}"
                    )
                self.pacer.hold(wait if wait is not None else 2.0**attempt)
                continue
            return _parse_page(resp, query, page)
        raise AssertionError("unreachable")


def _parse_page(resp, query: str, page: int) -> OpenversePage:
    if resp.status_code != 200:
        body = resp.text[:200].replace("\n", " ")
        raise CollectError(
            f"Openverse answered HTTP {resp.status_code} for {query!r} page {page}: {body}"
        )
    try:
        data = resp.json()
        results = data["results"]
        if not isinstance(results, list):
            raise TypeError("results is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise CollectError(f"Openverse sent an unexpected answer for {query!r}: {exc}") from None
    return OpenversePage(
        [r for r in results if isinstance(r, dict)],
        int(data.get("page") or page),
        int(data.get("page_count") or page),
        int(data.get("result_count") or len(results)),
    )


def domain_queries(project: Project, domain: str) -> list[str]:
    """The default queries for a domain: its keywords, or its title when it has none."""
    from core.domains import get_domain

    row = get_domain(project.db, domain)
    return list(row.keywords) or [row.title or row.name]


def search_domain(
    project: Project,
    domain: str,
    queries: Sequence[str] | None = None,
    *,
    pages: int = 1,
    license_type: str = "all",
    page_size: int = MAX_PAGE_SIZE,
    base_url: str | None = None,
    client: OpenverseClient | None = None,
    policy: DownloadPolicy | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CollectSummary:
    """Search each query for `pages` pages, download the results, import them into `domain`
    with their license and attribution. A query that fails after some pages keeps what it
    found; the failure is listed under `search_errors`."""
    from core.domains import ensure_domain

    if license_type not in LICENSE_TYPES:
        raise CollectError(f"license type must be one of {', '.join(LICENSE_TYPES)}")
    if not 1 <= pages <= MAX_PAGES:
        raise CollectError(f"pages must be between 1 and {MAX_PAGES}")
    queries = [q.strip() for q in (queries or domain_queries(project, domain)) if q and q.strip()]
    if not queries:
        raise CollectError("no search query given and the domain has no keywords")
    ensure_domain(project.db, domain)
    own = client is None
    client = client or OpenverseClient(base_url)
    items: list[UrlItem] = []
    seen: set[str] = set()
    errors: list[dict] = []
    pages_fetched = 0
    try:
        for query in queries:
            for page in range(1, pages + 1):
                try:
                    got = client.search(query, page, page_size, license_type)
                except CollectError as exc:
                    errors.append({"query": query, "page": page, "error": str(exc)})
                    break
                pages_fetched += 1
                for result in got.results:
                    item = result_item(result, query)
                    if item is not None and item.url not in seen:
                        seen.add(item.url)
                        items.append(item)
                if page >= got.page_count or not got.results:
                    break
    finally:
        if own:
            client.close()
    if errors and not pages_fetched:
        raise CollectError(errors[0]["error"])
    licenses: dict[str, int] = {}
    for item in items:
        name = item.meta.get("license") or "unknown"
        licenses[name] = licenses.get(name, 0) + 1
    extra = {
        "queries": queries,
        "license_type": license_type,
        "pages_fetched": pages_fetched,
        "results": len(items),
        "licenses": licenses,
        "search_errors": errors,
    }
    return collect_items(
        project,
        items,
        domain=domain,
        origin="openverse",
        policy=policy,
        workers=workers,
        progress=progress,
        extra=extra,
    )
