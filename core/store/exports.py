"""Typed queries of the export and import of training data (core/export).

An export first builds `export_sel`, a temp table with one row per selected instruction: its
split, the record it belongs to, its turn in that record and its answer-format suffix. The
per-format record queries then join it back to `instructions` and `images` and let DuckDB
write the JSON itself (`COPY ... TO`), which is what keeps exports fast and memory flat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from core.store.export_records import record_query

SPLITS = ("train", "val")
MAX_OPTIONS = 8
# Records are written in parts of about this many instructions (whole images per part), so
# DuckDB sorts and buffers one part at a time and memory does not grow with the export.
PART_ROWS = 50_000
COPY_BLOCK = 1 << 20  # bytes of a part file held at a time while appending it
_SHA = re.compile(r"^[0-9a-f]{64}$")

_EXT = (
    "coalesce(nullif(lower(regexp_extract(i.path, '\\.([A-Za-z0-9]{1,8})$', 1)), ''), "
    "CASE lower(i.format) WHEN 'jpeg' THEN 'jpg' ELSE lower(i.format) END, 'bin')"
)


def _in(column: str, values, params: list) -> str:
    params.extend(values)
    return f"{column} IN ({', '.join('?' * len(values))})"


def build_selection(
    cur: duckdb.DuckDBPyConnection,
    *,
    statuses: list[str],
    domains: list[str] | None,
    itypes: list[str] | None,
    langs: list[str] | None,
    val_fraction: float,
    seed: int,
    multi_turn: bool,
    suffix_fn: Callable[[str, str, str], str] | None,
    suffix_variants: dict[tuple[str, str], list[str]] | None = None,
) -> int:
    """Fill the temp table `export_sel`; returns the number of instructions selected.

    The split is by image, stratified by domain: within each domain the images are ordered
    by md5(seed:sha256) and the first round(n * fraction) go to `val` (never all of them).
    Everything that decides the output depends on content, not on row ids, so the same data
    imported into another project exports to the same bytes.
    """
    params: list = []
    where = ["i.status <> 'rejected'", _in("n.status", statuses, params)]
    if domains:
        where.append(_in("coalesce(i.domain, '')", domains, params))
    if itypes:
        where.append(_in("n.itype", itypes, params))
    if langs:
        where.append(_in("n.lang", langs, params))
    key = "md5(i.sha256 || chr(31) || n.itype || chr(31) || n.question)"
    suffix, variants_join, udf = "''", "", False
    if (
        suffix_fn is not None
        and suffix_variants
        and _sql_picker_agrees(cur, where, params, key, suffix_fn, suffix_variants)
    ):
        suffix, variants_join = f"coalesce({_PICK.format(key=key)}, '')", _VARIANTS_JOIN
    elif suffix_fn is not None:
        _register_suffix(cur, suffix_fn)
        suffix, udf = f"coalesce(mm_answer_suffix(n.itype, n.lang, {key}), '')", True
    group = (
        "'i' || n.image_id"
        if multi_turn
        else "CASE WHEN n.conversation_id IS NULL THEN NULL "
        "ELSE 'c' || n.image_id || ':' || n.conversation_id END"
    )
    # Keys and windows on narrow rows first; the text is joined once at the end.
    sql = f"""
    CREATE OR REPLACE TEMP TABLE export_sel AS
    WITH base AS (
        SELECT n.id AS nid, n.image_id, i.sha256, coalesce(i.domain, '') AS dom, {group} AS grp
        FROM instructions n JOIN images i ON i.id = n.image_id
        WHERE {" AND ".join(where)}
    ), imgs AS (
        SELECT image_id,
               row_number() OVER (PARTITION BY dom ORDER BY md5(? || ':' || sha256)) AS r,
               count(*) OVER (PARTITION BY dom) AS n
        FROM (SELECT DISTINCT image_id, sha256, dom FROM base)
    ), split AS (
        SELECT b.*, CASE WHEN m.r <= least(round(m.n * ?), m.n - 1) THEN 'val' ELSE 'train' END
                    AS split
        FROM base b JOIN imgs m USING (image_id)
    ), grouped AS (
        -- A lone question (no group) is a record of one turn: no window has to sort it.
        SELECT nid, image_id, sha256, split, nid AS first_nid, 1 AS nturns, 1 AS turn
        FROM split WHERE grp IS NULL
        UNION ALL
        SELECT nid, image_id, sha256, split,
               min(nid) OVER (PARTITION BY grp) AS first_nid,
               count(*) OVER (PARTITION BY grp) AS nturns,
               row_number() OVER (PARTITION BY grp ORDER BY nid) AS turn
        FROM split WHERE grp IS NOT NULL
    ), keyed AS (
        SELECT *, substr(sha256, 1, 16) || '-'
                  || dense_rank() OVER (PARTITION BY image_id ORDER BY first_nid) AS rec_id
        FROM grouped
    ), texts AS (
        SELECT k.*, i.domain, i.license, n.itype, n.lang, n.question, n.options, n.answer,
               {_EXT} AS ext, {suffix} AS picked
        FROM keyed k JOIN instructions n ON n.id = k.nid JOIN images i ON i.id = k.image_id
        {variants_join}
    ), suffixed AS (
        -- A question that already ends with its suffix keeps it and gets no second one.
        SELECT *, CASE WHEN picked <> '' AND ends_with(rtrim(question), picked) THEN ''
                       ELSE picked END AS suffix
        FROM texts
    )
    SELECT nid, image_id, sha256, ext, split, turn, nturns, first_nid, rec_id, domain, license, itype,
           lang, answer, suffix,
           question || {_options_sql()}
             || CASE WHEN suffix <> '' THEN chr(10) || suffix ELSE '' END AS q,
           substr(sha256, 1, 2) || '/' || sha256 || '.' || ext AS img
    FROM suffixed
    """
    try:
        cur.execute(sql, [*params, str(seed), float(val_fraction)])
    finally:
        if udf:
            cur.remove_function("mm_answer_suffix")
        if variants_join:
            cur.execute("DROP TABLE IF EXISTS export_variants")
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE export_imgs AS
           WITH per_image AS (
               SELECT s.image_id, any_value(s.sha256) AS sha256, any_value(s.ext) AS ext,
                      any_value(s.split) AS split, any_value(i.storage) AS storage,
                      any_value(i.path) AS path, count(*) AS n
               FROM export_sel s JOIN images i ON i.id = s.image_id GROUP BY s.image_id
           )
           SELECT *, (sum(n) OVER (PARTITION BY split ORDER BY sha256 ROWS UNBOUNDED PRECEDING) - n)
                     // {PART_ROWS} AS part
           FROM per_image ORDER BY sha256"""
    )
    return cur.execute("SELECT count(*) FROM export_sel").fetchall()[0][0]


