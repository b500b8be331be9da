"""Safe text at export: find the selected questions and answers that hold chat-template tokens
(core.export.safetext) and escape them, drop their records, or refuse the export.

It works on the rendered texts of the `export_sel` table (question with its option lines and
suffix, and answer) before any format writes a record, so every writer gets the same, safe
text. DuckDB's regexp finds the few rows concerned; only those travel through Python.
"""

from __future__ import annotations

from core.export import safetext
from core.export.errors import ExportError

MAX_EXAMPLES = 5


def guard_selection(cur, mode: str) -> dict:
    """Apply `mode` (escape | skip | fail) to export_sel; the report for the manifest."""
    if mode not in safetext.MODES:
        raise ExportError(
            f"unknown --unsafe-text {mode!r}; expected one of {', '.join(safetext.MODES)}"
        )
    rows = _store().unsafe_rows(cur, safetext.sql_pattern())
    tally = safetext.Tally.empty()
    flagged = []  # (nid, rec_id, image_id, tokens)
    for nid, rec_id, image_id, q, answer in rows:
        tokens = safetext.find(q) + safetext.find(answer)
        tally.add(tokens)
        if tokens:
            flagged.append((nid, rec_id, image_id, tokens))
    report = {
        "mode": mode,
        "escape": safetext.SCHEME if mode == "escape" else None,
        "items": len(flagged),
        "records_skipped": 0,
        **tally.to_json(),
    }
    if mode == "fail" and flagged:
        examples = "; ".join(
            f"instruction {nid}: {safetext.describe(tokens)}"
            for nid, _, _, tokens in flagged[:MAX_EXAMPLES]
        )
        raise ExportError(
            f"{len(flagged)} selected item(s) hold chat-template tokens or role markers "
            f"({examples}); export with --unsafe-text escape (the default) or skip, or fix "
            "them in review"
        )
    if mode == "escape" and rows:
        _escape(cur, rows)
    elif mode == "skip" and flagged:
        report["records_skipped"] = _skip(cur, flagged)
    return report


def _escape(cur, rows) -> None:
    import pyarrow as pa

    table = pa.table(
        {
            "nid": pa.array([r[0] for r in rows], pa.int64()),
            "q": pa.array([safetext.escape(r[3]) for r in rows], pa.string()),
            "answer": pa.array([safetext.escape(r[4]) for r in rows], pa.string()),
        }
    )
    _store().replace_texts(cur, table)


def _skip(cur, flagged) -> int:
    """Drop whole records (a multi-turn record with one bad turn goes too) and their images
    when nothing else of theirs is left."""
    import pyarrow as pa

    keys = sorted({(rec_id, image_id) for _, rec_id, image_id, _ in flagged})
    table = pa.table(
        {
            "rec_id": pa.array([k[0] for k in keys], pa.string()),
            "image_id": pa.array([k[1] for k in keys], pa.int64()),
        }
    )
    _store().drop_records(cur, table)
    return len(keys)


def _store():
    from core.store import export_fixups

    return export_fixups
