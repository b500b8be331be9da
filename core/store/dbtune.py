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


@contextmanager
def export_settings(cur, restore_memory_mb: int):
    old_threads = cur.execute("SELECT current_setting('threads')").fetchone()[0]
    old_order = cur.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    cur.execute(f"SET memory_limit = '{min(EXPORT_MEMORY_MB, restore_memory_mb)}MB'")
    cur.execute(f"SET threads = {max(1, min(SELECTION_THREADS, int(old_threads)))}")
    cur.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        cur.execute(f"SET memory_limit = '{int(restore_memory_mb)}MB'")
        cur.execute(f"SET threads = {int(old_threads)}")
        cur.execute(f"SET preserve_insertion_order = {'true' if old_order else 'false'}")
