"""DuckDB settings for the length of an export: a small memory budget, so memory stays flat.

The selection (one row per exported instruction, with its text) and the per-part sorts spill
to DuckDB's temp folder beyond the budget instead of growing with the project. One thread,
and no insertion order to preserve (every record query sorts), are what let the selection
of a million instructions fit in that budget. The settings are the database instance's, so
they are put back when the export ends, however it ends.
"""

from __future__ import annotations

from contextlib import contextmanager

EXPORT_MEMORY_MB = 100


@contextmanager
def export_settings(cur, restore_memory_mb: int):
    old_threads = cur.execute("SELECT current_setting('threads')").fetchone()[0]
    old_order = cur.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    cur.execute(f"SET memory_limit = '{min(EXPORT_MEMORY_MB, restore_memory_mb)}MB'")
    cur.execute("SET threads = 1")
    cur.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        cur.execute(f"SET memory_limit = '{int(restore_memory_mb)}MB'")
        cur.execute(f"SET threads = {int(old_threads)}")
        cur.execute(f"SET preserve_insertion_order = {'true' if old_order else 'false'}")
