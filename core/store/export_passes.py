"""A split's records, written in passes of whole images (the selection is core/store/exports.py).

A pass covers whole images of about PASS_ROWS instructions in export order (GROUP_ROWS where
the split holds multi-turn records, which a GROUP BY builds): first the texts of exactly its
instructions are copied into the small temp table `export_pass`, then one query joins, sorts
and shapes its records (core/store/export_records.py). Joining the whole `instructions` table
in that query instead held ~90 MB outside DuckDB's budget at 1M instructions whatever the pass
size, and the split-wide sorted table multi-turn passes read before ran out of the budget at 1M.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from core.store.dbtune import duckdb_settings
from core.store.export_records import record_query
from core.store.exports import SPLITS

# Multi-turn records are grouped in passes of whole images of about this many instructions:
# DuckDB's GROUP BY and ORDER BY of 50k nested records ran out of a 100 MB budget.
GROUP_ROWS = 10_000
PASS_ROWS = 100_000  # records of one plain pass (one sort); see record_passes
# ... and at most about this many bytes of question, option and answer text: a pass of 100k
# answers of ~1 KB (long VQA) ran out of the 100 MB budget in every format, 25k of them did
# not; multi-turn passes of 10k such rows ran out of it for TRL.
PASS_BYTES = 16 << 20
GROUP_BYTES = 4 << 20
COPY_BLOCK = 1 << 20  # bytes of a part file held at a time while appending it
PASS_TEXTS = "export_pass"  # the texts of one plain pass's instructions


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@dataclass(frozen=True)
class Pass:
    """One query of a split's records: the images of `ord` first..last (whole images)."""

    query: str
    split: str
    first: int
    last: int

    def open(self, cur: duckdb.DuckDBPyConnection) -> str:
        """Copy the texts of the pass's instructions into PASS_TEXTS; the query that reads them."""
        cur.execute(
            f"""CREATE OR REPLACE TEMP TABLE {PASS_TEXTS} AS
                    SELECT n.id, n.itype, n.lang, n.question, n.options, n.answer
                    FROM instructions n WHERE n.id IN (
                        SELECT s.nid FROM export_sel s JOIN export_imgs m USING (ord)
                        WHERE m.split = ? AND s.ord BETWEEN ? AND ?)""",
            [self.split, self.first, self.last],
        )
        return self.query


def record_passes(cur: duckdb.DuckDBPyConnection, fmt: str, split: str) -> list[Pass]:
    """The passes that give one split's records of `fmt`, in export order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    multi = cur.execute(
        "SELECT coalesce(max(s.nturns), 1) > 1 FROM export_sel s JOIN export_imgs m USING (ord) "
        "WHERE m.split = ?",
        [split],
    ).fetchall()[0][0]
    # Whole images of about PASS_ROWS instructions a pass: one sort of a million wide rows
    # (trl, hf) ran out of the 100 MB budget. Multi-turn records group in smaller passes:
    # DuckDB's GROUP BY and ORDER BY of 50k nested records ran out of it too. The ranges are
    # of `ord`, so each pass's joins only build on its own rows.
    rows, text_bytes = (GROUP_ROWS, GROUP_BYTES) if multi else (PASS_ROWS, PASS_BYTES)
    return [
        Pass(
            record_query(fmt, split, multi, f"AND r.ord BETWEEN {a} AND {b}", PASS_TEXTS),
            split,
            a,
            b,
        )
        for a, b in _ranges(cur, split, rows, text_bytes)
    ]


def _ranges(
    cur: duckdb.DuckDBPyConnection, split: str, rows: int, text_bytes: int
) -> list[tuple[int, int]]:
    """(first, last) `ord` of runs of whole images of a split, each of about `rows`
    instructions or `text_bytes` bytes of their texts, whichever comes first (an image that
    alone is over either is a run of its own)."""
    # Integer weights (rows scaled by text_bytes, bytes by rows), so the run boundaries are
    # exact: the same selection always gives the same passes.
    bounds = cur.execute(
        f"""SELECT min(ord), max(ord) FROM (
                SELECT ord, (sum(w) OVER (ORDER BY ord ROWS UNBOUNDED PRECEDING) - w)
                            // {int(rows) * int(text_bytes)} AS pass
                FROM (SELECT ord, greatest(n::HUGEINT * {int(text_bytes)},
                                           tb::HUGEINT * {int(rows)}) AS w
                      FROM export_imgs WHERE split = ?))
            GROUP BY pass ORDER BY 1""",
        [split],
    ).fetchall()
    return [(int(a), int(b)) for a, b in bounds]


@contextmanager
def _in_order(cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Insertion order kept while records are written: the plain pass sorts in a subquery and
    builds the records in the SELECT above it, whose order DuckDB keeps only with this on.
    One thread: with two, the first pass of a 1M export ran out of the budget."""
    with duckdb_settings(cur, preserve_insertion_order=True, threads=1):
        yield


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
            query = passes[0].open(cur)
            cur.execute(f"COPY ({query}) TO {_literal(dest)} (FORMAT json{layout})")
            return
        tmp = dest.with_name(dest.name + ".part")
        with open(dest, "wb") as out:
            if array:
                out.write(b"[\n")
            for k, one in enumerate(passes):
                cur.execute(f"COPY ({one.open(cur)}) TO {_literal(tmp)} (FORMAT json)")
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
        for one in record_passes(cur, fmt, split):
            images = _pass_images(cur, one.first, one.last)
            cur.execute(one.open(cur))
            while rows := cur.fetchmany(batch):
                yield images, rows


def record_batches(cur: duckdb.DuckDBPyConnection, fmt: str, split: str, rows: int = 10_000):
    """(images, arrow record batch) of one split's records of `fmt` (hf), in export order; the
    same `images` and the same rule about `cur` as stream_records."""
    with _in_order(cur):
        for one in record_passes(cur, fmt, split):
            images = _pass_images(cur, one.first, one.last)
            for batch in cur.sql(one.open(cur)).to_arrow_reader(rows):
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
