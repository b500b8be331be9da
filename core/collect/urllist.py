"""Read a list of image URLs (txt, csv/tsv, parquet) with optional title and caption.

Column names follow common dataset spellings: `url` / `image_url` / `URL` for the address and
`caption` / `text` / `TEXT` (LAION's parquet files) for the caption. A row with a bad URL stays
in the list so it is reported as rejected, never silently dropped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.collect.errors import CollectError

URL_COLUMNS = ("url", "image_url", "img_url", "link", "src")
TITLE_COLUMNS = ("title", "name")
CAPTION_COLUMNS = ("caption", "text", "alt", "description")
MAX_URL_CHARS = 4096


@dataclass(frozen=True)
class UrlItem:
    url: str
    title: str | None = None
    caption: str | None = None
    # Provenance a source knows besides the URL (license, creator, ...): keys of `collected`.
    meta: dict = field(default_factory=dict, compare=False)


def url_problem(url: str) -> str | None:
    """Why `url` cannot be downloaded, or None when it looks fine."""
    if not url:
        return "empty URL"
    if len(url) > MAX_URL_CHARS:
        return f"URL longer than {MAX_URL_CHARS} characters"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return f"only http and https URLs are fetched, not {parts.scheme or 'a relative path'!r}"
    if not parts.hostname:
        return "URL has no host"
    return None


def _clean(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def pick_column(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    lower = {c.lower().strip(): c for c in columns}
    for name in wanted:
        if name in lower:
            return lower[name]
    return None


def _from_rows(rows, columns: list[str], path: Path) -> list[UrlItem]:
    url_col = pick_column(columns, URL_COLUMNS)
    if url_col is None:
        raise CollectError(
            f"{path}: no URL column (looked for {', '.join(URL_COLUMNS)}; "
            f"found {', '.join(columns) or 'no columns'})"
        )
    title_col = pick_column(columns, TITLE_COLUMNS)
    caption_col = pick_column(columns, CAPTION_COLUMNS)
    items = []
    for row in rows:
        url = _clean(row.get(url_col)) or ""
        title = _clean(row.get(title_col)) if title_col else None
        caption = _clean(row.get(caption_col)) if caption_col else None
        if url or title or caption:
            items.append(UrlItem(url, title, caption))
    return items


def _read_text(path: Path) -> list[UrlItem]:
    items = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        # url, or url<TAB>title, or url<TAB>title<TAB>caption
        parts = [p.strip() or None for p in line.split("\t")] + [None, None]
        items.append(UrlItem(parts[0] or "", parts[1], parts[2]))
    return items


def _read_csv(path: Path, delimiter: str) -> list[UrlItem]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        columns = list(reader.fieldnames or [])
        try:
            return _from_rows(reader, columns, path)
        except csv.Error as exc:
            raise CollectError(f"{path}: not a readable CSV file ({exc})") from None


def _read_parquet(path: Path) -> list[UrlItem]:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise CollectError(f"{path}: not a readable parquet file ({exc})") from None
    columns = list(schema.names)
    wanted = [
        c
        for c in (
            pick_column(columns, URL_COLUMNS),
            pick_column(columns, TITLE_COLUMNS),
            pick_column(columns, CAPTION_COLUMNS),
        )
        if c
    ]
    if not wanted:
        return _from_rows([], columns, path)  # raises the no-URL-column error
    table = pq.read_table(path, columns=wanted)
    return _from_rows(table.to_pylist(), columns, path)


READERS = {
    ".txt": _read_text,
    ".list": _read_text,
    ".csv": lambda p: _read_csv(p, ","),
    ".tsv": lambda p: _read_csv(p, "\t"),
    ".parquet": _read_parquet,
}


def read_url_list(path: Path | str) -> list[UrlItem]:
    """Every row of a URL list, in file order. Raises CollectError for an unusable file."""
    path = Path(path)
    if not path.is_file():
        raise CollectError(f"{path}: no such file")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise CollectError(
            f"{path}: unknown list format {path.suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(sorted(READERS))}"
        )
    try:
        items = reader(path)
    except UnicodeDecodeError as exc:
        raise CollectError(f"{path}: not UTF-8 text ({exc.reason})") from None
    if not items:
        raise CollectError(f"{path}: no URLs found")
    return items
