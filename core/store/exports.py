"""Typed queries of the export and import of training data (core/export).

An export first builds two narrow temp tables: `export_sel`, one row of ids and keys per
selected instruction (its split, its record, its turn in that record, its answer-format pick),
and `export_imgs`, one row per selected image (its export order, file name, part). The texts
stay in `instructions`: each record query (core/store/export_records.py) joins them once, in
the one pass that writes the records, so no table of a million questions and answers is ever
built, sorted and read back. Memory stays flat: DuckDB runs within its export budget and
spills the sort of the pass; Python holds one batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from core.store.export_records import record_query, rows_sql

SPLITS = ("train", "val")
# Parts: whole images of about this many instructions; the HF writer's row groups end with
# them (and so the parquet files stay as they were).
PART_ROWS = 50_000
# Multi-turn records are grouped in passes of whole images of about this many instructions:
# DuckDB's GROUP BY and ORDER BY of 50k nested records ran out of a 100 MB budget.
GROUP_ROWS = 10_000
PASS_ROWS = 100_000  # records of one plain pass (one sort); see record_passes
COPY_BLOCK = 1 << 20  # bytes of a part file held at a time while appending it

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
    """Fill the temp tables `export_sel` and `export_imgs`; the number of instructions selected.

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
    cond = " AND ".join(where)
    for table in _SIDE_TABLES:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE {table}")
    # One row per selected image: its export order (`ord`, by sha256), its split, its file.
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE export_imgs AS
           WITH imgs AS (
               SELECT i.*, row_number() OVER (PARTITION BY coalesce(i.domain, '')
                                              ORDER BY md5(? || ':' || i.sha256)) AS r,
                      count(*) OVER (PARTITION BY coalesce(i.domain, '')) AS dn
               FROM images i WHERE i.id IN (
                   SELECT n.image_id FROM instructions n JOIN images i ON i.id = n.image_id
                   WHERE {cond})
           )
           SELECT i.id AS image_id, i.sha256, {_EXT} AS ext,
                  CASE WHEN i.r <= least(round(i.dn * ?), i.dn - 1) THEN 'val' ELSE 'train' END
                      AS split,
                  i.storage, i.path, i.domain, i.license, row_number() OVER (ORDER BY i.sha256)::INTEGER AS ord
           FROM imgs i""",
        [str(seed), *params, float(val_fraction)],
    )
    # The pick is a row of export_suffixes (the SQL picker), or the text the Python picker
    # returned, kept apart in export_picked; the suffix is joined when the records are written.
    pick, variants_join, udf = "NULL::INTEGER", "", False
    if (
        suffix_fn is not None
        and suffix_variants
        and _sql_picker_agrees(cur, where, params, key, suffix_fn, suffix_variants)
    ):
        pick, variants_join = _PICK_ID.format(key=key), _VARIANTS_JOIN
    elif suffix_fn is not None:
        _register_suffix(cur, suffix_fn)
        udf = True
    # multi-turn: one record per image; otherwise a conversation (NULL: a lone question)
    gkey = "0" if multi_turn else "n.conversation_id"
    # Narrow integer rows (~36 bytes each): the windows sort ids, never text, and a million
    # of them fit in the export's DuckDB budget.
    sql = f"""
    CREATE OR REPLACE TEMP TABLE export_sel AS
    WITH base AS (
        SELECT n.id AS nid, m.ord, {gkey} AS gkey, {pick} AS pick
        FROM instructions n JOIN images i ON i.id = n.image_id
        JOIN export_imgs m ON m.image_id = n.image_id {variants_join}
        WHERE {cond}
    ), grouped AS (
        -- A lone question (no group) is a record of one turn: no window has to sort it.
        SELECT nid, ord, pick, nid AS first_nid, 1 AS nturns, 1 AS turn
        FROM base WHERE gkey IS NULL
        UNION ALL
        SELECT nid, ord, pick,
               min(nid) OVER (PARTITION BY ord, gkey) AS first_nid,
               count(*) OVER (PARTITION BY ord, gkey)::INTEGER AS nturns,
               row_number() OVER (PARTITION BY ord, gkey ORDER BY nid)::INTEGER AS turn
        FROM base WHERE gkey IS NOT NULL
    )
    SELECT *, dense_rank() OVER (PARTITION BY ord ORDER BY first_nid)::INTEGER AS rec_no
    FROM grouped
    """
    try:
        cur.execute(sql, params)
        if udf:
            cur.execute(
                f"""INSERT INTO export_picked
                    SELECT n.id, mm_answer_suffix(n.itype, n.lang, {key})
                    FROM instructions n JOIN images i ON i.id = n.image_id WHERE {cond}""",
                params,
            )
    finally:
        if udf:
            cur.remove_function("mm_answer_suffix")
        if variants_join:
            cur.execute("DROP TABLE IF EXISTS export_variants")
    # `part`: whole images of about PART_ROWS instructions, in export order within a split
    # (the HF writer's row groups end with them)
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE export_imgs AS
           WITH c AS (SELECT ord, count(*) AS n FROM export_sel GROUP BY ord)
           SELECT m.*, c.n,
                  (sum(c.n) OVER (PARTITION BY m.split ORDER BY m.ord ROWS UNBOUNDED PRECEDING)
                   - c.n) // {PART_ROWS} AS part
           FROM export_imgs m JOIN c USING (ord)"""
    )
    return selection_size(cur)


