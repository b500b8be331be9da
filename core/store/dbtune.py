"""DuckDB settings for the length of an export: a small memory budget, so memory stays flat.

The selection (narrow rows of ids and keys per exported instruction) and the sort of each
record pass spill to DuckDB's temp folder beyond the budget instead of growing with the
project; the passes are cut by rows and by text bytes so that each fits in it
(core/store/export_passes.py). Few threads, and no insertion order to preserve (every record
query sorts), are what let the passes over a million instructions fit in that budget. The
settings are the database instance's, so they are put back when the export ends, however it
ends.
"""

from __future__ import annotations

from contextlib import contextmanager

EXPORT_MEMORY_MB = 100
# The selection and its counts run on two threads (1.3 s less wall time of 3.9 s at 1M
# instructions, same peak); the record passes on one, which is what fits them in the budget
# (core/store/export_passes.py: two threads ran out of it in the first pass).
SELECTION_THREADS = 2


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


@contextmanager
def duckdb_settings(cur, **values):
    """DuckDB settings for the length of a block; the old values are put back however it ends
    (they are the database instance's, not the cursor's)."""
    old = {k: cur.execute(f"SELECT current_setting('{k}')").fetchone()[0] for k in values}
    for name, value in values.items():
        cur.execute(f"SET {name} = {_literal(value)}")
    try:
        yield
    finally:
        for name, value in reversed(old.items()):
            cur.execute(f"SET {name} = {_literal(value)}")


@contextmanager
def export_settings(cur, restore_memory_mb: int):
    threads = cur.execute("SELECT current_setting('threads')").fetchone()[0]
    selection_threads = max(1, min(SELECTION_THREADS, int(threads)))
    with duckdb_settings(cur, threads=selection_threads, preserve_insertion_order=False):
        cur.execute(f"SET memory_limit = '{min(EXPORT_MEMORY_MB, restore_memory_mb)}MB'")
        try:
            yield
        finally:  # the project's own budget, which the open project set
            cur.execute(f"SET memory_limit = '{int(restore_memory_mb)}MB'")
