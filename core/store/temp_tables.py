"""Temp tables filled from Python column lists, a slice of rows per INSERT.

Not cur.register() of an Arrow table: DuckDB's register imports pandas on its first call
(~0.35-0.5 s holding the GIL, a stall of the window when it runs on a worker thread). Each
slice's list conversion is done under the GIL, so slices keep it short and the GUI thread
gets the GIL between them.
"""

from __future__ import annotations

from collections.abc import Sequence

SLICE_ROWS = 20_000


def fill_temp(
    cur, name: str, columns: Sequence[tuple[str, str]], values: Sequence, slice_rows: int = 0
) -> None:
    """CREATE OR REPLACE TEMP TABLE `name` (column, type ...) holding `values`, one sequence
    (list or numpy array) per column, all of the same length."""
    step = slice_rows or SLICE_ROWS
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)})"
    )
    picks = ", ".join(f"unnest(?::{t}[])" for _, t in columns)
    for start in range(0, len(values[0]) if len(values) else 0, step):
        part = [v[start : start + step] for v in values]
        cur.execute(
            f"INSERT INTO {name} SELECT {picks}",
            [p.tolist() if hasattr(p, "tolist") else list(p) for p in part],
        )