# Side tables of a selection: the suffix texts the SQL picker picks from, the Python
# picker's picks, and escaped texts (core/export/textguard.py); empty unless used.
_SIDE_TABLES = (
    "export_suffixes (id INTEGER, text VARCHAR)",
    "export_picked (nid BIGINT, picked VARCHAR)",
    "export_text (nid BIGINT, q VARCHAR, answer VARCHAR)",
)


# The answer-format picker of core.domains, in SQL: variant number
# int(first 8 bytes of sha256("itype\x1flang\x1fkey"), big endian) mod the number of variants.
# Used only after it agreed with the Python picker on a sample of the selection
# (`_sql_picker_agrees`); otherwise every row calls the Python picker.
_HASH = "('0x' || substr(sha256(n.itype || chr(31) || n.lang || chr(31) || {key}), 1, 16))::UBIGINT"
_PICK = "v.texts[1 + (" + _HASH + " % len(v.texts))::BIGINT]"
_PICK_ID = "(v.base + (" + _HASH + " % len(v.texts)))::INTEGER"
_VARIANTS_JOIN = "LEFT JOIN export_variants v ON v.itype = n.itype AND v.lang = n.lang"


def _sql_picker_agrees(cur, where, params, key, fn, variants) -> bool:
    # A temp table, not a registered Arrow table: DuckDB's register imports pandas, which
    # cost ~0.5 CPU s of every export (a fifth of a 100k-instruction LLaVA export).
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE export_variants "
        "(itype VARCHAR, lang VARCHAR, texts VARCHAR[], base INTEGER)"
    )
    rows, texts, base = [], [], 0
    for t, lg in sorted(variants):
        options = list(variants[(t, lg)])
        rows.append([t, lg, options, base])
        texts.extend([base + k, text] for k, text in enumerate(options))
        base += len(options)
    cur.executemany("INSERT INTO export_variants VALUES (?, ?, ?, ?)", rows)
    sample = cur.execute(
        f"""SELECT n.itype, n.lang, {key}, {_PICK.format(key=key)}
            FROM instructions n JOIN images i ON i.id = n.image_id {_VARIANTS_JOIN}
            WHERE {" AND ".join(where)}
            QUALIFY row_number() OVER (PARTITION BY n.itype, n.lang ORDER BY n.id) <= 32""",
        params,
    ).fetchall()
    try:
        agrees = all(fn(t, lg, k) == got for t, lg, k, got in sample)
    except Exception:  # the picker refuses something the table has: let it speak per row
        agrees = False
    if agrees:
        cur.executemany("INSERT INTO export_suffixes VALUES (?, ?)", texts)
    else:
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
    tables = ("export_sel", "export_imgs", "export_rows", "export_variants")
    for table in (*tables, *(t.split()[0] for t in _SIDE_TABLES)):
        cur.execute(f"DROP TABLE IF EXISTS {table}")