# The answer-format picker of core.domains, in SQL: variant number
# int(first 8 bytes of sha256("itype\x1flang\x1fkey"), big endian) mod the number of variants.
# Used only after it agreed with the Python picker on a sample of the selection
# (`_sql_picker_agrees`); otherwise every row calls the Python picker.
_PICK = (
    "v.texts[1 + (('0x' || substr(sha256(n.itype || chr(31) || n.lang || chr(31) || {key}), 1, 16))"
    "::UBIGINT % len(v.texts))::BIGINT]"
)
_VARIANTS_JOIN = "LEFT JOIN export_variants v ON v.itype = n.itype AND v.lang = n.lang"


def _sql_picker_agrees(cur, where, params, key, fn, variants) -> bool:
    # A temp table, not a registered Arrow table: DuckDB's register imports pandas, which
    # cost ~0.5 CPU s of every export (a fifth of a 100k-instruction LLaVA export).
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE export_variants (itype VARCHAR, lang VARCHAR, texts VARCHAR[])"
    )
    cur.executemany(
        "INSERT INTO export_variants VALUES (?, ?, ?)",
        [[t, lg, list(variants[(t, lg)])] for t, lg in sorted(variants)],
    )
    rows = cur.execute(
        f"""SELECT n.itype, n.lang, {key}, {_PICK.format(key=key)}
            FROM instructions n JOIN images i ON i.id = n.image_id {_VARIANTS_JOIN}
            WHERE {" AND ".join(where)}
            QUALIFY row_number() OVER (PARTITION BY n.itype, n.lang ORDER BY n.id) <= 32""",
        params,
    ).fetchall()
    try:
        agrees = all(fn(t, lg, k) == got for t, lg, k, got in rows)
    except Exception:  # the picker refuses something the table has: let it speak per row
        agrees = False
    if not agrees:
        cur.execute("DROP TABLE IF EXISTS export_variants")
    return agrees


