"""Typed queries of the export and import of training data (core/export).

An export first builds two narrow temp tables: `export_sel`, one row of ids and keys per
selected instruction (its split, its record, its turn in that record, its answer-format pick,
the bytes of its texts), and `export_imgs`, one row per selected image (its export order, file
name, part, instruction count and text bytes). The texts stay in `instructions`: each record
pass (core/store/export_passes.py) copies those of its own instructions and writes its records
from them, so no table of a million questions and answers is ever built, sorted and read back.
Memory stays flat: DuckDB runs within its export budget and spills the sort of the pass;
Python holds one batch at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import duckdb

SPLITS = ("train", "val")
# Parts: whole images of about this many instructions; the HF writer's row groups end with
# them (and so the parquet files stay as they were).
PART_ROWS = 50_000

# The bytes of an instruction's texts (options with their "A. " and line break), which bound
# a record pass as much as the number of instructions does (core/store/export_passes.py).
_TEXT_BYTES = (
    "(strlen(n.question) + strlen(n.answer)"
    " + coalesce(list_sum(list_transform(n.options, lambda o: strlen(o) + 4)), 0))::INTEGER"
)
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
               SELECT i.id, i.sha256, i.path, i.format, i.storage, i.domain, i.license,
                      row_number() OVER (PARTITION BY coalesce(i.domain, '')
                                              ORDER BY md5(? || ':' || i.sha256)) AS r,
                      count(*) OVER (PARTITION BY coalesce(i.domain, '')) AS dn
               FROM images i WHERE i.id IN (
                   SELECT DISTINCT n.image_id FROM instructions n JOIN images i ON i.id = n.image_id
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
        SELECT n.id AS nid, m.ord, {gkey} AS gkey, {pick} AS pick, {_TEXT_BYTES} AS tb
        FROM instructions n JOIN images i ON i.id = n.image_id
        JOIN export_imgs m ON m.image_id = n.image_id {variants_join}
        WHERE {cond}
    ), grouped AS (
        -- A lone question (no group) is a record of one turn: no window has to sort it.
        SELECT nid, ord, pick, tb, nid AS first_nid, 1 AS nturns, 1 AS turn
        FROM base WHERE gkey IS NULL
        UNION ALL
        SELECT nid, ord, pick, tb,
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
    # (the HF writer's row groups end with them); `tb`: the bytes of their texts
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE export_imgs AS
           WITH c AS (SELECT ord, count(*) AS n, sum(tb) AS tb FROM export_sel GROUP BY ord)
           SELECT m.*, c.n, c.tb,
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
    tables = ("export_sel", "export_imgs", "export_pass", "export_variants")
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