# ------------------------------------------------------------------ counts for manifest and card
def selection_counts(cur: duckdb.DuckDBPyConnection) -> dict:
    # One pass over the selection; images and licenses from the per-image table.
    rows = cur.execute(
        """SELECT m.split, coalesce(m.domain, ''), n.itype, n.lang, count(*),
                  count(*) FILTER (WHERE s.turn = 1)
           FROM export_sel s JOIN export_imgs m USING (ord) JOIN instructions n ON n.id = s.nid
           GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    splits: dict = {}
    by_domain: dict = {}
    by_lang: dict = {}
    for split, dom, itype, lang, n, records in rows:
        entry = splits.setdefault(split, {"records": 0, "instructions": 0, "images": 0})
        entry["records"] += records
        entry["instructions"] += n
        entry = by_domain.setdefault(dom, {"images": 0, "instructions": 0, "by_type": {}})
        entry["by_type"][itype] = entry["by_type"].get(itype, 0) + n
        entry["instructions"] += n
        by_lang[lang] = by_lang.get(lang, 0) + n
    for entry in by_domain.values():
        entry["by_type"] = dict(sorted(entry["by_type"].items()))
    for split, dom, imgs in cur.execute(
        "SELECT split, coalesce(domain, ''), count(*) FROM export_imgs GROUP BY ALL"
    ).fetchall():
        splits[split]["images"] += imgs
        by_domain[dom]["images"] += imgs
    licenses = dict(
        cur.execute(
            """SELECT coalesce(nullif(trim(license), ''), 'unknown'), count(*)
               FROM export_imgs GROUP BY 1 ORDER BY 2 DESC, 1"""
        ).fetchall()
    )
    return {
        "splits": dict(sorted(splits.items())),
        "instructions": sum(v["instructions"] for v in splits.values()),
        "records": sum(v["records"] for v in splits.values()),
        "images": sum(v["images"] for v in splits.values()),
        "by_domain": dict(sorted(by_domain.items())),
        "by_lang": dict(sorted(by_lang.items())),
        "licenses": licenses,
    }


def iter_images(cur: duckdb.DuckDBPyConnection, batch: int = 5000) -> Iterator[list[tuple]]:
    """Batches of (sha256, ext, storage, path) of every selected image once, in export order.
    One query, read in batches: run nothing else on `cur` until it is exhausted."""
    cur.execute("SELECT sha256, ext, storage, path FROM export_imgs ORDER BY ord")
    while rows := cur.fetchmany(batch):
        yield rows


def image_folders(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """The two-letter folders (sha256 prefixes) the selected images go into."""
    return [
        r[0]
        for r in cur.execute("SELECT DISTINCT substr(sha256, 1, 2) FROM export_imgs").fetchall()
    ]


# ------------------------------------------------------------------ record passes
def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def record_passes(
    cur: duckdb.DuckDBPyConnection, fmt: str, split: str
) -> list[tuple[str, int, int]]:
    """(query, first ord, last ord) of the passes that give one split's records of `fmt`, in
    export order, each over whole images."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    multi = cur.execute(
        "SELECT coalesce(max(s.nturns), 1) > 1 FROM export_sel s JOIN export_imgs m USING (ord) "
        "WHERE m.split = ?",
        [split],
    ).fetchall()[0][0]
    if not multi:
        # Passes of whole images of about PASS_ROWS instructions: one sort of a million wide
        # rows (trl, hf) ran out of the 100 MB budget. The ranges are of `ord`, so each pass's
        # join only builds on its own rows.
        return [
            (record_query(fmt, split, grouped=False, extra=f"AND r.ord BETWEEN {a} AND {b}"), a, b)
            for a, b in _ranges(cur, split, PASS_ROWS)
        ]
    # Multi-turn: the split's rows, texts joined, once into a table sorted by image, so that
    # each pass (whole images of about GROUP_ROWS instructions) reads only its own rows.
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE export_rows AS
            SELECT * FROM ({rows_sql()}) r WHERE r.split = ? ORDER BY r.ord, r.first_nid, r.turn""",
        [split],
    )
    return [
        (record_query(fmt, split, grouped=True, extra=f"AND r.ord BETWEEN {a} AND {b}"), a, b)
        for a, b in _ranges(cur, split, GROUP_ROWS)
    ]


def _ranges(cur: duckdb.DuckDBPyConnection, split: str, rows: int) -> list[tuple[int, int]]:
    """(first, last) `ord` of runs of whole images of about `rows` instructions of a split."""
    bounds = cur.execute(
        f"""SELECT min(ord), max(ord) FROM (
                SELECT ord, (sum(n) OVER (ORDER BY ord ROWS UNBOUNDED PRECEDING) - n)
                            // {int(rows)} AS pass
                FROM export_imgs WHERE split = ?) GROUP BY pass ORDER BY 1""",
        [split],
    ).fetchall()
    return [(int(a), int(b)) for a, b in bounds]


@contextmanager
def _in_order(cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Insertion order kept while records are written: the plain pass sorts in a subquery and
    builds the records in the SELECT above it, whose order DuckDB keeps only with this on."""
    old = cur.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    cur.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        cur.execute(f"SET preserve_insertion_order = {'true' if old else 'false'}")