def _register_suffix(cur, fn) -> None:
    import pyarrow as pa

    def batch(itypes, langs, keys):
        return pa.array(
            [
                fn(t, lg, k)
                for t, lg, k in zip(
                    itypes.to_pylist(), langs.to_pylist(), keys.to_pylist(), strict=True
                )
            ],
            pa.string(),
        )

    cur.create_function(
        "mm_answer_suffix", batch, ["VARCHAR", "VARCHAR", "VARCHAR"], "VARCHAR", type="arrow"
    )


def selection_size(cur: duckdb.DuckDBPyConnection) -> int:
    return cur.execute("SELECT count(*) FROM export_sel").fetchall()[0][0]


def drop_selection(cur: duckdb.DuckDBPyConnection) -> None:
    cur.execute("DROP TABLE IF EXISTS export_sel")
    cur.execute("DROP TABLE IF EXISTS export_imgs")
    cur.execute("DROP TABLE IF EXISTS export_part")


# ------------------------------------------------------------------ counts for manifest and card
def selection_counts(cur: duckdb.DuckDBPyConnection) -> dict:
    rows = cur.execute(
        """SELECT s.split, count(DISTINCT s.rec_id || ':' || s.image_id), count(*),
                  count(DISTINCT s.image_id)
           FROM export_sel s GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    splits = {sp: {"records": r, "instructions": n, "images": m} for sp, r, n, m in rows}
    by_domain: dict = {}
    for dom, itype, n in cur.execute(
        "SELECT coalesce(domain, ''), itype, count(*) FROM export_sel GROUP BY ALL ORDER BY ALL"
    ).fetchall():
        entry = by_domain.setdefault(dom, {"images": 0, "instructions": 0, "by_type": {}})
        entry["by_type"][itype] = n
        entry["instructions"] += n
    for dom, imgs in cur.execute(
        "SELECT coalesce(domain, ''), count(DISTINCT image_id) FROM export_sel GROUP BY 1"
    ).fetchall():
        by_domain.setdefault(dom, {"images": 0, "instructions": 0, "by_type": {}})["images"] = imgs
    by_lang = dict(
        cur.execute("SELECT lang, count(*) FROM export_sel GROUP BY 1 ORDER BY 1").fetchall()
    )
    licenses = dict(
        cur.execute(
            """SELECT coalesce(nullif(trim(license), ''), 'unknown'), count(*)
               FROM (SELECT DISTINCT image_id, license FROM export_sel) GROUP BY 1 ORDER BY 2 DESC, 1"""
        ).fetchall()
    )
    return {
        "splits": splits,
        "instructions": sum(v["instructions"] for v in splits.values()),
        "records": sum(v["records"] for v in splits.values()),
        "images": sum(v["images"] for v in splits.values()),
        "by_domain": dict(sorted(by_domain.items())),
        "by_lang": by_lang,
        "licenses": licenses,
    }


def iter_selected_images(
    cur: duckdb.DuckDBPyConnection,
    split: str | None = None,
    batch: int = 2000,
    bounds: tuple[str, str] | None = None,
) -> Iterator[list[tuple]]:
    """Batches of (image_id, sha256, ext, storage, path) in export order (by sha256), each
    image once. Each batch is its own finished query (keyset paging), so the caller may run
    other queries on the same cursor between batches."""
    last = ""
    where, extra = "", []
    if split:
        where, extra = "AND split = ?", [split]
    if bounds:
        where, extra = where + " AND sha256 BETWEEN ? AND ?", [*extra, *bounds]
    while True:
        rows = cur.execute(
            f"""SELECT image_id, sha256, ext, storage, path FROM export_imgs
                WHERE sha256 > ? {where} ORDER BY sha256 LIMIT ?""",
            [last, *extra, batch],
        ).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][1]


# ------------------------------------------------------------------ per-format record queries
def _options_sql() -> str:
    parts = [
        f"CASE WHEN len(options) >= {k} THEN chr(10) || '{chr(64 + k)}. ' || options[{k}] "
        "ELSE '' END"
        for k in range(1, MAX_OPTIONS + 1)
    ]
    return "coalesce(" + " || ".join(parts) + ", '')"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def parts(cur: duckdb.DuckDBPyConnection, split: str) -> list[tuple[str, str]]:
    """(first, last) image sha256 of each part of a split, in export order."""
    return cur.execute(
        "SELECT min(sha256), max(sha256) FROM export_imgs WHERE split = ? GROUP BY part ORDER BY 1",
        [split],
    ).fetchall()


def copy_records(
    cur: duckdb.DuckDBPyConnection, fmt: str, split: str, dest: Path, array: bool
) -> None:
    """Write one split's records of `fmt` as a JSON array (or JSON Lines) file, part by part.

    DuckDB writes each part as JSON Lines; the parts are appended to `dest`, and for an array
    each line break between records becomes ",\n\t" (JSON text never holds a raw line break,
    so this is exact). The result matches DuckDB's own ARRAY layout.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    tmp = dest.with_name(dest.name + ".part")
    with open(dest, "wb") as out:
        if array:
            out.write(b"[\n")
        for k, (lo, hi) in enumerate(parts(cur, split)):
            if not (_SHA.match(lo) and _SHA.match(hi)):
                raise ValueError("bad sha256 bounds")
            query = record_query(fmt, split, extra=f"AND s.sha256 BETWEEN '{lo}' AND '{hi}'")
            cur.execute(f"COPY ({query}) TO {_literal(tmp)} (FORMAT json)")
            if array and k:
                out.write(b",\n")
            _append_lines(tmp, out, b",\n\t" if array else b"\n", b"\t" if array else b"")
        out.write(b"\n]\n" if array else b"")
    tmp.unlink(missing_ok=True)


def webdataset_samples(
    cur: duckdb.DuckDBPyConnection, split: str, first: str, last: str, batch: int = 2000
) -> Iterator[list[tuple[str, str, str]]]:
    """Batches of (key, image path, sample JSON) of one part of a split, in export order. The
    query stays open between batches: run nothing else on `cur` until it is exhausted."""
    if split not in SPLITS or not (_SHA.match(first) and _SHA.match(last)):
        raise ValueError("bad split or sha256 bounds")
    extra = f"AND s.sha256 BETWEEN '{first}' AND '{last}'"
    cur.execute(record_query("webdataset", split, extra=extra))
    while rows := cur.fetchmany(batch):
        yield rows


def _append_lines(src: Path, out, sep: bytes, lead: bytes) -> None:
    """Copy a JSON Lines file to `out` in blocks, each line led by `lead` and the line breaks
    between lines replaced by `sep`; the final line break is dropped when sep is not a plain
    line break (a JSON array continues with ",\n" or "\n]")."""
    plain = sep == b"\n"
    with open(src, "rb") as f:
        held = b""
        first = True
        while block := f.read(COPY_BLOCK):
            data = held + block
            held, data = data[-1:], data[:-1]  # the file's last byte is its final line break
            if first and data:
                out.write(lead)
                first = False
            out.write(data if plain else data.replace(b"\n", sep))
        if plain and held:
            out.write(held)


def load_part(cur: duckdb.DuckDBPyConnection, split: str, first: str, last: str) -> None:
    """Copy one part of a split into `export_part`, sorted, so that the many small chunk
    queries of the HF writer scan it instead of the whole selection."""
    if split not in SPLITS or not (_SHA.match(first) and _SHA.match(last)):
        raise ValueError("bad split or sha256 bounds")
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE export_part AS SELECT * FROM export_sel "
        "WHERE split = ? AND sha256 BETWEEN ? AND ? ORDER BY sha256",
        [split, first, last],
    )


def hf_chunk(cur: duckdb.DuckDBPyConnection, split: str, blobs, first: str, last: str):
    """Arrow table of the HF records (of the loaded part) whose image sha256 lies in
    first..last; `blobs` is an arrow table (image_id, data) holding those images' bytes."""
    if split not in SPLITS or not (_SHA.match(first) and _SHA.match(last)):
        raise ValueError("bad split or sha256 bounds")
    cur.register("export_blobs", blobs)
    try:
        query = record_query(
            "hf",
            split,
            extra=f"AND s.sha256 BETWEEN '{first}' AND '{last}'",
            source="JOIN export_blobs b ON b.image_id = r.image_id",
            table="export_part",
        )
        rel = cur.sql(query)
        # duckdb >= 1.4 names it to_arrow_table; older releases call it arrow().
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()
    finally:
        cur.unregister("export_blobs")
