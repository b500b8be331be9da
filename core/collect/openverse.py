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
from dataclasses import dataclass, field
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
        "thumbnail": result.get("thumbnail"),
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


@dataclass
class SearchResults:
    """What a search found, before anything is downloaded: items carry license, creator and
    attribution in `meta` (and `thumbnail`, a small preview URL, when the source has one)."""

    queries: list[str]
    license_type: str
    items: list[UrlItem]
    pages_fetched: int = 0
    errors: list[dict] = field(default_factory=list)  # query, page, error

    def licenses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.items:
            name = item.meta.get("license") or "unknown"
            counts[name] = counts.get(name, 0) + 1
        return counts

    def extra(self, items: Sequence[UrlItem] | None = None) -> dict:
        """The facts a collect summary records about the search (for `items` when a person
        picked some of the results)."""
        chosen = self.items if items is None else list(items)
        return {
            "queries": self.queries,
            "license_type": self.license_type,
            "pages_fetched": self.pages_fetched,
            "results": len(chosen),
            "licenses": SearchResults(self.queries, self.license_type, chosen).licenses(),
            "search_errors": self.errors,
        }


# What each license_type filter forbids, by Openverse license code (CC's own definitions):
# commercial use excludes the NC licenses, modification excludes the ND ones.
FORBIDDEN_PARTS = {"all": (), "commercial": ("nc",), "modification": ("nd",)}


def license_permits(code: str | None, license_type: str) -> bool:
    """Whether a result with license `code` may be used as `license_type` asks. Checked here
    as well as by the server, so a mirror that ignores the filter cannot slip one through."""
    if license_type not in LICENSE_TYPES:
        raise CollectError(f"license type must be one of {', '.join(LICENSE_TYPES)}")
    parts = (code or "").strip().lower().split("-")
    if license_type != "all" and not code:
        return False  # unknown terms never pass a filter
    return not any(p in parts for p in FORBIDDEN_PARTS[license_type])


def search_results(
    project: Project,
    domain: str,
    queries: Sequence[str] | None = None,
    *,
    pages: int = 1,
    license_type: str = "all",
    page_size: int = MAX_PAGE_SIZE,
    base_url: str | None = None,
    client: OpenverseClient | None = None,
) -> SearchResults:
    """Search each query (default: the domain's keywords) for `pages` pages; nothing is
    downloaded. A query that fails after some pages keeps what it found; the failure is
    listed under `errors`. Results the license filter forbids are dropped."""
    if license_type not in LICENSE_TYPES:
        raise CollectError(f"license type must be one of {', '.join(LICENSE_TYPES)}")
    if not 1 <= pages <= MAX_PAGES:
        raise CollectError(f"pages must be between 1 and {MAX_PAGES}")
    queries = [q.strip() for q in (queries or domain_queries(project, domain)) if q and q.strip()]
    if not queries:
        raise CollectError("no search query given and the domain has no keywords")
    own = client is None
    client = client or OpenverseClient(base_url)
    found = SearchResults(queries, license_type, [])
    seen: set[str] = set()
    try:
        for query in queries:
            for page in range(1, pages + 1):
                try:
                    got = client.search(query, page, page_size, license_type)
                except CollectError as exc:
                    found.errors.append({"query": query, "page": page, "error": str(exc)})
                    break
                found.pages_fetched += 1
                for result in got.results:
                    item = result_item(result, query)
                    if item is None or item.url in seen:
                        continue
                    if not license_permits(item.meta.get("license_code"), license_type):
                        continue
                    seen.add(item.url)
                    found.items.append(item)
                if page >= got.page_count or not got.results:
                    break
    finally:
        if own:
            client.close()
    if found.errors and not found.pages_fetched:
        raise CollectError(found.errors[0]["error"])
    return found


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
    """Search (search_results), download every result, import them into `domain` with their
    license and attribution."""
    from core.domains import ensure_domain

    if license_type not in LICENSE_TYPES:
        raise CollectError(f"license type must be one of {', '.join(LICENSE_TYPES)}")
    queries = list(queries) if queries else domain_queries(project, domain)
    ensure_domain(project.db, domain)  # validates the name before anything is fetched
    found = search_results(
        project, domain, queries, pages=pages, license_type=license_type,
        page_size=page_size, base_url=base_url, client=client,
    )  # fmt: skip
    return collect_results(project, domain, found, policy=policy, workers=workers,
                           progress=progress)  # fmt: skip


def collect_results(
    project: Project,
    domain: str,
    found: SearchResults,
    items: Sequence[UrlItem] | None = None,
    *,
    policy: DownloadPolicy | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> CollectSummary:
    """Download the results a person picked (`items`, default all of `found`) into `domain`
    with their license and attribution; `cancel` stops the downloads not yet started."""
    from core.domains import ensure_domain

    chosen = found.items if items is None else list(items)
    ensure_domain(project.db, domain)
    return collect_items(
        project,
        chosen,
        domain=domain,
        origin="openverse",
        policy=policy,
        workers=workers,
        progress=progress,
        extra=found.extra(chosen),
        cancel=cancel,
    )