def copy_records(
    cur: duckdb.DuckDBPyConnection, fmt: str, split: str, dest: Path, array: bool
) -> None:
    """Write one split's records of `fmt` as a JSON array (or JSON Lines) file.

    One pass: DuckDB writes the file itself. Several (multi-turn parts): each part is written
    as JSON Lines and appended to `dest`; for an array each line break between records becomes
    ",\n\t" (JSON text never holds a raw line break, so this is exact), which is DuckDB's own
    ARRAY layout.
    """
    passes = record_passes(cur, fmt, split)
    with _in_order(cur):
        if len(passes) == 1:
            layout = ", ARRAY true" if array else ""
            cur.execute(f"COPY ({passes[0][0]}) TO {_literal(dest)} (FORMAT json{layout})")
            return
        tmp = dest.with_name(dest.name + ".part")
        with open(dest, "wb") as out:
            if array:
                out.write(b"[\n")
            for k, (query, _a, _b) in enumerate(passes):
                cur.execute(f"COPY ({query}) TO {_literal(tmp)} (FORMAT json)")
                if array and k:
                    out.write(b",\n")
                _append_lines(tmp, out, b",\n\t" if array else b"\n", b"\t" if array else b"")
            out.write(b"\n]\n" if array else b"")
        tmp.unlink(missing_ok=True)


def stream_records(
    cur: duckdb.DuckDBPyConnection, fmt: str, split: str, batch: int = 2000
) -> Iterator[tuple[dict, list[tuple]]]:
    """(images, rows) batches of one split's records of `fmt` (webdataset), in export order;
    `images`: ord -> (sha256, ext, storage, path) of the pass's images. The query stays open
    between batches: run nothing else on `cur` until it is exhausted."""
    with _in_order(cur):
        for query, a, b in record_passes(cur, fmt, split):
            images = _pass_images(cur, a, b)
            cur.execute(query)
            while rows := cur.fetchmany(batch):
                yield images, rows


def record_batches(cur: duckdb.DuckDBPyConnection, fmt: str, split: str, rows: int = 10_000):
    """(images, arrow record batch) of one split's records of `fmt` (hf), in export order; the
    same `images` and the same rule about `cur` as stream_records."""
    with _in_order(cur):
        for query, a, b in record_passes(cur, fmt, split):
            images = _pass_images(cur, a, b)
            for batch in cur.sql(query).to_arrow_reader(rows):
                yield images, batch


def _pass_images(cur: duckdb.DuckDBPyConnection, first: int, last: int) -> dict:
    # one pass's images only: a pass is bounded, a split is not
    rows = cur.execute(
        "SELECT ord, sha256, ext, storage, path FROM export_imgs WHERE ord BETWEEN ? AND ?",
        [first, last],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


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
